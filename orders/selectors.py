"""Reads of orders and delegations that pages and tasks share."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Max, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _

from cards.imports import IMPORT_REASON
from cards.models import Card
from cards.numbers import NumberForm, classify, normalise
from cards.services import RevocationReason
from hmsportal.models import User
from orders.models import Delegation, Order, OrderLine
from registry.models import RegisterLookup, RoleSeen
from registry.rules import REASONS, Reason


def delegated_orgnrs(*, national_id: str, on: datetime.date) -> list[str]:
    """Employers (main units) for which the person holds a delegation in force on the day."""
    return list(
        Delegation.objects.filter(
            grantee_national_id=national_id,
            revoked_at__isnull=True,
            valid_from__lte=on,
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=on))
        .values_list("employer_orgnr", flat=True)
        .distinct()
    )


def delegations_in_force(*, on: datetime.date) -> QuerySet[Delegation]:
    """Every delegation in force on the day (the demo's login lists the people holding one)."""
    return (
        Delegation.objects.filter(revoked_at__isnull=True, valid_from__lte=on)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=on))
        .order_by("grantee_name", "employer_orgnr")
    )


def orders_for_employer(*, employer_orgnr: str) -> QuerySet[Order]:
    """The employer's orders with their lines and cards."""
    return (
        Order.objects.filter(employer_orgnr=employer_orgnr)
        .select_related("ordered_by")
        .prefetch_related("lines__card_type", "lines__card")
    )


def order_for_employer(*, employer_orgnr: str, order_id: int) -> Order | None:
    """One of the employer's orders, or None (another employer's order is None too)."""
    return orders_for_employer(employer_orgnr=employer_orgnr).filter(pk=order_id).first()


def latest_line_by_person(*, employer_orgnr: str) -> dict[str, OrderLine]:
    """Each person's newest order line with the employer, for the employee list.

    One row per person, however many cards the employer has ordered over the years.
    """
    of_employer = OrderLine.objects.filter(order__employer_orgnr=employer_orgnr)
    newest = (
        of_employer.order_by().values("national_id").annotate(newest=Max("pk")).values("newest")
    )
    return {
        line.national_id: line
        for line in of_employer.filter(pk__in=Subquery(newest)).select_related("card")
    }


def lines_awaiting_registration() -> QuerySet[OrderLine]:
    """Order lines still waiting for a register check to approve or reject them."""
    return OrderLine.objects.filter(
        state__in=[OrderLine.State.AWAITING_REGISTRATION, OrderLine.State.SUBMITTED]
    ).order_by("pk")


def delegations_for_employer(*, employer_orgnr: str) -> QuerySet[Delegation]:
    """Everyone given access to the employer, current first."""
    return (
        Delegation.objects.filter(employer_orgnr=employer_orgnr)
        .select_related("granted_by")
        .order_by("revoked_at", "-valid_from")
    )


# --- The cardholder's own page ("Mine HMS-kort") -----------------------------------------
# Everything here is keyed by the logged-in person's identity number: a cardholder sees the
# cards issued to them (any employer) and never anyone else's (STYLE.md §4).

# How a revoked card's reason code reads to its holder.
REVOCATION_TEXTS = {
    RevocationReason.LOST: gettext_lazy("Reported lost"),
    RevocationReason.STOLEN: gettext_lazy("Reported stolen"),
    RevocationReason.EMPLOYMENT_ENDED: gettext_lazy("The employment has ended"),
    RevocationReason.RETURNED: gettext_lazy("Returned"),
    RevocationReason.WITHDRAWN: gettext_lazy("Withdrawn by the card issuer"),
}
HOLDER_REPORTED_TEXTS = {
    RevocationReason.LOST: gettext_lazy("You reported the card lost. It was blocked at once."),
    RevocationReason.STOLEN: gettext_lazy("You reported the card stolen. It was blocked at once."),
}
# The same general words as the public status check (cards/status_views.py).
STATUS_TEXTS = {
    "valid": gettext_lazy("The card is valid today."),
    "expired": gettext_lazy("The card has expired."),
    "revoked": gettext_lazy("The card has been revoked."),
    "invalid": gettext_lazy("The register requirements are not met."),
}


@dataclass(frozen=True)
class HolderCard:
    """One of the logged-in person's cards, with its status today in plain words."""

    card: Card
    status: str  # valid, invalid, expired or revoked (Card.status_on)
    status_text: str
    card_type_name: str
    # Why an invalid card is invalid, and what fixes it, in the reader's language.
    reasons: list[tuple[str, str]]
    revocation_text: str
    order_lines: list[OrderLine]  # the order behind the card (a replacement: its original's)

    @property
    def reportable(self) -> bool:
        """Whether the holder can still report the card lost or stolen (it is live)."""
        return self.card.state in Card.CHECKED_STATES


@dataclass(frozen=True)
class HistoryEntry:
    """One step in a card's life, told to its holder."""

    at: datetime.datetime
    text: str


