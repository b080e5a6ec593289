"""The administrators' daily digest: one e-mail per organisation and administrator.

What an organisation's administrators must act on — cards that expire soon, cards that became
invalid (why, and what fixes it), order lines waiting for the employee's files or for
Aa-registeret — gathered once a day into one message each. Administrators are the people who
may act for the organisation (hmsportal.permissions): key-role holders in Enhetsregisteret and
people with a delegation in force, each with a portal account and a confirmed address.

Each item reaches a person once (DigestItemSent, a unique row per organisation, person, kind
and item, written in the transaction that sends); an organisation with nothing new gets no
mail. The queries are a fixed handful per organisation, whatever its number of cards.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from cards.models import Card, CardTransition
from cards.numbers import display
from cards.selectors import expiring_until, expiring_within_days
from hmsportal.mail import mail_person
from hmsportal.models import User
from orders import selectors
from orders.models import DigestItemSent, OrderLine
from registry import selectors as registry_selectors
from registry.facts import RegisterUnavailable
from registry.rules import REASONS, Reason

logger = logging.getLogger(__name__)

# Order lines that wait for something from the employer's side: the employee's own photo and
# ID document, or the employment to appear in Aa-registeret (the a-melding).
WAITING_STATES = (
    OrderLine.State.AWAITING_FILES,
    OrderLine.State.AWAITING_ID_CHECK,
    OrderLine.State.AWAITING_REGISTRATION,
)


@dataclass(frozen=True)
class DigestItem:
    """One thing to tell: a card (expiring or invalid) or an order line (waiting)."""

    kind: str
    key: str
    card: Card | None = None
    line: OrderLine | None = None


@dataclass
class OrganisationDigest:
    """Everything one organisation's administrators may be told today."""

    orgnr: str
    name: str
    items: list[DigestItem] = field(default_factory=list)


def _url(name: str, **kwargs: object) -> str:
    return settings.PORTAL_BASE_URL + reverse(name, kwargs=kwargs)


def _expiring(today: datetime.date) -> Q:
    until = expiring_until(today)
    # A card already renewed or replaced (it has a successor) needs nothing more.
    return Q(
        state__in=Card.VALID_STATES,
        valid_until__gte=today,
        valid_until__lte=until,
        replaced_by__isnull=True,
        renewed_by__isnull=True,
    )


def _organisations_with_news(today: datetime.date) -> list[str]:
    """Employers (main units) with anything that could go in a digest: three small queries."""
    orgnrs: set[str] = set()
    for queryset in (
        Card.objects.filter(_expiring(today)),
        Card.objects.filter(state=Card.State.INVALID),
    ):
        orgnrs.update(queryset.order_by().values_list("employer_orgnr", flat=True).distinct())
    orgnrs.update(
        OrderLine.objects.filter(state__in=WAITING_STATES)
        .order_by()
        .values_list("employer_orgnr", flat=True)
        .distinct()
    )
    return sorted(orgnrs)


def organisation_digest(*, orgnr: str, today: datetime.date) -> OrganisationDigest:
    """The organisation's digest items today: three queries, however many cards it has."""
    digest = OrganisationDigest(orgnr=orgnr, name="")
    card_fields = (
        "number",
        "state",
        "card_type",
        "holder_first_name",
        "holder_last_name",
        "employer_name",
        "employer_orgnr",
        "valid_until",
        "reason_codes",
    )
    for card in (
        Card.objects.filter(_expiring(today), employer_orgnr=orgnr)
        .select_related("card_type")
        .only(*card_fields)
        .order_by("valid_until", "holder_last_name", "holder_first_name", "pk")
    ):
        digest.name = digest.name or card.employer_name
        digest.items.append(
            DigestItem(
                kind=DigestItemSent.Kind.EXPIRING,
                key=f"{card.pk}:{card.valid_until.isoformat()}",
                card=card,
            )
        )
    # Each time a card becomes invalid is news of its own: the key names the step.
    became_invalid = (
        CardTransition.objects.filter(card=OuterRef("pk"), to_state=Card.State.INVALID)
        .order_by("-at", "-pk")
        .values("pk")[:1]
    )
    for card in (
        Card.objects.filter(state=Card.State.INVALID, employer_orgnr=orgnr)
        .select_related("card_type")
        .only(*card_fields)
        .annotate(became_invalid=Subquery(became_invalid))
        .order_by("holder_last_name", "holder_first_name", "pk")
    ):
        digest.name = digest.name or card.employer_name
        digest.items.append(
            DigestItem(
                kind=DigestItemSent.Kind.INVALID,
                key=f"{card.pk}:{getattr(card, 'became_invalid', None) or 0}",
                card=card,
            )
        )
    for line in (
        OrderLine.objects.filter(state__in=WAITING_STATES, employer_orgnr=orgnr)
        .select_related("order", "card_type")
        .order_by("order_id", "pk")
    ):
        digest.name = digest.name or line.order.employer_name
        digest.items.append(
            DigestItem(kind=DigestItemSent.Kind.WAITING, key=f"{line.pk}:{line.state}", line=line)
        )
    return digest


