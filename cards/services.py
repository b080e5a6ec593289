"""Writes of the card's life: issue, state transitions, PDF rendering and re-checks."""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.module_loading import import_string

from cards import catalogue
from cards.models import Card, CardCheck, CardTransition, CardType, PrintBatch
from cards.numbers import card_number_new
from hmsportal.audit import audit_entry, audit_fields, audit_record, audit_record_many
from hmsportal.models import AuditEntry, User
from hmsportal.outbox import outbox_record
from hmsportal.storage import read_document
from registry.facts import RegisterUnavailable
from registry.rules import Purpose, Verdict
from registry.selectors import registers_consulted
from registry.services import CheckSubject, LookupMemo, register_check_many

logger = logging.getLogger(__name__)

S = Card.State
# The card's state machine (issue: ordered → approved → in production → shipped → active;
# active ↔ invalid; any live card → revoked or expired).
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.APPROVED: frozenset({S.IN_PRODUCTION, S.INVALID, S.REVOKED, S.EXPIRED}),
    S.IN_PRODUCTION: frozenset({S.SHIPPED, S.INVALID, S.REVOKED, S.EXPIRED}),
    S.SHIPPED: frozenset({S.ACTIVE, S.INVALID, S.REVOKED, S.EXPIRED}),
    S.ACTIVE: frozenset({S.INVALID, S.REVOKED, S.EXPIRED}),
    S.INVALID: frozenset({S.APPROVED, S.IN_PRODUCTION, S.SHIPPED, S.ACTIVE, S.REVOKED, S.EXPIRED}),
    S.REVOKED: frozenset(),
    S.EXPIRED: frozenset(),
}
_NUMBER_ATTEMPTS = 8
# "Any active or invalid card → revoked": cards not yet delivered can be revoked too.
REVOCABLE_STATES = frozenset(
    state for state, targets in ALLOWED_TRANSITIONS.items() if S.REVOKED in targets
)


class TransitionNotAllowed(ValueError):
    """The card cannot move from its state to the one asked for."""


@dataclass(frozen=True)
class Holder:
    """The person a card is issued to, as the registers show them."""

    national_id: str
    first_name: str
    last_name: str
    birth_date: datetime.date | None


def _transition_entry(
    card: Card, to_state: str, *, actor: User | None, reason: str
) -> CardTransition:
    return CardTransition(
        card=card, from_state=card.state, to_state=to_state, actor=actor, reason=reason[:300]
    )


@transaction.atomic
def card_transition(*, card: Card, to_state: str, actor: User | None, reason: str) -> Card:
    """Move a card to another state and record who, when and why."""
    card = Card.objects.select_for_update().get(pk=card.pk)
    if to_state not in ALLOWED_TRANSITIONS[card.state]:
        raise TransitionNotAllowed(f"{card.state} → {to_state}")
    transition = _transition_entry(card, to_state, actor=actor, reason=reason)
    transition.save()
    card.state = to_state
    card.save(update_fields=["state"])
    audit_record_many([_card_change(transition)])
    if to_state not in Card.CHECKED_STATES:
        renewals_unblock(card_ids=[card.pk])
    return card


def renewals_unblock(*, card_ids: Sequence[int]) -> int:
    """The renewals of cards that have just ended are no longer waiting beside them: from now
    on the database's one-live-card rule covers them like any other card."""
    return Card.objects.filter(renews__in=list(card_ids), renewal_pending=True).update(
        renewal_pending=False
    )


def _card_change(transition: CardTransition) -> AuditEntry:
    """The audit entry of a card's state change (recorded one by one or in bulk)."""
    revoked = transition.to_state == Card.State.REVOKED
    return audit_entry(
        actor=transition.actor,
        action=AuditEntry.Action.CARD_REVOKED if revoked else AuditEntry.Action.CARD_STATE_CHANGED,
        subject=transition.card,
        organisation_orgnr=transition.card.employer_orgnr,
        before={"state": transition.from_state},
        after={"state": transition.to_state, "reason": transition.reason},
    )


