"""The Content-Security-Policy in a real browser (Debian's chromium, driven by Playwright):
the pages whose scripts do the most (htmx polling the order page, the order form's photo
crop on a blob: URL, the print batch's progress, the error summary's focus, the admin) run
with nothing refused, and the htmx progress still updates."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from cards.batches import print_batch_create
from cards.models import Card, PrintBatch
from hmsportal.models import User
from orders.models import OrderLine
from orders.services import order_line_check
from registry.datasets import registry_dataset_load
from tests.cards.factories import CardFactory, ProducerFactory
from tests.datasets import EMPLOYER, SUB_UNIT, WORKER, ensure_card_catalogue, small_dataset
from tests.hmsportal.factories import UserFactory
from tests.orders.factories import OrderLineFactory

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Chromium reports each violation twice: a console error ("Refused to …") and a
# securitypolicyviolation event, which this init script (not subject to the page's policy)
# keeps for the test to read.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


@pytest.fixture
def refusals(page) -> list[str]:
    """What the browser refused on every page the test opens."""
    found: list[str] = []
    page.on(
        "console",
        lambda message: (
            found.append(message.text)
            if "Content Security Policy" in message.text or message.text.startswith("Refused to")
            else None
        ),
    )
    page.on("pageerror", lambda error: found.append(f"script error: {error}"))
    page.add_init_script(RECORD_VIOLATIONS)
    return found


def logged_in(page, live_server, user: User) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def violations(page) -> list[str]:
    return page.evaluate("window.cspViolations")


def test_the_order_page_polls_and_the_order_form_crops_under_the_policy(
    page, live_server, refusals, tmp_path
) -> None:
    ensure_card_catalogue()
    registry_dataset_load(dataset=small_dataset())
    line = OrderLineFactory()
    logged_in(page, live_server, UserFactory())

    page.goto(f"{live_server.url}/orders/{EMPLOYER}/orders/{line.order_id}/")
    row = page.locator(f"#line-{line.pk}")
    expect(row).to_contain_text("Kontrollerer registrene")
    assert order_line_check(line_id=line.pk).state == OrderLine.State.APPROVED
    # htmx (no eval, no indicator <style>) swaps the new state in.
    expect(row).to_contain_text("Godkjent, venter på produksjon", timeout=10_000)
    assert violations(page) == []

    # The order form: the chosen photo is shown from a blob: URL and cropped on a canvas.
    page.goto(f"{live_server.url}/orders/{EMPLOYER}/new/")
    page.get_by_label("Ansatt", exact=True).select_option(f"{WORKER}:{SUB_UNIT}")
    from PIL import Image

    photo = tmp_path / "ola.png"
    Image.new("RGB", (1400, 900), (220, 30, 30)).save(photo, format="PNG")
    page.get_by_label("Bilde av den ansatte").set_input_files(str(photo))
    page.locator("[data-crop-box]").wait_for(state="visible")
    assert page.locator("input[name=crop_width]").input_value() != ""
    assert violations(page) == []

    # Sent without a card type: the error summary gets the focus (static/js/error-summary.js).
    page.get_by_role("button", name="Fortsett").click()
    expect(page.locator(".error-summary")).to_be_visible()
    # The focusing script is a file now (no inline scripts under the CSP): wait for it.
    expect(page.locator(".error-summary")).to_be_focused()
    assert violations(page) == []
    assert refusals == []


def test_the_card_office_and_the_status_page_under_the_policy(page, live_server, refusals) -> None:
    ensure_card_catalogue()
    staff = User.objects.create_superuser(username="card-office", password="x-long-password-1")
    ProducerFactory(effective_from=timezone.now() - timezone.timedelta(days=1))
    batch = print_batch_create(cards=[CardFactory(), CardFactory()], actor=staff)
    # Still rendering, half done (the eager task has already finished it).
    PrintBatch.objects.filter(pk=batch.pk).update(
        state=PrintBatch.State.RENDERING, progress_done=1, progress_total=2
    )
    card = CardFactory(state=Card.State.ACTIVE, with_photo=True)
    logged_in(page, live_server, staff)

    # The batch page polls its progress with fetch and sets the bar's width through the CSSOM.
    page.goto(f"{live_server.url}/backoffice/batches/{batch.pk}/")
    expect(page.locator("#batch-progress")).to_be_visible()
    page.wait_for_timeout(1_500)  # one poll
    assert page.evaluate("document.querySelector('[data-progress-bar]').style.width") == "50%"
    page.goto(f"{live_server.url}/admin/cards/card/")
    expect(page.locator("#changelist")).to_be_visible()
    page.goto(f"{live_server.url}/admin/cards/card/{card.pk}/change/")
    page.goto(f"{live_server.url}/status/{card.number}/")
    expect(page.locator("img[alt^='Bilde av']")).to_be_visible()
    assert page.evaluate("document.querySelector('img[alt^=\"Bilde av\"]').naturalWidth") > 0
    assert violations(page) == []
    assert refusals == []
