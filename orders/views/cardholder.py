"""The cardholder's own pages ("Mine HMS-kort"): the cards issued to the logged-in person,
what the portal holds about them, and reporting a card lost or stolen.

Everything is looked up by the logged-in person's identity number: a card number that is not
theirs answers 404, the same as one that does not exist, so numbers cannot be probed.
"""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from cards.numbers import display
from hmsportal.models import User
from orders import selectors, services
from orders.forms import CardReportForm
from orders.selectors import HolderCard


def _own_card(request: HttpRequest, number: str) -> tuple[User, HolderCard]:
    user = cast(User, request.user)
    holder_card = selectors.holder_card(user=user, number=number)
    if holder_card is None:
        raise Http404
    return user, holder_card


@login_required
@require_safe
def my_cards(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    return render(
        request,
        "orders/my_cards.html",
        {
            "holder_cards": selectors.holder_cards(user=user),
            "personal_data": selectors.personal_data_for(user=user),
        },
    )


@login_required
@require_safe
def my_card_detail(request: HttpRequest, number: str) -> HttpResponse:
    user, holder_card = _own_card(request, number)
    card = holder_card.card
    # The same register checks of this card that the employer's card page shows.
    checks = selectors.card_register_checks(card=card)
    return render(
        request,
        "orders/my_card_detail.html",
        {
            "holder_card": holder_card,
            "card": card,
            "history": selectors.card_history(card=card, viewer=user),
            "checks": checks,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def my_card_report(request: HttpRequest, number: str) -> HttpResponse:
    user, holder_card = _own_card(request, number)
    card = holder_card.card
    if not holder_card.reportable:
        messages.error(
            request,
            _("Card %(number)s cannot be reported: it is already revoked or has expired.")
            % {"number": display(card.number)},
        )
        return redirect("cardholder:card_detail", number=card.number)
    form = CardReportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.card_report_lost_by_holder(
                actor=user, card=card, reason=form.cleaned_data["reason"]
            )
        except services.CardNotReportable:
            messages.error(
                request,
                _("Card %(number)s cannot be reported: it is already revoked or has expired.")
                % {"number": display(card.number)},
            )
            return redirect("cardholder:card_detail", number=card.number)
        messages.success(
            request,
            _(
                "Card %(number)s is blocked and can no longer be used. We have told your employer, who can order a new card for you."
            )
            % {"number": display(card.number)},
        )
        return redirect("cardholder:my_cards")
    return render(
        request,
        "orders/my_card_report.html",
        {"holder_card": holder_card, "card": card, "form": form},
    )
