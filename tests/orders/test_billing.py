"""Invoices and delivery: an invoice with a KID on every order, as a PDF for the employer
only, that never changes; the card goes to the business address unless told otherwise."""

from __future__ import annotations

import datetime
import subprocess
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from stdnum import luhn

from cards.models import Card, CardPrice, CardType, Postage
from orders.billing import invoice_create, kid_for
from orders.models import Invoice, InvoiceLine, Order, OrderLine
from registry.datasets import registry_dataset_load
from tests.datasets import (
    EMPLOYER,
    SUB_UNIT,
    WORKER,
    ensure_card_catalogue,
    jpeg,
    small_dataset,
)
from tests.hmsportal.factories import UserFactory
from tests.orders.factories import OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db

OTHER_EMPLOYER = "974760673"  # a valid number the user holds no role in


@pytest.fixture
def owner_client(client):
    registry_dataset_load(dataset=small_dataset())
    client.force_login(UserFactory())
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


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "invoice.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return result.stdout


def _assert_only_kept_uploads(settings) -> None:
    """No order's files: only the valid uploads kept (encrypted) for the next try."""
    media = Path(settings.MEDIA_ROOT)
    files = [p for p in media.rglob("*") if p.is_file()] if media.exists() else []
    assert [path for path in files if "stash" not in path.parts] == []


# --- KID ---------------------------------------------------------------------------------


@pytest.mark.parametrize("number", [1, 42, 1234567, 98765432])
def test_the_kid_is_the_invoice_number_with_a_luhn_check_digit(number) -> None:
    kid = kid_for(number)
    assert kid[:-1].lstrip("0") == str(number)
    assert luhn.validate(kid) == kid
    assert luhn.checksum(kid) == 0


def test_a_kid_with_a_changed_digit_fails_the_check() -> None:
    kid = kid_for(4711)
    for position in range(len(kid)):
        changed = kid[:position] + str((int(kid[position]) + 1) % 10) + kid[position + 1 :]
        assert not luhn.is_valid(changed), changed


def test_the_first_kid() -> None:
    assert kid_for(1) == "00000018"
    with pytest.raises(ValueError):
        kid_for(0)


# --- The invoice on submit --------------------------------------------------------------


def test_submitting_an_order_makes_its_invoice(owner_client, settings) -> None:
    settings.INVOICE_DUE_DAYS = 10
    settings.INVOICE_ACCOUNT_NUMBER = "97100500004"
    response = owner_client.post(f"/orders/{EMPLOYER}/new/", _form())
    assert response.status_code == 302
    order = Order.objects.get()
    invoice = Invoice.objects.get(order=order)
    today = timezone.localdate()
    assert invoice.number >= 1
    assert invoice.kid == kid_for(invoice.number)
    assert invoice.issued_on == today
    assert invoice.due_on == today + datetime.timedelta(days=10)
    assert invoice.account_number == "97100500004"
    # The organisation's name and business address from Enhetsregisteret.
    assert (invoice.customer_orgnr, invoice.customer_name) == (EMPLOYER, "Fjordbygg AS")
    assert (invoice.customer_street, invoice.customer_postcode, invoice.customer_city) == (
        "Kaigata 1",
        "5003",
        "Bergen",
    )
    assert invoice.issuer_name == "Evry Card Services AS"
    line = InvoiceLine.objects.get(invoice=invoice)
    assert line.card_type_name == "HMS-kort bygg og anlegg"
    assert line.person_name == "Ola Snekker"
    assert (line.price_excl_vat, line.vat, line.price_incl_vat) == (
        Decimal("105.25"),
        Decimal("26.31"),
        Decimal("131.56"),
    )
    assert (invoice.postage_excl_vat, invoice.postage_vat) == (Decimal("32.00"), Decimal("8.00"))
    assert invoice.total_excl_vat == Decimal("137.25")
    assert invoice.total_vat == Decimal("34.31")
    assert invoice.total_incl_vat == Decimal("171.56")
    # Never the identity number, anywhere on the invoice.
    stored = [str(getattr(invoice, f.attname)) for f in Invoice._meta.concrete_fields]
    stored += [str(getattr(line, f.attname)) for f in InvoiceLine._meta.concrete_fields]
    assert not any(WORKER in value for value in stored)


def test_the_invoice_takes_the_vat_rate_from_the_price_list(owner_client) -> None:
    CardPrice.objects.create(
        card_type=CardType.objects.get(code="construction"),
        effective_from=timezone.localdate(),
        price_incl_vat=Decimal("115.00"),
        vat_rate=Decimal("0.15"),
    )
    owner_client.post(f"/orders/{EMPLOYER}/new/", _form())
    line = InvoiceLine.objects.get()
    assert (line.vat_rate, line.price_excl_vat, line.vat) == (
        Decimal("0.15"),
        Decimal("100.00"),
        Decimal("15.00"),
    )
    assert line.invoice.total_incl_vat == Decimal("155.00")


