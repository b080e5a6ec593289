"""The order page in a real browser: htmx polls the lines and shows the approval without a
reload, then stops polling (Debian's chromium, driven by Playwright)."""

from __future__ import annotations

import pytest
from django.test import Client
from playwright.sync_api import expect

from orders.models import OrderLine
from orders.services import order_line_check
from registry.datasets import registry_dataset_load
from tests.datasets import EMPLOYER, ensure_card_catalogue, small_dataset
from tests.hmsportal.factories import UserFactory
from tests.orders.factories import OrderLineFactory

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_the_order_page_shows_the_approval_without_a_reload(page, live_server) -> None:
    ensure_card_catalogue()
    registry_dataset_load(dataset=small_dataset())
    line = OrderLineFactory()
    client = Client()
    client.force_login(UserFactory())
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    page.goto(f"{live_server.url}/orders/{EMPLOYER}/orders/{line.order_id}/")
    row = page.locator(f"#line-{line.pk}")
    expect(row).to_contain_text("Kontrollerer registrene")
    page.evaluate("window.notReloaded = true")

    assert order_line_check(line_id=line.pk).state == OrderLine.State.APPROVED

    expect(row).to_contain_text("Godkjent, venter på produksjon", timeout=10_000)
    assert page.evaluate("window.notReloaded") is True  # swapped in, not reloaded
    expect(page.locator("#order-lines-news")).to_contain_text("Ola Snekker: Godkjent")
    # An approved card waits for production (days): the page now asks every 30 seconds.
    expect(page.locator("#order-lines")).to_have_attribute("hx-trigger", "every 30s")
    assert any("/lines/?v=" in url for url in requests)
