"""Renewing expiring cards in one order (issue 10): one line per card, one invoice, the
card's photo carried over while it is young enough, the old card live until the new one is
delivered."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from cards import catalogue
from cards import services as card_services
from cards.models import Card
from hmsportal.models import User
from hmsportal.storage import read_document
from orders import selectors
from orders.billing import delivery_fields, invoice_create
from orders.models import Order, OrderLine
from orders.services import (
    OrderingClosed,
    already_ordered_check,
    order_line_add,
    order_line_placed,
    order_lines_renewing_reject,
)
from registry.facts import OrganisationFacts


class NothingToRenew(ValueError):
    """None of the cards asked for can be renewed now (renewed already, ordered, or not
    expiring within settings.CARD_EXPIRING_WITHIN_DAYS)."""


def renewal_photo_reusable(card: Card, *, today: datetime.date) -> bool:
    """Whether the card's stored photo may go on its renewal (RENEWAL_PHOTO_MAX_AGE_DAYS).

    A renewal may carry its photo over from the card it renews, and that card from the one
    before: the photo is counted as old as the first card of the chain, which errs on the
    strict side when a renewal in between got a new one.
    """
    max_age = datetime.timedelta(days=settings.RENEWAL_PHOTO_MAX_AGE_DAYS)
    return bool(card.photo) and _photo_taken_by(card) >= today - max_age


def _photo_taken_by(card: Card) -> datetime.date:
    """The issue day of the first card in the chain of renewals: the photo is no younger."""
    day = card.issued_on
    seen = {card.pk}
    previous = card.renews
    while previous is not None and previous.pk not in seen:
        seen.add(previous.pk)
        day = min(day, previous.issued_on)
        previous = previous.renews
    return day


@transaction.atomic
def order_submit_renewals(*, actor: User, employer: OrganisationFacts, cards: list[Card]) -> Order:
    """Renew expiring cards in one order with one line per card and one invoice.

    A line reuses the card's stored photo when it is young enough; otherwise it waits for the
    employee's own photo and ID through a personal link (the addresses are in the returned
    order's upload_links_issued, for the orderer to pass on). Cards that cannot be renewed now
    are left out; NothingToRenew when none is left. The new card gets its own number and
    valid-until from the register check, and the old one stays live until it is delivered.
    """
    now = timezone.now()
    today = timezone.localdate(now)
    blackout = catalogue.blackout_at(now)
    if blackout is not None:
        raise OrderingClosed(blackout.message(get_language()) or _("Ordering is closed right now."))
    renewable = list(
        selectors.renewable_cards(employer_orgnr=employer.orgnr, today=today)
        .select_for_update(of=("self",))
        .filter(pk__in=[card.pk for card in cards])
    )
    if not renewable:
        raise NothingToRenew(_("None of these cards can be renewed now."))
    order = Order(
        employer_orgnr=employer.orgnr,
        employer_name=employer.name,
        ordered_by=actor,
        **delivery_fields(employer=employer, given=None),
    )
    order.full_clean()
    order.save()
    order.upload_links_issued = {}
    stored: list[tuple[Any, str]] = []
    lines: list[OrderLine] = []
    try:
        for card in renewable:
            already_ordered_check(
                national_id=card.holder_national_id,
                employer_orgnr=employer.orgnr,
                card_type=card.card_type,
                renews=card,
            )
            line, line_stored = order_line_add(
                order=order,
                card_type=card.card_type,
                national_id=card.holder_national_id,
                first_name=card.holder_first_name,
                last_name=card.holder_last_name,
                workplace_orgnr=card.workplace_orgnr,
                # Young enough, the photo goes over to the renewal; else the employee's link.
                photo=ContentFile(read_document(card.photo))
                if renewal_photo_reusable(card, today=today)
                else None,
                id_document=None,
                day=today,
                renews=card,
            )
            stored += line_stored
            lines.append(line)
        invoice_create(order=order, customer=employer)
    except BaseException:
        for storage, name in stored:
            storage.delete(name)
        raise
    for line in lines:
        order_line_placed(actor=actor, line=line, employee_email=None)
    return order


@transaction.atomic
def card_end_employment(*, card: Card, actor: User) -> Card:
    """End a card because the employment has ended, with any renewal of it not yet issued
    (its order line is rejected: the register check would refuse it anyway)."""
    ended = card_services.card_revoke(
        card=card, reason=card_services.RevocationReason.EMPLOYMENT_ENDED, actor=actor
    )
    order_lines_renewing_reject(card_ids=[ended.pk], reason_codes=["employment_ended"], actor=actor)
    return ended
