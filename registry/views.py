"""Back-office view of the registers: outages must be visible (a register that is down
never invalidates a card, so staff need to see that checks are being postponed)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from hmsportal.backoffice import staff_required
from registry import selectors


@staff_required
def register_status(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "registry/register_status.html",
        {
            "health": selectors.register_health(now=timezone.now()),
            "failures": selectors.recent_failures(),
            "file_loads": selectors.file_loads(),
        },
    )