def test_two_orders_get_different_invoice_numbers_one_after_the_other() -> None:
    registry_dataset_load(dataset=small_dataset())
    first = invoice_create(order=OrderLineFactory().order)
    # Another person: one open order line per person, employer and card type.
    second = invoice_create(
        order=OrderLineFactory(order=OrderFactory(), national_id="01017512419").order
    )
    assert second.number == first.number + 1
    assert first.kid != second.kid
    # Looked up in Enhetsregisteret when the caller has no facts at hand.
    assert second.customer_street == "Kaigata 1"


def test_a_price_change_after_ordering_does_not_change_the_invoice(owner_client, tmp_path) -> None:
    owner_client.post(f"/orders/{EMPLOYER}/new/", _form())
    invoice = Invoice.objects.get()
    today = timezone.localdate()
    CardPrice.objects.create(
        card_type=CardType.objects.get(code="construction"),
        effective_from=today,
        price_incl_vat=Decimal("250.00"),
        vat_rate=Decimal("0.25"),
    )
    Postage.objects.create(effective_from=today, amount_incl_vat=Decimal("99.00"))
    invoice.refresh_from_db()
    assert invoice.total_incl_vat == Decimal("171.56")
    page = owner_client.get(f"/orders/{EMPLOYER}/orders/{invoice.order_id}/").content.decode()
    assert "171,56" in page and "105,25" in page and "32,00" in page
    assert "250,00" not in page and "99,00" not in page
    pdf = owner_client.get(f"/orders/{EMPLOYER}/orders/{invoice.order_id}/invoice.pdf")
    text = _pdf_text(pdf.content, tmp_path)
    assert "171,56" in text and "250,00" not in text


def test_nothing_is_saved_when_there_is_no_postage_to_invoice(owner_client, settings) -> None:
    Postage.objects.all().delete()
    response = owner_client.post(f"/orders/{EMPLOYER}/new/", _form())
    assert response.status_code == 200
    assert Order.objects.count() == 0 and OrderLine.objects.count() == 0
    assert Invoice.objects.count() == 0 and Card.objects.count() == 0
    _assert_only_kept_uploads(settings)


# --- Pages -------------------------------------------------------------------------------


def test_the_order_form_shows_what_each_card_costs_with_postage_and_vat(owner_client) -> None:
    page = owner_client.get(f"/orders/{EMPLOYER}/new/").content.decode()
    # Construction: 105,25 + 32,00 postage, VAT 26,31 + 8,00, total 171,56.
    for amount in ("105,25", "32,00", "34,31", "171,56"):
        assert amount in page
    # Cleaning: 147,02 + 32,00, VAT 36,76 + 8,00, total 223,78.
    for amount in ("147,02", "44,76", "223,78"):
        assert amount in page
    assert "Mva. 25 %" in page
    assert "Fjordbygg AS, Kaigata 1, 5003 Bergen" in page


