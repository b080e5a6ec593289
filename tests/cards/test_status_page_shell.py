"""The found card's page assembled from the per-language shell (cards/status_page.py) is the
page the template renders whole, byte for byte; visitors who see something else get it whole."""

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
from cards.numbers import display
from cards.selectors import card_for_status
from cards.standing import card_standing
from cards.status_views import StatusForm
from tests.cards.test_status_page import make_card

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")


def found_context(number: str, language: str) -> dict[str, Any]:
    """What the status view hands the page for a found card, at a fixed moment."""
    card = card_for_status(number=number)
    assert card is not None
    standing = card_standing(card, today=datetime.date(2026, 12, 2), public=True)
    return {
        "form": StatusForm(),
        "outcome": "found",
        "card": card,
        "status": standing.status,
        "standing": standing,
        "card_type_name": card.card_type.name(language),
        "number_display": display(card.number),
        "photo_url": "/status/photo/token/",
        "checked_now": datetime.datetime(2026, 12, 2, 9, 30, tzinfo=OSLO),
    }


def anonymous_request(path: str, *, with_message: str = "") -> HttpRequest:
    request = RequestFactory().get(path)
    request.user = AnonymousUser()
    request.session = SessionStore()
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    if with_message:
        messages.info(request, with_message)
    return request


def whole(request: HttpRequest, context: dict[str, Any]) -> str:
    """The page as the template renders it, without the shell."""
    context = dict(context, result_html=status_page.status_result_html(context))
    return render(request, status_page.PAGE_TEMPLATE, context).content.decode()


@pytest.mark.parametrize("language", ["nb", "en"])
def test_the_shell_gives_the_page_the_template_renders_whole(language):
    card = make_card(holder_first_name="Åse <b>", employer_name="Rør & Sønn AS")
    # The return address is the visitor's: with a query string that needs escaping.
    path = f'/status/{card.number}/?via=<qr>&x="1"'
    with translation.override(language):
        context = found_context(card.number, language)
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
    assert language in status_page._shells


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
    assert "lost its markers" in caplog.text
    assert "nb" not in status_page._shells


def test_the_checked_time_is_the_lookups_own(client):
    card = make_card()
    first = client.get(f"/status/{card.number}/").content.decode()
    assert timezone.localtime().strftime("%Y") in first
    assert "@@hmsportal" not in first
