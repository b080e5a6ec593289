"""Where an order line is, in plain words: for the order page, the public confirmation page
and the message after submitting.

A line's own state says how far ordering got (checking, waiting, rejected, approved); once
approved, its card's state says how far production and delivery got.

A line is *final* when nothing more will happen to it that the person on the order page is
waiting for: it was rejected, or its card was shipped or delivered, or the card stopped
(invalid, revoked, expired: from then on the card's own page follows it). The order page
stops asking for news once every line is final.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field
from enum import StrEnum

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cards.models import Card
from orders.models import OrderLine
from registry.rules import REASONS, Reason


class Step(StrEnum):
    AWAITING_FILES = "awaiting_files"
    AWAITING_ID_CHECK = "awaiting_id_check"
    CHECKING = "checking"
    AWAITING_REGISTRATION = "awaiting_registration"
    REJECTED = "rejected"
    APPROVED = "approved"
    IN_PRODUCTION = "in_production"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CARD_INVALID = "card_invalid"
    CARD_REVOKED = "card_revoked"
    CARD_EXPIRED = "card_expired"
    # A line state this module does not know (one added later): shown with its label.
    OTHER = "other"


LABELS: dict[Step, Promise] = {
    Step.AWAITING_FILES: gettext_lazy("Waiting for the employee's photo and ID"),
    Step.AWAITING_ID_CHECK: gettext_lazy("Waiting for you to check the ID"),
    Step.CHECKING: gettext_lazy("Checking the registers"),
    Step.AWAITING_REGISTRATION: gettext_lazy("Waiting for Aa-registeret"),
    Step.REJECTED: gettext_lazy("Rejected"),
    Step.APPROVED: gettext_lazy("Approved, waiting for production"),
    Step.IN_PRODUCTION: gettext_lazy("In production"),
    Step.SHIPPED: gettext_lazy("Shipped"),
    Step.DELIVERED: gettext_lazy("Delivered"),
    Step.CARD_INVALID: gettext_lazy("Card not valid"),
    Step.CARD_REVOKED: gettext_lazy("Card revoked"),
    Step.CARD_EXPIRED: gettext_lazy("Card expired"),
}

FINAL_STEPS = frozenset(
    {
        Step.REJECTED,
        Step.SHIPPED,
        Step.DELIVERED,
        Step.CARD_INVALID,
        Step.CARD_REVOKED,
        Step.CARD_EXPIRED,
    }
)
# Steps in which the order still documents that a card is coming (or has come): the worker
# may start work on the strength of the order confirmation (DOMAIN.md, "Who orders").
DOCUMENTING_STEPS = frozenset(
    {
        Step.CHECKING,
        Step.AWAITING_REGISTRATION,
        Step.APPROVED,
        Step.IN_PRODUCTION,
        Step.SHIPPED,
        Step.DELIVERED,
    }
)
# The register check takes seconds; everything else (Aa-registeret, the employee's files,
# printing, the post) takes hours or days, so the page asks less often.
FAST_POLL_SECONDS = 3
SLOW_POLL_SECONDS = 30

_CARD_STEPS = {
    Card.State.APPROVED: Step.APPROVED,
    Card.State.IN_PRODUCTION: Step.IN_PRODUCTION,
    Card.State.SHIPPED: Step.SHIPPED,
    Card.State.ACTIVE: Step.DELIVERED,
    Card.State.INVALID: Step.CARD_INVALID,
    Card.State.REVOKED: Step.CARD_REVOKED,
    Card.State.EXPIRED: Step.CARD_EXPIRED,
}


@dataclass(frozen=True)
class Explained:
    """A register reason in the reader's language, and what fixes it."""

    text: str
    fix: str


def _explained(codes: list[str]) -> list[Explained]:
    return [
        Explained(Reason(code).text(), Reason(code).fix())
        if code in REASONS
        else Explained(code, "")
        for code in codes
    ]


