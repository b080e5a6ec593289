"""The found card's page filled into its shell (cards/status_page.py) is the page the
templates render whole, byte for byte, for every shape of answer; visitors who see something
else get it whole."""

from __future__ import annotations

import datetime
import logging
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.http import HttpRequest
from django.shortcuts import render
from django.test import RequestFactory
from django.utils import timezone, translation

from cards import status_page
from cards.models import Card
from cards.numbers import display
from cards.selectors.status import card_for_status
from cards.standing import card_standing
from cards.status_views import StatusForm
from tests.cards.test_status_page import make_card

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")
TODAY = timezone.localdate()


def found_context(number: str, language: str, *, photo: bool = True) -> dict[str, Any]:
    """What the status view hands the page for a found card, at a fixed moment."""
    card = card_for_status(number=number)
    assert card is not None
    standing = card_standing(card, today=TODAY, public=True)
    return {
        "form": StatusForm(),
        "outcome": "found",
        "status": standing.status,
        "reasons": standing.reasons,
        "answer": status_page.status_answer(
            card=card,
            standing=standing,
            card_type_name=card.card_type.name(language),
            number_display=display(card.number),
            photo_url="/status/photo/to&ken/" if photo else "",
            checked_now=datetime.datetime(2026, 12, 2, 9, 30, 17, 5, tzinfo=OSLO),
        ),
    }


def anonymous_request(path: str, *, with_message: str = "") -> HttpRequest:
    request = RequestFactory().get(path)
    request.user = AnonymousUser()
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    if with_message:
        messages.info(request, with_message)
    return request


def whole(request: HttpRequest, context: dict[str, Any]) -> str:
    """The page as the templates render it, without a shell."""
    return render(request, status_page.PAGE_TEMPLATE, context).content.decode()


CHECKED = datetime.datetime(2026, 12, 1, 2, 14, 59, tzinfo=OSLO)
# name: (the card's fields, whether it has a photo, its status on TODAY)
SHAPES: dict[str, tuple[dict[str, Any], bool, str]] = {
    "valid, photo, checked": ({"checked_at": CHECKED}, True, "valid"),
    "valid, no photo": ({"checked_at": CHECKED}, False, "valid"),
    "valid, never checked": ({"checked_at": None}, True, "valid"),
    "expired": (
        {
            "checked_at": CHECKED,
            "issued_on": TODAY - datetime.timedelta(days=800),
            "valid_until": TODAY - datetime.timedelta(days=1),
        },
        True,
        "expired",
    ),
    "revoked": ({"checked_at": CHECKED, "state": Card.State.REVOKED}, False, "revoked"),
    "not valid yet": (
        {"checked_at": CHECKED, "valid_from": TODAY + datetime.timedelta(days=3)},
        True,
        "invalid",
    ),
}


@pytest.mark.parametrize("language", ["nb", "en"])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_the_shell_gives_the_page_the_templates_render_whole(language, shape):
    fields, photo, status = SHAPES[shape]
    card = make_card(holder_first_name="Åse <b>", employer_name="Rør & Sønn AS", **fields)
    # The return address is the visitor's: with a query string that needs escaping.
    path = f'/status/{card.number}/?via=<qr>&x="1"'
    with translation.override(language):
        context = found_context(card.number, language, photo=photo)
        assert context["status"] == status and not context["reasons"]
        expected = whole(anonymous_request(path), context)
        for _ in range(2):  # the shell is made by the first, and used by the second
            response = status_page.render_status_page(
                anonymous_request(path), dict(context), status=200
            )
            assert response.content.decode() == expected
    assert f'lang="{language}"' in expected
    assert "Åse &lt;b&gt;" in expected
    assert "Rør &amp; Sønn AS" in expected
    assert "?via=%3Cqr%3E&amp;x=%221%22" in expected
    assert ("/status/photo/to&amp;ken/" in expected) is photo
    assert "@@" not in expected
    assert any(key[0] == language for key, shell in status_page._shells.items() if shell)


def test_a_card_with_reasons_listed_is_rendered_whole():
    card = make_card(state=Card.State.INVALID, reason_codes=["employer_bankrupt"])
    with translation.override("nb"):
        context = found_context(card.number, "nb")
        status_page._shells.clear()
        html = status_page.render_status_page(
            anonymous_request(f"/status/{card.number}/"), dict(context), status=200
        ).content.decode()
    assert context["reasons"] and context["status"] == "invalid"
    assert str(context["reasons"][0][0]) in html
    assert status_page._shells == {}


def test_a_minute_shown_is_the_minute_of_the_moment():
    with translation.override("nb"):
        moment = datetime.datetime(2026, 12, 2, 23, 59, 59, tzinfo=datetime.UTC)
        shown = status_page._minute_display(
            timezone.localtime(moment).replace(second=0, microsecond=0), "nb"
        )
    assert shown == "3. desember 2026 kl. 00:59"


def test_each_language_has_its_own_shell(client):
    card = make_card()
    norwegian = client.get(f"/status/{card.number}/").content.decode()
    client.cookies["django_language"] = "en"
    english = client.get(f"/status/{card.number}/").content.decode()
    assert '<html lang="nb">' in norwegian and "Kontroller et annet kort" in norwegian
    assert '<html lang="en">' in english and "Check another card" in english
    assert "Kontroller et annet kort" not in english


def test_a_waiting_message_is_shown_on_the_page_rendered_whole():
    card = make_card()
    path = f"/status/{card.number}/"
    with translation.override("nb"):
        context = found_context(card.number, "nb")
        status_page.render_status_page(anonymous_request(path), dict(context), status=200)
        request = anonymous_request(path, with_message="Du er logget ut.")
        html = status_page.render_status_page(request, dict(context), status=200)
    assert "Du er logget ut." in html.content.decode()


def test_a_logged_in_user_gets_the_page_rendered_whole_with_their_menu(client, django_user_model):
    card = make_card()
    client.get(f"/status/{card.number}/")  # the anonymous shell exists
    user = django_user_model.objects.create_user(username="inspektor", password="x")
    client.force_login(user)
    html = client.get(f"/status/{card.number}/").content.decode()
    assert "Logg ut" in html
    assert "Kari Nordmann" in html


def test_a_template_without_the_markers_is_rendered_whole(settings, tmp_path, caplog, client):
    # A status page template that no longer places the card's part (result_html).
    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "status.html").write_text(
        '{% extends "base.html" %}{% block content %}<p>kort</p>{% endblock %}'
    )
    settings.TEMPLATES = [
        dict(settings.TEMPLATES[0], DIRS=[tmp_path, *settings.TEMPLATES[0]["DIRS"]])
    ]
    card = make_card()
    with caplog.at_level(logging.ERROR, logger="cards.status_page"):
        response = client.get(f"/status/{card.number}/")
    assert response.status_code == 200
    assert "<p>kort</p>" in response.content.decode()
    assert "does not hold its values as markers" in caplog.text
    # Made once, found wanting once: the next lookup does not try again.
    client.get(f"/status/{card.number}/")
    assert caplog.text.count("does not hold its values as markers") == 1


def test_the_checked_time_is_the_lookups_own(client):
    card = make_card()
    first = client.get(f"/status/{card.number}/").content.decode()
    assert timezone.localtime().strftime("%Y") in first
    assert "@@hmsportal" not in first
