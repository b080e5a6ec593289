"""Settings from the environment: production refuses to start without its secrets, passes
Django's deployment checks, and its static files (hashed by WhiteNoise) build."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "a-long-random-production-secret-for-the-settings-test-0123456789",
    "DOCUMENT_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "ALLOWED_HOSTS": "hms.example.no",
    "PORTAL_BASE_URL": "https://hms.example.no",
    "INVOICE_ACCOUNT_NUMBER": "9710.05.00004",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # The test session's own switches must not reach the production checks.
    ignored = {*PRODUCTION, "DEV_LOGIN_ENABLED", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in ignored}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "DOCUMENT_ENCRYPTION_KEY", "INVOICE_ACCOUNT_NUMBER"]
)
def test_production_without_a_secret_stops_and_names_it(missing) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = manage("check", **env)
    assert result.returncode != 0
    assert f"{missing} must be set when DEBUG is off" in result.stderr


@pytest.mark.parametrize("account", ["9710.05.00005", "1234", "abcdefghijk"])
def test_an_invoice_account_number_that_fails_its_check_stops_start_up(account) -> None:
    result = manage("check", **{**PRODUCTION, "INVOICE_ACCOUNT_NUMBER": account})
    assert result.returncode != 0
    assert "INVOICE_ACCOUNT_NUMBER is not a valid Norwegian bank account number" in result.stderr


def test_the_development_login_is_refused_in_production() -> None:
    result = manage("check", **PRODUCTION, DEV_LOGIN_ENABLED="1")
    assert result.returncode != 0
    assert "DEV_LOGIN_ENABLED is only allowed with DEBUG on" in result.stderr


def test_idporten_without_its_client_stops_and_says_what_is_missing() -> None:
    result = manage("check", **PRODUCTION, IDPORTEN_ISSUER="https://test.idporten.no")
    assert result.returncode != 0
    assert "IDPORTEN_CLIENT_ID and IDPORTEN_CLIENT_SECRET must be set" in result.stderr
    result = manage(
        "check",
        **PRODUCTION,
        IDPORTEN_ISSUER="https://test.idporten.no",
        IDPORTEN_CLIENT_ID="client",
        IDPORTEN_CLIENT_SECRET="secret",
        IDPORTEN_ACR_VALUES="Level3",
    )
    assert result.returncode != 0
    assert "IDPORTEN_ACR_VALUES must be" in result.stderr


def test_sessions_end_when_idle_and_when_the_browser_closes() -> None:
    expression = "s.SESSION_COOKIE_AGE, s.SESSION_SAVE_EVERY_REQUEST, s.SESSION_EXPIRE_AT_BROWSER_CLOSE, s.IDPORTEN_ACR_VALUES"
    assert _settings_print(expression, {**os.environ, **PRODUCTION}) == (
        "1800 True True idporten-loa-substantial"
    )
    assert _settings_print(
        "s.SESSION_COOKIE_AGE", {**os.environ, **PRODUCTION, "SESSION_IDLE_MINUTES": "10"}
    ) == ("600")


def test_production_settings_pass_the_deployment_checks() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_static_files_build(tmp_path) -> None:
    result = manage("collectstatic", "--noinput", **PRODUCTION, STATIC_ROOT=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "staticfiles.json").exists()


def test_with_no_environment_the_portal_runs_on_the_embedded_default() -> None:
    empty = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "EMAIL_URL", "DEBUG"}
    }
    shown = _settings_print(
        "s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_BROKER_URL,"
        " s.EMAIL_BACKEND, s.CACHES['default']['BACKEND'], s.REGISTRY_BACKEND,"
        " s.DEV_LOGIN_ENABLED",
        empty,
    )
    assert shown.split() == [
        "django.db.backends.sqlite3",
        "True",
        "memory://localhost/",
        "django.core.mail.backends.console.EmailBackend",
        "django.core.cache.backends.locmem.LocMemCache",
        "embedded",
        "True",
    ]


def _settings_print(expression: str, env: dict[str, str]) -> str:
    """What `print(<expression>)` shows with settings loaded from this environment (s = settings)."""
    script = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='hmsportal.settings'; django.setup();"
        f"from django.conf import settings as s; print({expression})"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_postgresql_prepares_repeated_statements_unless_told_not_to() -> None:
    url = "postgres://postgres@127.0.0.1:5432/hmsportal"
    options = "sorted(s.DATABASES['default']['OPTIONS'].items())"
    assert _settings_print(options, {**os.environ, "DATABASE_URL": url}) == (
        "[('prepare_threshold', 5), ('server_side_binding', True)]"
    )
    without = {**os.environ, "DATABASE_URL": url, "DATABASE_PREPARED_STATEMENTS": "0"}
    assert _settings_print(options, without) == "[]"


def test_a_private_key_written_on_one_line_gets_its_newlines_back() -> None:
    env = {**os.environ, "MASKINPORTEN_PRIVATE_KEY": "-----BEGIN-----\\nMIIE\\n-----END-----"}
    assert _settings_print("repr(s.MASKINPORTEN_PRIVATE_KEY)", env) == repr(
        "-----BEGIN-----\nMIIE\n-----END-----"
    )


def test_production_asks_staff_for_a_second_factor_and_the_demo_does_not() -> None:
    ignored = {*PRODUCTION, "DEV_LOGIN_ENABLED", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in ignored}
    shown = (
        "s.STAFF_SECOND_FACTOR_REQUIRED,"
        " s.MIDDLEWARE.index('django_otp.middleware.OTPMiddleware')"
        " > s.MIDDLEWARE.index('django.contrib.auth.middleware.AuthenticationMiddleware'),"
        " __import__('django.contrib.admin').contrib.admin.site.login_form.__name__"
    )
    assert _settings_print(shown, {**clean, **PRODUCTION}).split() == [
        "True",
        "True",
        "SecondFactorLoginForm",
    ]
    assert _settings_print(shown, {**clean, "DEBUG": "1"}).split() == [
        "False",
        "True",
        "AdminAuthenticationForm",
    ]


def test_the_expiring_days_must_be_at_least_one() -> None:
    result = manage("check", CARD_EXPIRING_WITHIN_DAYS="0")
    assert result.returncode != 0
    assert "CARD_EXPIRING_WITHIN_DAYS must be at least 1" in result.stderr


def test_the_old_reminder_days_name_is_read_when_the_new_one_is_not_set() -> None:
    show = "from django.conf import settings; print(settings.CARD_EXPIRING_WITHIN_DAYS)"
    # The last line: the shell may first say what it imported.
    old = manage("shell", "-c", show, REMINDER_EXPIRY_DAYS="45")
    assert old.stdout.strip().splitlines()[-1] == "45"
    both = manage("shell", "-c", show, REMINDER_EXPIRY_DAYS="45", CARD_EXPIRING_WITHIN_DAYS="30")
    assert both.stdout.strip().splitlines()[-1] == "30"


def test_production_sends_hsts_and_the_demo_does_not() -> None:
    ignored = {*PRODUCTION, "DEV_LOGIN_ENABLED", "DJANGO_ALLOW_ASYNC_UNSAFE", "SECURE_HSTS_SECONDS"}
    clean = {k: v for k, v in os.environ.items() if k not in ignored}
    shown = (
        "s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_SSL_REDIRECT,"
        " s.SECURE_REFERRER_POLICY, s.CONTENT_SECURITY_POLICY['DIRECTIVES']['frame-ancestors']"
    )
    assert _settings_print(shown, {**clean, **PRODUCTION}) == (
        "31536000 True True same-origin [\"'none'\"]"
    )
    assert _settings_print(shown, {**clean, "DEBUG": "1"}) == (
        "0 False False same-origin [\"'none'\"]"
    )


@pytest.mark.parametrize(
    ("given", "expected"), [(None, "http://127.0.0.1:8031"), ("https://hms.example", None)]
)
def test_make_run_on_another_port_links_to_that_port(tmp_path, given, expected) -> None:
    """`make run PORT=8031` mailed confirmation links and printed QR codes for port 8000."""
    probe = tmp_path / "python"
    probe.write_text('#!/bin/sh\necho "$PORTAL_BASE_URL"\n')
    probe.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "PORTAL_BASE_URL"}
    if given:
        env["PORTAL_BASE_URL"] = given
    # PY stands in for the venv's python; STAMP= skips building the venv.
    run = subprocess.run(
        ["make", "-s", "run", "PORT=8031", f"PY={probe}", "STAMP="],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert set(filter(None, run.stdout.splitlines()[:3])) == {expected or given}


@pytest.mark.parametrize(
    "name",
    [
        "REGISTRY_CHANGED_ORGANISATIONS_HANDLER",
        "CARDS_SHIPPED_HANDLER",
        "CARDS_EMPLOYMENT_ENDED_HANDLER",
    ],
)
def test_the_hooks_other_apps_call_are_orders_handlers_not_tasks(name: str) -> None:
    from celery import Task
    from django.conf import settings
    from django.utils.module_loading import import_string

    path = getattr(settings, name)
    handler = import_string(path)
    # One home for the hooks (orders.handlers); a tasks module holds only Celery tasks.
    assert path.startswith("orders.handlers.")
    assert callable(handler) and not isinstance(handler, Task)