def _holder_cards_queryset(*, national_id: str) -> QuerySet[Card]:
    return (
        Card.objects.filter(holder_national_id=national_id)
        .select_related("card_type", "order_line__order__ordered_by", "replaces", "replaced_by")
        .prefetch_related("transitions__actor")
        .order_by("-issued_on", "-created_at")
    )


def _revocation_code(card: Card) -> str:
    revocations = [t for t in card.transitions.all() if t.to_state == Card.State.REVOKED]
    return revocations[-1].reason if revocations else ""


def _holder_card(card: Card, *, by_pk: dict[int, Card], today: datetime.date) -> HolderCard:
    status = card.status_on(today)
    status_text = str(STATUS_TEXTS[status])
    codes = card.reason_codes_on(today)
    if status == "invalid" and card.state != Card.State.INVALID and card.valid_from:
        status_text = _("The card is valid from %(date)s.") % {
            "date": date_format(card.valid_from, "DATE_FORMAT")
        }
        codes = []
    revocation = _revocation_code(card) if status == "revoked" else ""
    # A replacement card has no order line of its own: show the line of the card it replaced
    # (all of the holder's cards are loaded, so following the chain costs no query).
    order_lines: list[OrderLine] = []
    seen: set[int] = set()
    current: Card | None = card
    while current is not None and current.pk not in seen:
        seen.add(current.pk)
        line = getattr(current, "order_line", None)
        if line is not None:
            order_lines.append(line)
            break
        current = by_pk.get(current.replaces_id) if current.replaces_id else None
    return HolderCard(
        card=card,
        status=status,
        status_text=status_text,
        card_type_name=card.card_type.name(get_language()),
        reasons=[
            (Reason(code).text(), Reason(code).fix()) if code in REASONS else (code, "")
            for code in codes
        ],
        revocation_text=str(REVOCATION_TEXTS.get(revocation, revocation)),
        order_lines=order_lines,
    )


def holder_cards(*, user: User, today: datetime.date | None = None) -> list[HolderCard]:
    """Every card issued to the logged-in person, newest first; none without an identity."""
    if not user.national_id:
        return []
    today = today or timezone.localdate()
    cards = list(_holder_cards_queryset(national_id=user.national_id))
    by_pk = {card.pk: card for card in cards}
    return [_holder_card(card, by_pk=by_pk, today=today) for card in cards]


def holder_card(
    *, user: User, number: str, today: datetime.date | None = None
) -> HolderCard | None:
    """The logged-in person's card with this number, or None (someone else's is None too)."""
    if not user.national_id or classify(number) not in (NumberForm.OURS, NumberForm.LEGACY):
        return None
    today = today or timezone.localdate()
    cards = list(_holder_cards_queryset(national_id=user.national_id))
    by_pk = {card.pk: card for card in cards}
    wanted = normalise(number)
    card = next((card for card in cards if card.number == wanted), None)
    return None if card is None else _holder_card(card, by_pk=by_pk, today=today)


def _failed_reasons(reason: str) -> str:
    codes = [code.strip() for code in reason.partition(":")[2].split(",") if code.strip()]
    return " ".join(Reason(code).text() if code in REASONS else code for code in codes)


def card_history(*, card: Card, viewer: User) -> list[HistoryEntry]:
    """The card's life in plain words, oldest first (from its prefetched transitions)."""
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
            own_report = step.actor_id is not None and step.actor_id == viewer.pk
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
class PersonalDataCategory:
    """One kind of personal data the portal holds about a person, and what it is for."""

    code: str
    name: str
    held: str
    purpose: str