def step_of(line: OrderLine) -> Step:
    """The step the line is at (its card's state once it has one)."""
    if line.state == OrderLine.State.AWAITING_FILES:
        return Step.AWAITING_FILES
    if line.state == OrderLine.State.AWAITING_ID_CHECK:
        return Step.AWAITING_ID_CHECK
    if line.state == OrderLine.State.SUBMITTED:
        return Step.CHECKING
    if line.state == OrderLine.State.AWAITING_REGISTRATION:
        return Step.AWAITING_REGISTRATION
    if line.state == OrderLine.State.REJECTED:
        return Step.REJECTED
    if line.state == OrderLine.State.APPROVED and line.card is not None:
        return _CARD_STEPS.get(Card.State(line.card.state), Step.OTHER)
    return Step.OTHER


@dataclass(frozen=True)
class LineProgress:
    """One order line's step, told in the language active when it is made."""

    line: OrderLine
    step: Step
    label: str
    detail: str
    reasons: list[Explained] = field(default_factory=list)

    @property
    def final(self) -> bool:
        return self.step in FINAL_STEPS

    @property
    def documents_order(self) -> bool:
        return self.step in DOCUMENTING_STEPS


def line_progress(line: OrderLine, *, today: datetime.date | None = None) -> LineProgress:
    """The line's step with its label, a sentence on what happens next, and any reasons."""
    today = today or timezone.localdate()
    step = step_of(line)
    label = str(LABELS[step]) if step in LABELS else line.get_state_display()
    reasons: list[Explained] = []
    detail = ""
    if step == Step.AWAITING_FILES:
        detail = _(
            "The employee has a link to upload the photo and ID document. The registers are checked when both are in."
        )
    elif step == Step.AWAITING_ID_CHECK:
        detail = _(
            "The employee has sent the photo and ID. Check the ID below; then we check the registers."
        )
    elif step == Step.CHECKING:
        detail = _("We are asking the registers. This usually takes a few seconds.")
    elif step == Step.AWAITING_REGISTRATION:
        since = line.awaiting_since or today
        until = since + datetime.timedelta(days=settings.ORDER_AWAIT_REGISTRATION_DAYS)
        detail = _(
            "Aa-registeret does not show the employment yet. We check again every day until %(date)s. Report the employment in the a-melding if that has not been done."
        ) % {"date": date_format(until, "DATE_FORMAT")}
    elif step == Step.REJECTED:
        detail = _("The registers do not allow a card. What fixes it:")
        reasons = _explained(list(line.reason_codes or []))
    elif step == Step.APPROVED:
        detail = _("The card is approved and waits to be printed.")
    elif step == Step.IN_PRODUCTION:
        detail = _("The card is being printed.")
    elif step == Step.SHIPPED:
        detail = _("The card is on its way by post.")
    elif step == Step.DELIVERED:
        detail = _("The card has been delivered.")
    elif step == Step.CARD_INVALID and line.card is not None:
        detail = _("The card is not valid today. What fixes it:")
        reasons = _explained(line.card.reason_codes_on(today))
    elif step == Step.CARD_REVOKED:
        detail = _("The card has been revoked.")
    elif step == Step.CARD_EXPIRED:
        detail = _("The card has expired.")
    return LineProgress(line=line, step=step, label=label, detail=detail, reasons=reasons)


@dataclass(frozen=True)
class OrderProgress:
    """Every line of an order, and how often the order page should ask for news."""

    lines: list[LineProgress]

    @property
    def final(self) -> bool:
        return all(progress.final for progress in self.lines)

    @property
    def poll_seconds(self) -> int | None:
        """Seconds between the page's requests for news; None once every line is final."""
        if self.final:
            return None
        if any(progress.step == Step.CHECKING for progress in self.lines):
            return FAST_POLL_SECONDS
        return SLOW_POLL_SECONDS

    @property
    def checking(self) -> bool:
        return any(progress.step == Step.CHECKING for progress in self.lines)

    @property
    def version(self) -> str:
        """Changes whenever what the page shows changes: an unchanged poll answers 204."""
        parts = [
            f"{p.line.pk}:{p.step}:{p.line.state}:{','.join(p.line.reason_codes or [])}"
            f":{p.line.card.number if p.line.card else ''}"
            for p in self.lines
        ]
        return hashlib.blake2s("|".join(parts).encode(), digest_size=8).hexdigest()


def order_progress(lines: list[OrderLine]) -> OrderProgress:
    today = timezone.localdate()
    return OrderProgress(lines=[line_progress(line, today=today) for line in lines])
