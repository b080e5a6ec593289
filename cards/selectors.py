"""Reads of cards shared by the views."""

from __future__ import annotations

from django.db.models import QuerySet

from cards.models import Card, CardType
from cards.numbers import NumberForm, classify, normalise


def card_for_status(*, number: str) -> Card | None:
    """The card with this number (typed with spaces or dashes or not) for the status check."""
    normalised = normalise(number)
    # Mistyped and malformed numbers cannot belong to a card: spare the database (and keep
    # characters such as NUL, which PostgreSQL rejects, out of queries).
    if classify(normalised) not in (NumberForm.OURS, NumberForm.LEGACY):
        return None
    # Raw SQL: the status check is the portal's hottest path, and compiling the equivalent
    # ORM query (select_related + only) cost three times as much CPU as running it
    # (bench/README.md). RawQuerySet still converts the card's columns per database.
    for card in Card.objects.raw(_STATUS_SQL, [normalised]):
        joined = card.__dict__  # the card type's columns, added by the raw query
        card.card_type = CardType(
            id=card.card_type_id,
            code=joined["type_code"],
            name_nb=joined["type_name_nb"],
            name_en=joined["type_name_en"],
        )
        return card
    return None


# What the public status check shows: what the card itself shows, never the identity number
# or the birth date (DOMAIN.md, "The status check").
_STATUS_SQL = (
    "SELECT c.id, c.number, c.state, c.holder_first_name, c.holder_last_name, c.photo, "
    "c.employer_orgnr, c.employer_name, c.valid_until, c.reason_codes, c.checked_at, "
    "c.card_type_id, t.code AS type_code, t.name_nb AS type_name_nb, t.name_en AS type_name_en "
    "FROM cards_card c JOIN cards_cardtype t ON t.id = c.card_type_id WHERE c.number = %s"
)


def cards_for_employer(*, employer_orgnr: str) -> QuerySet[Card]:
    """The employer's cards, newest first (sub-units' cards carry the main unit's number)."""
    return (
        Card.objects.filter(employer_orgnr=employer_orgnr)
        .select_related("card_type")
        .defer("reason_codes")
        .order_by("holder_last_name", "holder_first_name", "-issued_on")
    )


def card_for_employer(*, employer_orgnr: str, number: str) -> Card | None:
    """The employer's card with this number, with its history, or None."""
    if classify(number) not in (NumberForm.OURS, NumberForm.LEGACY):
        return None
    return (
        Card.objects.filter(employer_orgnr=employer_orgnr, number=normalise(number))
        .select_related("card_type", "replaces")
        .prefetch_related("transitions__actor")
        .first()
    )
