"""Ordering pages: thin views that check access, validate a form and call one service."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from cards import catalogue
from hmsportal.models import User
from hmsportal.permissions import employer_for, employer_required, organisations_for
from orders import selectors, services
from orders.forms import CardOrderForm, OrganisationLookupForm
from registry import selectors as registry_selectors
from registry.facts import OrganisationFacts


@login_required
def organisation_list(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    form = OrganisationLookupForm(request.GET or None)
    if form.is_valid():
        employer = employer_for(user, form.cleaned_data["orgnr"])
        if employer is not None:
            return redirect("orders:employer", orgnr=employer.orgnr)
        form.add_error(
            "orgnr",
            _("You cannot order cards for this organisation. Ask someone with a role in it to give you access."),
        )
    return render(
        request,
        "orders/organisation_list.html",
        {"employers": organisations_for(user), "form": form},
    )


@employer_required
def employer_overview(request: HttpRequest, employer: OrganisationFacts) -> HttpResponse:
    employees = registry_selectors.employees_list(main_orgnr=employer.orgnr)
    lines = selectors.open_lines_by_person(employer_orgnr=employer.orgnr)
    rows = [(e, lines.get(e.employment.national_id, [])) for e in employees]
    return render(
        request,
        "orders/employer.html",
        {
            "employer": employer,
            "rows": rows,
            "orders": selectors.orders_for_employer(employer_orgnr=employer.orgnr)[:20],
        },
    )


@employer_required
def order_card(request: HttpRequest, employer: OrganisationFacts) -> HttpResponse:
    employees = registry_selectors.employees_list(main_orgnr=employer.orgnr)
    card_types = catalogue.orderable_card_types()
    initial = {"employee": request.GET.get("employee", "")}
    form = CardOrderForm(
        request.POST or None,
        request.FILES or None,
        employees=employees,
        card_types=card_types,
        initial=initial,
    )
    blackout = catalogue.blackout_at(timezone.now())
    if request.method == "POST" and form.is_valid():
        try:
            order = services.order_submit(
                actor=cast(User, request.user),
                employer=employer,
                employee=form.selected_employee(),
                card_type=form.cleaned_data["card_type"],
                photo=form.normalised_photo,
                id_document=form.cleaned_data["id_document"],
            )
        except services.OrderingClosed as closed:
            form.add_error(None, closed.message)
        except catalogue.NoPriceError:
            form.add_error("card_type", _("This card type cannot be ordered right now."))
        else:
            messages.success(request, _("The order is placed. We are checking the registers now."))
            return redirect("orders:order_detail", orgnr=employer.orgnr, order_id=order.pk)
    return render(
        request,
        "orders/order_card.html",
        {
            "employer": employer,
            "form": form,
            "blackout": blackout,
            "upcoming_blackouts": catalogue.blackouts_upcoming(timezone.now()),
        },
    )


@employer_required
def order_detail(request: HttpRequest, employer: OrganisationFacts, order_id: int) -> HttpResponse:
    order = selectors.order_for_employer(employer_orgnr=employer.orgnr, order_id=order_id)
    if order is None:
        raise Http404
    lines = list(order.lines.all())
    pending = any(line.state == line.State.SUBMITTED for line in lines)
    return render(
        request,
        "orders/order_detail.html",
        {"employer": employer, "order": order, "lines": lines, "pending": pending},
    )
