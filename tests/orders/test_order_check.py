"""Check your answers before sending: the whole order and its price, and nothing ordered yet."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cards.models import CardType
from orders.models import Invoice, Order, UploadStash
from registry.datasets import registry_dataset_load
from tests.datasets import EMPLOYER, SUB_UNIT, WORKER, jpeg, small_dataset
from tests.hmsportal.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(client):
    registry_dataset_load(dataset=small_dataset())
    client.force_login(UserFactory())
    return client


def form(**overrides):
    data = {
        "employee": f"{WORKER}:{SUB_UNIT}",
        "card_type": CardType.objects.get(code="construction").pk,
        "photo": SimpleUploadedFile("ola.jpg", jpeg(), content_type="image/jpeg"),
        "id_document": SimpleUploadedFile(
            "pass.pdf", b"%PDF-1.4\n", content_type="application/pdf"
        ),
        "identity_checked": "on",
        "submission_token": "token-of-the-check-page-0123456789",
        "step": "review",
    }
    data.update(overrides)
    return data


def hidden_fields(html: str) -> dict[str, str]:
    form_html = html[html.index('<form method="post" novalidate>') :]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form_html))


def test_the_check_page_shows_the_order_and_its_price_and_orders_nothing(owner_client):
    response = owner_client.post(f"/orders/{EMPLOYER}/new/", form())
    assert response.status_code == 200
    page = response.content.decode()
    assert "Kontroller bestillingen før du sender den" in page
    assert "Ola Snekker" in page and "HMS-kort bygg og anlegg" in page
    assert "Å betale inkl. mva." in page and "kr 171,56" in page  # card and postage, VAT incl.
    assert "Kaigata 1" in page  # the business address from Enhetsregisteret
    assert WORKER not in page.replace(f'value="{WORKER}:{SUB_UNIT}"', "")  # only the choice
    assert Order.objects.count() == 0 and Invoice.objects.count() == 0
    assert UploadStash.objects.count() == 2  # the files wait, encrypted, for the send


def test_sending_from_the_check_page_places_the_order_with_the_kept_files(owner_client):
    page = owner_client.post(f"/orders/{EMPLOYER}/new/", form()).content.decode()
    fields = hidden_fields(page)
    assert fields["photo_stash"] and fields["id_document_stash"]
    response = owner_client.post(f"/orders/{EMPLOYER}/new/", {**fields, "step": "send"})
    assert response.status_code == 302
    order = Order.objects.get()
    line = order.lines.get()
    assert line.photo and line.id_document
    assert UploadStash.objects.count() == 0  # used and gone


def test_changing_the_order_goes_back_to_the_form_with_the_files_attached(owner_client):
    fields = hidden_fields(owner_client.post(f"/orders/{EMPLOYER}/new/", form()).content.decode())
    response = owner_client.post(f"/orders/{EMPLOYER}/new/", {**fields, "step": "change"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Bestill et HMS-kort" in page and "error-summary" not in page
    assert "er fortsatt lagt ved" in page
    assert Order.objects.count() == 0


def test_a_form_with_an_error_never_reaches_the_check_page(owner_client):
    response = owner_client.post(f"/orders/{EMPLOYER}/new/", form(identity_checked=""))
    page = response.content.decode()
    assert "error-summary" in page and "Kontroller bestillingen før" not in page