def cards_transition_bulk(
    *, cards: Sequence[Card], from_state: str, to_state: str, actor: User | None, reason: str
) -> int:
    """Move many locked cards, all in from_state, to to_state: one transition row each and
    one UPDATE, under the same state machine as card_transition (a batch may hold 1,000)."""
    if to_state not in ALLOWED_TRANSITIONS[from_state]:
        raise TransitionNotAllowed(f"{from_state} → {to_state}")
    ids = [card.pk for card in cards if card.state == from_state]
    transitions = [
        CardTransition(
            card=card, from_state=from_state, to_state=to_state, actor=actor, reason=reason[:300]
        )
        for card in Card.objects.filter(pk__in=ids).only("pk", "number", "employer_orgnr")
    ]
    CardTransition.objects.bulk_create(transitions, batch_size=1000)
    Card.objects.filter(pk__in=ids).update(state=to_state)
    audit_record_many(_card_change(t) for t in transitions)
    if to_state not in Card.CHECKED_STATES:
        renewals_unblock(card_ids=ids)
    return len(ids)


@transaction.atomic
def card_issue(
    *,
    card_type: CardType,
    holder: Holder,
    workplace_orgnr: str,
    employer_orgnr: str,
    employer_name: str,
    valid_until: datetime.date,
    photo: bytes,
    actor: User | None,
    issued_on: datetime.date | None = None,
    valid_from: datetime.date | None = None,
    renews: Card | None = None,
    register_checked: bool = True,
) -> Card:
    """Issue an approved card (the register check passed) and queue its PDF.

    renews: the card this one renews (it stays live until this one is delivered).

    register_checked: the registers were just checked for this card (an order line's check
    passed), so the card's record of checks (CardCheck) starts with that check. A replacement
    is issued without a check of its own (card_replace gives it the replaced card's
    checked_at); its first row comes from its next re-check.

    valid_from: the employment's start when it is still ahead; the card is made and sent
    as usual but is not valid before that day.
    """
    issued_on = issued_on or timezone.localdate()
    now = timezone.now()
    producer = catalogue.producer_at(now)
    card = Card(
        card_type=card_type,
        state=Card.State.APPROVED,
        holder_national_id=holder.national_id,
        holder_first_name=holder.first_name,
        holder_last_name=holder.last_name,
        holder_birth_date=holder.birth_date,
        workplace_orgnr=workplace_orgnr,
        employer_orgnr=employer_orgnr,
        employer_name=employer_name,
        issuer_name=producer.name if producer else "Arbeidstilsynet",
        design=catalogue.design_in_force(card_type, issued_on),
        issued_on=issued_on,
        valid_until=valid_until,
        valid_from=valid_from,
        checked_at=now if register_checked else None,
        renews=renews,
        renewal_pending=renews is not None,
    )
    _save_with_fresh_number(card)
    if photo:
        card.photo.save(f"{card.number}.jpg", ContentFile(photo), save=False)
        card.save(update_fields=["photo"])
    CardTransition.objects.create(
        card=card,
        from_state="",
        to_state=Card.State.APPROVED,
        actor=actor,
        reason="register check passed",
    )
    if register_checked:
        CardCheck.objects.create(
            card=card,
            at=now,
            kind=CardCheck.Kind.ORDER,
            outcome=CardCheck.Outcome.IN_ORDER,
            reason_codes=[],
            registers=registers_consulted(catalogue.requirements_for(card_type)),
        )
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CARD_ISSUED,
        subject=card,
        organisation_orgnr=employer_orgnr,
        after={
            "card_type": card_type.code,
            **audit_fields(card, "state", "holder_first_name", "holder_last_name"),
            **audit_fields(card, "workplace_orgnr", "valid_from", "valid_until", "photo"),
        },
    )
    outbox_record(task="cards.render_card_pdf", kwargs={"card_id": card.pk})
    return card


def _save_with_fresh_number(card: Card) -> None:
    """Numbers are random: on the rare collision the unique constraint refuses, try another."""
    for _attempt in range(_NUMBER_ATTEMPTS):
        card.number = card_number_new()
        card.full_clean(exclude=["photo", "pdf"], validate_unique=False)
        try:
            with transaction.atomic():
                card.save()
        except IntegrityError:
            if Card.objects.filter(number=card.number).exists():
                continue
            raise
        return
    raise IntegrityError("no free card number after several attempts")


def card_render_pdf(*, card_id: int) -> Card:
    """Render the card's PDF and store it, replacing any earlier rendering.

    Rendering happens before the row is locked (it takes a while); the old file is deleted
    only once the new one is committed. Idempotent: run twice, the second file replaces the
    first under the same name, and the card keeps one PDF.
    """
    from cards.pdf import render_cards_pdf

    pdf = render_cards_pdf([Card.objects.select_related("card_type", "design").get(pk=card_id)])
    with transaction.atomic():
        card = Card.objects.select_for_update().get(pk=card_id)
        old_name = card.pdf.name or ""
        card.pdf.save(f"{card.number}.pdf", ContentFile(pdf), save=False)
        card.save(update_fields=["pdf"])
        new_name = card.pdf.name
        if old_name and old_name != new_name:
            storage = card.pdf.storage
            transaction.on_commit(lambda: storage.delete(old_name))
    return card


