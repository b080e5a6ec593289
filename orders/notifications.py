"""Mail to the person who ordered: the order confirmation, the shipment, and a reminder.

Every message goes through hmsportal.mail (a confirmed address only, in the orderer's
language) and is sent at most once: the row that records it is locked and stamped in the
same transaction that sends, so a retried task or a second run finds it done. A send that
fails rolls the stamp back, and the retry sends it. The rejection mail lives with the register
check in orders/services.py (employer_told_rejected).
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from cards.numbers import display
from hmsportal.mail import mail_person
from orders.confirmations import confirmation_filename, confirmation_pdf
from orders.models import Order, OrderLine
from orders.progress import line_progress

logger = logging.getLogger(__name__)

# Line states that wait for someone outside the portal, and so remind the orderer once they
# have waited ORDER_REMINDER_AFTER_DAYS. Waiting for the employee's own photo and ID (issue 9,
# point 4) belongs here too once that state exists; it is timed from the order.
REMINDED_STATES: tuple[str, ...] = (
    OrderLine.State.AWAITING_REGISTRATION,
    OrderLine.State.AWAITING_FILES,
    OrderLine.State.AWAITING_ID_CHECK,
)


def _order_url(order: Order) -> str:
    return settings.PORTAL_BASE_URL + reverse(
        "orders:order_detail", kwargs={"orgnr": order.employer_orgnr, "order_id": order.pk}
    )


@transaction.atomic
def orderer_told_confirmed(*, order_id: int) -> bool:
    """E-mail the order confirmation, with one confirmation PDF per line, once per order.

    Lines already rejected get no PDF (they document nothing; the rejection mail says why);
    an order with no line left gets no confirmation. False when nothing was sent.
    """
    order = (
        Order.objects.select_for_update(of=("self",)).select_related("ordered_by").get(pk=order_id)
    )
    if order.confirmation_mailed_at is not None:
        return False
    orderer = order.ordered_by
    lines = list(order.lines.select_related("card_type", "card", "order"))
    confirmed = [line for line in lines if line_progress(line).documents_order]
    if not confirmed or not orderer.confirmed_email:
        return False
    order.confirmation_mailed_at = timezone.now()
    order.save(update_fields=["confirmation_mailed_at"])
    attachments = [
        (confirmation_filename(line), confirmation_pdf(line), "application/pdf")
        for line in confirmed
    ]
    return mail_person(
        user=orderer,
        template_prefix="orders/email/order_confirmed",
        context={
            "order": order,
            "lines": [
                {"line": line, "card_type_name": line.card_type.name(orderer.language)}
                for line in confirmed
            ],
            "order_url": _order_url(order),
        },
        attachments=attachments,
    )


def orderers_told_shipped(*, card_ids: list[int], tracking_reference: str) -> int:
    """E-mail each orderer once per order whose cards were shipped, with the tracking
    reference. Returns the number of messages sent.

    Cards without an order line (imported, or replacements made on the card's page) have
    nobody who ordered them here, and get no mail.
    """
    order_ids = sorted(
        set(
            OrderLine.objects.filter(
                card_id__in=card_ids, shipped_mailed_at__isnull=True
            ).values_list("order_id", flat=True)
        )
    )
    return sum(
        _order_told_shipped(
            order_id=order_id, card_ids=card_ids, tracking_reference=tracking_reference
        )
        for order_id in order_ids
    )


def _lines_claimed(condition: Q, *, mark: str) -> list[OrderLine]:
    """The order lines that match, locked and marked as mailed now, in the caller's
    transaction: the mail goes once, and a rerun (or a second worker) finds none."""
    lines = list(
        OrderLine.objects.select_for_update(of=("self",))
        .filter(condition)
        .select_related("order__ordered_by", "card", "card_type")
        .order_by("pk")
    )
    now = timezone.now()
    for line in lines:
        setattr(line, mark, now)
    OrderLine.objects.bulk_update(lines, [mark])
    return lines


@transaction.atomic
def _order_told_shipped(*, order_id: int, card_ids: list[int], tracking_reference: str) -> bool:
    lines = _lines_claimed(
        Q(order_id=order_id, card_id__in=card_ids, shipped_mailed_at__isnull=True),
        mark="shipped_mailed_at",
    )
    if not lines:
        return False
    order = lines[0].order
    orderer = order.ordered_by
    return mail_person(
        user=orderer,
        template_prefix="orders/email/cards_shipped",
        context={
            "order": order,
            "lines": [
                {
                    "line": line,
                    "number": display(line.card.number) if line.card else "",
                    "card_type_name": line.card_type.name(orderer.language),
                }
                for line in lines
            ],
            "count": len(lines),
            "tracking_reference": tracking_reference,
            "order_url": _order_url(order),
        },
    )


def _waiting_too_long(today: datetime.date) -> Q:
    cutoff = today - datetime.timedelta(days=settings.ORDER_REMINDER_AFTER_DAYS)
    # Waiting "more than N days": since a day before the cutoff. A line waiting for
    # Aa-registeret counts from its first check; any other wait from the order.
    oldest_order = timezone.make_aware(datetime.datetime.combine(cutoff, datetime.time.min))
    return Q(state=OrderLine.State.AWAITING_REGISTRATION, awaiting_since__lt=cutoff) | Q(
        state__in=[s for s in REMINDED_STATES if s != OrderLine.State.AWAITING_REGISTRATION],
        order__created_at__lt=oldest_order,
    )


def orderers_reminded(*, today: datetime.date | None = None) -> int:
    """Remind the orderer of lines that have waited too long, once per line (one message per
    order). Returns the number of messages sent; a second run sends none."""
    today = today or timezone.localdate()
    order_ids = sorted(
        set(
            OrderLine.objects.filter(
                _waiting_too_long(today), reminder_mailed_at__isnull=True
            ).values_list("order_id", flat=True)
        )
    )
    return sum(_order_reminded(order_id=order_id, today=today) for order_id in order_ids)


@transaction.atomic
def _order_reminded(*, order_id: int, today: datetime.date) -> bool:
    lines = _lines_claimed(
        _waiting_too_long(today) & Q(order_id=order_id, reminder_mailed_at__isnull=True),
        mark="reminder_mailed_at",
    )
    if not lines:
        return False
    order = lines[0].order
    orderer = order.ordered_by
    waiting: dict[str, list[OrderLine]] = defaultdict(list)
    for line in lines:
        waiting[line.state].append(line)
    return mail_person(
        user=orderer,
        template_prefix="orders/email/order_lines_reminder",
        context={
            "order": order,
            "lines": lines,
            "count": len(lines),
            "awaiting_registration": waiting.get(OrderLine.State.AWAITING_REGISTRATION, []),
            "waiting_otherwise": [
                line
                for state, state_lines in waiting.items()
                if state != OrderLine.State.AWAITING_REGISTRATION
                for line in state_lines
            ],
            "days": settings.ORDER_REMINDER_AFTER_DAYS,
            "order_url": _order_url(order),
        },
    )
