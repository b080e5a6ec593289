"""ID-porten's metadata and signing keys, read from its discovery document and cached.

The endpoints are never configured by hand: `<issuer>/.well-known/openid-configuration` names
them, and the keys rotate, so a key id the portal has not seen makes it fetch the key set
again (once per token, so a forged kid cannot make it hammer the provider).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import jwt
import requests
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

METADATA_CACHE_SECONDS = 3600
KEYS_CACHE_SECONDS = 24 * 3600


class ProviderUnavailable(Exception):
    """ID-porten did not answer, or answered something that is not what OIDC promises."""


@dataclass(frozen=True)
class ProviderMetadata:
    """The parts of the discovery document the portal uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str


def configured() -> bool:
    """Whether an ID-porten client is configured (IDPORTEN_ISSUER and IDPORTEN_CLIENT_ID)."""
    return bool(settings.IDPORTEN_ISSUER and settings.IDPORTEN_CLIENT_ID)


def _get_json(url: str) -> dict[str, Any]:
    try:
        response = requests.get(url, timeout=settings.IDPORTEN_TIMEOUT_SECONDS)
        response.raise_for_status()
        body = response.json()
    except (requests.RequestException, ValueError) as error:
        raise ProviderUnavailable(f"{url}: {error}") from error
    if not isinstance(body, dict):
        raise ProviderUnavailable(f"{url}: not a JSON object")
    return body


def metadata() -> ProviderMetadata:
    """The provider's endpoints, from its discovery document (cached for an hour)."""
    issuer = settings.IDPORTEN_ISSUER
    key = f"idporten:metadata:{issuer}"
    cached = cache.get(key)
    if isinstance(cached, ProviderMetadata):
        return cached
    document = _get_json(f"{issuer}/.well-known/openid-configuration")
    # OIDC Discovery 4.3: the document's issuer must be the one asked for, or an attacker who
    # can serve the document could name another provider's endpoints.
    if document.get("issuer", "").rstrip("/") != issuer:
        raise ProviderUnavailable(
            f"discovery document names issuer {document.get('issuer')!r}, not {issuer!r}"
        )
    try:
        found = ProviderMetadata(
            issuer=document["issuer"],
            authorization_endpoint=document["authorization_endpoint"],
            token_endpoint=document["token_endpoint"],
            jwks_uri=document["jwks_uri"],
            end_session_endpoint=document.get("end_session_endpoint", ""),
        )
    except KeyError as error:
        raise ProviderUnavailable(f"discovery document lacks {error}") from error
    cache.set(key, found, METADATA_CACHE_SECONDS)
    return found


def _key_set(*, refresh: bool) -> dict[str, dict[str, Any]]:
    """The provider's public keys by kid, from the cache unless refresh is asked for."""
    jwks_uri = metadata().jwks_uri
    key = f"idporten:jwks:{jwks_uri}"
    keys = None if refresh else cache.get(key)
    if not isinstance(keys, dict):
        body = _get_json(jwks_uri)
        keys = {
            jwk["kid"]: jwk
            for jwk in body.get("keys", [])
            if isinstance(jwk, dict) and jwk.get("kid") and jwk.get("kty") == "RSA"
        }
        cache.set(key, keys, KEYS_CACHE_SECONDS)
        logger.info("ID-porten key set read: %d keys", len(keys))
    return keys


def signing_key(kid: str) -> jwt.PyJWK | None:
    """The provider's RSA key with this kid, looking the key set up again once if unknown."""
    jwk = _key_set(refresh=False).get(kid)
    if jwk is None:
        jwk = _key_set(refresh=True).get(kid)
    if jwk is None:
        return None
    return jwt.PyJWK(jwk, algorithm="RS256")
