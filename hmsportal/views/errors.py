"""The portal's error pages (400, 403, 404, 500 and a failed CSRF check) in its own layout.

Named as handler400…handler500 in hmsportal/urls.py and as CSRF_FAILURE_VIEW; Django uses
them when DEBUG is off. An error page must not fail in turn: each falls back to rendering
without context processors (no session, no database), and finally to a plain response.
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader

logger = logging.getLogger(__name__)

# The card producer's pages: the print queue, the registers page and Django's admin.
BACKOFFICE_PATH_PREFIXES = ("/backoffice/", "/admin/")

# The last resort, when even the template cannot be rendered: both languages, no layout.
PLAIN_ERROR = (
    '<!doctype html><html lang="nb"><meta charset="utf-8"><title>HMS-kort</title>'
    "<h1>Noe gikk galt</h1><p>Prøv igjen om noen minutter.</p>"
    '<p lang="en">Something went wrong. Try again in a few minutes.</p>'
    '<p><a href="/">Til forsiden / To the front page</a></p></html>'
)


def _render_minimal(template_name: str, *, status: int, context: dict[str, Any]) -> HttpResponse:
    """The page without context processors (no session or database), or the plain text."""
    try:
        content = loader.get_template(template_name).render(context)
    except Exception:
        logger.exception("Error page %s cannot be rendered", template_name)
        content = PLAIN_ERROR
    return HttpResponse(content, status=status)


def _render(
    request: HttpRequest,
    template_name: str,
    *,
    status: int,
    context: dict[str, Any] | None = None,
) -> HttpResponse:
    """The page in the portal's layout, with the visitor's menu; minimal if that fails."""
    try:
        return render(request, template_name, context, status=status)
    except Exception:
        logger.exception("Error page %s failed with context processors", template_name)
        return _render_minimal(template_name, status=status, context=dict(context or {}))


def is_backoffice_path(request: HttpRequest) -> bool:
    return request.path_info.startswith(BACKOFFICE_PATH_PREFIXES)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _render(request, "errors/400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # The exception's own text is not shown: our pages say what the visitor can do instead.
    return _render(
        request, "errors/403.html", status=403, context={"backoffice": is_backoffice_path(request)}
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _render(request, "errors/404.html", status=404)


def method_not_allowed(request: HttpRequest, *, allow: str) -> HttpResponse:
    """The 405 page: an address that only a form's button may use, opened as a page (an old
    bookmark of /logout/, a link pasted from the browser's history)."""
    response = _render(request, "errors/405.html", status=405)
    response["Allow"] = allow
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page, rendered without context processors: the database may be what failed."""
    return _render_minimal("errors/500.html", status=500, context={})


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without a valid CSRF token: most often a page left open past the session."""
    return _render(request, "errors/csrf_failure.html", status=403)
