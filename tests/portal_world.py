"""Organisation A's objects and the visitors who try them, made once per test module.

Shared by the authorization matrix and the hostile-input tests (issue 11, point 2). The data
are made in one transaction that is rolled back when the module is done; each test runs in a
savepoint of its own (pytest-django's `db`), so what one test stores cannot leak into another.
A test module takes the fixtures with `from tests.portal_world import module_media_fixture,
world_fixture`; its tests ask for `world`.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY

from cards.models import Card, PrintBatch
from cards.status_views import photo_token
from hmsportal.contact import email_confirmation_token
from hmsportal.models import AuditEntry, User
from hmsportal.services import staff_totp_device_create
from orders import employee_upload, stash
from orders.billing import invoice_create
from orders.confirmations import confirmation_token
from orders.models import BulkUpload, Delegation, EmployeeUploadLink, Order, OrderLine, UploadStash
from registry.datasets import registry_dataset_load
from tests.cards.factories import CardFactory, ProducerFactory
from tests.datasets import EMPLOYER, SUB_UNIT, WORKER, ensure_card_catalogue, jpeg
from tests.datasets import small_dataset as base_dataset
from tests.hmsportal.factories import UserFactory
from tests.orders.factories import OrderFactory, OrderLineFactory

DELEGATE = "01017512419"
OTHER_EMPLOYEE = "02028010128"
OWNER_B = "02028010047"
EMPLOYER_B = "920000002"  # a valid organisation number not in the small dataset

ANONYMOUS = "anonymous"
KEY_A = "key_role_a"
DELEGATE_A = "delegate_a"
CARDHOLDER = "cardholder"
KEY_B = "key_role_b"
STAFF = "staff"
ROLES = (ANONYMOUS, KEY_A, DELEGATE_A, CARDHOLDER, KEY_B, STAFF)


def _dataset() -> dict[str, Any]:
    dataset = copy.deepcopy(base_dataset())
    for person, first in [(DELEGATE, "Per"), (OWNER_B, "Bodil"), (OTHER_EMPLOYEE, "Tone")]:
        dataset["persons"].append(
            {
                "id": person,
                "first_name": first,
                "last_name": "Berg",
                "birth_date": None,
                "d_number_active": True,
                "permit_until": None,
            }
        )
    other = copy.deepcopy(dataset["organisations"][0])
    other.update(orgnr=EMPLOYER_B, name="Annenbygg AS", roles=[{"person": OWNER_B, "role": "DAGL"}])
    dataset["organisations"].append(other)
    return dataset


@dataclass
class World:
    """Organisation A's objects and the visitors, made once for the module."""

    users: dict[str, User]
    objects: dict[str, Any]
    media_root: Path
    staff_device_id: str


@pytest.fixture(scope="module", name="world")
def world_fixture(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[World]:
    media_root = tmp_path_factory.mktemp("matrix-media")
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=media_root),
        transaction.atomic(),
    ):
        yield _world(media_root)
        transaction.set_rollback(True)


