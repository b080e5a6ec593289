"""The pages in a real browser (Debian's chromium driven by Playwright): the ordering slice
with a mouse and keyboard, and on a phone-sized screen the status check (by number and by the
QR code's address), the cardholder's page and the employee's upload link. With SCREENSHOTS=1
they write their main pages to docs/screenshots/ (see tests/test_journeys.py)."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from django.core import mail
from playwright.sync_api import expect

from cards.models import Card
from cards.pdf import card_status_url
from registry.datasets import registry_dataset_load
from tests.browser_checks import screenshot
from tests.cards.factories import CardFactory
from tests.datasets import EMPLOYER, SUB_UNIT, WORKER, ensure_card_catalogue, jpeg, small_dataset

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]
PHONE = {"width": 390, "height": 844}


def test_ordering_a_card_with_the_browser(page, live_server, settings, tmp_path) -> None:
    settings.DEV_LOGIN_ENABLED = True
    settings.PORTAL_BASE_URL = live_server.url
    ensure_card_catalogue()
    registry_dataset_load(dataset=small_dataset())
    photo = tmp_path / "ola.jpg"
    photo.write_bytes(jpeg())
    id_document = tmp_path / "pass.pdf"
    id_document.write_bytes(b"%PDF-1.4\n%scanned passport\n")

    page.goto(f"{live_server.url}/login/dev/")
    page.get_by_role("button", name="Kari Nordmann").click()

    # The first login asks for an e-mail address; she may look around before confirming it.
    assert page.locator("[data-email-state=missing]").is_visible()
    page.get_by_label("E-postadresse", exact=True).fill("kari@fjordbygg.example")
    page.get_by_role("button", name="Lagre").click()
    assert page.locator("[data-email-state=pending]").is_visible()
    page.get_by_role("link", name="Fortsett, og bekreft adressen senere").click()
    page.get_by_role("link", name="Fjordbygg AS").click()
    page.get_by_role("link", name="Bestill kort for Ola Snekker").click()

    # Not confirmed yet: ordering sends her mail, so the contact details page comes first.
    assert page.get_by_text("Bekreft e-postadressen din før du bestiller kort").is_visible()
    (link,) = re.findall(r"http://\S+/account/contact/confirm/\S+/", mail.outbox[0].body)
    order_page = page.url.split("next=")[1]
    page.goto(link)
    page.get_by_role("button", name="Bekreft adressen").click()
    assert page.locator("[data-email-state=confirmed]").is_visible()
    page.goto(f"{live_server.url}{unquote(order_page)}")

    # An empty form: the error summary gets focus and links to each field.
    page.get_by_role("button", name="Fortsett").click()
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    # The focusing script is a file now (no inline scripts under the CSP): wait for it.
    expect(page.locator(".error-summary")).to_be_focused()
    summary.get_by_role("link", name="Last opp et bilde av den ansatte.").click()
    assert page.evaluate("document.activeElement.id") == "id_photo"

    page.get_by_label("Ansatt", exact=True).select_option(f"{WORKER}:{SUB_UNIT}")
    page.get_by_label("HMS-kort bygg og anlegg").check()
    page.get_by_label("Bilde av den ansatte").set_input_files(str(photo))
    page.get_by_label("Kopi av legitimasjon").set_input_files(str(id_document))
    page.get_by_label("Jeg har kontrollert").check()
    page.get_by_role("button", name="Fortsett").click()
    # Check your answers: the whole order and what it costs, then send.
    assert page.get_by_role(
        "heading", name="Kontroller bestillingen før du sender den"
    ).is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_role("button", name="Send bestillingen").click()

    card = Card.objects.get(holder_national_id=WORKER)
    assert page.get_by_text("Godkjent").first.is_visible()
    page.get_by_role("link", name=card.number[:4]).click()
    assert page.locator("[data-status=valid]").is_visible()
    assert "Ola Snekker" in page.content()


def test_status_check_on_a_phone(page, live_server, settings) -> None:
    """By the number typed in, and by the address the card's QR code holds."""
    settings.PORTAL_BASE_URL = live_server.url
    card = CardFactory(
        state=Card.State.ACTIVE,
        holder_first_name="Ola",
        holder_last_name="Snekker",
        with_photo=True,
    )
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/status/")
    screenshot(page, "status-search-phone")
    field = page.get_by_label("Kortnummer")
    field.focus()
    # Focus is visible: a solid outline on the focused field.
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    field.fill(card.number)
    field.press("Enter")
    assert page.locator("[data-status=valid]").is_visible()
    assert page.get_by_text("Ola Snekker").is_visible()
    # The photo loads (decrypted by the photo view) and nothing scrolls sideways.
    # Not wait_for_function: Playwright polls its predicate with eval, which the CSP refuses.
    expect(page.locator("img[src*=photo]")).to_have_js_property("complete", True)
    assert page.evaluate("document.querySelector('img[src*=photo]').naturalWidth") > 0
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.goto(f"{live_server.url}/status/?card=1234")
    assert page.locator(".error-summary").is_visible()

    # The phone's camera reads the QR code and opens its address: the same answer at once.
    page.goto(card_status_url(card.number))
    assert page.locator("[data-status=valid]").is_visible()
    assert page.get_by_text("Ola Snekker").is_visible()
    page.wait_for_function("document.querySelector('img[src*=photo]').complete")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "status-valid-phone")


