"""Access tokens from Maskinporten (Digdir) for the registers that need one.

Folkeregisteret, Skatteetaten's "Arbeidsforhold i oppdrag", NAV's Aa-registeret and
Enhetsregisteret's authorised API take a Maskinporten access token per scope (REGISTERS.md).
The token is asked for with a JWT grant (RFC 7523): a short-lived JWT signed RS256 with the
key registered for hmsportal's Maskinporten client, named by its key id, posted to the token
endpoint. Tokens are kept in Django's cache (Redis in production, so every web and worker
process shares one per scope) until shortly before they expire; a register that answers 401
makes the token be forgotten, so the retry asks for a new one.

A fixed token per register (the *_TOKEN settings) still wins when set: a token proxy in front
of hmsportal, or a test environment, can hand one out.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
import requests
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from registry.clients.waiting import register_timeout_seconds
from registry.facts import RegisterUnavailable

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# Maskinporten accepts grants that expire at most 120 s after they were issued.
GRANT_LIFETIME_SECONDS = 60
# A token is not used in its last seconds: it could expire on the way to the register.
EXPIRY_MARGIN_SECONDS = 10
_CACHE_PREFIX = "maskinporten"
_GRANT_LOCK = threading.Lock()


def configured() -> bool:
    return bool(settings.MASKINPORTEN_TOKEN_URL)


@dataclass(frozen=True)
class BearerToken:
    """Where a register's bearer token comes from: a fixed token, or Maskinporten for a scope."""

    static: str = ""
    scope: str = ""

    @classmethod
    def from_settings(cls, *, fixed_from: str, scope_from: str) -> BearerToken:
        """The fixed token in the setting fixed_from, else Maskinporten for scope_from's scope."""
        return cls(
            static=str(getattr(settings, fixed_from)), scope=str(getattr(settings, scope_from))
        )

    def __bool__(self) -> bool:
        return bool(self.static or (self.scope and configured()))

    def value(self, *, register: str) -> str:
        """The token to send now ("" when there is none). RegisterUnavailable if it can't be had."""
        if self.static:
            return self.static
        if self.scope and configured():
            return access_token(scope=self.scope, register=register)
        return ""

    def forget(self) -> None:
        """The register refused the token: ask Maskinporten for a new one next time."""
        if self.scope and not self.static:
            cache.delete(_cache_key(self.scope))


def access_token(*, scope: str, register: str) -> str:
    """A Maskinporten access token for the scope, from the cache or freshly granted."""
    key = _cache_key(scope)
    cached = cache.get(key)
    if isinstance(cached, str) and cached:
        return cached
    # A worker asks the registers from several threads (http.ask_each): when the token runs
    # out, one of them asks Maskinporten and the others wait for its token.
    with _GRANT_LOCK:
        cached = cache.get(key)
        if isinstance(cached, str) and cached:
            return cached
        token, expires_in = _grant(scope=scope, register=register)
        lifetime = expires_in - EXPIRY_MARGIN_SECONDS
        if lifetime > 0:
            cache.set(key, token, timeout=lifetime)
        return token


def _cache_key(scope: str) -> str:
    client_id = settings.MASKINPORTEN_CLIENT_ID
    digest = hashlib.sha256(f"{client_id} {scope}".encode()).hexdigest()[:32]
    return f"{_CACHE_PREFIX}:{digest}"


def _grant(*, scope: str, register: str) -> tuple[str, int]:
    token_url = settings.MASKINPORTEN_TOKEN_URL
    assertion = _assertion(scope)
    timeout = register_timeout_seconds()
    try:
        response = requests.post(
            token_url,
            data={"grant_type": GRANT_TYPE, "assertion": assertion},
            headers={"Accept": "application/json", "User-Agent": "hmsportal"},
            timeout=timeout,
        )
    except requests.RequestException as error:
        raise RegisterUnavailable(
            register, f"Maskinporten did not answer ({type(error).__name__})"
        ) from error
    body = _json(response)
    if response.status_code != 200:
        # Maskinporten explains itself in error and error_description (its troubleshooting
        # page); both go to the register status page and the log.
        detail = " ".join(
            str(body.get(field)) for field in ("error", "error_description") if body.get(field)
        )
        raise RegisterUnavailable(
            register, f"Maskinporten: HTTP {response.status_code} {detail}".rstrip()
        )
    token = body.get("access_token")
    expires_in = body.get("expires_in")
    if not isinstance(token, str) or not token or not isinstance(expires_in, int):
        raise RegisterUnavailable(register, "Maskinporten: the answer has no access token")
    return token, expires_in


def _assertion(scope: str) -> str:
    """The JWT grant: only the claims Maskinporten documents (others make it answer 400)."""
    missing = [
        name
        for name in ("MASKINPORTEN_CLIENT_ID", "MASKINPORTEN_KEY_ID", "MASKINPORTEN_PRIVATE_KEY")
        if not getattr(settings, name)
    ]
    if missing:
        raise ImproperlyConfigured(
            f"MASKINPORTEN_TOKEN_URL is set, so Maskinporten needs {', '.join(missing)} "
            "(see README.md)."
        )
    now = int(time.time())
    claims = {
        "aud": settings.MASKINPORTEN_ISSUER,
        "iss": settings.MASKINPORTEN_CLIENT_ID,
        "scope": scope,
        "iat": now,
        "exp": now + GRANT_LIFETIME_SECONDS,
        "jti": str(uuid.uuid4()),
    }
    return jwt.encode(
        claims,
        settings.MASKINPORTEN_PRIVATE_KEY,
        algorithm="RS256",
        headers={"kid": settings.MASKINPORTEN_KEY_ID},
    )


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