def _date(value: datetime.date | datetime.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date()
    return date_format(value, "DATE_FORMAT")


def _masked(national_id: str) -> str:
    """The birth-date part of an identity number; the personal digits are never shown."""
    return f"{national_id[:6]} *****"


def personal_data_for(*, user: User) -> list[PersonalDataCategory]:
    """Exactly which kinds of personal data the portal holds about the user, with counts,
    dates and what each is for. Only categories actually held are listed."""
    categories: list[PersonalDataCategory] = []
    national_id = user.national_id or ""
    if national_id:
        categories.append(
            PersonalDataCategory(
                code="identity_number",
                name=_("Identity number (fødselsnummer or D-number)"),
                held=_masked(national_id),
                purpose=_(
                    "The key that ties your cards, order lines and register checks to you. "
                    "It is never shown on the card or in the public status check."
                ),
            )
        )
    cards = Card.objects.filter(holder_national_id=national_id) if national_id else None
    lines = OrderLine.objects.filter(national_id=national_id) if national_id else None
    card_facts = (
        cards.aggregate(
            count=Count("pk"),
            with_photo=Count("pk", filter=~Q(photo="")),
            latest=Max("issued_on"),
        )
        if cards is not None
        else {"count": 0, "with_photo": 0, "latest": None}
    )
    line_facts = (
        lines.aggregate(
            count=Count("pk"),
            with_photo=Count("pk", filter=~Q(photo="")),
            with_id_document=Count("pk", filter=~Q(id_document="")),
            latest=Max("order__created_at"),
        )
        if lines is not None
        else {"count": 0, "with_photo": 0, "with_id_document": 0, "latest": None}
    )
    if card_facts["count"] or line_facts["count"]:
        newest = cards.order_by("-issued_on", "-created_at").first() if cards is not None else None
        if newest is not None:
            held = newest.holder_name
            if newest.holder_birth_date:
                held += ", " + _("born %(date)s") % {"date": _date(newest.holder_birth_date)}
        else:
            newest_line = lines.order_by("-pk").first() if lines is not None else None
            held = newest_line.full_name if newest_line else ""
        categories.append(
            PersonalDataCategory(
                code="name_and_birth_date",
                name=_("Name and date of birth"),
                held=held,
                purpose=_("Printed on the card. Taken from Folkeregisteret."),
            )
        )
    photos = card_facts["with_photo"] + line_facts["with_photo"]
    if photos:
        categories.append(
            PersonalDataCategory(
                code="photo",
                name=_("Photo of you"),
                held=ngettext("%(count)d stored copy", "%(count)d stored copies", photos)
                % {"count": photos},
                purpose=_("Printed on the card and shown in the status check. Stored encrypted."),
            )
        )
    if line_facts["with_id_document"]:
        count = line_facts["with_id_document"]
        categories.append(
            PersonalDataCategory(
                code="id_document",
                name=_("Copy of your ID document"),
                held=ngettext("%(count)d copy", "%(count)d copies", count) % {"count": count},
                purpose=_(
                    "Your employer's check of your identity when ordering the card. "
                    "Stored encrypted."
                ),
            )
        )
    if card_facts["count"]:
        count = card_facts["count"]
        categories.append(
            PersonalDataCategory(
                code="cards",
                name=_("Your HMS cards"),
                held=ngettext(
                    "%(count)d card, the newest issued %(date)s",
                    "%(count)d cards, the newest issued %(date)s",
                    count,
                )
                % {"count": count, "date": _date(card_facts["latest"])},
                purpose=_(
                    "The card shows who you work for. Its status can be checked by anyone "
                    "with the card number. The print file of each card is stored encrypted."
                ),
            )
        )
    if line_facts["count"]:
        count = line_facts["count"]
        categories.append(
            PersonalDataCategory(
                code="order_lines",
                name=_("Orders of cards for you"),
                held=ngettext(
                    "%(count)d order, the newest %(date)s",
                    "%(count)d orders, the newest %(date)s",
                    count,
                )
                % {"count": count, "date": _date(line_facts["latest"])},
                purpose=_("Your employer's order of the card: who ordered it and when."),
            )
        )
    lookups = (
        RegisterLookup.objects.filter(key=national_id).aggregate(
            count=Count("pk"), latest=Max("at")
        )
        if national_id
        else {"count": 0, "latest": None}
    )
    if lookups["count"]:
        count = lookups["count"]
        categories.append(
            PersonalDataCategory(
                code="register_checks",
                name=_("Register checks about you"),
                held=ngettext(
                    "%(count)d lookup, the latest %(date)s",
                    "%(count)d lookups, the latest %(date)s",
                    count,
                )
                % {"count": count, "date": _date(lookups["latest"])},
                purpose=_(
                    "Checking in Folkeregisteret and Aa-registeret that you may hold the card, "
                    "when it is ordered and every night after."
                ),
            )
        )
    delegations = (
        Delegation.objects.filter(grantee_national_id=national_id).aggregate(count=Count("pk"))
        if national_id
        else {"count": 0}
    )
    if delegations["count"]:
        count = delegations["count"]
        categories.append(
            PersonalDataCategory(
                code="delegations",
                name=_("Access given to you"),
                held=ngettext("%(count)d access", "%(count)d accesses", count) % {"count": count},
                purpose=_(
                    "Lets you order and administer HMS cards for an employer. "
                    "Given by someone with a role there."
                ),
            )
        )
    roles = RoleSeen.objects.filter(national_id=national_id).count() if national_id else 0
    if roles:
        categories.append(
            PersonalDataCategory(
                code="roles",
                name=_("Your roles in organisations"),
                held=ngettext("%(count)d role", "%(count)d roles", roles) % {"count": roles},
                purpose=_(
                    "From Enhetsregisteret. Decides which employers you may order cards for."
                ),
            )
        )
    orders_placed = Order.objects.filter(ordered_by=user).count()
    if orders_placed:
        categories.append(
            PersonalDataCategory(
                code="orders_placed",
                name=_("Orders you have placed"),
                held=ngettext("%(count)d order", "%(count)d orders", orders_placed)
                % {"count": orders_placed},
                purpose=_("Shows who ordered each card for an employer."),
            )
        )
    contact = [value for value in (user.full_name, user.email) if value]
    categories.append(
        PersonalDataCategory(
            code="account",
            name=_("Your user account"),
            held=_("%(contact)s; account created %(created)s, last login %(login)s")
            % {
                "contact": ", ".join(contact) or _("no name or e-mail address"),
                "created": _date(user.date_joined),
                "login": _date(user.last_login) or "–",
            },
            purpose=_(
                "Logging you in, and the name and e-mail address we use to contact you about "
                "cards you order."
            ),
        )
    )
    return categories
