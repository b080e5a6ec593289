"""Project-wide middleware."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec

from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from django_htmx.http import HttpResponseClientRefresh

from hmsportal import outage
from hmsportal.audit import audit_request_address
from hmsportal.ratelimit import client_address
from registry.clients.waiting import person_waiting
from registry.facts import RegisterUnavailable

logger = logging.getLogger(__name__)

P = ParamSpec("P")


class RegistersAnswerPeopleQuickly:
    """In a web request a person waits: register calls use the short web timeout
    (REGISTER_WEB_TIMEOUT_SECONDS) and retry once, without backing off. A register that still
    does not answer, where the view has nothing better to show, gets the page that names it
    (503) instead of an error trace."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with person_waiting():
            return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, RegisterUnavailable):
            logger.warning("%s while serving %s", exception, request.path)
            return outage.register_unavailable(request, exception)
        return None


def audit_client_address(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """Audit entries written while serving a request carry its client address (the one
    TRUSTED_PROXY_COUNT points at in X-Forwarded-For, as for rate limits)."""

    def middleware(request: HttpRequest) -> HttpResponse:
        with audit_request_address(client_address(request)):
            return get_response(request)

    return middleware


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's session middleware, except that a background poll is not activity.

    A session ends after SESSION_IDLE_MINUTES without use (shared computers on building
    sites). SESSION_SAVE_EVERY_REQUEST would let a page that polls for news (the order
    page's progress, every few seconds) keep an idle session alive for ever: a request marked
    by `not_activity` leaves the session's expiry where it was, unless it changed the session.
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        session = getattr(request, "session", None)
        if getattr(request, "not_activity", False) and session and not session.modified:
            if session.accessed:
                patch_vary_headers(response, ("Cookie",))
            return response
        return super().process_response(request, response)


def not_activity(view: Callable[P, HttpResponse]) -> Callable[P, HttpResponse]:
    """Mark a view's requests as background polls: they do not keep the session alive, and
    once the session has ended, htmx is told to reload the page (which then asks for login)
    rather than swap the login page into the one it polls."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        request = args[0]
        assert isinstance(request, HttpRequest)  # noqa: S101 (a view's first argument)
        request.not_activity = True  # type: ignore[attr-defined]
        user = getattr(request, "user", None)
        if getattr(request, "htmx", False) and not (user and user.is_authenticated):
            return HttpResponseClientRefresh()
        return view(*args, **kwargs)

    return wrapper


def method_not_allowed_page(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """Django's require_POST answers 405 with an empty body: a blank page for a person who
    opens /logout/ or a form's address. Such a response becomes the portal's own 405 page;
    the JSON API keeps its bare answer."""
    from hmsportal.views.errors import method_not_allowed

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if (
            response.status_code == 405
            and not response.content
            and not request.path_info.startswith("/api/")
        ):
            return method_not_allowed(request, allow=response.get("Allow", ""))
        return response

    return middleware
