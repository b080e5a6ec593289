"""A card's life and its register checks in plain words, in the reader's language.

One place for both readers: the cardholder's own card page and the employer's card
register. The transition log keeps machine words ("invalid", "register check failed:
employment_ended"); people read "Kortet sluttet å være gyldig. Arbeidsforholdet er avsluttet."
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cards.imports import IMPORT_REASON
from cards.models import Card, CardCheck
from cards.services import RevocationReason
from registry.rules import REASONS, Reason
from registry.selectors import register_display_name

# How a revoked card's reason code reads.
REVOCATION_TEXTS = {
    RevocationReason.LOST: gettext_lazy("Reported lost"),
    RevocationReason.STOLEN: gettext_lazy("Reported stolen"),
    RevocationReason.EMPLOYMENT_ENDED: gettext_lazy("The employment has ended"),
    RevocationReason.EMPLOYMENT_ENDED_IN_REGISTER: gettext_lazy(
        "Aa-registeret shows that the employment has ended"
    ),
    RevocationReason.RETURNED: gettext_lazy("Returned"),
    RevocationReason.WITHDRAWN: gettext_lazy("Withdrawn by the card issuer"),
    RevocationReason.RENEWED: gettext_lazy("Renewed: the new card is delivered"),
}
# What the person who reported the card lost or stolen reads about their own report.
HOLDER_REPORTED_TEXTS = {
    RevocationReason.LOST: gettext_lazy("You reported the card lost. It was blocked at once."),
    RevocationReason.STOLEN: gettext_lazy("You reported the card stolen. It was blocked at once."),
}


@dataclass(frozen=True)
class HistoryEntry:
    """One step in a card's life, told to a person."""

    at: datetime.datetime
    text: str


def _failed_reasons(reason: str) -> str:
    codes = [code.strip() for code in reason.partition(":")[2].split(",") if code.strip()]
    return " ".join(Reason(code).text() if code in REASONS else code for code in codes)


def card_history(*, card: Card, viewer_id: int | None) -> list[HistoryEntry]:
    """The card's life in plain words, oldest first (from its prefetched transitions).

    viewer_id: the reader; a step they took themselves is told as theirs ("You reported …").
    """
    entries = []
    for step in card.transitions.all():
        to_state = step.to_state
        if not step.from_state:
            text = (
                _("The card was taken over from the previous card producer.")
                if step.reason == IMPORT_REASON
                else _("The registers were checked and the card was approved.")
            )
        elif to_state == Card.State.REVOKED:
            own_report = step.actor_id is not None and step.actor_id == viewer_id
            if own_report and step.reason in HOLDER_REPORTED_TEXTS:
                text = str(HOLDER_REPORTED_TEXTS[step.reason])
            else:
                reason = str(REVOCATION_TEXTS.get(step.reason, step.reason))
                text = _("The card was revoked: %(reason)s.") % {"reason": reason.lower()}
        elif to_state == Card.State.EXPIRED:
            text = _("The card expired: the valid-until date has passed.")
        elif to_state == Card.State.INVALID:
            text = _("The card stopped being valid. %(reasons)s") % {
                "reasons": _failed_reasons(step.reason)
            }
        elif step.from_state == Card.State.INVALID:
            text = _("The registers were in order again, and the card became valid again.")
        elif to_state == Card.State.IN_PRODUCTION:
            text = _("The card was sent to the card producer for printing.")
        elif to_state == Card.State.SHIPPED:
            text = _("The card was printed and sent.")
        elif to_state == Card.State.ACTIVE:
            text = _("The card counts as delivered and is in use.")
        else:
            text = str(Card.State(to_state).label) if to_state in Card.State else to_state
        entries.append(HistoryEntry(at=step.at, text=text.strip()))
    return entries


@dataclass(frozen=True)
class CheckEntry:
    """One line of a card's register checks, told to a person."""

    at: datetime.datetime
    text: str
    # The registers the check consulted, by name ("" on the "last checked" line).
    registers: str = ""
    # The "last checked on …" line: the newest check found what the newest row says.
    last_checked: bool = False


def _check_text(check: CardCheck) -> str:
    # Django's display of a choice: its label, or the stored code when it is not a choice.
    kind = str(check.get_kind_display())
    codes = list(check.reason_codes or [])
    if check.outcome != CardCheck.Outcome.IN_ORDER:
        outcome = _("not in order")
    elif codes:
        # In order with a reason: the employment has not started, the card is valid from then.
        outcome = _("in order")
    else:
        outcome = _("everything in order")
    reasons = " ".join(
        f"{Reason(code).text()} {Reason(code).fix()}" if code in REASONS else code for code in codes
    )
    return f"{kind}: {outcome} – {reasons}" if reasons else f"{kind}: {outcome}"


def register_checks_told(*, card: Card, checks: Sequence[CardCheck]) -> list[CheckEntry]:
    """The card's register checks in plain words, newest first (checks: its rows, newest
    first). A later check that found nothing new left no row (CardCheck) but moved the
    card's checked_at: that is told first, as "last checked on …"."""
    entries = [
        CheckEntry(
            at=check.at,
            text=_check_text(check),
            registers=", ".join(
                register_display_name(register=register) for register in check.registers or []
            ),
        )
        for check in checks
    ]
    if card.checked_at is not None and (not checks or card.checked_at > checks[0].at):
        # With no row yet (a replacement, a card from before the rows), only the moment.
        text = _("unchanged") if checks else ""
        entries.insert(0, CheckEntry(at=card.checked_at, text=text, last_checked=True))
    return entries