def test_a_cardholder_reports_a_card_lost_on_a_phone(page, live_server, settings) -> None:
    from django.core import mail
    from django.test import Client

    from hmsportal.services import user_for_person
    from orders.models import OrderLine
    from tests.orders.factories import OrderLineFactory

    ensure_card_catalogue()
    card = CardFactory(
        state=Card.State.ACTIVE,
        holder_national_id=WORKER,
        holder_first_name="Ola",
        holder_last_name="Snekker",
        employer_name="Fjordbygg AS",
    )
    OrderLineFactory(card=card, state=OrderLine.State.APPROVED)
    holder = user_for_person(national_id=WORKER, full_name="Ola Kristoffer Snekker-Haugen")
    # Logged in as by ID-porten: a session made by Django's test client, handed to the browser.
    client = Client()
    client.force_login(holder)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page.set_viewport_size(PHONE)

    page.goto(f"{live_server.url}/my-cards/")
    assert page.get_by_role("heading", name="Mine HMS-kort", level=1).is_visible()
    assert page.get_by_text("Kortet er gyldig i dag.").is_visible()
    assert page.get_by_role("heading", name="Informasjonen vi har om deg").is_visible()
    # Nothing scrolls sideways, and the header keeps to two lines: the brand and the language
    # switch, then the links on one line.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    header = page.evaluate(
        """() => {
          const box = (selector) => document.querySelector(selector).getBoundingClientRect();
          const nav = box('.portal-header nav');
          return {
            navHeight: nav.height,
            navTop: nav.top,
            lineHeight: parseFloat(getComputedStyle(document.querySelector('.portal-header nav a')).lineHeight),
            brandBottom: box('.portal-brand').bottom,
            languageBottom: box('.portal-language').bottom,
          };
        }"""
    )
    assert header["navHeight"] < 2 * header["lineHeight"]
    assert header["brandBottom"] <= header["navTop"]
    assert header["languageBottom"] <= header["navTop"]
    assert page.get_by_role("link", name="Mine kort", exact=True).is_visible()
    screenshot(page, "cardholder-my-cards-phone")

    page.get_by_role("link", name="Meld tapt eller stjålet").click()
    # No choice: the error summary takes focus and links to the first option.
    page.get_by_role("button", name="Sperr kortet").click()
    # The focusing script is a file now (no inline scripts under the CSP): wait for it.
    expect(page.locator(".error-summary")).to_be_focused()
    page.get_by_role("link", name="Velg om kortet er tapt eller stjålet.").click()
    assert page.evaluate("document.activeElement.id") == "id_reason_0"
    page.get_by_label("Jeg har mistet det").check()
    page.get_by_role("button", name="Sperr kortet").click()

    assert page.get_by_text("er sperret og kan ikke brukes lenger").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    card.refresh_from_db()
    assert card.state == Card.State.REVOKED
    assert len(mail.outbox) == 1


