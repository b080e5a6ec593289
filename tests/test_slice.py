"""The thin slice, end to end: a demo employer logs in, orders one construction card for an
employee in the registry, uploads a photo; the register check issues the card, its PDF is
rendered with a QR code, and the public status page shows the card as valid when its number
is typed in or its QR code is followed.

Run once on the embedded default (eager Celery in-process) and once with a real Celery
worker process on PostgreSQL and Redis.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pypdfium2
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from pyzbar.pyzbar import decode

from cards.models import Card
from hmsportal.celery import app as celery_app
from orders.models import OrderLine
from registry.datasets import registry_dataset_load
from tests.datasets import EMPLOYER, OWNER, SUB_UNIT, WORKER, ensure_card_catalogue, jpeg
from tests.datasets import small_dataset as _dataset
from tests.hmsportal.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent


def _order_one_card(client) -> None:
    # Ordering needs a confirmed e-mail address (tests/hmsportal/test_contact_details.py
    # follows the link); the dev login finds this person by fødselsnummer.
    UserFactory(username=f"id-{OWNER}")
    response = client.get("/login/dev/")
    assert response.status_code == 200
    assert "Kari Nordmann" in response.content.decode()
    response = client.post("/login/dev/", {"national_id": OWNER})
    assert response.status_code == 302

    response = client.get("/orders/")
    assert "Fjordbygg AS" in response.content.decode()
    response = client.get(f"/orders/{EMPLOYER}/new/")
    assert response.status_code == 200
    assert "Ola Snekker" in response.content.decode()

    from cards.models import CardType

    construction = CardType.objects.get(code="construction")
    response = client.post(
        f"/orders/{EMPLOYER}/new/",
        {
            "employee": f"{WORKER}:{SUB_UNIT}",
            "card_type": construction.pk,
            "photo": SimpleUploadedFile("ola.jpg", jpeg(), content_type="image/jpeg"),
            "id_document": SimpleUploadedFile(
                "pass.pdf", b"%PDF-1.4\n% scanned passport\n", content_type="application/pdf"
            ),
            "identity_checked": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]


def _qr_url_from_pdf(pdf: bytes) -> str:
    document = pypdfium2.PdfDocument(pdf)
    found: list[str] = []
    for page in document:
        image = page.render(scale=600 / 72).to_pil()
        found += [symbol.data.decode() for symbol in decode(image)]
    assert len(found) == 1, found
    return found[0]


def _assert_card_issued_and_checkable(client) -> None:
    line = OrderLine.objects.get(national_id=WORKER)
    assert line.state == OrderLine.State.APPROVED, line.reason_codes
    card = line.card
    assert card is not None
    assert card.state == Card.State.APPROVED
    assert card.employer_orgnr == EMPLOYER
    assert card.workplace_orgnr == SUB_UNIT
    assert card.holder_name == "Ola Snekker"
    assert card.pdf.name
    pdf = card.pdf.storage.read_bytes(card.pdf.name)
    assert pdf.startswith(b"%PDF")

    # The QR code printed on the card leads to the card's status page.
    url = _qr_url_from_pdf(pdf)
    assert url == f"{settings.PORTAL_BASE_URL}/status/{card.number}/"
    page = client.get(urlsplit(url).path)
    assert page.status_code == 200
    assert "Ola Snekker" in page.content.decode()
    assert card.status_on(timezone.localdate()) == "valid"

    # Typing the number in the status form gives the same answer.
    typed = client.get("/status/", {"card": card.number})
    assert typed.status_code == 200
    body = typed.content.decode()
    assert "Ola Snekker" in body and "Fjordbygg AS" in body
    assert WORKER not in body

    api = client.get(f"/api/v1/cards/{card.number}")
    assert api.json()["status"] == "valid"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_slice_embedded_default(client, settings) -> None:
    """Eager Celery in-process: the embedded default's way of running tasks."""
    settings.DEV_LOGIN_ENABLED = True
    ensure_card_catalogue()
    registry_dataset_load(dataset=_dataset())
    _order_one_card(client)
    _assert_card_issued_and_checkable(client)


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_slice_with_real_celery_worker(client, settings, postgres_required, redis_url) -> None:
    """A real `celery worker` process on Redis checks the registers and renders the PDF."""
    settings.DEV_LOGIN_ENABLED = True
    ensure_card_catalogue()
    registry_dataset_load(dataset=_dataset())
    database = settings.DATABASES["default"]
    queue = f"slice-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{database['USER']}:{database.get('PASSWORD') or ''}@"
            f"{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"
        ),
        "CELERY_BROKER_URL": redis_url,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "REDIS_URL": redis_url,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PORTAL_BASE_URL": settings.PORTAL_BASE_URL,
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "hmsportal",
            "worker",
            "--pool",
            "solo",
            "-Q",
            queue,
            "--hostname",
            f"{queue}@%h",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    previous = (celery_app.conf.broker_url, celery_app.conf.task_default_queue)
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = redis_url
    celery_app.conf.task_default_queue = queue
    try:
        _order_one_card(client)
        # Wait (bounded) for the worker: the card issued and its PDF rendered.
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = OrderLine.objects.select_related("card").get(national_id=WORKER)
            if line.card is not None and line.card.pdf:
                break
            assert worker.poll() is None, "the Celery worker died"
            time.sleep(0.25)
        else:
            pytest.fail("the worker did not issue and render the card within 90 s")
        _assert_card_issued_and_checkable(client)
    finally:
        celery_app.conf.broker_url, celery_app.conf.task_default_queue = previous
        celery_app.pool.force_close_all()
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
        print(output[-5000:])
