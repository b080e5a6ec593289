"""The portal's error pages: its layout and language, a way back, and a 500 page that renders
when the database or the context processors are what failed."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import OperationalError
from django.http import HttpRequest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation
from django.utils.functional import SimpleLazyObject

from hmsportal.models import User
from hmsportal.views import errors

pytestmark = pytest.mark.django_db

HOME = reverse("home")
STATUS = reverse("cards:status")
QUEUE = reverse("cards:print_queue")

ENGLISH_WAYS = [
    pytest.param({"HTTP_ACCEPT_LANGUAGE": "en"}, {}, id="accept-language"),
    pytest.param({}, {"django_language": "en"}, id="language-cookie"),
]


def in_portal_layout(html: str, *, language: str) -> bool:
    return f'<html lang="{language}">' in html and 'class="portal-header"' in html


def links_home(html: str) -> bool:
    return f'class="btn btn-primary" href="{HOME}"' in html


def english_client(client: Client, headers: dict[str, str], cookies: dict[str, str]) -> Client:
    client.defaults.update(headers)
    for name, value in cookies.items():
        client.cookies[name] = value
    return client


def broken_context_processor(request: HttpRequest) -> dict[str, Any]:
    raise OperationalError("the database is down")


def user_from_a_dead_database() -> SimpleLazyObject:
    def load() -> AnonymousUser:
        raise OperationalError("the database is down")

    return SimpleLazyObject(load)


@pytest.fixture
def broken_context_processors(settings) -> None:
    engine = {**settings.TEMPLATES[0]}
    engine["OPTIONS"] = {
        **engine["OPTIONS"],
        "context_processors": [
            *engine["OPTIONS"]["context_processors"],
            "tests.hmsportal.test_error_pages.broken_context_processor",
        ],
    }
    settings.TEMPLATES = [engine]


# --- 404 -----------------------------------------------------------------------------------


def test_404_in_norwegian_with_the_front_page_and_the_status_check(client) -> None:
    response = client.get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert in_portal_layout(html, language="nb")
    assert "Vi finner ikke denne siden" in html
    assert links_home(html)
    assert f'class="btn btn-outline-primary" href="{STATUS}"' in html


@pytest.mark.parametrize(("headers", "cookies"), ENGLISH_WAYS)
def test_404_in_english_when_asked(client, headers, cookies) -> None:
    response = english_client(client, headers, cookies).get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert in_portal_layout(html, language="en")
    assert "We cannot find this page" in html
    assert links_home(html)


# --- 403 -----------------------------------------------------------------------------------


@pytest.fixture
def employer_client(client) -> Client:
    client.force_login(User.objects.create_user(username="worker", national_id="01019012345"))
    return client


def test_403_in_the_back_office_says_it_is_for_the_card_producers_staff(employer_client) -> None:
    response = employer_client.get(QUEUE)
    html = response.content.decode()
    assert response.status_code == 403
    assert in_portal_layout(html, language="nb")
    assert "Denne siden er for de ansatte hos kortprodusenten" in html
    assert "Du har ikke tilgang til denne siden" not in html
    assert links_home(html)


@pytest.mark.parametrize("path", ["/admin/", "/admin/login/?next=/admin/"])
def test_the_admin_tells_a_logged_in_employer_the_same_as_the_back_office(
    employer_client, path
) -> None:
    """Not Django's password form greeting them as "person-a9d0…" (their opaque user name)."""
    response = employer_client.get(path, follow=True)
    html = response.content.decode()
    assert response.status_code == 403
    assert in_portal_layout(html, language="nb")
    assert "Denne siden er for de ansatte hos kortprodusenten" in html
    assert 'name="password"' not in html


def test_the_admin_login_still_asks_an_anonymous_visitor_for_a_password(client) -> None:
    assert 'name="password"' in client.get("/admin/login/").content.decode()


@pytest.mark.parametrize(("headers", "cookies"), ENGLISH_WAYS)
def test_403_in_the_back_office_in_english(employer_client, headers, cookies) -> None:
    response = english_client(employer_client, headers, cookies).get(QUEUE)
    html = response.content.decode()
    assert response.status_code == 403
    assert in_portal_layout(html, language="en")
    assert "This page is for the card producer's staff" in html
    assert links_home(html)


@pytest.mark.parametrize(
    ("path", "staff_page"),
    [("/orders/", False), ("/backoffice/registers/", True), ("/admin/cards/card/", True)],
)
def test_403_elsewhere_is_a_plain_no_access_page(rf: RequestFactory, path, staff_page) -> None:
    request = rf.get(path)
    request.user = AnonymousUser()
    with translation.override("en"):
        response = errors.permission_denied(request, PermissionError())
    html = response.content.decode()
    assert response.status_code == 403
    assert in_portal_layout(html, language="en")
    assert ("This page is for the card producer's staff" in html) is staff_page
    assert ("You do not have access to this page" in html) is not staff_page


# --- 400 -----------------------------------------------------------------------------------


def test_400_for_a_request_to_a_host_the_portal_does_not_serve(client) -> None:
    response = client.get("/", HTTP_HOST="portal.example.com")
    html = response.content.decode()
    assert response.status_code == 400
    assert in_portal_layout(html, language="nb")
    assert "Vi kunne ikke lese forespørselen" in html
    assert links_home(html)


@pytest.mark.parametrize(("headers", "cookies"), ENGLISH_WAYS)
def test_400_in_english_when_asked(client, headers, cookies) -> None:
    response = english_client(client, headers, cookies).get("/", HTTP_HOST="portal.example.com")
    html = response.content.decode()
    assert response.status_code == 400
    assert "The request could not be read" in html
    assert links_home(html)


