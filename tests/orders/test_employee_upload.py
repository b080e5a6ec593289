"""The employee uploads their own photo and ID document through a personal link (issue 9.4)."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from cards.models import Card, CardType
from hmsportal.models import User
from orders.employee_upload import upload_token_hash
from orders.models import EmployeeUploadLink, OrderLine
from registry.datasets import registry_dataset_load
from tests.cards.factories import valid_national_id
from tests.datasets import EMPLOYER, SUB_UNIT, WORKER, jpeg, small_dataset
from tests.hmsportal.factories import UserFactory
from tests.orders.factories import OrderLineFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^/\s]+/u/([A-Za-z0-9_-]+)/")


@pytest.fixture
def owner_client(client):
    registry_dataset_load(dataset=small_dataset())
    client.force_login(UserFactory())
    return client


def _order_with_link(client, email: str = "ola@example.no", **overrides):
    data = {
        "employee": f"{WORKER}:{SUB_UNIT}",
        "card_type": CardType.objects.get(code="construction").pk,
        "files_from": "employee",
        "employee_email": email,
        "identity_checked": "on",
        **overrides,
    }
    return client.post(f"/orders/{EMPLOYER}/new/", {k: v for k, v in data.items() if v})


def _photo(name: str = "me.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg(), content_type="image/jpeg")


def _id_document() -> SimpleUploadedFile:
    return SimpleUploadedFile("pass.pdf", b"%PDF-1.4\n%scan\n", content_type="application/pdf")


def _media_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _employee_mails() -> list:
    """The mails with an upload link (the orderer gets the order confirmation besides)."""
    return [message for message in mail.outbox if "/u/" in message.body]


def _token_from_mail() -> str:
    (message,) = _employee_mails()
    match = LINK.search(message.body)
    assert match is not None, message.body
    return match.group(1)


@pytest.fixture
def mailed_token(owner_client, django_capture_on_commit_callbacks) -> str:
    with django_capture_on_commit_callbacks(execute=True):
        response = _order_with_link(owner_client)
    assert response.status_code == 302
    return _token_from_mail()


def test_an_order_with_a_link_waits_for_the_files_and_mails_the_employee(
    owner_client, settings, django_capture_on_commit_callbacks
) -> None:
    settings.EMPLOYEE_UPLOAD_LINK_DAYS = 7
    with django_capture_on_commit_callbacks(execute=True):
        response = _order_with_link(owner_client)
    assert response.status_code == 302
    line = OrderLine.objects.get()
    assert line.state == OrderLine.State.AWAITING_FILES
    assert not line.photo and not line.id_document
    # No register check yet: nothing checked, no card.
    assert line.checked_at is None and Card.objects.count() == 0
    (message,) = _employee_mails()
    assert message.to == ["ola@example.no"]
    # Replies reach the person who ordered.
    assert message.reply_to == ["kari@fjordbygg.example"]
    assert "Fjordbygg AS" in message.subject
    assert "Ola Snekker" in message.body and "Fjordbygg AS" in message.body
    assert WORKER not in message.body and WORKER not in message.subject
    token = _token_from_mail()
    # Only the hash is stored; the token itself is nowhere in the database.
    link = EmployeeUploadLink.objects.get()
    assert link.token_hash == upload_token_hash(token) != token
    assert not EmployeeUploadLink.objects.filter(token_hash=token).exists()
    assert link.email == "ola@example.no"
    assert link.expires_at - link.created_at == datetime.timedelta(days=7)
    # The order page shows the wait and where the link went.
    page = owner_client.get(response["Location"]).content.decode()
    assert "Venter på bilde og legitimasjon fra den ansatte" in page
    assert "ola@example.no" in page
    assert "Send en ny lenke" in page


def test_the_upload_page_shows_whose_card_and_employer_but_no_identity_number(
    client, mailed_token
) -> None:
    response = client.get(f"/u/{mailed_token}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Ola Snekker" in body and "Fjordbygg AS" in body
    assert WORKER not in body
    # On a phone the photo field opens the front camera.
    assert re.search(
        r'<input type="file" name="photo"[^>]*accept="image/\*"[^>]*capture="user"', body
    )
    assert 'name="id_document"' in body
    assert response["Cache-Control"].startswith("max-age=0")


def _orderer_checks_the_id(owner_client, line: OrderLine, django_capture_on_commit_callbacks):
    """The orderer looks at the ID the employee sent and confirms it (the order page)."""
    base = f"/orders/{EMPLOYER}/orders/{line.order_id}/lines/{line.pk}"
    with django_capture_on_commit_callbacks(execute=True):
        return owner_client.post(f"{base}/identity/", {f"id{line.pk}-identity_checked": "on"})


def test_both_files_move_the_line_to_the_register_check_and_it_is_approved(
    owner_client, client, mailed_token, django_capture_on_commit_callbacks
) -> None:
    # One file, then come back for the other: the link keeps working in between.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/u/{mailed_token}/", {"photo": _photo()})
    assert response.status_code == 302
    assert response["Location"] == f"/u/{mailed_token}/"
    line = OrderLine.objects.get()
    assert line.state == OrderLine.State.AWAITING_FILES and line.photo and not line.id_document
    page = client.get(f"/u/{mailed_token}/").content.decode()
    assert "Bildet ditt er mottatt" in page
    assert 'name="photo"' not in page and 'name="id_document"' in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/u/{mailed_token}/", {"id_document": _id_document()})
    assert response.status_code == 302
    assert response["Location"] == "/u/received/"
    assert "Takk" in client.get("/u/received/").content.decode()
    line.refresh_from_db()
    # The employer's identity check comes first: the orderer sees the ID, then confirms.
    assert line.state == OrderLine.State.AWAITING_ID_CHECK and line.card is None
    base = f"/orders/{EMPLOYER}/orders/{line.order_id}/lines/{line.pk}"
    order_page = owner_client.get(f"/orders/{EMPLOYER}/orders/{line.order_id}/").content.decode()
    assert "Kontroller legitimasjonen til Ola Snekker" in order_page
    document = owner_client.get(f"{base}/document/id-document/")
    assert document.status_code == 200 and document["Content-Type"] == "application/pdf"
    assert "no-store" in document["Cache-Control"]
    assert owner_client.get(f"{base}/document/photo/")["Content-Type"] == "image/jpeg"
    assert owner_client.get(f"{base}/document/other/").status_code == 404
    assert Client().get(f"{base}/document/id-document/").status_code == 302  # not logged in
    unchecked = owner_client.post(f"{base}/identity/", {})
    assert unchecked.status_code == 400
    assert "Bekreft at du har kontrollert identiteten" in unchecked.content.decode()
    assert (
        _orderer_checks_the_id(owner_client, line, django_capture_on_commit_callbacks).status_code
        == 302
    )
    line.refresh_from_db()
    assert line.state == OrderLine.State.APPROVED
    assert line.card is not None and line.card.holder_national_id == WORKER
    assert line.photo.name.endswith(".jpg") and line.id_document.name.endswith(".pdf")
    assert EmployeeUploadLink.objects.get().used_at is not None


def test_the_link_is_refused_once_both_files_are_in(
    client, mailed_token, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/u/{mailed_token}/", {"photo": _photo(), "id_document": _id_document()})
    line = OrderLine.objects.get()
    assert line.state == OrderLine.State.AWAITING_ID_CHECK
    response = client.get(f"/u/{mailed_token}/")
    assert response.status_code == 410
    assert "Lenken virker ikke" in response.content.decode()
    response = client.post(f"/u/{mailed_token}/", {"photo": _photo()})
    assert response.status_code == 410
    assert OrderLine.objects.get().photo.name == line.photo.name  # nothing replaced


def test_an_expired_link_is_refused(client, mailed_token) -> None:
    past = timezone.now() - datetime.timedelta(days=8)
    EmployeeUploadLink.objects.update(created_at=past, expires_at=past + datetime.timedelta(days=7))
    response = client.get(f"/u/{mailed_token}/")
    assert response.status_code == 410
    assert "Be arbeidsgiveren din om å sende deg en ny lenke." in response.content.decode()
    response = client.post(
        f"/u/{mailed_token}/", {"photo": _photo(), "id_document": _id_document()}
    )
    assert response.status_code == 410
    line = OrderLine.objects.get()
    assert line.state == OrderLine.State.AWAITING_FILES and not line.photo


def test_the_link_follows_the_days_setting(owner_client, settings) -> None:
    settings.EMPLOYEE_UPLOAD_LINK_DAYS = 2
    _order_with_link(owner_client, email="")
    link = EmployeeUploadLink.objects.get()
    assert link.expires_at - link.created_at == datetime.timedelta(days=2)


@pytest.mark.parametrize(
    "token",
    ["x", "A" * 43, "A" * 500, "æøå-token", "%00"],
)
def test_a_tampered_token_gets_the_clear_page(client, mailed_token, token) -> None:
    response = client.get(f"/u/{token}/")
    assert response.status_code == 404
    assert "Lenken virker ikke" in response.content.decode()
    response = client.post(f"/u/{token}/", {"photo": _photo()})
    assert response.status_code == 404


def test_a_token_cut_short_or_altered_gets_the_clear_page(client, mailed_token) -> None:
    for token in (mailed_token[:-1], mailed_token[:-1] + ("A" if mailed_token[-1] != "A" else "B")):
        response = client.get(f"/u/{token}/")
        assert response.status_code == 404
        assert "Lenken virker ikke" in response.content.decode()


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"photo": SimpleUploadedFile("me.jpg", b"just text, no picture", "image/jpeg")},
            "Bildet må være en JPEG- eller PNG-fil.",
        ),
        (
            {
                "id_document": SimpleUploadedFile(
                    "pass.pdf", b"MZ\x90\x00 not a pdf", "application/pdf"
                )
            },
            "Legitimasjonen må være en PDF-, JPEG- eller PNG-fil.",
        ),
        ({}, "Ta eller velg et bilde av deg selv."),
    ],
)
def test_hostile_uploads_get_the_error_summary_and_nothing_is_stored(
    client, mailed_token, settings, files, message
) -> None:
    response = client.post(f"/u/{mailed_token}/", files)
    assert response.status_code == 400
    body = response.content.decode()
    assert 'class="error-summary"' in body
    assert message in body
    line = OrderLine.objects.get()
    assert line.state == OrderLine.State.AWAITING_FILES
    assert not line.photo and not line.id_document
    assert _media_files(settings) == []


def test_a_huge_upload_is_refused_and_nothing_is_stored(client, mailed_token, settings) -> None:
    settings.UPLOAD_MAX_BYTES = 1000
    response = client.post(
        f"/u/{mailed_token}/", {"photo": _photo(), "id_document": _id_document()}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'class="error-summary"' in body
    assert "Filen er for stor" in body
    line = OrderLine.objects.get()
    assert not line.photo and not line.id_document
    assert _media_files(settings) == []


def test_a_link_to_copy_is_shown_once_and_a_new_link_replaces_the_old(
    owner_client, client, settings, django_capture_on_commit_callbacks
) -> None:
    settings.PORTAL_BASE_URL = "https://hms.example.no"
    with django_capture_on_commit_callbacks(execute=True):
        response = _order_with_link(owner_client, email="")
    order_url = response["Location"]
    assert _employee_mails() == []  # no address: the orderer sends the link by SMS
    page = owner_client.get(order_url).content.decode()
    match = LINK.search(page)
    assert match is not None
    old_token = match.group(1)
    # A copy button from a static script, hidden until the script shows it.
    assert "data-copy-from=" in page and "js/copy-link.js" in page
    # Shown once only: only the hash is stored.
    assert LINK.search(owner_client.get(order_url).content.decode()) is None
    assert client.get(f"/u/{old_token}/").status_code == 200

    line = OrderLine.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            f"{order_url}lines/{line.pk}/upload-link/", {f"line{line.pk}-email": ""}
        )
    assert response.status_code == 302
    page = owner_client.get(order_url).content.decode()
    assert "Den gamle lenken virker ikke lenger." in page
    new_token = LINK.search(page).group(1)
    assert new_token != old_token
    assert client.get(f"/u/{old_token}/").status_code == 410
    assert client.get(f"/u/{new_token}/").status_code == 200
    assert EmployeeUploadLink.objects.filter(replaced_at__isnull=True).count() == 1

    # Sent again by e-mail this time, to the address given now.
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(
            f"{order_url}lines/{line.pk}/upload-link/", {f"line{line.pk}-email": "ola@example.no"}
        )
    mailed = _token_from_mail()
    assert client.get(f"/u/{new_token}/").status_code == 410
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/u/{mailed}/", {"photo": _photo(), "id_document": _id_document()})
    assert OrderLine.objects.get().state == OrderLine.State.AWAITING_ID_CHECK


def test_a_bad_address_for_the_new_link_is_explained(owner_client) -> None:
    response = _order_with_link(owner_client, email="")
    line = OrderLine.objects.get()
    response = owner_client.post(
        f"{response['Location']}lines/{line.pk}/upload-link/",
        {f"line{line.pk}-email": "ola@"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'class="error-summary"' in body
    assert f'href="#id_line{line.pk}-email"' in body
    assert "E-postadressen er ikke gyldig" in body
    assert EmployeeUploadLink.objects.count() == 1


def test_new_links_are_rate_limited(owner_client, pinned_clock) -> None:
    response = _order_with_link(owner_client, email="")
    order_url = response["Location"]
    line = OrderLine.objects.get()
    for _attempt in range(3):
        owner_client.post(f"{order_url}lines/{line.pk}/upload-link/", {})
    assert EmployeeUploadLink.objects.count() == 4
    response = owner_client.post(f"{order_url}lines/{line.pk}/upload-link/", {}, follow=True)
    assert "Du har laget mange lenker på kort tid" in response.content.decode()
    assert EmployeeUploadLink.objects.count() == 4


def test_another_organisation_cannot_make_a_new_link(client, mailed_token) -> None:
    line = OrderLine.objects.get()
    other = User.objects.create(username="other", national_id="01017512419")
    client.force_login(other)
    response = client.post(
        f"/orders/{EMPLOYER}/orders/{line.order_id}/lines/{line.pk}/upload-link/", {}
    )
    assert response.status_code == 404
    assert EmployeeUploadLink.objects.count() == 1


def test_the_upload_page_is_rate_limited_by_address(client, mailed_token, pinned_clock) -> None:
    for _attempt in range(20):
        assert client.get(f"/u/{mailed_token}/").status_code == 200
    response = client.get(f"/u/{mailed_token}/")
    assert response.status_code == 429
    assert response["Retry-After"] == "50"
    # Another address has its own budget.
    assert Client(REMOTE_ADDR="192.0.2.7").get(f"/u/{mailed_token}/").status_code == 200


def test_the_mail_is_in_the_orderers_language(client, django_capture_on_commit_callbacks) -> None:
    registry_dataset_load(dataset=small_dataset())
    client.force_login(UserFactory(language="en"))
    with django_capture_on_commit_callbacks(execute=True):
        _order_with_link(client)
    (message,) = _employee_mails()
    assert message.subject.startswith("Upload your photo")
    assert "The link works until" in message.body


def test_ordering_with_the_files_still_needs_them(owner_client) -> None:
    response = _order_with_link(owner_client, files_from="now")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Last opp et bilde av den ansatte." in body
    assert OrderLine.objects.count() == 0


def test_a_line_past_the_wait_must_have_both_files() -> None:
    line = OrderLineFactory(state=OrderLine.State.AWAITING_FILES, photo="", id_document="")
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLine.objects.filter(pk=line.pk).update(state=OrderLine.State.SUBMITTED)
    OrderLine.objects.filter(pk=line.pk).update(photo="orders/photos/x.jpg")
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLine.objects.filter(pk=line.pk).update(state=OrderLine.State.SUBMITTED)


def test_the_order_confirmation_waits_for_the_employees_files(
    owner_client, client, mailed_token, django_capture_on_commit_callbacks
) -> None:
    # Placed with a link: nothing yet shows a card is coming, so no confirmation to show.
    assert [m for m in mail.outbox if "/u/" not in m.body] == []
    line = OrderLine.objects.get()
    order_page = owner_client.get(f"/orders/{EMPLOYER}/orders/{line.order_id}/").content.decode()
    assert "Venter på bilde og legitimasjon fra den ansatte" in order_page
    assert "confirmation.pdf" not in order_page
    pdf_url = f"/orders/{EMPLOYER}/orders/{line.order_id}/lines/{line.pk}/confirmation.pdf"
    assert owner_client.get(pdf_url).status_code == 404
    # Both files in: the register check, then the confirmation with its PDF, once.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/u/{mailed_token}/", {"photo": _photo(), "id_document": _id_document()})
    # The orderer is told the files are in, and checks the ID: then the confirmation.
    (files_in,) = [m for m in mail.outbox if "/u/" not in m.body]
    assert "kontrollere identiteten" in files_in.body
    assert owner_client.get(pdf_url).status_code == 404
    line.refresh_from_db()
    _orderer_checks_the_id(owner_client, line, django_capture_on_commit_callbacks)
    (confirmation,) = [m for m in mail.outbox if "/u/" not in m.body and m is not files_in]
    assert confirmation.to == ["kari@fjordbygg.example"]
    assert [name for name, _content, _type in confirmation.attachments] == [
        f"ordrebekreftelse-{line.order_id}-{line.pk}.pdf"
    ]
    assert owner_client.get(pdf_url).status_code == 200


def test_another_employer_cannot_see_or_confirm_the_employees_id(
    client, mailed_token, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/u/{mailed_token}/", {"photo": _photo(), "id_document": _id_document()})
    line = OrderLine.objects.get()
    stranger = UserFactory(username="per", national_id=valid_national_id(datetime.date(1977, 5, 5)))
    client.force_login(stranger)
    base = f"/orders/{EMPLOYER}/orders/{line.order_id}/lines/{line.pk}"
    assert client.get(f"{base}/document/id-document/").status_code == 404
    assert (
        client.post(f"{base}/identity/", {f"id{line.pk}-identity_checked": "on"}).status_code == 404
    )
    line.refresh_from_db()
    assert line.state == OrderLine.State.AWAITING_ID_CHECK


def test_with_a_link_the_order_form_needs_no_identity_check_yet(owner_client) -> None:
    response = _order_with_link(owner_client, identity_checked="")
    assert response.status_code == 302
    assert OrderLine.objects.get().state == OrderLine.State.AWAITING_FILES