def _world(media_root: Path) -> World:
    ensure_card_catalogue()
    registry_dataset_load(dataset=_dataset())
    # Kari, daglig leder of A, with a new address waiting for the mailed link's confirmation.
    key_a = UserFactory(pending_email="kari.ny@fjordbygg.example")
    users = {
        KEY_A: key_a,
        DELEGATE_A: UserFactory(username="per", national_id=DELEGATE, full_name="Per Berg"),
        CARDHOLDER: UserFactory(username="ola", national_id=WORKER, full_name="Ola Snekker"),
        KEY_B: UserFactory(username="bodil", national_id=OWNER_B, full_name="Bodil Berg"),
        STAFF: UserFactory(username="office", national_id="", full_name="", is_staff=True),
    }
    device = staff_totp_device_create(user=users[STAFF])
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    today = timezone.localdate()
    grant = Delegation.objects.create(
        employer_orgnr=EMPLOYER,
        grantee_national_id=DELEGATE,
        grantee_name="Per Berg",
        grantee_email="per@fjordbygg.example",
        granted_by=key_a,
        valid_from=today - datetime.timedelta(days=10),
    )
    flagged = Delegation.objects.create(
        employer_orgnr=EMPLOYER,
        grantee_national_id=OTHER_EMPLOYEE,
        grantee_name="Tone Berg",
        granted_by=key_a,
        valid_from=today - datetime.timedelta(days=10),
        flagged_at=timezone.now(),
    )
    card = CardFactory(
        with_photo=True,
        holder_national_id=WORKER,
        holder_first_name="Ola",
        holder_last_name="Snekker",
        employer_orgnr=EMPLOYER,
        workplace_orgnr=SUB_UNIT,
        employer_name="Fjordbygg AS",
        state=Card.State.ACTIVE,
    )
    order = OrderFactory(ordered_by=key_a)
    line = OrderLineFactory(order=order)
    waiting = OrderLineFactory(
        order=order,
        national_id=OTHER_EMPLOYEE,
        first_name="Tone",
        last_name="Berg",
        state=OrderLine.State.AWAITING_FILES,
        photo="",
        id_document="",
    )
    issued = employee_upload.upload_link_issue(line=waiting, actor=key_a)
    upload = BulkUpload.objects.create(owner=key_a, employer_orgnr=EMPLOYER)
    batch = PrintBatch.objects.create(
        producer=ProducerFactory(), state=PrintBatch.State.READY, created_by=users[STAFF]
    )
    batch.cards.add(card)
    invoice_create(order=order)
    kept = stash.stash_put(
        owner=key_a, kind=UploadStash.Kind.PHOTO, content=jpeg(), name="photo.jpg"
    )
    objects = {
        "card": card,
        "order": order,
        "line": line,
        "grant": grant,
        "flagged": flagged,
        "upload": upload,
        "batch": batch,
        "kept": kept,
        "upload_token": issued.url.rstrip("/").rsplit("/", 1)[-1],
        "contact_token": email_confirmation_token(user=key_a, email=key_a.pending_email),
        "confirmation_token": confirmation_token(line),
        "photo_token": photo_token(card.number),
    }
    return World(
        users=users, objects=objects, media_root=media_root, staff_device_id=device.persistent_id
    )


@pytest.fixture(autouse=True, name="module_media")
def module_media_fixture(world: World, settings) -> None:
    """The module's files (photos, ID documents) stay where the module's rows say they are."""
    settings.MEDIA_ROOT = world.media_root


def client_as(world: World, role: str) -> Client:
    client = Client()
    if role != ANONYMOUS:
        client.force_login(world.users[role])
    if role == STAFF:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = world.staff_device_id
        session.save()
    return client


def snapshot(*, keeping_uploads: bool = False) -> dict[str, Any]:
    """What a refused request must not change.

    keeping_uploads: leave out the uploads an order form keeps for an hour when it comes back
    with errors (orders/stash.py), so that the person need not choose the photo again.
    """
    audit = AuditEntry.objects.all()
    if keeping_uploads:
        audit = audit.exclude(action=AuditEntry.Action.UPLOAD_KEPT)
    return {
        "audit": audit.count(),
        "orders": Order.objects.count(),
        "lines": list(OrderLine.objects.order_by("pk").values_list("pk", "state")),
        "cards": list(Card.objects.order_by("pk").values_list("pk", "state", "renewal_pending")),
        "delegations": list(
            Delegation.objects.order_by("pk").values_list("pk", "revoked_at", "flagged_at")
        ),
        "uploads": list(BulkUpload.objects.order_by("pk").values_list("pk", "state")),
        "links": EmployeeUploadLink.objects.count(),
        "stash": None if keeping_uploads else UploadStash.objects.count(),
        "batches": list(PrintBatch.objects.order_by("pk").values_list("pk", "state")),
        "users": list(
            User.objects.order_by("pk").values_list("pk", "email", "email_confirmed_at", "language")
        ),
    }
