"""Project-wide middleware."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from registry.clients.http import person_waiting


def registers_answer_people_quickly(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """In a web request a person waits: register calls retry once, without backing off."""

    def middleware(request: HttpRequest) -> HttpResponse:
        with person_waiting():
            return get_response(request)

    return middleware