# --- Re-checks -------------------------------------------------------------------------


@dataclass
class RecheckSummary:
    checked: int = 0
    became_invalid: int = 0
    became_valid: int = 0
    expired: int = 0
    # Ended (revoked) because Aa-registeret shows the employment has ended.
    ended: int = 0
    failed_lookups: int = 0
    failed_registers: set[str] = field(default_factory=set)
    # Rows added to the cards' records of checks (only checks that found something new).
    check_rows: int = 0

    def merge(self, other: RecheckSummary) -> None:
        self.checked += other.checked
        self.became_invalid += other.became_invalid
        self.became_valid += other.became_valid
        self.expired += other.expired
        self.ended += other.ended
        self.failed_lookups += other.failed_lookups
        self.failed_registers |= other.failed_registers
        self.check_rows += other.check_rows


def _states_before_invalid(card_ids: list[int]) -> dict[int, str]:
    """Where each card was in its life before it last became invalid (one query each)."""
    before: dict[int, str] = {}
    for card_id, from_state in (
        CardTransition.objects.filter(card_id__in=card_ids, to_state=Card.State.INVALID)
        .order_by("card_id", "-at", "-pk")
        .values_list("card_id", "from_state")
    ):
        before.setdefault(card_id, from_state or Card.State.ACTIVE)
    # A batch may have been shipped while its card was invalid (shipping skips it).
    shipped = set(
        PrintBatch.cards.through.objects.filter(
            card_id__in=card_ids, printbatch__state=PrintBatch.State.SHIPPED
        ).values_list("card_id", flat=True)
    )
    for card_id in card_ids:
        target = before.get(card_id, Card.State.ACTIVE)
        if target == Card.State.IN_PRODUCTION and card_id in shipped:
            target = Card.State.SHIPPED
        before[card_id] = target
    return before


# What a re-check writes to a card: state, reason codes, whether it was checked, valid-from.
Outcome = tuple[str, tuple[str, ...], bool, datetime.date | None]


def _acceptable(verdict: Verdict) -> bool:
    """The card may stay (or become) valid: eligible now, or once the employment starts."""
    return verdict.eligible or verdict.eligible_from_start


def _employment_ended(verdict: Verdict) -> bool:
    """Aa-registeret shows the employment with the employer has ended (its end date passed)
    and none that carries on or starts soon: the rules engine's employment_ended."""
    return not _acceptable(verdict) and "employment_ended" in verdict.reason_codes


def _check_row(card: Card, verdict: Verdict, subject: CheckSubject, **fields: object) -> CardCheck:
    """What the re-check found about one card, as a row of its record of checks."""
    return CardCheck(
        card=card,
        outcome=(
            CardCheck.Outcome.IN_ORDER if _acceptable(verdict) else CardCheck.Outcome.NOT_IN_ORDER
        ),
        reason_codes=verdict.reason_codes,
        registers=registers_consulted(subject.requirements),
        **fields,
    )


def _changed_checks(checks: Sequence[CardCheck]) -> list[CardCheck]:
    """The checks whose outcome differs from their card's previous check row, or that are the
    card's first: only those are written (CardCheck). One query for the whole batch."""
    latest = (
        CardCheck.objects.filter(card_id=OuterRef("pk")).order_by("-at", "-pk").values("pk")[:1]
    )
    cards = Card.objects.filter(pk__in=[check.card.pk for check in checks])
    previous = {
        card_id: (outcome, sorted(codes))
        for card_id, outcome, codes in CardCheck.objects.filter(
            pk__in=cards.annotate(latest=Subquery(latest)).values("latest")
        ).values_list("card_id", "outcome", "reason_codes")
    }
    return [
        check
        for check in checks
        if previous.get(check.card.pk) != (check.outcome, sorted(check.reason_codes))
    ]


