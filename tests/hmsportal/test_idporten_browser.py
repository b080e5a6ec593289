"""ID-porten's login in a real browser (Debian's chromium) against the local provider."""

from __future__ import annotations

import re

import pytest

from tests.datasets import ensure_card_catalogue

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]
PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 900}


def test_an_employer_logs_in_with_idporten_and_out_again_on_a_phone(page, live_server, idporten):
    ensure_card_catalogue()
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/login/")
    page.get_by_role("link", name="Logg inn med ID-porten").click()
    # The local ID-porten sends the browser straight back with a code; the portal checks it.
    # The first time, the portal asks for an e-mail address.
    page.wait_for_url(re.compile(r"/account/contact/"))
    assert page.get_by_role("heading", name="Kontaktopplysninger").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_label("E-postadresse", exact=True).fill("kari@fjordbygg.example")
    page.get_by_role("button", name="Lagre").click()
    page.get_by_role("link", name="Fortsett, og bekreft adressen senere").click()
    page.wait_for_url(re.compile(r"/orders/$"))
    assert page.get_by_role("link", name="Fjordbygg AS").first.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_role("button", name=re.compile("Logg ut")).click()
    page.wait_for_url(re.compile(r"/logout/done/$"))
    assert page.get_by_role("heading", name="Du er logget ut").is_visible()
    assert len(idporten.end_sessions) == 1
    page.goto(f"{live_server.url}/orders/")
    assert "/login/" in page.url


def test_a_cancelled_login_is_explained_in_english_on_a_wide_screen(page, live_server, idporten):
    idporten.cancel = True
    page.set_viewport_size(WIDE)
    page.goto(f"{live_server.url}/login/")
    page.get_by_role("button", name="English").click()
    page.get_by_role("link", name="Log in with ID-porten").click()
    assert page.get_by_role("heading", name="You were not logged in").is_visible()
    assert page.get_by_text("You cancelled the login at ID-porten.").is_visible()
    page.get_by_role("link", name="Try to log in again").focus()
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
