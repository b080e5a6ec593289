"""Reads of cards shared by the views (the status check's own: cards.selectors.status)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils.translation import gettext_lazy

from cards.models import Card, CardCheck, CardTransition, CardType
from cards.numbers import NumberForm, classify, normalise
from cards.services import RevocationReason

# Why a revoked card was revoked, as its employer reads it: above all, who ended a card whose
# employment ended, the employer or the nightly re-check (Aa-registeret shows the end).
REVOCATION_EXPLANATIONS = {
    RevocationReason.LOST: gettext_lazy("Revoked: reported lost"),
    RevocationReason.STOLEN: gettext_lazy("Revoked: reported stolen"),
    RevocationReason.EMPLOYMENT_ENDED: gettext_lazy(
        "Ended by the employer: the employment has ended"
    ),
    RevocationReason.EMPLOYMENT_ENDED_IN_REGISTER: gettext_lazy(
        "Ended automatically: Aa-registeret shows that the employment has ended"
    ),
    RevocationReason.RETURNED: gettext_lazy("Revoked: returned"),
    RevocationReason.WITHDRAWN: gettext_lazy("Withdrawn by the card issuer"),
    RevocationReason.RENEWED: gettext_lazy("Revoked: renewed"),
}


def revocation_explanation(reason: str) -> str:
    """The employer's words for a revocation reason code ("" for none, the code if unknown)."""
    if not reason:
        return ""
    return str(REVOCATION_EXPLANATIONS.get(reason, reason))


@dataclass(frozen=True)
class HolderCardsSummary:
    """How many cards a person holds (any state), with photos, and the newest."""

    count: int
    with_photo: int
    latest: datetime.date | None
    newest: Card | None


def cards_for_holder(*, national_id: str) -> QuerySet[Card]:
    """Every card issued to the person (any employer, any state), newest first, with history."""
    return (
        Card.objects.filter(holder_national_id=national_id)
        .select_related("card_type", "replaces", "replaced_by")
        .prefetch_related("transitions__actor")
        .order_by("-issued_on", "-created_at")
    )


def holder_cards_summary(*, national_id: str) -> HolderCardsSummary:
    """The counts behind "which personal data do you hold about me" for a person's cards."""
    if not national_id:
        return HolderCardsSummary(count=0, with_photo=0, latest=None, newest=None)
    cards = Card.objects.filter(holder_national_id=national_id)
    facts = cards.aggregate(
        count=Count("pk"), with_photo=Count("pk", filter=~Q(photo="")), latest=Max("issued_on")
    )
    return HolderCardsSummary(
        count=facts["count"],
        with_photo=facts["with_photo"],
        latest=facts["latest"],
        newest=cards.order_by("-issued_on", "-created_at").first(),
    )


def live_card_for(*, national_id: str, employer_orgnr: str, card_type: CardType) -> Card | None:
    """The person's live card of the type with the employer (one at most: a constraint)."""
    return (
        Card.objects.filter(
            holder_national_id=national_id,
            employer_orgnr=employer_orgnr,
            card_type=card_type,
            state__in=Card.CHECKED_STATES,
        )
        .select_related("card_type")
        .first()
    )


def live_cards_by_holder(*, employer_orgnr: str) -> dict[str, list[Card]]:
    """The employer's live cards by holder's identity number (the employee list)."""
    cards: dict[str, list[Card]] = {}
    for card in (
        Card.objects.filter(employer_orgnr=employer_orgnr, state__in=Card.CHECKED_STATES)
        .select_related("card_type")
        .only("number", "state", "holder_national_id", "valid_until", "valid_from", "card_type")
        .order_by("card_type__code")
    ):
        cards.setdefault(card.holder_national_id, []).append(card)
    return cards


def card_holders_sample(*, limit: int) -> list[tuple[str, str, str]]:
    """Some people who hold a live card: (identity number, name, employer), for the demo."""
    rows = (
        Card.objects.filter(state__in=Card.CHECKED_STATES)
        .order_by("holder_last_name", "holder_first_name")
        .values_list("holder_national_id", "holder_first_name", "holder_last_name", "employer_name")
    )
    people: dict[str, tuple[str, str, str]] = {}
    for national_id, first_name, last_name, employer_name in rows[: limit * 4]:
        people.setdefault(national_id, (national_id, f"{first_name} {last_name}", employer_name))
    return list(people.values())[:limit]


def _with_revocation_reason(cards: QuerySet[Card]) -> QuerySet[Card]:
    """Each card with `revocation_reason`, the reason of its revocation (None if not revoked),
    read by the same query: the lists say who ended a card."""
    revocation = (
        CardTransition.objects.filter(card=OuterRef("pk"), to_state=Card.State.REVOKED)
        .order_by("-at", "-pk")
        .values("reason")[:1]
    )
    return cards.annotate(revocation_reason=Subquery(revocation))


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


