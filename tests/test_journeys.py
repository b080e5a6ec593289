"""Journeys through the portal in a real browser (issue 11, point 6), on Debian's chromium:
an employer from the ID-porten login to a shipped card, bulk ordering, and a delegate's day
(given access, logs in, renews, exports). The employee's upload link, the cardholder's page
and the public check on a phone are journeys of tests/test_browser.py.

With SCREENSHOTS=1 (`make screenshots`) each journey writes its main pages to
docs/screenshots/ (tests/browser_checks.py), which the README shows.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from cards.models import Card
from orders.card_register import CSV_DELIMITER
from orders.models import Order
from tests.browser_checks import PHONE, WIDE, log_in, screenshot, scrolls_sideways
from tests.browser_world import DELEGATE, LONGSTANDING, UNORDERED, portal_world_build
from tests.cards.factories import photo_jpeg
from tests.datasets import EMPLOYER, jpeg

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def portal(live_server, settings, idporten):
    """The portal with the local ID-porten; the card office's pages without the admin login."""
    settings.PORTAL_BASE_URL = live_server.url
    settings.STAFF_SECOND_FACTOR_REQUIRED = False
    # As in production: ID-porten only, no demo login on the login page.
    settings.DEV_LOGIN_ENABLED = False
    return live_server


def idporten_log_in(page: Page, portal, idporten, national_id: str) -> None:
    idporten.pid = national_id
    page.context.clear_cookies()
    page.goto(f"{portal.url}/login/")
    page.get_by_role("link", name="Logg inn med ID-porten").click()
    page.wait_for_url(re.compile(r"/(orders|my-cards)/$"))


def test_an_employer_from_the_idporten_login_to_a_shipped_card(
    page: Page, portal, idporten, tmp_path
) -> None:
    world = portal_world_build()
    photo = tmp_path / "jon.jpg"
    photo.write_bytes(photo_jpeg())
    id_document = tmp_path / "pass.pdf"
    id_document.write_bytes(b"%PDF-1.4\n%scanned passport\n")
    page.set_viewport_size(WIDE)
    page.goto(f"{portal.url}/login/")
    screenshot(page, "login")

    idporten_log_in(page, portal, idporten, world.owner.national_id)
    page.get_by_role("link", name="Fjordbygg AS").first.click()
    expect(page.get_by_role("heading", name="Ansatte i Aa-registeret")).to_be_visible()
    screenshot(page, "employer-employees")
    page.set_viewport_size(PHONE)
    assert not scrolls_sideways(page)
    screenshot(page, "employer-employees-phone")
    page.set_viewport_size(WIDE)

    page.get_by_role("link", name="Bestill kort for Jon Tømrer").click()
    page.get_by_label("HMS-kort bygg og anlegg").check()
    page.get_by_label("Bilde av den ansatte").set_input_files(str(photo))
    page.locator("[data-crop-box]").wait_for(state="visible")
    page.get_by_label("Kopi av legitimasjon").set_input_files(str(id_document))
    page.get_by_label("Jeg har kontrollert").check()
    screenshot(page, "order-form")
    page.get_by_role("button", name="Fortsett").click()
    expect(
        page.get_by_role("heading", name="Kontroller bestillingen før du sender den")
    ).to_be_visible()
    screenshot(page, "order-check")
    page.get_by_role("button", name="Send bestillingen").click()
    page.wait_for_url(re.compile(rf"/orders/{EMPLOYER}/orders/\d+/$"))
    order_page = page.url
    expect(page.get_by_text("Godkjent").first).to_be_visible()
    screenshot(page, "order-approved")
    card = Card.objects.get(holder_national_id=UNORDERED)

    # The card office makes a print batch of it, and ships it.
    log_in(page, portal, world.staff)
    page.goto(f"{portal.url}/backoffice/print-queue/")
    screenshot(page, "backoffice-print-queue")
    page.set_viewport_size(PHONE)
    assert not scrolls_sideways(page)
    screenshot(page, "backoffice-print-queue-phone")
    page.set_viewport_size(WIDE)
    page.locator(f"#card-{card.pk}").check()
    page.locator("button[name=selection][value=selected]").click()
    page.get_by_label("Sporingsnummer").fill("70701234567")
    screenshot(page, "backoffice-print-batch")
    page.get_by_role("button", name="Merk bunken og kortene i den som sendt").click()
    expect(page.locator(".alert-success")).to_be_visible()
    card.refresh_from_db()
    assert card.state == Card.State.SHIPPED

    # Kari sees the card on its way.
    log_in(page, portal, world.owner)
    page.goto(order_page)
    expect(page.locator("#order-lines")).to_contain_text("Sendt")
    screenshot(page, "order-shipped")
    page.set_viewport_size(PHONE)
    assert not scrolls_sideways(page)
    screenshot(page, "order-shipped-phone")


