"""Reads for the cardholder's own page ("Mine HMS-kort").

Everything here is keyed by the logged-in person's identity number: a cardholder sees the
cards issued to them (any employer) and never anyone else's (STYLE.md §4).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import get_language

from cards import history
from cards import selectors as card_selectors
from cards.history import CheckEntry, HistoryEntry
from cards.models import Card
from cards.numbers import NumberForm, classify, normalise
from cards.standing import card_standing
from hmsportal.models import User
from orders.models import OrderLine


@dataclass(frozen=True)
class HolderCard:
    """One of the logged-in person's cards, with its status today in plain words."""

    card: Card
    status: str  # valid, invalid, expired or revoked (Card.status_on)
    status_text: str
    card_type_name: str
    # Why an invalid card is invalid, and what fixes it, in the reader's language.
    reasons: list[tuple[str, str]]
    # "Valid until" while the card is valid; otherwise the date is only the printed one.
    valid_until_label: str
    order_lines: list[OrderLine]  # the order behind the card (a replacement: its original's)

    @property
    def reportable(self) -> bool:
        """Whether the holder can still report the card lost or stolen (it is live)."""
        return self.card.state in Card.CHECKED_STATES


def _holder_cards_queryset(*, national_id: str) -> QuerySet[Card]:
    # The order behind each card is the orders app's to add (cards know nothing of orders).
    return card_selectors.cards_for_holder(national_id=national_id).select_related(
        "order_line__order__ordered_by"
    )


def order_line_behind(
    card: Card, *, cards_by_pk: dict[int, Card] | None = None
) -> OrderLine | None:
    """The order line of the card, or of the card it replaced (a replacement has none).

    With cards_by_pk (the holder's cards, loaded with their order lines) it asks nothing of
    the database.
    """
    seen: set[int] = set()
    current: Card | None = card
    while current is not None and current.pk not in seen:
        seen.add(current.pk)
        line = getattr(current, "order_line", None)  # none: RelatedObjectDoesNotExist
        if line is not None:
            return line
        if not current.replaces_id:
            return None
        current = (
            cards_by_pk.get(current.replaces_id) if cards_by_pk is not None else current.replaces
        )
    return None


def _holder_card(card: Card, *, by_pk: dict[int, Card], today: datetime.date) -> HolderCard:
    standing = card_standing(card, today=today)
    # A replacement card has no order line of its own: show the line of the card it replaced
    # (all of the holder's cards are loaded, so following the chain costs no query).
    line = order_line_behind(card, cards_by_pk=by_pk)
    order_lines = [line] if line is not None else []
    return HolderCard(
        card=card,
        status=standing.status,
        status_text=standing.headline,
        card_type_name=card.card_type.name(get_language()),
        reasons=standing.reasons,
        valid_until_label=standing.valid_until_label,
        order_lines=order_lines,
    )


def holder_cards(*, user: User, today: datetime.date | None = None) -> list[HolderCard]:
    """Every card issued to the logged-in person, newest first; none without an identity."""
    if not user.national_id:
        return []
    today = today or timezone.localdate()
    cards = list(_holder_cards_queryset(national_id=user.national_id))
    by_pk = {card.pk: card for card in cards}
    return [_holder_card(card, by_pk=by_pk, today=today) for card in cards]


def holder_card(
    *, user: User, number: str, today: datetime.date | None = None
) -> HolderCard | None:
    """The logged-in person's card with this number, or None (someone else's is None too)."""
    if not user.national_id or classify(number) not in (NumberForm.OURS, NumberForm.LEGACY):
        return None
    today = today or timezone.localdate()
    cards = list(_holder_cards_queryset(national_id=user.national_id))
    by_pk = {card.pk: card for card in cards}
    wanted = normalise(number)
    card = next((card for card in cards if card.number == wanted), None)
    return None if card is None else _holder_card(card, by_pk=by_pk, today=today)


def card_history(*, card: Card, viewer: User) -> list[HistoryEntry]:
    """The card's life in plain words for its holder (cards/history.py tells it)."""
    return history.card_history(card=card, viewer_id=viewer.pk)


def card_register_checks(*, card: Card, limit: int = 20) -> list[CheckEntry]:
    """This card's register checks in plain words, newest first, for its holder's and its
    employer's card pages: the card's own record (cards.models.CardCheck), not the lookups
    about the same person or employer made for their other cards."""
    return history.register_checks_told(
        card=card, checks=card_selectors.card_checks(card=card, limit=limit)
    )
