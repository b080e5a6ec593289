"""Ending a card when its holder leaves: the employer says the employment has ended.

The nightly re-check ends a card on its own once Aa-registeret shows the employment's end
(cards.services.cards_recheck); the card's page and the card list say which of the two ended it.
"""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from cards import selectors as card_selectors
from cards import services as card_services
from cards.numbers import display
from hmsportal.models import User
from hmsportal.permissions import employer_required
from orders import renewals
from orders.forms import CardEndForm
from registry.facts import OrganisationFacts


@employer_required
@require_http_methods(["GET", "POST"])
def card_end(request: HttpRequest, employer: OrganisationFacts, number: str) -> HttpResponse:
    """Ask the employer to confirm, then end the card (revoked: the employment has ended)."""
    card = card_selectors.card_for_employer(employer_orgnr=employer.orgnr, number=number)
    if card is None:
        raise Http404
    if card.state not in card_services.REVOCABLE_STATES:
        messages.info(request, _("This card has already ended or expired."))
        return redirect("orders:card_detail", orgnr=employer.orgnr, number=card.number)
    form = CardEndForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            renewals.card_end_employment(card=card, actor=cast(User, request.user))
        except card_services.TransitionNotAllowed:
            # Ended or expired by someone else (or the re-check) since the page was shown.
            messages.info(request, _("This card has already ended or expired."))
        else:
            messages.success(
                request,
                _("Card %(number)s has ended. It can no longer be used.")
                % {"number": display(card.number)},
            )
        return redirect("orders:card_detail", orgnr=employer.orgnr, number=card.number)
    return render(
        request,
        "orders/card_end.html",
        {"employer": employer, "card": card, "form": form},
        status=400 if form.is_bound else 200,
    )