def cards_recheck(
    *,
    cards: Sequence[Card],
    on: datetime.date | None = None,
    memo: LookupMemo | None = None,
    kind: str = CardCheck.Kind.NIGHTLY,
) -> RecheckSummary:
    """Re-check the given cards with one batch of register lookups and apply the verdicts.

    The registers are asked outside any transaction (they may be slow); the verdicts are then
    applied under a row lock, and only to cards whose state nobody changed meanwhile (a card
    revoked or put in a print batch during the lookups keeps what that gave it). A register
    that does not answer changes nothing: every card keeps its last known status.

    Each checked card's checked_at moves; its record of checks (CardCheck, of this kind) gets
    a row only when the outcome differs from its previous row. An unanswered register writes
    no row (CardCheck says why).
    """
    on = on or timezone.localdate()
    summary = RecheckSummary()
    live = [c for c in cards if c.state in Card.CHECKED_STATES]
    checkable = [c for c in live if c.valid_until >= on]
    subjects = {
        c.pk: CheckSubject(
            national_id=c.holder_national_id,
            orgnr=c.workplace_orgnr,
            requirements=catalogue.requirements_for(c.card_type),
        )
        for c in checkable
    }
    verdicts: dict[CheckSubject, Verdict] = {}
    if subjects:
        try:
            verdicts = register_check_many(
                subjects=list(set(subjects.values())), on=on, purpose=Purpose.RECHECK, memo=memo
            )
        except RegisterUnavailable as error:
            logger.warning("Re-check of %d cards postponed: %s", len(checkable), error)
            summary.failed_lookups = len(checkable)
            summary.failed_registers.add(error.register)
            subjects = {}
    now = timezone.now()
    with transaction.atomic():
        seen_state = {c.pk: c.state for c in live}
        locked = dict(
            Card.objects.select_for_update()
            .filter(pk__in=list(seen_state))
            .values_list("pk", "state")
        )
        unchanged = [c for c in live if locked.get(c.pk) == seen_state[c.pk]]
        becoming_valid = [
            c.pk
            for c in unchanged
            if c.pk in subjects
            and c.state == Card.State.INVALID
            and _acceptable(verdicts[subjects[c.pk]])
        ]
        back_to = _states_before_invalid(becoming_valid) if becoming_valid else {}
        transitions: list[CardTransition] = []
        changed: list[Card] = []
        checked_ids: list[int] = []
        checks: list[CardCheck] = []
        ended: list[int] = []
        for card in unchanged:
            if card.valid_until < on:
                transitions.append(
                    _transition_entry(
                        card, Card.State.EXPIRED, actor=None, reason="valid-until passed"
                    )
                )
                card.state = Card.State.EXPIRED
                changed.append(card)
                summary.expired += 1
                continue
            if card.pk not in subjects:
                continue
            verdict = verdicts[subjects[card.pk]]
            summary.checked += 1
            card.checked_at = now
            checks.append(_check_row(card, verdict, subjects[card.pk], at=now, kind=kind))
            if _acceptable(verdict) and card.valid_from != verdict.valid_from:
                # The employment starts later (or its start moved): the card stays where it is
                # in production and is valid from the start (Card.status_on).
                card.valid_from = verdict.valid_from
                if card.state != Card.State.INVALID:
                    changed.append(card)
                    continue
            if _employment_ended(verdict):
                # DOMAIN.md rule 3: the card is tied to the employment. Once Aa-registeret
                # shows it has ended, the card ends for good (a new employment needs a new
                # card), so it is revoked rather than left invalid to come back.
                transitions.append(
                    _transition_entry(
                        card,
                        Card.State.REVOKED,
                        actor=None,
                        reason=RevocationReason.EMPLOYMENT_ENDED_IN_REGISTER,
                    )
                )
                card.state = Card.State.REVOKED
                card.reason_codes = verdict.reason_codes
                changed.append(card)
                ended.append(card.pk)
                summary.ended += 1
            elif not _acceptable(verdict) and card.state != Card.State.INVALID:
                transitions.append(
                    _transition_entry(
                        card,
                        Card.State.INVALID,
                        actor=None,
                        reason="register check failed: " + ", ".join(verdict.reason_codes),
                    )
                )
                card.state = Card.State.INVALID
                card.reason_codes = verdict.reason_codes
                changed.append(card)
                summary.became_invalid += 1
            elif _acceptable(verdict) and card.state == Card.State.INVALID:
                target = back_to[card.pk]
                transitions.append(
                    _transition_entry(
                        card, target, actor=None, reason="register check passed again"
                    )
                )
                card.state = target
                card.reason_codes = []
                changed.append(card)
                summary.became_valid += 1
            elif not _acceptable(verdict) and card.reason_codes != verdict.reason_codes:
                card.reason_codes = verdict.reason_codes
                changed.append(card)
            else:
                checked_ids.append(card.pk)
        # One UPDATE per distinct outcome instead of bulk_update's CASE per row: a batch has
        # few distinct outcomes, and bench_recheck measured it a fifth faster.
        outcomes: dict[Outcome, list[int]] = defaultdict(list)
        for card in changed:
            checked = card.checked_at == now
            outcome = (card.state, tuple(card.reason_codes), checked, card.valid_from)
            outcomes[outcome].append(card.pk)
        for (state, codes, checked, valid_from), ids in outcomes.items():
            fields: dict[str, object] = {
                "state": state,
                "reason_codes": list(codes),
                "valid_from": valid_from,
            }
            if checked:
                fields["checked_at"] = now
            Card.objects.filter(pk__in=ids).update(**fields)
            if state not in Card.CHECKED_STATES:
                renewals_unblock(card_ids=ids)
        if transitions:
            CardTransition.objects.bulk_create(transitions, batch_size=1000)
            audit_record_many(_card_change(t) for t in transitions)
        if checked_ids:
            Card.objects.filter(pk__in=checked_ids).update(checked_at=now)
        if ended:
            # After the UPDATEs above: a renewal ended in this same batch is no longer live.
            _renewals_end_with_employment(card_ids=ended)
        if checks:
            summary.check_rows = len(
                CardCheck.objects.bulk_create(_changed_checks(checks), batch_size=1000)
            )
    return summary


