"""The public status page's HTML for a found card.

The status page is the portal's busiest: every inspector's scan of a QR code is one. For a
visitor who is not logged in and has no message waiting, the page for a card differs from
the page for any other card of the same shape (its status, whether it has a photo and a
register check) only in a dozen values: the holder's name, the employer, the dates, the
address the language switch returns to. So the page is rendered once per process, language
and shape from its templates (cards/status.html and cards/status_result.html) with markers in
place of those values, and split at the markers; a lookup fills the escaped values in.
Rendering the templates for every lookup cost more CPU than the lookup itself
(bench/README.md). Anyone else — logged in, a message waiting, a card with reasons listed —
gets the page rendered whole, from the same templates and the same values, and
tests/cards/test_status_page_shell.py holds the two ways to the same bytes for every shape.

The templates print the values as they are (formatted here, in `status_answer`), so that a
marker put in a value's place comes out as it went in.
"""

from __future__ import annotations

import datetime
import functools
import logging
import re
import threading
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import get_template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import conditional_escape
from django.utils.translation import get_language

from cards.models import Card
from cards.standing import Standing

logger = logging.getLogger(__name__)

PAGE_TEMPLATE = "cards/status.html"

# The values the page shows for a card, by the name the templates use (answer.<name>), and
# the return address of the language switch (language_next in base.html).
SLOTS = (
    "headline",
    "checked_iso",
    "checked_display",
    "holder_name",
    "photo_url",
    "number_display",
    "employer_name",
    "employer_orgnr",
    "card_type_name",
    "valid_until_label",
    "valid_until_display",
    "checked_at_display",
)
NEXT_SLOT = "next"
_MARKER = re.compile(r"@@hms-slot:(\w+)@@")

# (language, status, has photo, has register check) -> the page split at its markers:
# static text at even indexes, slot names at odd ones.
# None: the shape's page could not be made into a shell (logged once; rendered whole).
_shells: dict[tuple[str, str, bool, bool], list[str] | None] = {}
_shells_lock = threading.Lock()


def status_answer(
    *,
    card: Card,
    standing: Standing,
    card_type_name: str,
    number_display: str,
    photo_url: str,
    checked_now: datetime.datetime,
) -> dict[str, str]:
    """What the page shows for the card, each value a string in the active language."""
    # The language and the time zone once: each lookup of them is a context-local read.
    language = get_language()
    zone = timezone.get_current_timezone()
    now = timezone.localtime(checked_now, zone)
    return {
        "headline": str(standing.headline),
        "checked_iso": now.isoformat(),
        "checked_display": _minute_display(now.replace(second=0, microsecond=0), language),
        "holder_name": card.holder_name,
        "photo_url": photo_url,
        "number_display": number_display,
        "employer_name": card.employer_name,
        "employer_orgnr": card.employer_orgnr,
        "card_type_name": card_type_name,
        "valid_until_label": str(standing.valid_until_label),
        "valid_until_display": _day_display(card.valid_until, language),
        "checked_at_display": _minute_display(
            timezone.localtime(card.checked_at, zone).replace(second=0, microsecond=0), language
        )
        if card.checked_at
        else "",
    }


# Django's date formatting is a good part of a page's cost. A day, and a time shown to the
# minute, read the same all day or all minute long: the lookups of a busy minute share them.
# The language is part of the key because the format and the month names are its own.
@functools.lru_cache(maxsize=4096)
def _day_display(day: datetime.date, language: str) -> str:
    return date_format(day, "DATE_FORMAT")


@functools.lru_cache(maxsize=4096)
def _minute_display(moment: datetime.datetime, language: str) -> str:
    return date_format(moment, "DATETIME_FORMAT")


def render_status_page(
    request: HttpRequest, context: dict[str, Any], *, status: int
) -> HttpResponse:
    """The status page: for a found card filled into its shell where the visitor gets the
    page everyone gets, otherwise rendered whole."""
    content = _filled_shell(request, context)
    if content is None:
        return render(request, PAGE_TEMPLATE, context, status=status)
    return HttpResponse(content, status=status)


def _filled_shell(request: HttpRequest, context: dict[str, Any]) -> str | None:
    answer = context.get("answer")
    if context.get("outcome") != "found" or not answer or context.get("reasons"):
        return None
    if not _sees_the_common_page(request):
        return None
    shape = (
        get_language(),
        str(context["status"]),
        bool(answer["photo_url"]),
        bool(answer["checked_at_display"]),
    )
    shell = _shell(request, shape)
    if shell is None:
        return None
    values = {name: conditional_escape(value) for name, value in answer.items()}
    values[NEXT_SLOT] = conditional_escape(request.get_full_path())
    return "".join(values[part] if index % 2 else part for index, part in enumerate(shell))


def _sees_the_common_page(request: HttpRequest) -> bool:
    """Not logged in and no message waiting: the header and page are the anonymous ones."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return False
    # Counting loads the waiting messages without marking them shown; a page with any is
    # rendered whole, which shows them.
    return len(get_messages(request)) == 0


def _shell(request: HttpRequest, shape: tuple[str, str, bool, bool]) -> list[str] | None:
    try:
        return _shells[shape]
    except KeyError:
        pass
    with _shells_lock:
        if shape not in _shells:
            _shells[shape] = _render_shell(request, shape)
        return _shells[shape]


def _render_shell(request: HttpRequest, shape: tuple[str, str, bool, bool]) -> list[str] | None:
    """The page of this shape with markers for its values, rendered through the request so
    the context processors run, as an anonymous visitor with no message waiting sees it."""
    from cards.status_views import StatusForm  # the view module imports this one

    _language, status, has_photo, has_check = shape
    answer = {name: f"@@hms-slot:{name}@@" for name in SLOTS}
    if not has_photo:
        answer["photo_url"] = ""
    if not has_check:
        answer["checked_at_display"] = ""
    context = {
        "outcome": "found",
        "status": status,
        "reasons": [],
        "answer": answer,
        "form": StatusForm(),
        "language_next": f"@@hms-slot:{NEXT_SLOT}@@",
        "user": AnonymousUser(),
        "messages": (),
    }
    page = get_template(PAGE_TEMPLATE).render(context, request)
    parts = _MARKER.split(page)
    names = set(parts[1::2])
    wanted = {NEXT_SLOT, *(name for name, value in answer.items() if value)}
    if names != wanted or any("hms-slot" in part.lower() for part in parts[0::2]):
        # A template no longer prints a value as it is (a filter on it, a value left out):
        # render every page whole rather than show a marker.
        logger.error(
            "The status page's shell does not hold its values as markers (%s, wanted %s); "
            "rendering pages whole",
            sorted(names),
            sorted(wanted),
        )
        return None
    return parts


@receiver(setting_changed)
def _forget_shells(**kwargs: Any) -> None:
    """Settings that change templates, languages or URLs (in tests) make new shells."""
    _shells.clear()
    _day_display.cache_clear()
    _minute_display.cache_clear()
