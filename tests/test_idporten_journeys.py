"""An employer, a delegate and a cardholder each log in through an OpenID provider, use the
portal and log out, with the portal in a process of its own configured only by environment
variables (IDPORTEN_ISSUER, IDPORTEN_CLIENT_ID, IDPORTEN_CLIENT_SECRET).

The provider is the local one of tests/hmsportal/idporten_provider.py; the "browser" is a
requests session that follows every redirect between the two, as a browser would.
"""

from __future__ import annotations

import datetime
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.utils import timezone

from cards.models import Card
from orders.models import Delegation
from registry.datasets import registry_dataset_load
from tests.cards.factories import CardFactory
from tests.datasets import EMPLOYER, OWNER, SUB_UNIT, WORKER, ensure_card_catalogue, small_dataset
from tests.hmsportal.factories import UserFactory
from tests.hmsportal.idporten_provider import CLIENT_ID, CLIENT_SECRET, LocalIdPorten
from tests.registry.servers import FakeRegister

ROOT = Path(__file__).resolve().parent.parent
DELEGATE = "03028510070"

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def provider() -> Iterator[LocalIdPorten]:
    server = FakeRegister()
    yield LocalIdPorten(server)
    server.stop()


@pytest.fixture
def portal(settings, postgres_required, provider, tmp_path) -> Iterator[str]:
    """The portal served by `manage.py runserver` in its own process, on the test database."""
    database = settings.DATABASES["default"]
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("IDPORTEN_", "DEV_LOGIN", "REDIS_URL", "CELERY_"))
    }
    env.update(
        {
            "DATABASE_URL": (
                f"postgres://{database['USER']}:{database.get('PASSWORD') or ''}@"
                f"{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"
            ),
            "DEV_LOGIN_ENABLED": "0",
            "MEDIA_ROOT": str(tmp_path / "media"),
            "IDPORTEN_ISSUER": provider.issuer,
            "IDPORTEN_CLIENT_ID": CLIENT_ID,
            "IDPORTEN_CLIENT_SECRET": CLIENT_SECRET,
        }
    )
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            try:
                requests.get(f"{base}/healthz/", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        else:
            pytest.fail("the portal did not start within 60 s")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture
def people() -> None:
    """Kari (daglig leder), Per (given access by Kari) and Ola (holds a card)."""
    ensure_card_catalogue()
    dataset = small_dataset()
    dataset["persons"].append(
        {
            "id": DELEGATE,
            "first_name": "Per",
            "last_name": "Delegat",
            "birth_date": None,
            "d_number_active": True,
            "permit_until": None,
        }
    )
    registry_dataset_load(dataset=dataset)
    kari = UserFactory(national_id=OWNER)
    UserFactory(username="per", national_id=DELEGATE, full_name="Per Delegat")
    UserFactory(username="ola", national_id=WORKER, full_name="Ola Snekker")
    Delegation.objects.create(
        employer_orgnr=EMPLOYER,
        grantee_national_id=DELEGATE,
        grantee_name="Per Delegat",
        granted_by=kari,
        valid_from=timezone.localdate() - datetime.timedelta(days=1),
    )
    CardFactory(
        holder_national_id=WORKER,
        holder_first_name="Ola",
        holder_last_name="Snekker",
        employer_orgnr=EMPLOYER,
        workplace_orgnr=SUB_UNIT,
        employer_name="Fjordbygg AS",
        state=Card.State.ACTIVE,
    )


def log_in(portal: str, provider: LocalIdPorten, pid: str) -> tuple[requests.Session, str]:
    provider.pid = pid
    browser = requests.Session()
    landing = browser.get(f"{portal}/login/", timeout=10)
    assert "Logg inn med ID-porten" in landing.text
    page = browser.get(f"{portal}/login/idporten/", timeout=10)
    assert page.status_code == 200, page.text[:500]
    return browser, page.url


def log_out(portal: str, provider: LocalIdPorten, browser: requests.Session, page: str) -> None:
    html = browser.get(page, timeout=10).text
    (token,) = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html))
    leaving = browser.post(
        f"{portal}/logout/",
        data={"csrfmiddlewaretoken": token},
        headers={"Referer": page},
        timeout=10,
    )
    # The page POSTs the ID token to ID-porten (a script does it in a browser).
    (action,) = re.findall(r'<form method="post" action="([^"]+)"', leaving.text)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', leaving.text))
    done = browser.post(action, data=fields, timeout=10)
    assert done.url == f"{portal}/logout/done/"
    assert "Du er logget ut av HMS-kortportalen og av ID-porten." in done.text
    assert provider.end_sessions[-1]["id_token_hint"] == provider.id_tokens[-1]
    again = browser.get(f"{portal}/orders/", timeout=10)
    assert again.url.startswith(f"{portal}/login/")


def test_an_employer_logs_in_orders_page_and_out(portal, provider, people) -> None:
    browser, landed = log_in(portal, provider, OWNER)
    assert landed == f"{portal}/orders/"
    employer = browser.get(f"{portal}/orders/{EMPLOYER}/", timeout=10)
    assert employer.status_code == 200 and "Fjordbygg AS" in employer.text
    assert "Ola Snekker" in employer.text
    log_out(portal, provider, browser, employer.url)


def test_a_delegate_logs_in_sees_the_cards_and_logs_out(portal, provider, people) -> None:
    browser, landed = log_in(portal, provider, DELEGATE)
    assert landed == f"{portal}/orders/"
    cards = browser.get(f"{portal}/orders/{EMPLOYER}/cards/", timeout=10)
    assert cards.status_code == 200 and "Ola Snekker" in cards.text
    log_out(portal, provider, browser, cards.url)


def test_a_cardholder_logs_in_sees_only_their_card_and_logs_out(portal, provider, people) -> None:
    browser, landed = log_in(portal, provider, WORKER)
    assert landed == f"{portal}/my-cards/"
    page = browser.get(landed, timeout=10)
    card = Card.objects.get(holder_national_id=WORKER)
    assert "Fjordbygg AS" in page.text and card.number[:4] in page.text
    assert browser.get(f"{portal}/orders/{EMPLOYER}/", timeout=10).status_code == 404
    log_out(portal, provider, browser, page.url)
