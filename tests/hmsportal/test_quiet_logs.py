"""Quiet logs (issue 11, point 8): an expected 403 or 404 is one line, not a traceback
twice; the embedded setup logs no broker warnings; a line about a person names them by an
internal id, never by identity number."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.core.management import call_command

from cards.models import Card
from hmsportal.log_filters import IdentityNumbersMasked
from registry.datasets import registry_dataset_load
from tests.datasets import OWNER, WORKER, ensure_card_catalogue, small_dataset

ROOT = Path(__file__).resolve().parents[2]

EMBEDDED_SCRIPT = textwrap.dedent(
    """
    import os, sys
    os.environ["DJANGO_SETTINGS_MODULE"] = "hmsportal.settings"
    import django
    django.setup()
    from django.core.management import call_command
    call_command("migrate", verbosity=0)
    print("--- migrated", file=sys.stderr, flush=True)
    from cards.tasks import recheck_all_cards
    from orders.tasks import purge_upload_stash, recheck_awaiting_order_lines
    for task in (recheck_all_cards, recheck_awaiting_order_lines, purge_upload_stash):
        task.delay().get()
    from django.test import Client
    from hmsportal.models import User
    client = Client(HTTP_HOST="127.0.0.1")
    for path in ("/", "/status/"):
        assert client.get(path).status_code == 200, path
    assert client.get("/no-such-page/").status_code == 404
    client.force_login(User.objects.create(username="not-staff"))
    assert client.get("/backoffice/audit/").status_code == 403
    """
)


def _embedded_env(tmp_path: Path) -> dict[str, str]:
    unset = {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"}
    env = {key: value for key, value in os.environ.items() if key not in unset}
    # Warnings that Python would show once per place are shown (kombu warns that way).
    return {**env, "HMSPORTAL_VAR_DIR": str(tmp_path), "PYTHONWARNINGS": "default"}


def test_the_embedded_setup_logs_no_broker_warning_and_one_line_per_client_error(
    tmp_path,
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", EMBEDDED_SCRIPT],
        cwd=ROOT,
        env=_embedded_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    log = result.stderr.split("--- migrated", 1)[1]
    for noise in ("kombu", "broker", "amqp", "Traceback", "Warning:"):
        assert noise not in log, log
    # Each expected client error is one line, written once.
    assert [line for line in log.splitlines() if "/no-such-page/" in line] == [
        line for line in log.splitlines() if line.endswith("WARNING django.request Not Found: /no-such-page/")
    ]  # fmt: skip
    assert len([line for line in log.splitlines() if "/no-such-page/" in line]) == 1, log
    forbidden = [line for line in log.splitlines() if "/backoffice/audit/" in line]
    assert len(forbidden) == 1, log
    assert forbidden[0].endswith(
        "WARNING django.request Forbidden (Permission denied): /backoffice/audit/"
    )


# --- No identity numbers in log records ------------------------------------------------


@pytest.fixture
def records(caplog, monkeypatch):
    """Every log record at DEBUG, as the code wrote it: the console handler's mask (a safety
    net for third-party lines) is taken off, so the code's own lines are what is tested."""
    for handler in logging.getLogger().handlers:
        kept = [f for f in handler.filters if not isinstance(f, IdentityNumbersMasked)]
        monkeypatch.setattr(handler, "filters", kept)
    caplog.set_level(logging.DEBUG)
    return caplog


def _written(record: logging.LogRecord) -> str:
    text = [record.getMessage(), repr(record.args)]
    if record.exc_info:
        text.append(logging.Formatter().formatException(record.exc_info))
    standard = set(vars(logging.makeLogRecord({})))
    text += [repr(value) for key, value in vars(record).items() if key not in standard]
    return "\n".join(text)


def assert_no_identity_number(caplog, *numbers: str) -> None:
    assert caplog.records, "the flow logged nothing: the check would prove nothing"
    for record in caplog.records:
        written = _written(record)
        for number in numbers:
            assert number not in written, f"{record.name}: {written[:500]}"


@pytest.mark.django_db
def test_login_order_and_recheck_log_no_identity_number(
    client, settings, records, django_capture_on_commit_callbacks
) -> None:
    from tests.test_slice import _order_one_card

    settings.DEV_LOGIN_ENABLED = True
    ensure_card_catalogue()
    registry_dataset_load(dataset=small_dataset())
    with django_capture_on_commit_callbacks(execute=True):
        _order_one_card(client)
    card = Card.objects.get(holder_national_id=WORKER)
    # A register outage, a revocation, the nightly re-check and the pages that follow.
    with django_capture_on_commit_callbacks(execute=True):
        call_command("recheck_cards")
    client.get(f"/status/{card.number}/")
    client.get("/no-such-page/")
    client.get("/backoffice/audit/")
    assert_no_identity_number(records, OWNER, WORKER)


@pytest.mark.django_db
def test_a_bulk_order_logs_no_identity_number(
    client, records, django_capture_on_commit_callbacks
) -> None:
    from tests.hmsportal.factories import UserFactory
    from tests.orders import test_bulk

    ensure_card_catalogue()
    registry_dataset_load(dataset=test_bulk._dataset())
    client.force_login(UserFactory())
    csv_text = (
        "national_id,card_type\n"
        f"{WORKER},construction\n{test_bulk.SECOND},construction\n"
        f"{test_bulk.NOBODY},construction\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = test_bulk._upload(
            client, test_bulk._zip(csv_text, test_bulk._files(WORKER, test_bulk.SECOND))
        )
    assert response.status_code == 302
    upload_url = response["Location"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(upload_url + "order/")
    logging.getLogger("orders.bulk").info("bulk flow done")  # at least one record
    assert_no_identity_number(records, OWNER, WORKER, test_bulk.SECOND, test_bulk.NOBODY)


def test_the_console_masks_an_identity_number_that_slips_through() -> None:
    record = logging.makeLogRecord(
        {"msg": "Folkeregisteret: HTTP 404: person %s not found", "args": (WORKER,)}
    )
    IdentityNumbersMasked().filter(record)
    assert record.getMessage() == "Folkeregisteret: HTTP 404: person *********38 not found"


@pytest.mark.django_db
def test_an_idporten_login_and_a_refused_one_log_no_identity_number(
    client, idporten, records
) -> None:
    """The real OpenID Connect round trip (a local ID-porten): the ID token's pid is the
    identity number, and neither the login nor a refusal may write it."""
    from tests.hmsportal.test_idporten import log_in, logged_in_user

    assert log_in(client).status_code == 302
    assert logged_in_user(client) is not None
    client.logout()
    idporten.cancel = True
    assert log_in(client).status_code == 403
    assert any(record.name == "hmsportal.views.login" for record in records.records)
    assert_no_identity_number(records, OWNER)
