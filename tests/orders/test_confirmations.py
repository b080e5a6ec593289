"""The order confirmation: a PDF per order line whose QR code leads to a public, signed page
that confirms the order and its state, without the identity number (DOMAIN.md, "Who orders")."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pypdfium2 as pdfium
import pytest
from django.core import signing
from pyzbar.pyzbar import ZBarSymbol
from pyzbar.pyzbar import decode as zbar_decode

from cards.models import Card
from orders.confirmations import (
    SALT,
    confirmation_pdf,
    confirmation_reference,
    confirmation_token,
)
from orders.models import OrderLine
from orders.services import order_line_check
from registry.datasets import registry_dataset_load
from tests.cards.factories import CardFactory
from tests.datasets import EMPLOYER, WORKER, small_dataset
from tests.hmsportal.factories import UserFactory
from tests.orders.factories import OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db

BASE_URL = "https://hms-kort.test.example.org"
OTHER_EMPLOYER = "974760673"


@pytest.fixture
def line(settings) -> OrderLine:
    settings.PORTAL_BASE_URL = BASE_URL
    registry_dataset_load(dataset=small_dataset())
    return OrderLineFactory()


def _page_text_and_qr(pdf: bytes) -> tuple[str, list[str]]:
    document = pdfium.PdfDocument(pdf)
    assert len(document) == 1
    page = document[0]
    text = str(page.get_textpage().get_text_range())
    image = page.render(scale=200 / 72).to_pil().convert("RGB")
    symbols = zbar_decode(image, symbols=[ZBarSymbol.QRCODE])
    return text, [symbol.data.decode() for symbol in symbols]


def _path(url: str) -> str:
    return urlsplit(url).path


def test_the_pdf_names_worker_employer_card_type_and_order_and_its_qr_code_leads_to_the_order(
    line, client
) -> None:
    pdf = confirmation_pdf(line)

    assert pdf.startswith(b"%PDF-")
    text, codes = _page_text_and_qr(pdf)
    assert "Ola Snekker" in text
    assert "Fjordbygg AS" in text
    assert "914 778 271" in text
    assert "HMS-kort bygg og anlegg" in text
    assert f"{line.order_id}-{line.pk}" in text
    assert WORKER not in text and WORKER not in pdf.decode("latin-1")
    assert len(codes) == 1
    url = codes[0]
    assert url.startswith(f"{BASE_URL}/confirmation/") and url.endswith("/")
    reference = confirmation_reference(url.split("/")[-2])
    assert reference is not None and reference.line_id == line.pk
    assert WORKER not in url

    response = client.get(_path(url))
    body = response.content.decode()
    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "Ola Snekker" in body
    assert "Fjordbygg AS" in body
    assert "Kortet er bestilt" in body
    assert "Kontrollerer registrene" in body  # the line's state now
    assert 'data-documents-order="true"' in body
    assert WORKER not in body
    assert "01.01.1975" not in body  # nor the birth date


def test_the_public_page_follows_the_order_to_approved_and_to_rejected(line, client) -> None:
    url = _path(f"{BASE_URL}/confirmation/{confirmation_token(line)}/")
    order_line_check(line_id=line.pk)
    body = client.get(url).content.decode()
    assert "Godkjent, venter på produksjon" in body
    assert 'data-documents-order="true"' in body

    OrderLine.objects.filter(pk=line.pk).update(
        state=OrderLine.State.REJECTED, card=None, reason_codes=["employment_not_found"]
    )
    client.cookies["django_language"] = "en"
    body = client.get(url).content.decode()
    assert "This order does not document a card" in body
    assert "The order was rejected after the register check." in body
    assert 'data-documents-order="false"' in body


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),
        lambda token: token.replace(":", ";", 1),
        lambda token: "x" * 500,
        # A genuine signature with another salt (the status page's photo token) is not ours.
        lambda token: signing.dumps([1, 1], salt="cards.status-photo", compress=False),
    ],
)
def test_a_tampered_address_answers_404_and_says_nothing(line, client, tamper) -> None:
    response = client.get(f"/confirmation/{tamper(confirmation_token(line))}/")
    assert response.status_code == 404
    assert "Ola Snekker" not in response.content.decode()


def test_a_token_for_an_order_that_is_not_the_one_signed_answers_404(line, client) -> None:
    # Same line id, another order time: the line was deleted and its id used again.
    token = signing.dumps([line.pk, 1], salt=SALT, compress=False)
    assert client.get(f"/confirmation/{token}/").status_code == 404


def test_an_expired_confirmation_says_so_and_nothing_else(line, client, settings, monkeypatch):
    settings.ORDER_CONFIRMATION_VALID_DAYS = 30
    long_ago = time.time() - 31 * 24 * 3600
    with monkeypatch.context() as patch:
        patch.setattr(signing.time, "time", lambda: long_ago)
        token = confirmation_token(line)
    response = client.get(f"/confirmation/{token}/")
    body = response.content.decode()
    assert response.status_code == 410
    assert "Ordrebekreftelsen er utløpt" in body
    assert "Ola Snekker" not in body and "Fjordbygg" not in body


def test_the_public_page_is_rate_limited_per_address(line, client, settings, pinned_clock):
    settings.STATUS_RATE_LIMIT_PER_MINUTE = 2
    url = f"/confirmation/{confirmation_token(line)}/"
    assert client.get(url).status_code == 200
    assert client.get("/confirmation/forged/").status_code == 404  # guesses count too
    response = client.get(url)
    assert response.status_code == 429
    assert response["Retry-After"] == "50"
    assert "Ola Snekker" not in response.content.decode()


def test_the_order_page_links_each_lines_pdf_and_another_employer_gets_404(line, client):
    client.force_login(UserFactory())
    order_page = client.get(f"/orders/{EMPLOYER}/orders/{line.order_id}/").content.decode()
    pdf_url = f"/orders/{EMPLOYER}/orders/{line.order_id}/lines/{line.pk}/confirmation.pdf"
    assert f'href="{pdf_url}"' in order_page

    response = client.get(pdf_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="ordrebekreftelse-{line.order_id}-{line.pk}.pdf"'
    )
    text, _ = _page_text_and_qr(response.content)
    assert "Ola Snekker" in text

    # Another employer's order line, asked for through our employer or through its own.
    other = OrderLineFactory(order=OrderFactory(employer_orgnr=OTHER_EMPLOYER))
    for orgnr in (EMPLOYER, OTHER_EMPLOYER):
        url = f"/orders/{orgnr}/orders/{other.order_id}/lines/{other.pk}/confirmation.pdf"
        assert client.get(url).status_code == 404
    # Our own line under another of our orders' numbers.
    wrong_order = f"/orders/{EMPLOYER}/orders/{other.order_id}/lines/{line.pk}/confirmation.pdf"
    assert client.get(wrong_order).status_code == 404


def test_a_rejected_line_has_no_confirmation(line, client) -> None:
    client.force_login(UserFactory())
    OrderLine.objects.filter(pk=line.pk).update(state=OrderLine.State.REJECTED)
    url = f"/orders/{EMPLOYER}/orders/{line.order_id}/lines/{line.pk}/confirmation.pdf"
    assert client.get(url).status_code == 404
    page = client.get(f"/orders/{EMPLOYER}/orders/{line.order_id}/").content.decode()
    assert "confirmation.pdf" not in page


def test_a_revoked_card_no_longer_documents_the_order(line, client) -> None:
    card = CardFactory(state=Card.State.REVOKED)
    OrderLine.objects.filter(pk=line.pk).update(state=OrderLine.State.APPROVED, card=card)
    body = client.get(f"/confirmation/{confirmation_token(line)}/").content.decode()
    assert 'data-documents-order="false"' in body
    assert "Kortet er tilbakekalt" in body
