"""Shared test set-up.

Tests run on whatever database the environment names (SQLite by default, PostgreSQL in CI).
Tests marked `services` need PostgreSQL, Redis or a Celery worker: without them they skip,
and under REQUIRE_SERVICES=1 they fail instead, so CI cannot go green by skipping them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import translation

from hmsportal import ratelimit
from hmsportal.celery import app as celery_app

if TYPE_CHECKING:
    from tests.hmsportal.idporten_provider import LocalIdPorten

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
# The audit trail refuses TRUNCATE (hmsportal migration 0007); the flush between transactional
# tests steps around that trigger, and only for itself (see _flush_around_the_audit_trigger).
AUDIT_TABLE = "hmsportal_auditentry"
AUDIT_TRUNCATE_TRIGGER = "hmsportal_auditentry_no_truncate"
RATE_LIMIT_WINDOW_START = 1_800_000_000.0  # a multiple of 60: the start of a rate-limit window
# Playwright's sync API (the browser tests) keeps an event loop running in the test thread for
# the rest of the session; the ORM calls tests make are plain synchronous ones all the same.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


def services_missing(reason: str) -> None:
    """Skip, or fail under REQUIRE_SERVICES=1, when a needed service is not there."""
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in bokmål: a request in English leaves its language active in the
    thread, and a later test's messages would otherwise depend on the order tests run in."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _eager_celery_and_private_media(tmp_path, settings) -> Iterator[None]:
    """Tasks run in-process unless a test starts a real worker; files go to a temp folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    if settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        # Parallel test processes share one Redis: a key prefix of its own per test keeps
        # rate-limit counters and cached register answers from leaking between them.
        settings.CACHES = {
            "default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
        }
    else:
        cache.clear()
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(scope="session", autouse=True)
def _flush_around_the_audit_trigger() -> Iterator[None]:
    """Let the test database's flush (transactional_db, live_server: TransactionTestCase's
    teardown runs `manage.py flush`) empty the audit trail, which refuses TRUNCATE.

    The flush command hands its TRUNCATE to DatabaseOperations.execute_sql_flush, which runs
    the statements in one transaction: the trigger is disabled and enabled again inside it, so
    no other session ever sees it off, and a failed flush rolls the disabling back too. Only
    the table's owner (the tests connect as the owner) may do this, and only this test process
    is patched: the application itself has no way around the trigger."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        yield
        return
    from django.db.backends.postgresql.operations import DatabaseOperations

    execute_sql_flush = DatabaseOperations.execute_sql_flush

    def flush_around_the_audit_trigger(self: DatabaseOperations, sql_list: list[str]) -> None:
        if any(AUDIT_TABLE in sql for sql in sql_list):
            sql_list = [
                f"ALTER TABLE {AUDIT_TABLE} DISABLE TRIGGER {AUDIT_TRUNCATE_TRIGGER}",
                *sql_list,
                f"ALTER TABLE {AUDIT_TABLE} ENABLE TRIGGER {AUDIT_TRUNCATE_TRIGGER}",
            ]
        execute_sql_flush(self, sql_list)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "execute_sql_flush", flush_around_the_audit_trigger)
        yield


@pytest.fixture
def postgres_required() -> None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        services_missing("this test needs PostgreSQL (set DATABASE_URL=postgres://…)")


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL") or os.environ.get("CELERY_BROKER_URL")
    if not url:
        services_missing("this test needs Redis (set REDIS_URL=redis://…)")
        raise AssertionError("unreachable")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        services_missing(f"Redis at {url} does not answer: {error}")
    return url


@pytest.fixture
def own_redis(postgres_required) -> Iterator[object]:
    """A Redis of the test's own on a free port, which the test may stop and start again
    (tests/real_services.py); its workers share the test's PostgreSQL database."""
    import shutil

    from tests.real_services import RedisServer

    if not shutil.which("redis-server"):
        services_missing("this test needs the redis-server program (apt-get install redis-server)")
    server = RedisServer()
    server.start()
    yield server
    server.stop()


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's chromium, never a browser downloaded by a test tool."""
    if not os.path.exists(CHROMIUM):
        services_missing(
            f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)"
        )
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """A Norwegian browser, as most of the portal's users have."""
    return {**browser_context_args, "locale": "nb-NO"}


@pytest.fixture
def idporten(settings) -> Iterator[LocalIdPorten]:
    """A local ID-porten the portal is configured for; it logs Kari Nordmann (OWNER) in."""
    from registry.datasets import registry_dataset_load
    from tests.datasets import OWNER, small_dataset
    from tests.hmsportal.idporten_provider import CLIENT_ID, CLIENT_SECRET, LocalIdPorten
    from tests.registry.servers import FakeRegister

    server = FakeRegister()
    provider = LocalIdPorten(server, pid=OWNER)
    settings.IDPORTEN_ISSUER = provider.issuer
    settings.IDPORTEN_CLIENT_ID = CLIENT_ID
    settings.IDPORTEN_CLIENT_SECRET = CLIENT_SECRET
    settings.IDPORTEN_ACR_VALUES = "idporten-loa-substantial"
    registry_dataset_load(dataset=small_dataset())
    yield provider
    server.stop()


@pytest.fixture
def pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten seconds into a rate-limit window, so a test's requests cannot straddle two."""
    monkeypatch.setattr(ratelimit, "_now", lambda: RATE_LIMIT_WINDOW_START + 10)
