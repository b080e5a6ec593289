"""One employer's portal with something on every page, built the way people build it: the
employer orders through the order form and the bulk upload, gives a delegate access, the card
office prints and ships, and a cardholder logs in. Fixed names and numbers, so that the
accessibility checks see the same pages every run and the screenshots stay comparable.

Used by the browser tests (tests/test_accessibility.py, tests/test_journeys.py): the Django
test client does the set-up in-process while the browser looks at the live server.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from dataclasses import dataclass

from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from cards.models import Card, CardType, PrintBatch
from hmsportal.models import User
from orders.confirmations import confirmation_url
from orders.models import BulkUpload, Order
from registry.datasets import registry_dataset_load
from registry.identifiers import national_id_with_check_digits
from tests.cards.factories import CardFactory, ProducerFactory, photo_jpeg
from tests.datasets import EMPLOYER, SUB_UNIT, WORKER, ensure_card_catalogue, small_dataset
from tests.hmsportal.factories import UserFactory

DELEGATE = "03028510070"
STAFF_USERNAME = "kortkontoret"


def _national_id(first_six: str) -> str:
    for serial in range(100, 999):
        number = national_id_with_check_digits(f"{first_six}{serial}")
        if number:
            return number
    raise AssertionError(first_six)


# Employees besides Ola Snekker (tests/datasets.py): (number, first name, last name, unit).
EMPLOYEES = [
    (_national_id("020280"), "Per", "Murer", EMPLOYER),
    (_national_id("030385"), "Siri", "Maler", SUB_UNIT),
    (_national_id("111171"), "Ærlig", "Østgård-Ålvik", SUB_UNIT),
    (_national_id("050790"), "Kristoffer Alexander", "Snekker-Haugen-Johannessen", SUB_UNIT),
    (_national_id("121288"), "Nina", "Flis", EMPLOYER),
    # No card and no order: the one the browser tests order for.
    (_national_id("131189"), "Jon", "Tømrer", SUB_UNIT),
]
UNORDERED = EMPLOYEES[-1][0]
# Has held a card for almost two years; it runs out within the renewal window.
LONGSTANDING = (_national_id("140370"), "Eldre", "Kortholder", EMPLOYER)


def portal_dataset() -> dict:
    """The small dataset with a delegate and four more employees."""
    dataset = small_dataset()
    start = dataset["employments"][0]["start"]
    people = [(DELEGATE, "Per", "Delegat", None), *EMPLOYEES, LONGSTANDING]
    for number, first, last, unit in people:
        dataset["persons"].append(
            {
                "id": number,
                "first_name": first,
                "last_name": last,
                "birth_date": None,
                "d_number_active": True,
                "permit_until": None,
            }
        )
        if unit:
            dataset["employments"].append(
                {"orgnr": unit, "person": number, "start": start, "end": None, "hired_out": False}
            )
    return dataset


def _zip(rows: list[tuple[str, str]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        lines = ["national_id,card_type", *(f"{number},{code}" for number, code in rows)]
        archive.writestr("orders.csv", "\n".join(lines) + "\n")
        for number, _code in rows:
            archive.writestr(f"{number}.jpg", photo_jpeg())
            archive.writestr(f"{number}-id.pdf", b"%PDF-1.4\n%scan\n")
    return buffer.getvalue()


@dataclass
class PortalWorld:
    """What the pages are about: the people, and the ids and numbers in their addresses."""

    owner: User
    delegate: User
    cardholder: User
    staff: User
    order: Order
    bulk_upload: BulkUpload
    holder_card: Card
    upload_link: str
    confirmation_url: str
    employer_orgnr: str = EMPLOYER


def _problem(response) -> str:
    """The error summary of a page that should have redirected, for the assertion message."""
    page = response.content.decode()
    start = page.find('class="error-summary"')
    return page[start : start + 1500] if start >= 0 else page[:1500]


def card_order_form(*, employee: str, unit: str) -> dict[str, object]:
    """The order form filled in with the employee's photo and ID (sent without a check page)."""
    return {
        "employee": f"{employee}:{unit}",
        "card_type": CardType.objects.get(code="construction").pk,
        "photo": SimpleUploadedFile("photo.jpg", photo_jpeg(), content_type="image/jpeg"),
        "id_document": SimpleUploadedFile(
            "pass.pdf", b"%PDF-1.4\n%scan\n", content_type="application/pdf"
        ),
        "identity_checked": "on",
    }


