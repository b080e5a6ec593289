"""The audit trail's one way in: every change to orders, cards, delegations, uploads, contact
details and logins is recorded here, in the same transaction as the change.

Lives in hmsportal (project wiring) so that orders, cards and registry may all call it without
breaking the direction of their dependencies. The trail is append-only: the model refuses
changes and deletion, and on PostgreSQL triggers refuse UPDATE, DELETE and TRUNCATE (migrations
hmsportal 0004 and 0007); in production the app's database role owns no table, so it cannot
disable them either, and on this table it may only SELECT and INSERT (manage.py
grant_app_role).

What is stored never holds an identity number in clear (they are masked here, whatever the
caller passes) and never a file's content (files are named, by their stored name).
"""

from __future__ import annotations

import contextvars
import datetime
import decimal
import ipaddress
import re
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import models
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest

from hmsportal.models import AuditEntry, User
from hmsportal.ratelimit import client_address
from registry.identifiers import is_valid_national_id

# The client address of the request being served, so services deep in a call can record it
# without every view passing it on. Empty outside a request (Celery workers, commands).
_request_address: contextvars.ContextVar[str] = contextvars.ContextVar(
    "audit_request_address", default=""
)

# Eleven digits in a row (optionally with a space after the date part): a fødselsnummer or
# D-number. The date part is masked too (with the individual digits it narrows a person down);
# only the two check digits stay, so two entries can be told apart by eye. Standing alone, any
# eleven digits are masked (a mistyped number is still someone's); inside a longer word (a
# generated name, say) only those that are valid identity numbers.
_IDENTITY_NUMBER = re.compile(r"(?<!\d)\d{6} ?\d{5}(?!\d)")
_WORD_CHARACTER = re.compile(r"[0-9A-Za-z]")
_MAX_TEXT = 500


def identity_number_masked(value: str) -> str:
    """The text with every identity number in it masked ("*********38")."""

    def mask(match: re.Match[str]) -> str:
        start, end = match.span()
        inside_word = (start > 0 and _WORD_CHARACTER.match(value[start - 1])) or (
            end < len(value) and _WORD_CHARACTER.match(value[end])
        )
        digits = match.group(0).replace(" ", "")
        if inside_word and not is_valid_national_id(digits):
            return match.group(0)
        return "*" * 9 + digits[-2:]

    return _IDENTITY_NUMBER.sub(mask, value)


def _plain(value: Any) -> Any:
    """A JSON-safe, masked copy of a value; files by name, never content."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return identity_number_masked(value[:_MAX_TEXT])
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, FieldFile):
        # Stored names are generated (a random name or the card number), never the upload's.
        return value.name or ""
    if isinstance(value, bytes | bytearray | memoryview):
        raise TypeError("the audit trail records files by name, never their content")
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dict):
        return {identity_number_masked(str(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    return identity_number_masked(str(value)[:_MAX_TEXT])


def _address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def audit_entry(
    *,
    actor: User | None,
    action: str,
    subject: models.Model | None = None,
    organisation_orgnr: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    request_ip: str = "",
    subject_label: str = "",
) -> AuditEntry:
    """An unsaved audit entry, validated and masked (audit_record saves one, bulk_create many)."""
    if action not in AuditEntry.Action.values:
        raise ValueError(f"unknown audit action {action!r}")
    if actor is not None and not actor.is_authenticated:
        actor = None
    entry = AuditEntry(
        actor=actor,
        actor_name=identity_number_masked(str(actor)[:200]) if actor else "",
        organisation_orgnr=organisation_orgnr or "",
        action=action,
        before=_plain(before or {}),
        after=_plain(after or {}),
        request_ip=_address(request_ip or _request_address.get()),
    )
    if subject is not None:
        entry.subject_type = subject._meta.label_lower
        entry.subject_id = str(subject.pk or "")
        entry.subject_label = identity_number_masked((subject_label or str(subject))[:200])
    elif subject_label:
        entry.subject_label = identity_number_masked(subject_label[:200])
    return entry


def audit_record(
    *,
    actor: User | None,
    action: str,
    subject: models.Model | None = None,
    organisation_orgnr: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    request_ip: str = "",
    subject_label: str = "",
) -> AuditEntry | None:
    """Record one change in the caller's transaction; None (nothing recorded) when before and
    after are given and equal: nothing changed.

    request_ip defaults to the address of the request being served (audit_request_address).
    """
    if before is not None and after is not None and before == after:
        return None
    entry = audit_entry(
        actor=actor,
        action=action,
        subject=subject,
        organisation_orgnr=organisation_orgnr,
        before=before,
        after=after,
        request_ip=request_ip,
        subject_label=subject_label,
    )
    entry.save()
    return entry


def audit_record_many(entries: Iterable[AuditEntry]) -> int:
    """Record many changes (from audit_entry) in one INSERT per thousand: bulk card changes."""
    return len(AuditEntry.objects.bulk_create(list(entries), batch_size=1000))


def audit_fields(instance: models.Model, *names: str) -> dict[str, Any]:
    """A snapshot of the named fields' values now, for before/after (foreign keys by id).

    Taken as plain values at once: a file field is the same object after it is saved anew.
    """
    values: dict[str, Any] = {}
    for name in names:
        field = instance._meta.get_field(name)
        values[name] = _plain(getattr(instance, getattr(field, "attname", name)))
    return values


@contextmanager
def audit_request_address(address: str) -> Iterator[None]:
    """Record this client address on entries written inside the block."""
    token = _request_address.set(address)
    try:
        yield
    finally:
        _request_address.reset(token)


# --- Logins (Django's auth signals: infrastructure, the one place every login passes) ------

# Where a login happened, by the URL name of the view that logged the person in.
_LOGIN_METHODS = {"idporten_callback": "idporten", "dev_login": "dev", "login": "admin"}


def _login_method(request: HttpRequest | None) -> str:
    match = getattr(request, "resolver_match", None)
    return _LOGIN_METHODS.get(getattr(match, "url_name", "") or "", "other")


def _request_client(request: HttpRequest | None) -> str:
    return client_address(request) if isinstance(request, HttpRequest) else ""


def login_recorded(sender: object, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    """Receiver of user_logged_in: every login (ID-porten, the development login, the admin)."""
    audit_record(
        actor=user,
        action=AuditEntry.Action.LOGIN,
        subject=user,
        subject_label=str(user),
        after={"method": _login_method(request)},
        request_ip=_request_client(request),
    )


def login_failure_recorded(
    sender: object, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """Receiver of user_login_failed: the method and why, never a password or a token; the
    username given is recorded masked (it might be someone's identity number)."""
    username = str(credentials.get("username") or "")[:150]
    after = {"method": str(credentials.get("method") or _login_method(request))}
    if credentials.get("reason"):
        after["reason"] = str(credentials["reason"])[:100]
    audit_record(
        actor=None,
        action=AuditEntry.Action.LOGIN_FAILED,
        subject_label=username,
        after=after,
        request_ip=_request_client(request),
    )
