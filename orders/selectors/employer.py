"""Reads of orders and delegations that the employer's pages and tasks share."""

from __future__ import annotations

import datetime
import re

from django.db.models import Exists, Max, OuterRef, Q, QuerySet, Subquery

from cards.models import Card, CardType
from cards.selectors import expiring_until
from hmsportal.models import User
from orders.models import Delegation, EmployeeUploadLink, Order, OrderLine
from registry import selectors as registry_selectors
from registry.facts import OrganisationFacts


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


def order_lines_with_cards(*, order: Order) -> list[OrderLine]:
    """The order's lines with their card types and cards, for the order page and its polls."""
    return list(order.lines.select_related("card_type", "card", "order").order_by("pk"))


def order_line_for_employer(
    *, employer_orgnr: str, order_id: int, line_id: int
) -> OrderLine | None:
    """One line of one of the employer's orders, or None (another employer's is None too)."""
    return (
        OrderLine.objects.filter(
            pk=line_id, order_id=order_id, order__employer_orgnr=employer_orgnr
        )
        .select_related("order", "card_type", "card")
        .first()
    )


def order_line_for_confirmation(*, line_id: int, ordered_at: int) -> OrderLine | None:
    """The line a public confirmation refers to, if its order is the one that was signed."""
    line = OrderLine.objects.filter(pk=line_id).select_related("order", "card_type", "card").first()
    if line is None or int(line.order.created_at.timestamp()) != ordered_at:
        return None
    return line


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


# What CardOrderForm puts in its hidden submission_token field (secrets.token_urlsafe).
SUBMISSION_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def order_for_submission(*, submission_token: str, actor: User) -> Order | None:
    """The order a form with this one-time token placed, if this person placed it.

    The token comes from the POST as sent, before the form is cleaned: one the form cannot
    have made (a NUL byte, which PostgreSQL refuses in a query, or any other character or
    length outside token_urlsafe's) placed no order.
    """
    if not SUBMISSION_TOKEN.fullmatch(submission_token):
        return None
    return Order.objects.filter(submission_token=submission_token, ordered_by=actor).first()


def open_line_for(
    *, national_id: str, employer_orgnr: str, card_type: CardType
) -> OrderLine | None:
    """The person's order line of the type with the employer that is not decided yet."""
    return (
        OrderLine.objects.filter(
            national_id=national_id,
            employer_orgnr=employer_orgnr,
            card_type=card_type,
            state__in=OrderLine.OPEN_STATES,
        )
        .select_related("order")
        .first()
    )


def upload_links_live(*, order: Order) -> dict[int, EmployeeUploadLink]:
    """The live (not replaced, not used) employee upload link of each of the order's lines."""
    return {
        link.order_line_id: link
        for link in EmployeeUploadLink.objects.filter(
            order_line__order=order, used_at__isnull=True, replaced_at__isnull=True
        )
    }


def renewable_cards(*, employer_orgnr: str, today: datetime.date) -> QuerySet[Card]:
    """The employer's live cards expiring within the register's days (issue 10) that are
    not renewed yet and whose holder has no open order line of the type: what one renewal
    order may hold."""
    open_lines = OrderLine.objects.filter(
        employer_orgnr=employer_orgnr,
        national_id=OuterRef("holder_national_id"),
        card_type=OuterRef("card_type"),
        state__in=OrderLine.OPEN_STATES,
    )
    return (
        Card.objects.filter(
            employer_orgnr=employer_orgnr,
            state__in=Card.CHECKED_STATES,
            valid_until__gte=today,
            valid_until__lte=expiring_until(today),
            renewed_by__isnull=True,
        )
        .exclude(Exists(open_lines))
        # The renewal's photo age follows the chain of cards it renews (usually one or two).
        .select_related("card_type", "renews__renews")
        .order_by("valid_until", "holder_last_name", "holder_first_name", "pk")
    )


def unit_names_of(
    *, employer: OrganisationFacts, sub_units: list[OrganisationFacts]
) -> dict[str, str]:
    """The employer's units by number, by name: the main unit and the sub-units given."""
    names = {unit.orgnr: unit.name for unit in sub_units}
    names[employer.orgnr] = employer.name
    return names


def employer_unit_names(*, employer: OrganisationFacts) -> dict[str, str]:
    """The employer's units by number: the main unit and its sub-units (Enhetsregisteret)."""
    return unit_names_of(
        employer=employer,
        sub_units=registry_selectors.sub_units_list(main_orgnr=employer.orgnr),
    )