def test_the_photo_crop_on_a_phone_and_the_photo_kept_after_an_error(
    page, live_server, settings, tmp_path
) -> None:
    import io

    from django.test import Client
    from PIL import Image

    from hmsportal.storage import read_document
    from orders.models import OrderLine
    from tests.hmsportal.factories import UserFactory

    ensure_card_catalogue()
    registry_dataset_load(dataset=small_dataset())
    # Red left half, blue right half: where the crop box sits decides the printed colour.
    halves = Image.new("RGB", (1400, 900), (220, 30, 30))
    halves.paste((30, 30, 220), (700, 0, 1400, 900))
    photo = tmp_path / "ola.png"
    halves.save(photo, format="PNG")
    id_document = tmp_path / "pass.pdf"
    id_document.write_bytes(b"%PDF-1.4\n%scanned passport\n")
    client = Client()
    client.force_login(UserFactory())
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/orders/{EMPLOYER}/new/")

    crop_x = page.locator("input[name=crop_x]")
    assert not page.locator("[data-crop-ui]").is_visible()
    page.get_by_label("Ansatt", exact=True).select_option(f"{WORKER}:{SUB_UNIT}")
    page.get_by_label("HMS-kort bygg og anlegg").check()
    page.get_by_label("Bilde av den ansatte").set_input_files(str(photo))

    # The preview shows the centred 35:45 frame: 700 px of the 1400 px width, in the middle.
    box = page.locator("[data-crop-box]")
    box.wait_for(state="visible")
    assert crop_x.input_value() == "0.25000"
    assert page.locator("input[name=crop_width]").input_value() == "0.50000"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # Dragged with a finger or the mouse to the left edge: red.
    box.scroll_into_view_if_needed()
    frame = box.bounding_box()
    stage = page.locator("[data-crop-stage]").bounding_box()
    assert frame is not None and stage is not None
    page.mouse.move(frame["x"] + frame["width"] / 2, frame["y"] + frame["height"] / 2)
    page.mouse.down()
    page.mouse.move(
        frame["x"] + frame["width"] / 2 - stage["width"], frame["y"] + frame["height"] / 2
    )
    page.mouse.up()
    assert crop_x.input_value() == "0.00000"

    # Then with the keyboard, all the way right: blue, in the small preview too.
    box.focus()
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    for _ in range(12):
        box.press("Shift+ArrowRight")
    assert crop_x.input_value() == "0.50000"
    centre = page.evaluate(
        """() => {
          const canvas = document.querySelector('[data-crop-preview]');
          return Array.from(canvas.getContext('2d').getImageData(70, 90, 1, 1).data);
        }"""
    )
    assert centre[2] > 150 and centre[0] < 100

    # Sent without the ID document: the error, and the photo still attached, as cropped.
    page.get_by_label("Jeg har kontrollert").check()
    page.get_by_role("button", name="Fortsett").click()
    # expect() waits for the answer's page; an immediate is_visible() could still see the
    # form as it was before it was sent (the suite under load showed it).
    expect(page.get_by_text("Bildet du valgte, er fortsatt lagt ved")).to_be_visible()
    expect(page.locator(".error-summary")).to_be_visible()
    kept = page.locator("img.kept-photo")
    expect(page.locator("img.kept-photo")).to_have_js_property("complete", True)
    assert kept.evaluate("image => image.naturalWidth") > 0
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.get_by_label("Kopi av legitimasjon").set_input_files(str(id_document))
    page.get_by_role("button", name="Fortsett").click()
    # Check your answers: the whole order and what it costs, then send.
    assert page.get_by_role(
        "heading", name="Kontroller bestillingen før du sender den"
    ).is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_role("button", name="Send bestillingen").click()
    page.get_by_text("Godkjent").first.wait_for()

    printed = Image.open(io.BytesIO(read_document(OrderLine.objects.get().photo))).convert("RGB")
    assert printed.width * 45 == printed.height * 35
    red, _green, blue = printed.getpixel((printed.width // 2, printed.height // 2))
    assert blue > 150 and red < 100


def test_an_employee_uploads_their_own_files_on_a_phone(
    page, live_server, settings, tmp_path
) -> None:
    from django.test import Client

    from hmsportal.models import User
    from orders.models import OrderLine
    from tests.hmsportal.factories import UserFactory

    settings.PORTAL_BASE_URL = live_server.url
    ensure_card_catalogue()
    registry_dataset_load(dataset=small_dataset())
    # The orderer chooses "send the employee a link" with the employee's address.
    orderer = Client()
    orderer.force_login(UserFactory())
    from cards.models import CardType

    response = orderer.post(
        f"/orders/{EMPLOYER}/new/",
        {
            "employee": f"{WORKER}:{SUB_UNIT}",
            "card_type": CardType.objects.get(code="construction").pk,
            "files_from": "employee",
            "employee_email": "ola@example.no",
            "identity_checked": "on",
        },
    )
    assert response.status_code == 302
    assert OrderLine.objects.get().state == OrderLine.State.AWAITING_FILES
    (link,) = re.findall(r"http://\S+/u/\S+/", "".join(m.body for m in mail.outbox))
    photo = tmp_path / "selfie.jpg"
    photo.write_bytes(jpeg())
    id_document = tmp_path / "pass.pdf"
    id_document.write_bytes(b"%PDF-1.4\n%scanned passport\n")

    # The employee opens the link on a phone, not logged in.
    page.set_viewport_size(PHONE)
    page.goto(link)
    assert page.get_by_role("heading", name="Last opp bilde og legitimasjon").is_visible()
    assert page.get_by_text("Ola Snekker").is_visible()
    assert page.get_by_text("Fjordbygg AS", exact=True).is_visible()
    assert WORKER not in page.content()
    photo_field = page.get_by_label("Bilde av deg")
    assert photo_field.get_attribute("capture") == "user"
    assert photo_field.get_attribute("accept") == "image/*"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "employee-upload-phone")

    # Nothing chosen: the error summary takes focus.
    page.get_by_role("button", name="Send").click()
    # The focusing script is a file now (no inline scripts under the CSP): wait for it.
    expect(page.locator(".error-summary")).to_be_focused()

    photo_field = page.get_by_label("Bilde av deg")
    photo_field.set_input_files(str(photo))
    page.get_by_label("Legitimasjonen din").set_input_files(str(id_document))
    page.get_by_role("button", name="Send").click()

    assert page.get_by_role(
        "heading", name="Takk, vi har fått bildet og legitimasjonen"
    ).is_visible()
    screenshot(page, "employee-upload-received-phone")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    line = OrderLine.objects.get()
    assert not User.objects.filter(national_id=WORKER).exists()  # no login was needed
    # The orderer checks the ID the employee sent, then the registers are asked.
    assert line.state == OrderLine.State.AWAITING_ID_CHECK
    orderer.post(
        f"/orders/{EMPLOYER}/orders/{line.order_id}/lines/{line.pk}/identity/",
        {f"id{line.pk}-identity_checked": "on"},
    )
    line.refresh_from_db()
    assert line.state == OrderLine.State.APPROVED
    assert Card.objects.filter(holder_national_id=WORKER).count() == 1

    # The link stops working once both files are in.
    page.goto(link)
    assert page.get_by_role("heading", name="Lenken virker ikke").is_visible()


def test_an_orderer_gets_a_link_to_copy_for_an_sms_on_a_phone(page, live_server, settings) -> None:
    from django.test import Client

    from orders.models import OrderLine
    from tests.hmsportal.factories import UserFactory

    settings.PORTAL_BASE_URL = live_server.url
    ensure_card_catalogue()
    registry_dataset_load(dataset=small_dataset())
    client = Client()
    client.force_login(UserFactory())
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/orders/{EMPLOYER}/new/")
    page.get_by_label("Ansatt", exact=True).select_option(f"{WORKER}:{SUB_UNIT}")
    page.get_by_label("HMS-kort bygg og anlegg").check()
    page.get_by_label("Send den ansatte en lenke").check()
    page.get_by_label("Jeg har kontrollert").check()
    page.get_by_role("button", name="Fortsett").click()
    # Check your answers: the whole order and what it costs, then send.
    assert page.get_by_role(
        "heading", name="Kontroller bestillingen før du sender den"
    ).is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_role("button", name="Send bestillingen").click()

    assert page.get_by_text("Venter på bilde og legitimasjon fra den ansatte").first.is_visible()
    link = page.get_by_label("Lenken til den ansatte").input_value()
    assert re.fullmatch(rf"{re.escape(live_server.url)}/u/[A-Za-z0-9_-]{{43}}/", link)
    # The copy button comes from a static script and puts the link on the clipboard.
    page.get_by_role("button", name="Kopier lenken").click()
    page.get_by_text("Lenken er kopiert.").wait_for()  # the clipboard answers asynchronously
    assert page.evaluate("navigator.clipboard.readText()") == link
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert OrderLine.objects.get().state == OrderLine.State.AWAITING_FILES
    assert not [m for m in mail.outbox if "/u/" in m.body]  # no mail to the employee

    # A new link replaces the old one.
    page.get_by_role("button", name="Send en ny lenke").click()
    assert page.get_by_text("Den gamle lenken virker ikke lenger.").is_visible()
    new_link = page.get_by_label("Lenken til den ansatte").input_value()
    assert new_link != link
    page.context.clear_cookies()
    page.goto(link)
    assert page.get_by_role("heading", name="Lenken virker ikke").is_visible()
    page.goto(new_link)
    assert page.get_by_text("Ola Snekker").is_visible()
