"""The public status page's HTML: the answer for one card inside the portal's page.

The status page is the portal's busiest: every inspector's scan of a QR code is one. For a
visitor who is not logged in and has no message waiting, everything on the page but the
card's part and the address the language switch returns to is the same in a language: the
head, header, heading, the empty form for the next number and the footer. That shell is
rendered once per process and language from the same template (cards/status.html, with
markers where the two varying parts go) and split at the markers; a lookup then renders only
the card's part (cards/status_result.html) and joins the pieces. Rendering the whole template
for every lookup cost more than the lookup itself (bench/README.md). Anyone else — logged in,
a message waiting — gets the page rendered whole, and tests/cards/test_status_page_shell.py
holds the two ways to the same bytes.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import get_template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

logger = logging.getLogger(__name__)

PAGE_TEMPLATE = "cards/status.html"
RESULT_TEMPLATE = "cards/status_result.html"

# Markers no rendered page contains: where the card's part and the language switch's return
# address go in the shell.
_RESULT_MARK = "@@hmsportal-status-result-9c41@@"
_NEXT_MARK = "@@hmsportal-status-next-9c41@@"

# language -> (before the return address, between it and the card, after the card)
_shells: dict[str, tuple[str, str, str]] = {}
_shells_lock = threading.Lock()


def status_result_html(context: dict[str, Any]) -> SafeString:
    """The card's part of the page: status, holder, what the card shows."""
    return mark_safe(get_template(RESULT_TEMPLATE).render(context))  # noqa: S308 (autoescaped template output)


def render_status_page(
    request: HttpRequest, context: dict[str, Any], *, status: int
) -> HttpResponse:
    """The status page, from the shell where the visitor gets the same page as everyone."""
    if context.get("outcome") == "found":
        context["result_html"] = status_result_html(context)
        if _sees_the_common_page(request):
            shell = _shell(request, get_language())
            if shell is not None:
                before_next, before_result, after_result = shell
                content = "".join(
                    (
                        before_next,
                        escape(request.get_full_path()),
                        before_result,
                        context["result_html"],
                        after_result,
                    )
                )
                return HttpResponse(content, status=status)
    return render(request, PAGE_TEMPLATE, context, status=status)


def _sees_the_common_page(request: HttpRequest) -> bool:
    """Not logged in and no message waiting: the header and page are the anonymous ones."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return False
    # Counting loads the waiting messages without marking them shown; a page with any is
    # rendered whole, which shows them.
    return len(get_messages(request)) == 0


def _shell(request: HttpRequest, language: str) -> tuple[str, str, str] | None:
    shell = _shells.get(language)
    if shell is not None:
        return shell
    with _shells_lock:
        shell = _shells.get(language)
        if shell is None:
            shell = _render_shell(request)
            if shell is None:
                return None
            _shells[language] = shell
    return shell


def _render_shell(request: HttpRequest) -> tuple[str, str, str] | None:
    """The page with markers, rendered through the request so the context processors run,
    as an anonymous visitor with no message waiting sees it."""
    from cards.status_views import StatusForm  # the view module imports this one

    context = {
        "outcome": "found",
        "form": StatusForm(),
        "result_html": mark_safe(_RESULT_MARK),  # noqa: S308 (a constant marker)
        "language_next": _NEXT_MARK,
        "user": AnonymousUser(),
        "messages": (),
    }
    page = get_template(PAGE_TEMPLATE).render(context, request)
    head, _, rest = page.partition(_NEXT_MARK)
    middle, _, tail = rest.partition(_RESULT_MARK)
    if not rest or not tail or _NEXT_MARK in rest or _RESULT_MARK in tail:
        # The templates no longer have the two places once each: render every page whole.
        logger.error("The status page's shell has lost its markers; rendering pages whole")
        return None
    return head, middle, tail


@receiver(setting_changed)
def _forget_shells(**kwargs: Any) -> None:
    """Settings that change templates, languages or URLs (in tests) make new shells."""
    _shells.clear()