def cards_recheck_all(
    *,
    on: datetime.date | None = None,
    batch_size: int = 2000,
    employer_orgnrs: Iterable[str] | None = None,
    checked_before: datetime.datetime | None = None,
    pk_range: tuple[int, int] | None = None,
    kind: str = CardCheck.Kind.NIGHTLY,
) -> RecheckSummary:
    """Re-check every live card (or those of some employers, or with primary keys in a range,
    or those not checked since a moment), batch by batch; kind says what the cards' records of
    checks call it."""
    queryset = Card.objects.filter(state__in=Card.CHECKED_STATES).select_related("card_type")
    if pk_range is not None:
        queryset = queryset.filter(pk__range=pk_range)
    if checked_before is not None:
        queryset = queryset.filter(Q(checked_at__isnull=True) | Q(checked_at__lt=checked_before))
    if employer_orgnrs is not None:
        orgnrs = list(employer_orgnrs)
        queryset = queryset.filter(employer_orgnr__in=orgnrs) | queryset.filter(
            workplace_orgnr__in=orgnrs
        )
    summary = RecheckSummary()
    # One memo for the whole call (a night's chunk, cards.rechecks): each organisation and
    # person is looked up once, however many batches their cards fall in.
    memo = LookupMemo()
    last_pk = 0
    while True:
        batch = list(queryset.filter(pk__gt=last_pk).order_by("pk")[:batch_size])
        if not batch:
            break
        summary.merge(cards_recheck(cards=batch, on=on, memo=memo, kind=kind))
        last_pk = batch[-1].pk
    return summary


def _renewals_end_with_employment(*, card_ids: list[int]) -> None:
    """The re-check found these cards' employment ended (and revoked them): their renewals end
    with them, as card_revoke ends them when the employer says so. A renewal card not yet
    delivered is revoked here; an order line for one not yet issued belongs to orders, which
    hears of it through CARDS_EMPLOYMENT_ENDED_HANDLER, in this transaction."""
    renewals = list(
        Card.objects.select_for_update()
        .filter(renews__in=card_ids, state__in=Card.VALID_STATES)
        .order_by("pk")
    )
    for state in sorted({renewal.state for renewal in renewals}):
        cards_transition_bulk(
            cards=[renewal for renewal in renewals if renewal.state == state],
            from_state=state,
            to_state=Card.State.REVOKED,
            actor=None,
            reason=RevocationReason.EMPLOYMENT_ENDED_IN_REGISTER,
        )
    path = getattr(settings, "CARDS_EMPLOYMENT_ENDED_HANDLER", "")
    if path:
        handler: Callable[[list[int]], object] = import_string(path)
        handler(sorted(card_ids))


# --- Revocation, replacement, delivery ----------------------------------------------------


