"""A card's life in plain words, in the reader's language.

One place for both readers: the cardholder's own card page and the employer's card
register. The transition log keeps machine words ("invalid", "register check failed:
employment_ended"); people read "Kortet sluttet å være gyldig. Arbeidsforholdet er avsluttet."
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cards.imports import IMPORT_REASON
from cards.models import Card
from cards.services import RevocationReason
from registry.rules import REASONS, Reason

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
