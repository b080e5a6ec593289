"""The page a person sees while a register does not answer (in time).

Used by the views that ask a register for what they show (the organisation's pages through
permissions.employer_required, the organisation list) and, for any other view, by the
middleware that marks a web request as a person waiting (RegistersAnswerPeopleQuickly).
Outside hmsportal.views: permissions and the middleware import it, and the views import them.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from registry.facts import RegisterUnavailable
from registry.selectors import register_display_name

# What a browser or a proxy may wait before asking again: a register's bad moment.
RETRY_AFTER_SECONDS = 60


def register_unavailable(request: HttpRequest, error: RegisterUnavailable) -> HttpResponse:
    """503 in the portal's layout and the person's language, naming the register.

    Nothing was decided on the register's silence: cards keep their state and orders already
    placed stay (DOMAIN.md: an outage is never a reason to invalidate a card).
    """
    response = render(
        request,
        "register_unavailable.html",
        {"register_name": register_display_name(register=error.register)},
        status=503,
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
