"""Files kept for an hour when an order form comes back with an error (issue 9, point 3).

A photo and an ID document that were fine stay attached while the person fixes the rest:
they are kept encrypted (hmsportal.storage), tied to the person who uploaded them, and
gone after STASH_LIFETIME. The form carries only the key; a key of someone else's, an
expired one or a made-up one finds nothing, exactly like no key at all.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from hmsportal.audit import audit_record
from hmsportal.models import AuditEntry, User
from hmsportal.storage import DocumentDecryptionError, read_document
from orders.models import UploadStash

logger = logging.getLogger(__name__)

STASH_LIFETIME = datetime.timedelta(hours=1)
STASH_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}


@dataclass(frozen=True, slots=True)
class StashedFile:
    """A kept file, decrypted."""

    key: str
    kind: str
    content: bytes
    name: str
    content_type: str


def stash_key(value: object) -> uuid.UUID | None:
    """The key from a form value, or None when it is not one (never an error)."""
    try:
        return uuid.UUID(str(value)[:64])
    except ValueError:
        return None


@transaction.atomic
def stash_put(
    *, owner: User, kind: str, content: bytes, name: str, content_type: str = "image/jpeg"
) -> str:
    """Keep a valid upload for an hour; returns the key the form carries."""
    entry = UploadStash(
        owner=owner, kind=kind, content_type=content_type, original_name=name[-200:]
    )
    # The stored name says nothing about the person: upload names often carry names.
    entry.file.save(
        f"{uuid.uuid4().hex}{STASH_EXTENSIONS.get(content_type, '')}",
        ContentFile(content),
        save=False,
    )
    try:
        entry.full_clean()
        entry.save()
    except BaseException:
        entry.file.storage.delete(entry.file.name)
        raise
    audit_record(
        actor=owner,
        action=AuditEntry.Action.UPLOAD_KEPT,
        subject=entry,
        subject_label=kind,
        after={"kind": kind, "file": entry.file, "content_type": content_type},
    )
    return str(entry.key)


def stash_get(*, owner: User, kind: str, key: object) -> StashedFile | None:
    """The kept file, or None when the key is not one, expired, missing or another's."""
    parsed = stash_key(key)
    if parsed is None or not owner.is_authenticated:
        return None
    entry = UploadStash.objects.filter(
        key=parsed,
        owner=owner,
        kind=kind,
        created_at__gt=timezone.now() - STASH_LIFETIME,
    ).first()
    if entry is None:
        return None
    try:
        content = read_document(entry.file)
    except (FileNotFoundError, DocumentDecryptionError):
        logger.exception("Kept upload %s cannot be read", entry.key)
        return None
    return StashedFile(
        key=str(entry.key),
        kind=entry.kind,
        content=content,
        name=entry.original_name,
        content_type=entry.content_type,
    )


def _delete(entries: list[UploadStash]) -> int:
    files = [(entry.file.storage, entry.file.name) for entry in entries if entry.file]
    deleted, _ = UploadStash.objects.filter(pk__in=[entry.pk for entry in entries]).delete()

    def delete_files() -> None:
        for storage, name in files:
            storage.delete(name)

    # Files are not part of the transaction: they go once the rows are surely gone.
    transaction.on_commit(delete_files)
    return deleted


@transaction.atomic
def stash_discard(*, owner: User, keys: list[str]) -> int:
    """Drop kept files once an order has used them; returns how many went."""
    parsed = [key for value in keys if (key := stash_key(value)) is not None]
    return _delete(list(UploadStash.objects.filter(owner=owner, key__in=parsed)))


@transaction.atomic
def stash_purge_expired(*, now: datetime.datetime) -> int:
    """Delete every kept file older than STASH_LIFETIME; returns how many went."""
    return _delete(list(UploadStash.objects.filter(created_at__lte=now - STASH_LIFETIME)))
