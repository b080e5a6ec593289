"""Reads of cards shared by the views."""

from __future__ import annotations

from django.db.models import QuerySet

from cards.models import Card
from cards.numbers import NumberForm, classify, normalise

# What the public status check shows: what the card itself shows, never the identity number
# or the birth date (DOMAIN.md, "The status check").
STATUS_FIELDS = (
    "number",
    "state",
    "holder_first_name",
    "holder_last_name",
    "photo",
    "employer_orgnr",
    "employer_name",
    "valid_until",
    "reason_codes",
    "checked_at",
    "card_type__code",
    "card_type__name_nb",
    "card_type__name_en",
)


def card_for_status(*, number: str) -> Card | None:
    """The card with this number (typed with spaces or dashes or not) for the status check."""
    normalised = normalise(number)
    # Mistyped and malformed numbers cannot belong to a card: spare the database (and keep
    # characters such as NUL, which PostgreSQL rejects, out of queries).
    if classify(normalised) not in (NumberForm.OURS, NumberForm.LEGACY):
        return None
    try:
        return Card.objects.select_related("card_type").only(*STATUS_FIELDS).get(number=normalised)
    except Card.DoesNotExist:
        return None


def cards_for_employer(*, employer_orgnr: str) -> QuerySet[Card]:
    """The employer's cards, newest first (sub-units' cards carry the main unit's number)."""
    return (
        Card.objects.filter(employer_orgnr=employer_orgnr)
        .select_related("card_type")
        .defer("reason_codes")
        .order_by("holder_last_name", "holder_first_name", "-issued_on")
    )


def card_for_employer(*, employer_orgnr: str, number: str) -> Card | None:
    if classify(number) not in (NumberForm.OURS, NumberForm.LEGACY):
        return None
    return (
        Card.objects.filter(employer_orgnr=employer_orgnr, number=normalise(number))
        .select_related("card_type", "replaces")
        .prefetch_related("transitions__actor")
        .first()
    )