def administrators_of(*, orgnr: str, today: datetime.date) -> list[User]:
    """The people who may act for the organisation and can be mailed: key-role holders in
    Enhetsregisteret and holders of a delegation in force, with a confirmed address."""
    national_ids = set(
        selectors.delegations_in_force(on=today)
        .filter(employer_orgnr=orgnr)
        .values_list("grantee_national_id", flat=True)
    )
    try:
        national_ids |= registry_selectors.key_role_national_ids(orgnr=orgnr)
    except RegisterUnavailable as error:
        # The role holders get today's items another day (nothing is recorded for them);
        # the delegates need no register to be found.
        logger.warning("Digest for %s: key roles unknown today: %s", orgnr, error)
    if not national_ids:
        return []
    return list(
        User.objects.filter(
            national_id__in=sorted(national_ids),
            is_active=True,
            email_confirmed_at__isnull=False,
        )
        .exclude(email="")
        .order_by("pk")
    )


def _item_context(item: DigestItem, language: str) -> dict[str, object]:
    """How one item reads to a recipient in their language (never an identity number)."""
    if item.card is not None:
        card = item.card
        return {
            "name": card.holder_name,
            "number": display(card.number),
            "card_type_name": card.card_type.name(language),
            "valid_until": card.valid_until,
            "reasons": [
                {"text": Reason(code).text(language), "fix": Reason(code).fix(language)}
                for code in (card.reason_codes or [])
                if code in REASONS
            ],
            "url": _url("orders:card_detail", orgnr=card.employer_orgnr, number=card.number),
        }
    line = item.line
    if line is None:
        raise ValueError("a digest item is a card or an order line")
    return {
        "name": line.full_name,
        "card_type_name": line.card_type.name(language),
        "order_number": line.order_id,
        "awaiting_files": line.state == OrderLine.State.AWAITING_FILES,
        "awaiting_id_check": line.state == OrderLine.State.AWAITING_ID_CHECK,
        "url": _url("orders:order_detail", orgnr=line.employer_orgnr, order_id=line.order_id),
    }


def _digest_send(*, digest: OrganisationDigest, recipient: User, items: list[DigestItem]) -> bool:
    """Record the items as sent to the person and mail them, in one transaction: a failed
    send records nothing (tomorrow's run tries again), and a run racing this one for the
    same items hits the unique constraint and sends nothing."""
    now = timezone.now()
    language = recipient.language
    by_kind: dict[str, list[dict[str, object]]] = {kind: [] for kind in DigestItemSent.Kind}
    for item in items:
        by_kind[item.kind].append(_item_context(item, language))
    try:
        with transaction.atomic():
            DigestItemSent.objects.bulk_create(
                [
                    DigestItemSent(
                        employer_orgnr=digest.orgnr,
                        recipient=recipient,
                        kind=item.kind,
                        item_key=item.key,
                        sent_at=now,
                    )
                    for item in items
                ]
            )
            return mail_person(
                user=recipient,
                template_prefix="orders/email/digest",
                context={
                    "employer_name": digest.name,
                    "orgnr": digest.orgnr,
                    "count": len(items),
                    "expiring": by_kind[DigestItemSent.Kind.EXPIRING],
                    "invalid": by_kind[DigestItemSent.Kind.INVALID],
                    "waiting": by_kind[DigestItemSent.Kind.WAITING],
                    "expiry_days": expiring_within_days(),
                    "cards_url": _url("orders:card_list", orgnr=digest.orgnr),
                    "organisation_url": _url("orders:employer", orgnr=digest.orgnr),
                },
            )
    except IntegrityError:
        logger.info("Digest for %s to user %s: sent by another run", digest.orgnr, recipient.pk)
        return False


def organisation_digests_send(*, orgnr: str, today: datetime.date) -> int:
    """Send the organisation's administrators what they have not been told yet; returns the
    number of messages sent (none when nothing is new)."""
    digest = organisation_digest(orgnr=orgnr, today=today)
    if not digest.items:
        return 0
    recipients = administrators_of(orgnr=orgnr, today=today)
    if not recipients:
        return 0
    already = set(
        DigestItemSent.objects.filter(employer_orgnr=orgnr, recipient__in=recipients).values_list(
            "recipient_id", "kind", "item_key"
        )
    )
    sent = 0
    for recipient in recipients:
        new = [i for i in digest.items if (recipient.pk, i.kind, i.key) not in already]
        if not new:
            continue
        try:
            sent += _digest_send(digest=digest, recipient=recipient, items=new)
        except OSError:
            # The mail server failed: nothing was recorded, so tomorrow's digest has it all.
            logger.exception("Digest for %s to user %s not sent", orgnr, recipient.pk)
    return sent


def administrator_digests_send(*, today: datetime.date | None = None) -> int:
    """The daily digest for every organisation with anything to tell (the beat task)."""
    today = today or timezone.localdate()
    return sum(
        organisation_digests_send(orgnr=orgnr, today=today)
        for orgnr in _organisations_with_news(today)
    )
