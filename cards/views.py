"""Back-office pages of the cards app (staff only)."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cards.models import Card


@staff_member_required
def print_queue(request: HttpRequest) -> HttpResponse:
    cards = Card.objects.filter(state=Card.State.APPROVED).select_related("card_type")[:500]
    return render(request, "cards/print_queue.html", {"cards": cards})
