"""The ID token's validation (OIDC Core 3.1.3.7) and the level of assurance ID-porten gave.

Every check here has a test with a token forged to fail it (tests/hmsportal/test_idporten.py).
"""

from __future__ import annotations

import enum
import hmac
import time
from dataclasses import dataclass
from typing import Any

import jwt
from django.conf import settings

from hmsportal.idporten import provider
from registry.identifiers import InvalidIdentifier, parse_national_id

# Clock skew tolerated between ID-porten and the portal on exp and iat.
LEEWAY_SECONDS = 60
# A token issued longer ago than this is not accepted: the code it came with is single-use
# and exchanged at once, so an old token is a replayed one.
MAX_TOKEN_AGE_SECONDS = 600

# ID-porten's levels of assurance (acr), lowest first. Older documents say Level3/Level4.
ACR_LEVELS = ("idporten-loa-substantial", "idporten-loa-high")


class RefusalReason(enum.StrEnum):
    """Why a login is refused; logged, and chooses the message the person is shown."""

    CANCELLED = "cancelled"
    PROVIDER_ERROR = "provider_error"
    PROVIDER_UNAVAILABLE = "provider_unavailable"
    STATE = "state"
    MALFORMED = "malformed"
    ALGORITHM = "algorithm"
    UNKNOWN_KEY = "unknown_key"
    SIGNATURE = "signature"
    ISSUER = "issuer"
    AUDIENCE = "audience"
    EXPIRED = "expired"
    ISSUED_AT = "issued_at"
    NONCE = "nonce"
    ACR = "acr"
    PERSON = "person"
    BLOCKED = "blocked"


class LoginRefused(Exception):
    """The login cannot go on; `reason` says why, `detail` is for the log only."""

    def __init__(self, reason: RefusalReason, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else str(reason))
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class IdentityProof:
    """What an accepted ID token says about the person."""

    national_id: str
    acr: str
    claims: dict[str, Any]


def acr_sufficient(acr: str, required: str) -> bool:
    """Whether the level ID-porten gave is at least the one the portal requires."""
    if acr not in ACR_LEVELS or required not in ACR_LEVELS:
        return False
    return ACR_LEVELS.index(acr) >= ACR_LEVELS.index(required)


def id_token_verify(token: str, *, nonce: str | None) -> IdentityProof:
    """Validate an ID token from ID-porten and return who it proves; raise LoginRefused."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as error:
        raise LoginRefused(RefusalReason.MALFORMED, str(error)) from error
    if header.get("alg") != "RS256":
        raise LoginRefused(RefusalReason.ALGORITHM, f"alg {header.get('alg')!r}")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise LoginRefused(RefusalReason.MALFORMED, "no kid in the header")
    try:
        key = provider.signing_key(kid)
    except provider.ProviderUnavailable as error:
        raise LoginRefused(RefusalReason.PROVIDER_UNAVAILABLE, str(error)) from error
    if key is None:
        raise LoginRefused(RefusalReason.UNKNOWN_KEY, f"kid {kid!r} not in the key set")
    claims = _decode(token, key)
    # OIDC Core 3.1.3.7 (4, 5): a token for several audiences must name the portal as the
    # party it was issued to.
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != settings.IDPORTEN_CLIENT_ID:
        raise LoginRefused(RefusalReason.AUDIENCE, "several audiences and azp is not ours")
    if time.time() - claims["iat"] > MAX_TOKEN_AGE_SECONDS + LEEWAY_SECONDS:
        raise LoginRefused(RefusalReason.ISSUED_AT, f"issued at {claims['iat']}, too long ago")
    if not nonce or not hmac.compare_digest(str(claims["nonce"]), nonce):
        raise LoginRefused(RefusalReason.NONCE, "nonce does not match the one sent")
    acr = str(claims["acr"])
    if not acr_sufficient(acr, settings.IDPORTEN_ACR_VALUES):
        raise LoginRefused(RefusalReason.ACR, f"acr {acr!r} below {settings.IDPORTEN_ACR_VALUES!r}")
    try:
        national_id = parse_national_id(str(claims["pid"])).value
    except InvalidIdentifier as error:
        raise LoginRefused(RefusalReason.PERSON, "pid is not a valid identity number") from error
    return IdentityProof(national_id=national_id, acr=acr, claims=claims)


def _decode(token: str, key: jwt.PyJWK) -> dict[str, Any]:
    """Check the signature, issuer, audience, expiry and issue time with PyJWT."""
    try:
        return jwt.decode(
            token,
            key=key,
            algorithms=["RS256"],
            audience=settings.IDPORTEN_CLIENT_ID,
            issuer=provider.metadata().issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "aud", "exp", "iat", "nonce", "acr", "pid"]},
        )
    except provider.ProviderUnavailable as error:
        raise LoginRefused(RefusalReason.PROVIDER_UNAVAILABLE, str(error)) from error
    except jwt.InvalidSignatureError as error:
        raise LoginRefused(RefusalReason.SIGNATURE, str(error)) from error
    except jwt.ExpiredSignatureError as error:
        raise LoginRefused(RefusalReason.EXPIRED, str(error)) from error
    except jwt.InvalidIssuerError as error:
        raise LoginRefused(RefusalReason.ISSUER, str(error)) from error
    except jwt.InvalidAudienceError as error:
        raise LoginRefused(RefusalReason.AUDIENCE, str(error)) from error
    except (jwt.ImmatureSignatureError, jwt.InvalidIssuedAtError) as error:
        raise LoginRefused(RefusalReason.ISSUED_AT, str(error)) from error
    except jwt.InvalidTokenError as error:
        raise LoginRefused(RefusalReason.MALFORMED, str(error)) from error
