"""Reads of orders and delegations that the employer's pages and tasks share."""

from __future__ import annotations

import datetime

from django.db.models import Max, Q, QuerySet, Subquery

from cards.models import CardType
from hmsportal.models import User
from orders.models import Delegation, Order, OrderLine


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


def order_for_submission(*, submission_token: str, actor: User) -> Order | None:
    """The order a form with this one-time token placed, if this person placed it."""
    if not submission_token:
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
