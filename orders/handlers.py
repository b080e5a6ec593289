"""The hooks through which the cards and registry apps tell orders of their events, named by
dotted path in settings so that those apps need not import orders (the dependencies go
orders → cards → registry). Each runs in the caller's transaction and records what follows
in the outbox, so it commits or rolls back with the event."""

from __future__ import annotations

from hmsportal.outbox import outbox_record
from orders import services


def orderers_shipped_queue(card_ids: list[int], tracking_reference: str) -> None:
    """CARDS_SHIPPED_HANDLER, called in the transaction that ships a print batch: the mail
    to the orderers is recorded in the outbox with the shipment."""
    if card_ids:
        outbox_record(
            task="orders.tell_orderers_shipped_task",
            kwargs={"card_ids": sorted(set(card_ids)), "tracking_reference": tracking_reference},
        )


def organisations_changed(orgnrs: list[str]) -> None:
    """REGISTRY_CHANGED_ORGANISATIONS_HANDLER, the registry's change-feed hook: the changed
    organisations' cards are re-checked, and their grants looked at, now rather than tonight.

    Through the outbox: the feed's cursor has already moved past these changes, so a broker
    that does not answer must not lose them (registry/feed.py).
    """
    if orgnrs:
        orgnrs = sorted(set(orgnrs))
        outbox_record(task="cards.recheck_organisations", kwargs={"orgnrs": orgnrs})
        outbox_record(task="orders.review_delegations_of", kwargs={"orgnrs": orgnrs})


def employment_ended(card_ids: list[int]) -> None:
    """CARDS_EMPLOYMENT_ENDED_HANDLER, called in the re-check's transaction that revoked these
    cards because Aa-registeret shows their employment ended: renewals of them still on order
    are rejected, as when the employer ends a card (orders.renewals.card_end_employment)."""
    services.order_lines_renewing_reject(
        card_ids=card_ids, reason_codes=["employment_ended"], actor=None
    )