class RevocationReason:
    """Why a card is revoked (stable codes; shown to employers and in the transition log)."""

    LOST = "lost"
    STOLEN = "stolen"
    # The employer (an administrator) ended the card because the person has left.
    EMPLOYMENT_ENDED = "employment_ended"
    # The nightly re-check ended it because Aa-registeret shows the employment has ended
    # (recorded without an actor).
    EMPLOYMENT_ENDED_IN_REGISTER = "employment_ended_aa_registeret"
    RETURNED = "returned"
    WITHDRAWN = "withdrawn"  # by the back office
    # Its renewal was delivered (cards_activate_delivered).
    RENEWED = "renewed"

    ALL = (
        LOST,
        STOLEN,
        EMPLOYMENT_ENDED,
        EMPLOYMENT_ENDED_IN_REGISTER,
        RETURNED,
        WITHDRAWN,
        RENEWED,
    )
    # Both ways a card ends with the employment.
    EMPLOYMENT_ENDINGS = (EMPLOYMENT_ENDED, EMPLOYMENT_ENDED_IN_REGISTER)


# Only a lost or stolen card gets a replacement with a new number.
REPLACEABLE_REASONS = (RevocationReason.LOST, RevocationReason.STOLEN)


@transaction.atomic
def card_revoke(*, card: Card, reason: str, actor: User | None) -> Card:
    """Revoke a live card for good (lost, stolen, employment ended, withdrawn …).

    When the employment has ended, a renewal of the card still on its way ends with it: the
    new card would otherwise be printed, sent and billed for someone who has left.
    """
    if reason not in RevocationReason.ALL:
        raise ValueError(f"unknown revocation reason {reason!r}")
    revoked = card_transition(card=card, to_state=Card.State.REVOKED, actor=actor, reason=reason)
    if reason in RevocationReason.EMPLOYMENT_ENDINGS:
        for renewal in Card.objects.filter(renews=revoked, state__in=Card.VALID_STATES):
            card_transition(card=renewal, to_state=Card.State.REVOKED, actor=actor, reason=reason)
    return revoked


@transaction.atomic
def card_replace(*, card: Card, actor: User | None, reason: str = RevocationReason.LOST) -> Card:
    """Issue a replacement for a lost or stolen card: a new number, the old one revoked at once.

    The replacement keeps the old card's valid-until: replacing a card does not extend it.
    """
    if reason not in REPLACEABLE_REASONS:
        raise ValueError(f"a card revoked as {reason!r} is not replaced")
    card = Card.objects.select_for_update().select_related("card_type").get(pk=card.pk)
    if card.state not in Card.VALID_STATES:
        raise TransitionNotAllowed(f"a {card.state} card cannot be replaced")
    photo = read_document(card.photo) if card.photo else b""
    card_transition(card=card, to_state=Card.State.REVOKED, actor=actor, reason=reason)
    replacement = card_issue(
        card_type=card.card_type,
        holder=Holder(
            national_id=card.holder_national_id,
            first_name=card.holder_first_name,
            last_name=card.holder_last_name,
            birth_date=card.holder_birth_date,
        ),
        workplace_orgnr=card.workplace_orgnr,
        employer_orgnr=card.employer_orgnr,
        employer_name=card.employer_name,
        valid_until=card.valid_until,
        photo=photo,
        actor=actor,
        register_checked=False,
    )
    replacement.replaces = card
    # No register check ran for the replacement; the registers' last word on the same person,
    # employer and card type is the replaced card's. Its own first check row comes from its
    # next re-check (CardCheck).
    replacement.checked_at = card.checked_at
    replacement.save(update_fields=["replaces", "checked_at"])
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CARD_REPLACED,
        subject=replacement,
        organisation_orgnr=card.employer_orgnr,
        before={"card": card.number},
        after={"card": replacement.number, "reason": reason},
    )
    return replacement


@transaction.atomic
def cards_activate_delivered(*, shipped_before: datetime.datetime) -> int:
    """Shipped cards count as delivered, and so active, some days after shipping."""
    shipped_ids = set(
        CardTransition.objects.filter(
            to_state=Card.State.SHIPPED, at__lt=shipped_before, card__state=Card.State.SHIPPED
        ).values_list("card_id", flat=True)
    )
    cards = list(
        Card.objects.select_for_update()
        .filter(pk__in=shipped_ids, state=Card.State.SHIPPED)
        .only("pk", "state")
    )
    activated = cards_transition_bulk(
        cards=cards,
        from_state=Card.State.SHIPPED,
        to_state=Card.State.ACTIVE,
        actor=None,
        reason="delivered",
    )
    # The old card stays valid until its renewal is active (issue 10): it ends now.
    for renewed in Card.objects.select_for_update().filter(
        renewed_by__in=[card.pk for card in cards], state__in=Card.CHECKED_STATES
    ):
        card_revoke(card=renewed, reason=RevocationReason.RENEWED, actor=None)
    return activated