# --- 429 -----------------------------------------------------------------------------------


def photo_over_the_limit(client: Client, settings) -> Any:
    settings.STATUS_RATE_LIMIT_PER_MINUTE = 1
    client.get("/status/photo/not-a-token/")
    return client.get("/status/photo/not-a-token/")


def test_429_where_no_page_of_its_own_is_shown_is_the_shared_page(
    client, settings, pinned_clock
) -> None:
    response = photo_over_the_limit(client, settings)
    html = response.content.decode()
    assert response.status_code == 429
    assert response["Retry-After"] == "50"
    assert in_portal_layout(html, language="nb")
    assert "Du har sendt mange forespørsler på kort tid. Vent 50 sekunder og prøv igjen." in html
    assert links_home(html)


@pytest.mark.parametrize(("headers", "cookies"), ENGLISH_WAYS)
def test_429_in_english_when_asked(client, settings, pinned_clock, headers, cookies) -> None:
    response = photo_over_the_limit(english_client(client, headers, cookies), settings)
    html = response.content.decode()
    assert response.status_code == 429
    assert in_portal_layout(html, language="en")
    assert "Wait 50 seconds and try again." in html


def test_the_status_check_keeps_its_own_429_page(client, settings, pinned_clock) -> None:
    settings.STATUS_RATE_LIMIT_PER_MINUTE = 1
    client.get(f"{STATUS}123/")
    response = client.get(f"{STATUS}123/")
    assert response.status_code == 429
    assert 'data-outcome="rate_limited"' in response.content.decode()


# --- 500 -----------------------------------------------------------------------------------


def request_for_500(rf: RequestFactory) -> HttpRequest:
    request = rf.get("/orders/")
    request.user = user_from_a_dead_database()
    return request


@pytest.mark.parametrize(
    ("language", "heading"), [("nb", "Noe gikk galt"), ("en", "Something went wrong")]
)
def test_500_renders_in_the_portal_layout_without_touching_the_database(
    rf, django_assert_num_queries, language, heading
) -> None:
    with translation.override(language), django_assert_num_queries(0):
        response = errors.server_error(request_for_500(rf))
    html = response.content.decode()
    assert response.status_code == 500
    assert in_portal_layout(html, language=language)
    assert heading in html
    assert links_home(html)


def test_500_renders_when_the_context_processors_raise(rf, broken_context_processors) -> None:
    with translation.override("nb"):
        response = errors.server_error(request_for_500(rf))
    html = response.content.decode()
    assert response.status_code == 500
    assert in_portal_layout(html, language="nb")
    assert "Noe gikk galt" in html


def test_500_falls_back_to_plain_text_when_even_the_template_fails(rf, monkeypatch) -> None:
    def no_template(name: str) -> None:
        raise RuntimeError("templates are broken")

    monkeypatch.setattr(errors.loader, "get_template", no_template)
    response = errors.server_error(request_for_500(rf))
    html = response.content.decode()
    assert response.status_code == 500
    assert "Noe gikk galt" in html and "Something went wrong" in html
    assert '<a href="/">' in html


def test_an_error_in_a_view_gives_the_500_page_in_the_visitors_language(monkeypatch) -> None:
    def broken_render(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the front page is broken")

    monkeypatch.setattr("hmsportal.views.pages.render", broken_render)
    client = Client(raise_request_exception=False)
    response = client.get(HOME)
    assert response.status_code == 500
    assert "Noe gikk galt" in response.content.decode()
    response = client.get(HOME, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


def test_other_error_pages_fall_back_to_the_minimal_layout_when_the_context_fails(
    client, broken_context_processors
) -> None:
    response = client.get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert in_portal_layout(html, language="nb")
    assert "Vi finner ikke denne siden" in html


# --- CSRF failure --------------------------------------------------------------------------


def test_a_form_sent_without_a_valid_token_gets_the_portals_expired_form_page() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("logout"))
    html = response.content.decode()
    assert response.status_code == 403
    assert in_portal_layout(html, language="nb")
    assert "Skjemaet er utløpt" in html
    assert "Gå tilbake, last inn siden på nytt og fyll ut skjemaet igjen." in html
    assert links_home(html)


@pytest.mark.parametrize(("headers", "cookies"), ENGLISH_WAYS)
def test_the_expired_form_page_in_english(headers, cookies) -> None:
    client = english_client(Client(enforce_csrf_checks=True), headers, cookies)
    response = client.post(reverse("logout"))
    html = response.content.decode()
    assert response.status_code == 403
    assert in_portal_layout(html, language="en")
    assert "The form has expired" in html


# --- 405 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("logged_in", [True, False])
def test_405_for_a_buttons_address_opened_as_a_page(client, logged_in) -> None:
    """require_POST's answer is an empty body: a blank page for someone who opens /logout/."""
    if logged_in:
        client.force_login(User.objects.create_user(username="worker", national_id="01019012345"))
    response = client.get("/logout/")
    html = response.content.decode()
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert in_portal_layout(html, language="nb")
    assert "Denne adressen virker bare fra en knapp" in html
    assert links_home(html)
    client.cookies["django_language"] = "en"
    assert "This address works only from a button" in client.get("/logout/").content.decode()


def test_the_api_keeps_its_own_405(client) -> None:
    response = client.post("/api/v1/cards/419606251991")
    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/json")
