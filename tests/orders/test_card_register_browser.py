"""The card register on a phone-sized screen in a real browser (Debian's chromium, driven by
Playwright): the table stacks into one block per card and nothing scrolls sideways."""

from __future__ import annotations

import pytest
from django.test import Client

from cards.models import Card
from registry.datasets import registry_dataset_load
from tests.cards.factories import CardFactory
from tests.datasets import EMPLOYER, SUB_UNIT, ensure_card_catalogue, small_dataset
from tests.hmsportal.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]
PHONE = {"width": 390, "height": 844}


def test_the_register_and_a_card_fit_a_phone(page, live_server) -> None:
    ensure_card_catalogue()
    registry_dataset_load(dataset=small_dataset())
    CardFactory(
        employer_orgnr=EMPLOYER,
        workplace_orgnr=SUB_UNIT,
        holder_first_name="Kristoffer Alexander",
        holder_last_name="Snekker-Haugen-Johannessen",
        state=Card.State.INVALID,
        reason_codes=["employment_ended", "person_id_inactive"],
    )
    CardFactory.create_batch(3, employer_orgnr=EMPLOYER, workplace_orgnr=EMPLOYER)
    client = Client()
    client.force_login(UserFactory())
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.set_viewport_size(PHONE)

    page.goto(f"{live_server.url}/orders/{EMPLOYER}/cards/?sort=-status")
    assert page.get_by_role("heading", name="Kortregister").is_visible()
    assert page.get_by_text("4 kort").is_visible()
    # One block per card: the column headings are hidden, each cell says what it is.
    assert page.locator("table.table-stack thead").bounding_box()["height"] <= 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.get_by_label("Status").select_option("invalid")
    page.get_by_role("button", name="Vis kort").click()
    assert page.get_by_text("1 kort").is_visible()
    assert (
        page.locator("table.table-stack")
        .get_by_text("Arbeidsforholdet er avsluttet. D-nummeret er ikke lenger i bruk.")
        .is_visible()
    )
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.locator("table.table-stack a").first.click()
    assert page.get_by_role("heading", name="Historikk").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
