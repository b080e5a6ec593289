"""Universal design (issue 11, point 4): one page of every kind passes axe-core's WCAG 2.1 AA
rules in bokmål and in English, the key forms can be completed with the keyboard alone, and
on a 390 px phone tables stack into blocks, nothing scrolls sideways and the logged-in header
keeps to two lines. Debian's chromium, driven by Playwright."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import Page

from cards.models import Card, PrintBatch
from orders.models import Order
from tests.browser_checks import (
    PHONE,
    WIDE,
    axe_violations,
    focus_indicator,
    header_lines,
    log_in,
    scrolls_sideways,
    tables_not_stacked,
    violations_report,
)
from tests.browser_world import UNORDERED, PortalWorld, portal_world_build
from tests.datasets import EMPLOYER, jpeg

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def world(live_server, settings) -> PortalWorld:
    settings.PORTAL_BASE_URL = live_server.url
    # The card office's pages are looked at, not the admin login that guards them.
    settings.STAFF_SECOND_FACTOR_REQUIRED = False
    return portal_world_build()


def _path(url: str) -> str:
    return url.removeprefix(django_settings.PORTAL_BASE_URL)


def pages_by_visitor(world: PortalWorld) -> list[tuple[str, list[tuple[str, str, int]]]]:
    """(who, [(kind of page, path, HTTP status)]): one page of every kind the portal has."""
    card = world.holder_card.number
    employer = f"/orders/{EMPLOYER}"
    other_order = Order.objects.exclude(pk=world.order.pk).order_by("pk").first()
    assert other_order is not None
    return [
        (
            "anonymous",
            [
                ("front page", "/", 200),
                ("status search", "/status/", 200),
                ("status search with an error", "/status/?card=1234", 400),
                ("a card's status (the QR code's address)", f"/status/{card}/", 200),
                ("login", "/login/", 200),
                ("the employee's upload link", _path(world.upload_link), 200),
                ("an order confirmation's QR code", _path(world.confirmation_url), 200),
                ("404", "/no-such-page/", 404),
            ],
        ),
        (
            "owner",
            [
                ("organisations", "/orders/", 200),
                ("employer's organisation page and employee list", f"{employer}/", 200),
                ("order page with progress (shipped)", f"{employer}/orders/{world.order.pk}/", 200),
                (
                    "order page with progress (in production)",
                    f"{employer}/orders/{other_order.pk}/",
                    200,
                ),
                ("card register", f"{employer}/cards/", 200),
                ("card register with filters", f"{employer}/cards/?status=invalid&q=Stoppa", 200),
                ("a card's page", f"{employer}/cards/{card}/", 200),
                ("ending a card", f"{employer}/cards/{card}/end/", 200),
                ("renewing cards", f"{employer}/cards/renew/", 200),
                ("bulk upload", f"{employer}/bulk/", 200),
                ("bulk upload's report", f"{employer}/bulk/{world.bulk_upload.pk}/", 200),
                ("delegations", f"{employer}/access/", 200),
                ("audit trail", f"{employer}/audit/", 200),
                ("contact details", "/account/contact/", 200),
                ("403 (the back office)", "/backoffice/print-queue/", 403),
            ],
        ),
        (
            "cardholder",
            [
                ("my cards", "/my-cards/", 200),
                ("my card", f"/my-cards/{card}/", 200),
                ("reporting my card lost", f"/my-cards/{card}/report/", 200),
            ],
        ),
        (
            "staff",
            [
                ("print queue", "/backoffice/print-queue/", 200),
                ("print batch", f"/backoffice/batches/{PrintBatch.objects.get().pk}/", 200),
                ("registers", "/backoffice/registers/", 200),
                ("back office audit trail", "/backoffice/audit/", 200),
            ],
        ),
    ]


def _order_form_steps(page: Page, live_server, tmp_path, audit: Callable[[str], None]) -> None:
    """The order form empty (the error summary), filled, the check page, and the order page."""
    photo = tmp_path / "jon.jpg"
    photo.write_bytes(jpeg())
    id_document = tmp_path / "pass.pdf"
    id_document.write_bytes(b"%PDF-1.4\n%scanned passport\n")
    page.goto(f"{live_server.url}/orders/{EMPLOYER}/new/")
    audit("order form")
    page.locator("form.order-form button[name=step]").click()
    page.locator(".error-summary").wait_for()
    audit("order form with errors")
    page.locator("#id_employee").select_option(value=[v for v in _options(page) if UNORDERED in v])
    page.locator("input[name=card_type]").first.check()
    page.locator("#id_photo").set_input_files(str(photo))
    page.locator("[data-crop-box]").wait_for(state="visible")
    audit("order form with the photo crop")
    page.locator("#id_id_document").set_input_files(str(id_document))
    page.locator("#id_identity_checked").check()
    page.locator("form.order-form button[name=step]").click()
    page.locator("button[name=step][value=send]").wait_for()
    audit("order form: check page")
    page.locator("button[name=step][value=send]").click()
    page.wait_for_url(re.compile(rf"/orders/{EMPLOYER}/orders/\d+/"))
    audit("order page just after sending")


def _options(page: Page) -> list[str]:
    return list(
        page.eval_on_selector_all("#id_employee option", "options => options.map(o => o.value)")
    )


@pytest.mark.parametrize(
    ("language", "viewport"),
    [("nb", WIDE), ("en", PHONE)],
    ids=["bokmal-wide", "english-phone"],
)
def test_every_kind_of_page_passes_axe(
    page: Page, live_server, world, tmp_path, language, viewport
) -> None:
    """Both languages see every page; one on a wide screen, the other on a phone, so that
    the phone layout (stacked tables, the wrapped header) is checked as well."""
    page.set_viewport_size(viewport)
    found: dict[str, list] = {}

    def audit(kind: str) -> None:
        assert page.locator("html").get_attribute("lang") == language, (kind, page.url)
        if violations := axe_violations(page):
            found[f"{kind} ({page.url})"] = violations

    users = {
        "owner": world.owner,
        "cardholder": world.cardholder,
        "staff": world.staff,
    }
    for visitor, pages in pages_by_visitor(world):
        if visitor == "anonymous":
            page.context.clear_cookies()
            page.context.add_cookies(
                [{"name": "django_language", "value": language, "url": live_server.url}]
            )
        else:
            log_in(page, live_server, users[visitor], language=language)
        for kind, path, status in pages:
            response = page.goto(f"{live_server.url}{path}")
            assert response is not None and response.status == status, (kind, path)
            audit(kind)
        if visitor == "owner":
            _order_form_steps(page, live_server, tmp_path, audit)
    assert not found, "axe-core found violations:\n\n" + violations_report(found)


def test_ordering_a_card_with_the_keyboard_alone(page: Page, live_server, world, tmp_path):
    """Tab, space, arrows and Enter only; every focused control shows where focus is."""
    photo = tmp_path / "jon.jpg"
    photo.write_bytes(jpeg())
    id_document = tmp_path / "pass.pdf"
    id_document.write_bytes(b"%PDF-1.4\n%scanned passport\n")
    log_in(page, live_server, world.owner)
    page.set_viewport_size(WIDE)
    # Playwright turns on its interception of file dialogs when a listener is added; added
    # only around the key press, the first dialog could open before it is on.
    page.on("filechooser", lambda _dialog: None)
    page.goto(f"{live_server.url}/orders/{EMPLOYER}/new/")

    def tab_to(selector: str, limit: int = 40) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate("(s) => document.activeElement.matches(s)", selector):
                indicator = focus_indicator(page)
                assert indicator["outline"] != "none" or indicator["boxShadow"] != "none", (
                    selector,
                    indicator,
                )
                return
        raise AssertionError(f"Tab never reached {selector}")

    # The first Tab reaches the skip link, which moves focus to the main content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('skip-link')")
    assert page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    tab_to("#id_employee")
    jon = next(i for i, value in enumerate(_options(page)) if UNORDERED in value)
    for _ in range(jon - page.evaluate("document.activeElement.selectedIndex")):
        page.keyboard.press("ArrowDown")
    assert UNORDERED in page.locator("#id_employee").input_value()
    tab_to("input[name=card_type]")
    page.keyboard.press("Space")
    tab_to("input[name=files_from]")
    # The file choosers open a system dialog a keyboard user gets through the same way; the
    # files themselves are handed over as that dialog would.
    tab_to("#id_photo")
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(photo))
    # The crop frame shows once the photo is read; it takes focus and moves with the arrows.
    page.locator("[data-crop-box]").wait_for(state="visible")
    tab_to("[data-crop-box]")
    page.keyboard.press("ArrowLeft")
    tab_to("#id_id_document")
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(id_document))
    tab_to("#id_identity_checked")
    page.keyboard.press("Space")
    tab_to("button[name=step][value=review]")
    page.keyboard.press("Enter")

    page.locator("button[name=step][value=send]").wait_for()
    tab_to("button[name=step][value=send]", limit=80)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/orders/{EMPLOYER}/orders/\d+/"))
    assert Card.objects.filter(holder_national_id=UNORDERED).exists()


def test_checking_a_card_with_the_keyboard_alone(page: Page, live_server, world) -> None:
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/status/")
    for _ in range(15):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "card":
            break
    else:
        raise AssertionError("Tab never reached the card number field")
    indicator = focus_indicator(page)
    assert indicator["outline"] != "none" and indicator["outlineWidth"] != "0px", indicator
    page.keyboard.type(world.holder_card.number)
    page.keyboard.press("Enter")
    page.locator("[data-status]").wait_for()
    assert page.locator("[data-status=valid]").is_visible()
    # From the result, Tab goes on to a new search without the mouse.
    page.keyboard.press("Tab")
    assert focus_indicator(page)["outline"] != "none"


def test_the_main_pages_fit_a_phone(page: Page, live_server, world) -> None:
    """Employee list, card register, order page and print queue: no sideways scrolling,
    tables as one block per row with each cell labelled, the header on two lines."""
    page.set_viewport_size(PHONE)
    pages = [
        (world.owner, f"/orders/{EMPLOYER}/"),
        (world.owner, f"/orders/{EMPLOYER}/cards/"),
        (world.owner, f"/orders/{EMPLOYER}/orders/{world.order.pk}/"),
        (world.owner, f"/orders/{EMPLOYER}/access/"),
        (world.owner, f"/orders/{EMPLOYER}/bulk/{world.bulk_upload.pk}/"),
        (world.cardholder, "/my-cards/"),
        (world.staff, "/backoffice/print-queue/"),
        (world.staff, f"/backoffice/batches/{PrintBatch.objects.get().pk}/"),
        (world.staff, "/backoffice/registers/"),
    ]
    problems = []
    for language in ("nb", "en"):
        for user, path in pages:
            log_in(page, live_server, user, language=language)
            page.goto(f"{live_server.url}{path}")
            where = f"{path} ({language}, {user.username})"
            assert page.locator("main table").count() or "my-cards" in path, where
            if scrolls_sideways(page):
                problems.append(f"{where}: scrolls sideways")
            if stacked := tables_not_stacked(page):
                problems.append(f"{where}: tables not stacked: {stacked}")
            if (lines := header_lines(page)) > 2:
                problems.append(f"{where}: the header takes {lines} lines")
    assert not problems, "\n".join(problems)