def portal_world_build(*, delegate_access: bool = True) -> PortalWorld:
    """Kari Nordmann's Fjordbygg AS after some weeks of use; see the module's docstring.
    Without `delegate_access`, Per Delegat has yet to be given access."""
    ensure_card_catalogue()
    registry_dataset_load(dataset=portal_dataset())
    ProducerFactory(
        name="Evry Card Services AS", effective_from=timezone.now() - datetime.timedelta(days=1)
    )
    owner = UserFactory()
    delegate = UserFactory(
        username="per", national_id=DELEGATE, full_name="Per Delegat", email="per@example.no"
    )
    cardholder = UserFactory(
        username="ola", national_id=WORKER, full_name="Ola Snekker", email="ola@example.no"
    )
    staff = User.objects.create_user(
        username=STAFF_USERNAME, full_name="Kortkontoret", is_staff=True
    )
    employer = Client()
    employer.force_login(owner)

    # Ola's card: ordered through the form, printed and shipped by the card office.
    response = employer.post(
        f"/orders/{EMPLOYER}/new/", card_order_form(employee=WORKER, unit=SUB_UNIT)
    )
    assert response.status_code == 302, _problem(response)
    order = Order.objects.get()
    office = Client()
    office.force_login(staff)
    holder_card = Card.objects.get(holder_national_id=WORKER)
    made = office.post(
        "/backoffice/print-queue/", {"selection": "selected", "cards": [holder_card.pk]}
    )
    assert made.status_code == 302, _problem(made)
    batch = PrintBatch.objects.get()
    office.post(f"/backoffice/batches/{batch.pk}/ship/", {"tracking_reference": "70701234567"})
    holder_card.refresh_from_db()
    assert holder_card.state == Card.State.SHIPPED, holder_card.state

    # Two more through the form (they wait in the print queue), and three by bulk upload.
    per, siri, aerlig, kristoffer, nina, _jon = (number for number, *_ in EMPLOYEES)
    employer.post(f"/orders/{EMPLOYER}/new/", card_order_form(employee=per, unit=EMPLOYER))
    employer.post(f"/orders/{EMPLOYER}/new/", card_order_form(employee=siri, unit=SUB_UNIT))
    employer.post(
        f"/orders/{EMPLOYER}/bulk/",
        {
            "archive": SimpleUploadedFile(
                "orders.zip",
                _zip([(aerlig, "construction"), (kristoffer, "construction"), (per, "cleaning")]),
                content_type="application/zip",
            )
        },
    )
    bulk_upload = BulkUpload.objects.get()
    # Nina is to send her own photo and ID: the employer has her mailed a link.
    mail.outbox.clear()
    employer.post(
        f"/orders/{EMPLOYER}/new/",
        {
            **card_order_form(employee=nina, unit=EMPLOYER),
            "files_from": "employee",
            "employee_email": "nina@example.no",
            "photo": "",
            "id_document": "",
        },
    )
    (upload_link,) = re.findall(r"http://\S+/u/\S+/", "".join(m.body for m in mail.outbox))

    # Two older cards: one that runs out within the renewal window, one the registers stopped.
    today = timezone.localdate()
    CardFactory(
        with_photo=True,
        holder_national_id=LONGSTANDING[0],
        holder_first_name="Eldre",
        holder_last_name="Kortholder",
        employer_orgnr=EMPLOYER,
        workplace_orgnr=EMPLOYER,
        employer_name="Fjordbygg AS",
        state=Card.State.ACTIVE,
        issued_on=today - datetime.timedelta(days=700),
        valid_until=today + datetime.timedelta(days=30),
    )
    CardFactory(
        holder_first_name="Stoppa",
        holder_last_name="Registersjekk",
        employer_orgnr=EMPLOYER,
        workplace_orgnr=SUB_UNIT,
        employer_name="Fjordbygg AS",
        state=Card.State.INVALID,
        reason_codes=["employment_ended", "person_id_inactive"],
    )

    # Per Delegat may order for Fjordbygg AS.
    if delegate_access:
        employer.post(
            f"/orders/{EMPLOYER}/access/",
            {
                "national_id": DELEGATE,
                "name": "Per Delegat",
                "email": "per@example.no",
                "valid_from": timezone.localdate().isoformat(),
            },
        )
    mail.outbox.clear()
    return PortalWorld(
        owner=owner,
        delegate=delegate,
        cardholder=cardholder,
        staff=staff,
        order=order,
        bulk_upload=bulk_upload,
        holder_card=holder_card,
        upload_link=upload_link,
        confirmation_url=confirmation_url(holder_card.order_line),
    )
