"""What a card's status says in words, the same on the status page, the holder's page and
the employer's: one sentence that never contradicts the card's own dates.

A revoked card says when and why ("Revoked on 1 December 2026: reported lost"), an expired
one its last valid day, an invalid one which requirement failed; a card that is not valid
today shows its valid-until date as what it is, the date printed on the card, not as a
promise ("valid until" a day that has not come).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cards.models import Card, CardTransition
from cards.services import RevocationReason
from registry.rules import REASONS, Reason

# Why a card was revoked, as anyone checking it reads it (the employer's page says more:
# who ended it, cards.selectors.REVOCATION_EXPLANATIONS).
REVOCATION_WORDS: dict[str, Promise] = {
    RevocationReason.LOST: gettext_lazy("reported lost"),
    RevocationReason.STOLEN: gettext_lazy("reported stolen"),
    RevocationReason.EMPLOYMENT_ENDED: gettext_lazy("the employment has ended"),
    RevocationReason.EMPLOYMENT_ENDED_IN_REGISTER: gettext_lazy("the employment has ended"),
    RevocationReason.RETURNED: gettext_lazy("returned"),
    RevocationReason.WITHDRAWN: gettext_lazy("withdrawn by the card issuer"),
    RevocationReason.RENEWED: gettext_lazy("replaced by a renewed card"),
}

# Register reasons the public status check names as they are: facts about the employer that
# Enhetsregisteret and the approval registers publish anyway. Reasons about the holder
# (employment, identity number, residence permit) are personal data: the public reads only
# that a requirement about the holder failed; the holder and the employer see which.
PUBLIC_REASONS = frozenset(
    {
        "employer_not_found",
        "employer_deleted",
        "workplace_deleted",
        "employer_bankrupt",
        "employer_under_liquidation",
        "employer_forced_dissolution",
        "employer_not_vat_registered",
        "employer_staffing_not_approved",
        "employer_cleaning_not_approved",
    }
)


@dataclass(frozen=True)
class Standing:
    """A card's status on a day, in words for the page's language."""

    status: str  # valid, invalid, expired or revoked (Card.status_on)
    headline: str
    # (what failed, what fixes it), for an invalid card.
    reasons: list[tuple[str, str]]
    # The label for card.valid_until: "Valid until" only while the card is valid.
    valid_until_label: str
    revoked_on: datetime.date | None = None
    revocation_reason: str = ""


# The status check's one query (cards.selectors.status.card_for_status) brings a revoked card's
# revocation along and leaves it on the card under this name (None: the card has none), so
# that a lookup asks the database once, whatever the card's state.
KNOWN_REVOCATION = "_known_revocation"


def revocation_of(card: Card) -> CardTransition | None:
    """The transition that revoked the card (its latest), or None; uses the one the status
    query brought along, or prefetched transitions, when there are any."""
    if card.state != Card.State.REVOKED:
        return None
    if hasattr(card, KNOWN_REVOCATION):
        known: CardTransition | None = getattr(card, KNOWN_REVOCATION)
        return known
    cache = getattr(card, "_prefetched_objects_cache", {})
    if "transitions" in cache:
        revocations = [t for t in cache["transitions"] if t.to_state == Card.State.REVOKED]
        return max(revocations, key=lambda t: (t.at, t.pk)) if revocations else None
    return (
        CardTransition.objects.filter(card_id=card.pk, to_state=Card.State.REVOKED)
        .order_by("-at", "-pk")
        .first()
    )


def revocation_facts(card: Card) -> tuple[datetime.date | None, str]:
    """When (the local date) and why (a RevocationReason code) a revoked card was revoked:
    (None, "") for a card that is not revoked or whose revocation is not recorded."""
    revocation = revocation_of(card)
    if revocation is None:
        return None, ""
    return revocation_day_and_reason(at=revocation.at, reason=revocation.reason)


def revocation_day_and_reason(
    *, at: datetime.datetime | None, reason: str | None, zone: datetime.tzinfo | None = None
) -> tuple[datetime.date | None, str]:
    """A recorded revocation's local day (in `zone`, default the current time zone) and
    reason code; (None, "") when none is recorded (`at` None)."""
    if at is None:
        return None, ""
    return timezone.localdate(at, zone), reason or ""


def _reasons(codes: list[str], *, public: bool) -> list[tuple[str, str]]:
    reasons: list[tuple[str, str]] = []
    holder_reason_hidden = False
    for code in codes:
        if code not in REASONS:
            reasons.append((code, ""))
        elif public and code not in PUBLIC_REASONS:
            holder_reason_hidden = True
        else:
            reasons.append((Reason(code).text(), Reason(code).fix()))
    if holder_reason_hidden:
        reasons.append(
            (
                _("A requirement about the card holder is not met in the registers."),
                _(
                    "The holder and the employer can see which one, and what fixes it, when they log in."
                ),
            )
        )
    return reasons


def card_standing(card: Card, *, today: datetime.date, public: bool = False) -> Standing:
    """The card's status on `today` in words (public: holder-level reasons not named)."""
    status = card.status_on(today)
    if status == "valid":
        # Most lookups, first: the words of the other states are not translated for them.
        return Standing(status, _("The card is valid today."), [], _("Valid until"))
    printed_label = _("End date printed on the card")
    if status == "revoked":
        revoked_on, reason = revocation_facts(card)
        words = str(REVOCATION_WORDS.get(reason, "")) if reason else ""
        if revoked_on and words:
            headline = _("Revoked on %(date)s: %(reason)s.") % {
                "date": date_format(revoked_on, "DATE_FORMAT"),
                "reason": words,
            }
        elif revoked_on:
            headline = _("Revoked on %(date)s.") % {"date": date_format(revoked_on, "DATE_FORMAT")}
        else:
            headline = _("The card has been revoked.")
        return Standing(
            status=status,
            headline=headline,
            reasons=[],
            valid_until_label=printed_label,
            revoked_on=revoked_on,
            revocation_reason=reason,
        )
    if status == "expired":
        headline = _("Expired: the card's last valid day was %(date)s.") % {
            "date": date_format(card.valid_until, "DATE_FORMAT")
        }
        return Standing(status, headline, [], printed_label)
    # Invalid.
    if card.state != Card.State.INVALID and card.starts_after(today) and card.valid_from:
        # Invalid only because the employment starts later: say from when it is valid.
        headline = _("Not valid yet: the card is valid from %(date)s.") % {
            "date": date_format(card.valid_from, "DATE_FORMAT")
        }
        return Standing(status, headline, [], printed_label)
    headline = _("Not valid: the register requirements are not met.")
    reasons = _reasons(card.reason_codes_on(today), public=public)
    return Standing(status, headline, reasons, printed_label)
