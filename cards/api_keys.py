"""API keys for site-registration systems that check cards by machine.

A key is an 8-character prefix followed by a random secret. Only the prefix (to find the
client with one indexed query) and the SHA-256 of the whole key are stored; the key itself is
shown once, when the client is created. A fast hash is enough here: the secret carries 256
bits of randomness, so there is nothing for a slow hash to protect against guessing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.db import transaction
from django.http import HttpRequest

from cards.models import ApiClient

PREFIX_LENGTH = 8
# Longer than any key we issue; anything longer is rejected before touching the database.
MAX_KEY_LENGTH = 128


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_client_create(*, name: str, lookups_per_minute: int) -> tuple[ApiClient, str]:
    """Create an API client; returns it and its key, which is not stored and not shown again."""
    prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    while ApiClient.objects.filter(key_prefix=prefix).exists():
        prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    key = prefix + secrets.token_urlsafe(32)
    client = ApiClient(
        name=name,
        key_prefix=prefix,
        key_hash=_key_hash(key),
        lookups_per_minute=lookups_per_minute,
    )
    client.full_clean()
    client.save()
    return client, key


def api_client_for_key(key: str) -> ApiClient | None:
    """The active client the key belongs to, or None. One query at most."""
    if not (PREFIX_LENGTH < len(key) <= MAX_KEY_LENGTH) or not key.isascii():
        return None
    client = (
        ApiClient.objects.filter(key_prefix=key[:PREFIX_LENGTH], is_active=True)
        .only("pk", "key_hash", "lookups_per_minute")
        .first()
    )
    if client is None:
        return None
    # Constant-time, so response times do not reveal how much of a guessed key was right.
    if not hmac.compare_digest(_key_hash(key), client.key_hash):
        return None
    return client


def api_key_from_request(request: HttpRequest) -> str | None:
    """The key the request presents (Authorization: Bearer …, or X-Api-Key), or None."""
    # From META rather than request.headers, which copies every header on first use: this
    # runs for every API lookup, and nearly all of them present neither header.
    authorization = str(request.META.get("HTTP_AUTHORIZATION") or "")
    if authorization:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "bearer":
            return credentials.strip()
        # Another scheme (Basic, …) is not ours; an empty key makes it an invalid key.
        return ""
    api_key = request.META.get("HTTP_X_API_KEY")
    if api_key is not None:
        return str(api_key).strip()
    return None