def test_the_order_page_shows_the_invoice_and_links_its_pdf(owner_client, tmp_path) -> None:
    owner_client.post(f"/orders/{EMPLOYER}/new/", _form())
    invoice = Invoice.objects.get()
    url = f"/orders/{EMPLOYER}/orders/{invoice.order_id}/"
    page = owner_client.get(url).content.decode()
    assert f'href="{url}invoice.pdf"' in page
    assert invoice.kid in page
    response = owner_client.get(f"{url}invoice.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    text = _pdf_text(response.content, tmp_path)
    assert invoice.kid in text
    assert "171,56" in text
    assert "1503.00.00002" in text  # the DEBUG demo account
    assert "Kaigata 1" in text and "Ola Snekker" in text
    assert WORKER not in text


def test_another_employers_invoice_answers_404(owner_client) -> None:
    registry_dataset_load(dataset=small_dataset())
    other_order = OrderLineFactory(
        order=OrderFactory(employer_orgnr=OTHER_EMPLOYER, employer_name="Annen AS")
    ).order
    invoice_create(order=other_order)
    # Under the user's own employer, the other employer's order does not exist ...
    assert (
        owner_client.get(f"/orders/{EMPLOYER}/orders/{other_order.pk}/invoice.pdf").status_code
        == 404
    )
    # ... and the other employer is not one the user may act for.
    assert (
        owner_client.get(
            f"/orders/{OTHER_EMPLOYER}/orders/{other_order.pk}/invoice.pdf"
        ).status_code
        == 404
    )
    # An order without an invoice answers the same.
    own = OrderFactory()
    assert owner_client.get(f"/orders/{EMPLOYER}/orders/{own.pk}/invoice.pdf").status_code == 404


def test_the_invoice_needs_a_login(client) -> None:
    response = client.get(f"/orders/{EMPLOYER}/orders/1/invoice.pdf")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


# --- Delivery ----------------------------------------------------------------------------


def test_the_card_goes_to_the_business_address_by_default(owner_client) -> None:
    owner_client.post(f"/orders/{EMPLOYER}/new/", _form())
    order = Order.objects.get()
    assert (
        order.delivery_name,
        order.delivery_street,
        order.delivery_postcode,
        order.delivery_city,
    ) == ("", "Kaigata 1", "5003", "Bergen")


def test_another_delivery_address_is_stored_and_shown(owner_client, tmp_path) -> None:
    owner_client.post(
        f"/orders/{EMPLOYER}/new/",
        _form(
            delivery_name="c/o Byggeplass Nord",
            delivery_street="Anleggsvegen 12",
            delivery_postcode=" 9008 ",
            delivery_city="Tromsø",
        ),
    )
    order = Order.objects.get()
    assert (
        order.delivery_name,
        order.delivery_street,
        order.delivery_postcode,
        order.delivery_city,
    ) == ("c/o Byggeplass Nord", "Anleggsvegen 12", "9008", "Tromsø")
    url = f"/orders/{EMPLOYER}/orders/{order.pk}/"
    page = owner_client.get(url).content.decode()
    assert "c/o Byggeplass Nord" in page and "9008 Tromsø" in page
    text = _pdf_text(owner_client.get(f"{url}invoice.pdf").content, tmp_path)
    assert "Anleggsvegen 12" in text and "9008 Tromsø" in text
    # The invoice still goes to the organisation's own address.
    assert "Kaigata 1" in text


@pytest.mark.parametrize(
    ("delivery", "errors"),
    [
        (
            {
                "delivery_street": "Anleggsvegen 12",
                "delivery_postcode": "90a8",
                "delivery_city": "Tromsø",
            },
            {"delivery_postcode": "Postnummeret har 4 sifre"},
        ),
        (
            {
                "delivery_street": "Anleggsvegen 12",
                "delivery_postcode": "900",
                "delivery_city": "Tromsø",
            },
            {"delivery_postcode": "Postnummeret har 4 sifre"},
        ),
        (
            {"delivery_street": "Anleggsvegen 12", "delivery_postcode": "٩٠٠٨"},
            {"delivery_postcode": "Postnummeret har 4 sifre", "delivery_city": "Skriv poststed"},
        ),
        (
            {"delivery_name": "c/o Byggeplass Nord"},
            {
                "delivery_street": "Skriv gateadressen",
                "delivery_postcode": "Skriv postnummeret",
                "delivery_city": "Skriv poststed",
            },
        ),
    ],
)
def test_a_bad_delivery_address_is_explained_and_nothing_is_saved(
    owner_client, settings, delivery, errors
) -> None:
    response = owner_client.post(f"/orders/{EMPLOYER}/new/", _form(**delivery))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="error-summary"' in body
    for field, message in errors.items():
        assert f'href="#id_{field}"' in body
        assert f'id="id_{field}"' in body
        assert message in body
    assert Order.objects.count() == 0 and Invoice.objects.count() == 0
    _assert_only_kept_uploads(settings)


def test_the_price_table_speaks_english_when_english_is_chosen(owner_client) -> None:
    owner_client.cookies["django_language"] = "en"
    page = owner_client.get(f"/orders/{EMPLOYER}/new/").content.decode()
    assert "VAT 25 %" in page
    assert "171.56" in page
    assert "HSE card construction: one card with postage" in page


def test_invoices_are_read_only_in_the_admin(admin_client) -> None:
    registry_dataset_load(dataset=small_dataset())
    invoice = invoice_create(order=OrderLineFactory().order)
    assert admin_client.get("/admin/orders/invoice/").status_code == 200
    page = admin_client.get(f"/admin/orders/invoice/{invoice.pk}/change/")
    assert page.status_code == 200
    assert invoice.kid in page.content.decode()
    admin_client.post(f"/admin/orders/invoice/{invoice.pk}/change/", {"total_incl_vat": "1.00"})
    invoice.refresh_from_db()
    assert invoice.total_incl_vat == Decimal("171.56")
    response = admin_client.post(
        "/admin/cards/postage/add/",
        {"effective_from": "2031-01-01", "amount_incl_vat": "45.00", "vat_rate": "0.25"},
    )
    assert response.status_code == 302
    assert Postage.objects.filter(amount_incl_vat=Decimal("45.00")).exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_orders_get_numbers_one_after_the_other(postgres_required) -> None:
    from django.db import connection

    ensure_card_catalogue()
    registry_dataset_load(dataset=small_dataset())
    orders = [
        OrderLineFactory(order=OrderFactory(), national_id=f"0101751{n:04d}").order
        for n in range(6)
    ]
    barrier = threading.Barrier(len(orders))
    numbers: list[int] = []
    failures: list[BaseException] = []

    def invoice(order: Order) -> None:
        try:
            barrier.wait(timeout=10)
            numbers.append(invoice_create(order=order).number)
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=invoice, args=(order,)) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == []
    assert sorted(numbers) == list(range(1, len(orders) + 1))
    assert len({kid_for(n) for n in numbers}) == len(orders)