def card_checks(*, card: Card, limit: int = 20) -> list[CardCheck]:
    """The card's own register checks, newest first: what the checks of this card found,
    never the lookups about its holder or employer made for other cards (issue 10)."""
    return list(CardCheck.objects.filter(card=card).order_by("-at", "-pk")[:limit])


# --- The employer's card register ---------------------------------------------------------


def expiring_within_days() -> int:
    """How many days before its valid-until date a card counts as expiring (issue 10): one
    setting for the register's filter, the renewals and the daily digest."""
    return int(settings.CARD_EXPIRING_WITHIN_DAYS)


def expiring_until(today: datetime.date) -> datetime.date:
    """The last valid-until date of a card that counts as expiring today."""
    return today + datetime.timedelta(days=expiring_within_days())


# The one reason code that is not stored: a card whose employment has not started yet
# (Card.reason_codes_on).
NOT_STARTED_REASON = "employment_not_started"
REGISTER_STATUSES = ("valid", "invalid", "expired", "revoked")
# The register's sort keys; only these reach order_by, each ending in the primary key so
# that paging is stable when names or dates are equal.
REGISTER_SORTS: dict[str, tuple[str, ...]] = {
    "name": ("holder_last_name", "holder_first_name", "pk"),
    "-name": ("-holder_last_name", "-holder_first_name", "-pk"),
    "number": ("number", "pk"),
    "-number": ("-number", "-pk"),
    "valid_until": ("valid_until", "holder_last_name", "holder_first_name", "pk"),
    "-valid_until": ("-valid_until", "holder_last_name", "holder_first_name", "pk"),
    "status": ("status_rank", "holder_last_name", "holder_first_name", "pk"),
    "-status": ("-status_rank", "holder_last_name", "holder_first_name", "pk"),
}


def _status_q(status: str, today: datetime.date) -> Q:
    """Card.status_on(today) as a database condition, so the database filters and counts."""
    revoked = Q(state=Card.State.REVOKED)
    expired = ~revoked & (Q(state=Card.State.EXPIRED) | Q(valid_until__lt=today))
    live = Q(state__in=Card.CHECKED_STATES, valid_until__gte=today)
    not_started = Q(valid_from__isnull=False, valid_from__gt=today)
    conditions = {
        "revoked": revoked,
        "expired": expired,
        "invalid": live & (Q(state=Card.State.INVALID) | not_started),
        "valid": live & ~Q(state=Card.State.INVALID) & ~not_started,
    }
    return conditions[status]


@dataclass(frozen=True)
class RegisterFilter:
    """What the employer asked the card register for (already validated by the form)."""

    search: str = ""
    status: str = ""
    card_type: CardType | None = None
    workplace_orgnr: str = ""
    expiring: bool = False
    reason: str = ""
    sort: str = "name"


def card_register(
    *, employer_orgnr: str, wanted: RegisterFilter, today: datetime.date
) -> QuerySet[Card]:
    """The employer's cards that match the filter, sorted; the database filters and sorts.

    Every condition starts from the employer's number (indexes from cards 0007 lead with it).
    """
    cards = _with_revocation_reason(
        Card.objects.filter(employer_orgnr=employer_orgnr).select_related("card_type")
    )
    search = wanted.search.strip()
    if search:
        number = normalise(search)
        if number.isascii() and number.isdigit():
            cards = cards.filter(number__startswith=number)
        else:
            for word in search.split()[:5]:
                cards = cards.filter(
                    Q(holder_first_name__icontains=word) | Q(holder_last_name__icontains=word)
                )
    if wanted.status:
        cards = cards.filter(_status_q(wanted.status, today))
    if wanted.card_type is not None:
        cards = cards.filter(card_type=wanted.card_type)
    if wanted.workplace_orgnr:
        cards = cards.filter(workplace_orgnr=wanted.workplace_orgnr)
    if wanted.expiring:
        cards = cards.filter(
            state__in=Card.CHECKED_STATES,
            valid_until__gte=today,
            valid_until__lte=expiring_until(today),
        )
    if wanted.reason == NOT_STARTED_REASON:
        cards = cards.filter(_status_q("invalid", today)).exclude(state=Card.State.INVALID)
    elif wanted.reason:
        # The codes are stored as a JSON list; the quotes make the match a whole code. (JSON
        # containment is not available on SQLite, the embedded default.)
        cards = cards.filter(_status_q("invalid", today), state=Card.State.INVALID).filter(
            reason_codes__icontains=f'"{wanted.reason}"'
        )
    if wanted.sort in ("status", "-status"):
        cards = cards.annotate(
            status_rank=Case(
                When(_status_q("valid", today), then=Value(0)),
                When(_status_q("invalid", today), then=Value(1)),
                When(_status_q("expired", today), then=Value(2)),
                default=Value(3),
                output_field=IntegerField(),
            )
        )
    return cards.order_by(*REGISTER_SORTS.get(wanted.sort, REGISTER_SORTS["name"]))
