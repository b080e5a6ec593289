"""The ordering pages: access, and bad input answered clearly with nothing half-saved."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cards.models import Card, CardType
from orders.models import Order, OrderLine, UploadStash
from registry.datasets import registry_dataset_load
from tests.datasets import EMPLOYER, SUB_UNIT, WORKER, jpeg, small_dataset
from tests.hmsportal.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(client):
    registry_dataset_load(dataset=small_dataset())
    user = UserFactory()
    client.force_login(user)
    return client


def _form(**overrides):
    data = {
        "employee": f"{WORKER}:{SUB_UNIT}",
        "card_type": CardType.objects.get(code="construction").pk,
        "photo": SimpleUploadedFile("ola.jpg", jpeg(), content_type="image/jpeg"),
        "id_document": SimpleUploadedFile(
            "pass.pdf", b"%PDF-1.4\n%scan\n", content_type="application/pdf"
        ),
        "identity_checked": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _media_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _assert_nothing_saved(settings) -> None:
    """No order, and no file but the valid uploads kept (encrypted) for the next try."""
    assert Order.objects.count() == 0
    assert OrderLine.objects.count() == 0
    assert Card.objects.count() == 0
    files = _media_files(settings)
    assert [path for path in files if "stash" not in path.parts] == []
    assert len(files) == UploadStash.objects.count()
    for path in files:
        assert path.read_bytes().startswith(b"gAAAA")  # a Fernet token, not the file


def test_order_page_lists_the_employees_of_main_and_sub_units(owner_client) -> None:
    response = owner_client.get(f"/orders/{EMPLOYER}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Ola Snekker" in body
    assert SUB_UNIT in body


def test_a_sub_unit_number_leads_to_its_main_unit(owner_client) -> None:
    response = owner_client.post("/orders/", {"orgnr": SUB_UNIT})
    assert response.status_code == 302
    assert response["Location"] == f"/orders/{EMPLOYER}/"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"photo": None}, "photo", "Last opp et bilde av den ansatte."),
        (
            {
                "photo": SimpleUploadedFile(
                    "ola.jpg", b"just some text, not a picture", content_type="image/jpeg"
                )
            },
            "photo",
            "Bildet må være en JPEG- eller PNG-fil.",
        ),
        ({"employee": "01017512419:973861883"}, "employee", "Velg en ansatt fra listen."),
        ({"employee": "<script>"}, "employee", "Velg en ansatt fra listen."),
        ({"id_document": None}, "id_document", "Last opp en kopi av den ansattes legitimasjon."),
        (
            {
                "id_document": SimpleUploadedFile(
                    "pass.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf"
                )
            },
            "id_document",
            "Legitimasjonen må være en PDF-, JPEG- eller PNG-fil.",
        ),
        ({"identity_checked": None}, "identity_checked", "Bekreft at du har kontrollert"),
        ({"card_type": "999999"}, "card_type", "Velg en korttype fra listen."),
    ],
)
def test_bad_input_gets_a_clear_norwegian_message_and_nothing_is_saved(
    owner_client, settings, overrides, field, message
) -> None:
    response = owner_client.post(f"/orders/{EMPLOYER}/new/", _form(**overrides))
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    # The error summary at the top links to the field.
    assert 'class="error-summary"' in body
    anchor = f"id_{field}_0" if field == "card_type" else f"id_{field}"
    assert f'href="#{anchor}"' in body
    assert f'id="{anchor}"' in body
    _assert_nothing_saved(settings)


def test_messages_are_in_english_when_english_is_chosen(owner_client, settings) -> None:
    owner_client.cookies["django_language"] = "en"
    response = owner_client.post(f"/orders/{EMPLOYER}/new/", _form(photo=None))
    assert "Upload a photo of the employee." in response.content.decode()
    _assert_nothing_saved(settings)


@pytest.mark.parametrize("orgnr", ["123", "914778272", "abcdefghi", "9" * 200, "١٢٣٤٥٦٧٨٩"])
def test_an_invalid_organisation_number_is_explained(owner_client, orgnr) -> None:
    response = owner_client.post("/orders/", {"orgnr": orgnr})
    assert response.status_code == 200
    assert "Organisasjonsnummeret er ikke gyldig" in response.content.decode()


def test_an_organisation_without_access_answers_404_like_an_unknown_one(owner_client) -> None:
    # 974760673 is a valid number, but the user holds no role there.
    assert owner_client.get("/orders/974760673/").status_code == 404
    assert owner_client.get("/orders/974760673/new/").status_code == 404
    assert owner_client.get("/orders/not-a-number/").status_code == 404
    response = owner_client.post("/orders/", {"orgnr": "974760673"})
    assert "Du kan ikke bestille kort for denne virksomheten" in response.content.decode()


def test_ordering_requires_login(client) -> None:
    response = client.get(f"/orders/{EMPLOYER}/new/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_a_good_order_is_saved_with_encrypted_files(
    owner_client, settings, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(f"/orders/{EMPLOYER}/new/", _form())
    assert response.status_code == 302
    line = OrderLine.objects.get()
    assert line.state == OrderLine.State.APPROVED
    # Stored names do not carry what the uploader called the files.
    assert "pass" not in line.id_document.name and "ola" not in line.photo.name
    assert line.id_document.name.endswith(".pdf")
    assert line.price_incl_vat == line.card_type.prices.first().price_incl_vat
    files = _media_files(settings)
    assert files
    for path in files:
        content = path.read_bytes()
        assert b"%PDF-1.4\n%scan" not in content
        assert b"JFIF" not in content


def test_the_employer_page_lists_its_orders_in_the_page_not_the_title(owner_client) -> None:
    owner_client.post(f"/orders/{EMPLOYER}/new/", _form())
    order = Order.objects.get()
    html = owner_client.get(f"/orders/{EMPLOYER}/").content.decode()
    title = re.search(r"<title>(.*?)</title>", html, re.S)
    main = re.search(r"<main.*?</main>", html, re.S)
    assert title is not None and main is not None
    assert "<" not in title.group(1)
    assert f'href="/orders/{EMPLOYER}/orders/{order.pk}/"' in main.group(0)


def test_the_id_document_is_stored_by_what_it_is_not_by_its_name(owner_client) -> None:
    misnamed = SimpleUploadedFile("scan.jpg", b"%PDF-1.4\n%scan\n", content_type="image/jpeg")
    assert (
        owner_client.post(f"/orders/{EMPLOYER}/new/", _form(id_document=misnamed)).status_code
        == 302
    )
    assert OrderLine.objects.get().id_document.name.endswith(".pdf")


def test_no_orders_in_a_blackout_window_and_the_page_says_so(owner_client, settings) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from cards.models import OrderingBlackout

    now = timezone.now()
    OrderingBlackout.objects.create(
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=3),
        message_nb="Bytte av kortprodusent: ingen bestillinger før 2. januar.",
    )
    page = owner_client.get(f"/orders/{EMPLOYER}/new/").content.decode()
    assert "Bytte av kortprodusent" in page
    response = owner_client.post(f"/orders/{EMPLOYER}/new/", _form())
    assert "Bytte av kortprodusent: ingen bestillinger før 2. januar." in response.content.decode()
    _assert_nothing_saved(settings)


def test_an_upcoming_blackout_is_announced(owner_client) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from cards.models import OrderingBlackout

    now = timezone.now()
    OrderingBlackout.objects.create(
        starts_at=now + timedelta(days=5), ends_at=now + timedelta(days=19)
    )
    page = owner_client.get(f"/orders/{EMPLOYER}/new/").content.decode()
    start = timezone.localtime(now + timedelta(days=5)).strftime("%d.%m.%Y")
    assert f"Det er ikke mulig å bestille kort fra {start}" in page


@pytest.mark.parametrize("path", ["%00", "9147782710", "91477827%00"])
def test_garbage_in_the_organisation_part_of_the_url_is_404(owner_client, path) -> None:
    assert owner_client.get(f"/orders/{path}/").status_code == 404
    assert owner_client.get(f"/orders/{EMPLOYER}/cards/{path}/").status_code == 404


def test_a_new_hire_can_be_ordered_for_from_30_days_before_the_start(owner_client) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from registry.models import Employment

    start = timezone.localdate() + timedelta(days=40)
    Employment.objects.filter(person_id=WORKER).update(start=start)
    overview = owner_client.get(f"/orders/{EMPLOYER}/").content.decode()
    assert f"Kan bestilles fra {(start - timedelta(days=30)).strftime('%d.%m.%Y')}" in overview
    form = owner_client.get(f"/orders/{EMPLOYER}/new/").content.decode()
    assert f'value="{WORKER}:{SUB_UNIT}"' not in form

    Employment.objects.filter(person_id=WORKER).update(start=start - timedelta(days=10))
    form = owner_client.get(f"/orders/{EMPLOYER}/new/").content.decode()
    assert f'value="{WORKER}:{SUB_UNIT}"' in form


def test_looking_up_organisations_in_the_register_is_rate_limited_per_user(
    owner_client, settings, pinned_clock
) -> None:
    settings.ORGANISATION_LOOKUP_RATE_LIMIT_PER_MINUTE = 3
    # Valid organisation numbers the user holds no role in: each one asks Enhetsregisteret.
    for orgnr in ("974760673", "923609016", "981514904"):
        response = owner_client.post("/orders/", {"orgnr": orgnr})
        assert response.status_code == 200
        assert "Du kan ikke bestille kort" in response.content.decode()

    response = owner_client.post("/orders/", {"orgnr": "974760673"})
    html = response.content.decode()
    assert response.status_code == 429
    assert response["Retry-After"] == "50"
    assert "Du har slått opp mange virksomheter på kort tid. Vent 50 sekunder" in html
    assert 'href="#id_orgnr"' in html  # the error summary links to the field

    # An organisation the user can already act for needs no lookup, so it still works.
    response = owner_client.post("/orders/", {"orgnr": EMPLOYER})
    assert response.status_code == 302


def test_the_employee_list_shows_each_persons_newest_order_in_a_fixed_number_of_queries(
    owner_client, django_capture_on_commit_callbacks
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.orders.factories import OrderLineFactory

    OrderLineFactory.create_batch(3, state=OrderLine.State.REJECTED)  # older orders
    with django_capture_on_commit_callbacks(execute=True):
        assert owner_client.post(f"/orders/{EMPLOYER}/new/", _form()).status_code == 302
    newest = OrderLine.objects.order_by("-pk").first()
    assert newest is not None and newest.card is not None

    def page() -> tuple[str, int]:
        with CaptureQueriesContext(connection) as queries:
            html = owner_client.get(f"/orders/{EMPLOYER}/").content.decode()
        return html, len(queries.captured_queries)

    html, queries = page()
    row = re.search(r">Ola Snekker</td>.*?</tr>", html, re.S)
    assert row is not None
    assert f"/cards/{newest.card.number}/" in row.group(0)  # the newest line, not an old one
    OrderLineFactory.create_batch(5, state=OrderLine.State.REJECTED)
    assert page()[1] == queries
