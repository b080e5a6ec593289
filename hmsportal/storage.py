"""Private, encrypted file storage for photos and ID documents.

Personal documents must be encrypted at rest and never public: files are Fernet tokens on
disk (MultiFernet, so keys can be rotated), the storage has no URL, and views that show a
photo stream it after an access check.
"""

from __future__ import annotations

import os
from functools import cached_property
from typing import Any, cast

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage
from django.db.models.fields.files import FieldFile
from django.utils.deconstruct import deconstructible


class DocumentDecryptionError(Exception):
    """A stored document could not be decrypted with any configured key."""


@deconstructible(path="hmsportal.storage.EncryptedStorage")
class EncryptedStorage(FileSystemStorage):
    """FileSystemStorage that encrypts every file it saves and decrypts every file it opens."""

    def __init__(self, subdirectory: str = "private") -> None:
        self.subdirectory = subdirectory
        super().__init__(location=None, base_url=None)

    @cached_property
    def base_location(self) -> str:  # type: ignore[override]
        return str(settings.MEDIA_ROOT / self.subdirectory)

    @cached_property
    def location(self) -> str:  # type: ignore[override]
        return os.path.abspath(self.base_location)

    @property
    def _fernet(self) -> MultiFernet:
        return MultiFernet([Fernet(key) for key in settings.DOCUMENT_ENCRYPTION_KEYS])

    # _save and _open are the hooks Django's Storage API asks subclasses to implement;
    # django-stubs leaves them out of FileSystemStorage, hence the ignores.
    def _save(self, name: str, content: File[bytes]) -> str:
        content.seek(0)
        token = self._fernet.encrypt(content.read())
        return super()._save(name, ContentFile(token))  # type: ignore[misc]

    def _open(self, name: str, mode: str = "rb") -> File[bytes]:
        if "w" in mode or "a" in mode:
            raise ValueError(
                "Encrypted documents are written through save(), not opened for writing."
            )
        with super()._open(name, "rb") as stored:  # type: ignore[misc]
            token = stored.read()
        try:
            plain = self._fernet.decrypt(token)
        except InvalidToken as error:
            raise DocumentDecryptionError(name) from error
        return ContentFile(plain, name=name)

    def url(self, name: str | None) -> str:
        raise ValueError("Private documents have no public URL; stream them from a view.")

    def read_bytes(self, name: str) -> bytes:
        """The decrypted content of a stored document."""
        with self.open(name) as document:
            data: Any = document.read()
        return bytes(data)


def encrypted_storage() -> EncryptedStorage:
    """The storage for photos and ID documents (a callable, so migrations stay key-free)."""
    return EncryptedStorage()


def read_document(field: FieldFile) -> bytes:
    """The decrypted content of a file field stored in encrypted storage."""
    return cast(EncryptedStorage, field.storage).read_bytes(str(field.name))