def _zip(numbers: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        rows = "".join(f"{number},construction\n" for number in numbers)
        archive.writestr(
            "orders.csv", "national_id,card_type\n" + rows + "01017512330,construction\n"
        )
        for number in numbers:
            archive.writestr(f"{number}.jpg", jpeg())
            archive.writestr(f"{number}-id.pdf", b"%PDF-1.4\n%scan\n")
    return buffer.getvalue()


def test_bulk_ordering(page: Page, portal, tmp_path) -> None:
    world = portal_world_build()
    archive = tmp_path / "orders.zip"
    # Jon has no card yet; Eldre Kortholder holds a live one, so that row is refused.
    archive.write_bytes(_zip([UNORDERED, LONGSTANDING[0]]))
    log_in(page, portal, world.owner)
    page.set_viewport_size(WIDE)
    page.goto(f"{portal.url}/orders/{EMPLOYER}/")
    page.get_by_role("link", name="Bestill mange kort").click()
    screenshot(page, "bulk-upload")
    page.get_by_label("ZIP-fil").set_input_files(str(archive))
    page.get_by_role("button", name="Last opp og sjekk").click()
    order_button = page.get_by_role("button", name="Bestill 1 kort")
    expect(order_button).to_be_visible(timeout=20_000)
    screenshot(page, "bulk-report")
    page.set_viewport_size(PHONE)
    assert not scrolls_sideways(page)
    screenshot(page, "bulk-report-phone")
    page.set_viewport_size(WIDE)
    order_button.click()
    page.wait_for_url(re.compile(rf"/orders/{EMPLOYER}/orders/\d+/$"))
    expect(page.get_by_role("cell", name="Jon Tømrer", exact=True)).to_be_visible()
    assert Order.objects.latest("pk").lines.get().national_id == UNORDERED


def test_a_delegates_day(page: Page, portal, idporten) -> None:
    """Kari gives Per access; Per logs in, renews the card that runs out and exports the list."""
    world = portal_world_build(delegate_access=False)
    log_in(page, portal, world.owner)
    page.set_viewport_size(WIDE)
    page.goto(f"{portal.url}/orders/{EMPLOYER}/access/")
    page.get_by_label("Fødselsnummer eller D-nummer").fill(DELEGATE)
    page.get_by_label("Navn", exact=True).fill("Per Delegat")
    page.get_by_label("E-postadresse").fill("per@example.no")
    page.get_by_label("Fra", exact=True).fill(timezone.localdate().isoformat())
    page.get_by_role("button", name="Gi tilgang").click()
    expect(page.get_by_role("cell", name="Per Delegat", exact=True)).to_be_visible()
    screenshot(page, "delegations")

    idporten_log_in(page, portal, idporten, DELEGATE)
    page.get_by_role("link", name="Fjordbygg AS").first.click()
    page.get_by_role("link", name="Kort", exact=True).click()
    screenshot(page, "card-register")
    page.set_viewport_size(PHONE)
    assert not scrolls_sideways(page)
    screenshot(page, "card-register-phone")
    page.set_viewport_size(WIDE)

    page.get_by_label("Bare kort som går ut innen 60 dager").check()
    page.get_by_role("button", name="Vis kort").click()
    expect(page.get_by_text("1 kort", exact=True)).to_be_visible()
    page.get_by_role("link", name="Forny disse kortene").click()
    screenshot(page, "card-renewal")
    page.get_by_role("button", name="Bestill fornyelsene").click()
    page.wait_for_url(re.compile(rf"/orders/{EMPLOYER}/orders/\d+/$"))
    expect(page.get_by_role("cell", name="Eldre Kortholder", exact=True)).to_be_visible()

    page.goto(f"{portal.url}/orders/{EMPLOYER}/cards/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Excel (XLSX)").click()
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes()), read_only=True).active
    names = {str(cell) for row in sheet.iter_rows(values_only=True) for cell in row}
    assert any("Kortholder" in name for name in names)
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    assert len(list(csv.reader(io.StringIO(text), delimiter=CSV_DELIMITER))) > 3
    page.get_by_role("button", name=re.compile("Logg ut")).click()
    page.wait_for_url(re.compile(r"/logout/done/$"))
