"""A local OpenID provider on 127.0.0.1 that speaks ID-porten's flow, for the login tests.

Real HTTP (tests/registry/servers.py): discovery, authorize, token, JWKS and end session, with
RS256-signed ID tokens. It checks what ID-porten checks of the portal (client secret, the
redirect URI, PKCE's S256 verifier, single-use codes) and can be told to forge what it sends
back (another signing key, wrong claims, an unknown kid) so that each of the portal's checks
can be shown to refuse.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.registry.servers import FakeRegister, Reply, Request

CLIENT_ID = "hmsportal-test-client"
CLIENT_SECRET = "test-client-secret"
DELETE = object()  # a claim override that removes the claim


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}


@dataclass
class Authorization:
    """What the portal asked for at /authorize, kept until the code is exchanged."""

    query: dict[str, str]
    pid: str
    acr: str


@dataclass
class LocalIdPorten:
    server: FakeRegister
    pid: str = ""
    acr: str = "idporten-loa-substantial"
    cancel: bool = False
    # Forgeries: claims to change (DELETE removes one), a key to sign with that is not
    # published under the kid used, a header to add.
    claim_overrides: dict[str, Any] = field(default_factory=dict)
    signing_key: rsa.RSAPrivateKey | None = None
    header_overrides: dict[str, Any] = field(default_factory=dict)
    # Sign with HMAC instead (the "alg confusion" forgery).
    hmac_secret: bytes = b""
    codes: dict[str, Authorization] = field(default_factory=dict)
    authorizations: list[dict[str, str]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    end_sessions: list[dict[str, str]] = field(default_factory=list)
    id_tokens: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.keys: dict[str, rsa.RSAPrivateKey] = {"key-1": new_key()}
        self.current_kid = "key-1"
        self.server.add("/.well-known/openid-configuration", responder=self._discovery)
        self.server.add("/authorize", responder=self._authorize)
        self.server.add("/token", responder=self._token)
        self.server.add("/jwks", responder=self._jwks)
        self.server.add("/endsession", responder=self._end_session)

    @property
    def issuer(self) -> str:
        return self.server.origin

    def rotate_key(self) -> str:
        """Publish a new key and sign with it from now on (ID-porten rotates its keys)."""
        kid = f"key-{len(self.keys) + 1}"
        self.keys[kid] = new_key()
        self.current_kid = kid
        return kid

    # --- endpoints ---------------------------------------------------------------------

    def _discovery(self, request: Request) -> Reply:
        return Reply(
            200,
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "end_session_endpoint": f"{self.issuer}/endsession",
                "response_types_supported": ["code"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "acr_values_supported": ["idporten-loa-substantial", "idporten-loa-high"],
            },
        )

    def _jwks(self, request: Request) -> Reply:
        return Reply(200, {"keys": [_public_jwk(k, kid) for kid, k in self.keys.items()]})

    def _authorize(self, request: Request) -> Reply:
        query = {name: values[0] for name, values in request.query.items()}
        self.authorizations.append(query)
        problems = [
            name
            for name, ok in (
                ("response_type", query.get("response_type") == "code"),
                ("client_id", query.get("client_id") == CLIENT_ID),
                ("scope", "openid" in query.get("scope", "").split()),
                ("state", bool(query.get("state"))),
                ("nonce", bool(query.get("nonce"))),
                ("code_challenge", bool(query.get("code_challenge"))),
                ("code_challenge_method", query.get("code_challenge_method") == "S256"),
                ("redirect_uri", bool(query.get("redirect_uri"))),
            )
            if not ok
        ]
        if problems:
            return Reply(400, {"error": "invalid_request", "fields": problems})
        target = query["redirect_uri"]
        if self.cancel:
            answer = {"error": "access_denied", "state": query["state"]}
        else:
            code = secrets.token_urlsafe(16)
            self.codes[code] = Authorization(query=query, pid=self.pid, acr=self.acr)
            answer = {"code": code, "state": query["state"]}
        return Reply(302, None, headers={"Location": f"{target}?{urlencode(answer)}"})

    def _token(self, request: Request) -> Reply:
        form = request.form()
        self.token_requests.append(form)
        authorization = self.codes.pop(form.get("code", ""), None)  # single use
        if authorization is None or form.get("grant_type") != "authorization_code":
            return Reply(400, {"error": "invalid_grant"})
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return Reply(401, {"error": "invalid_client"})
        if form.get("redirect_uri") != authorization.query["redirect_uri"]:
            return Reply(400, {"error": "invalid_grant", "error_description": "redirect_uri"})
        verifier = form.get("code_verifier", "")
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        if not verifier or challenge != authorization.query["code_challenge"]:
            return Reply(400, {"error": "invalid_grant", "error_description": "PKCE"})
        id_token = self.id_token(authorization)
        return Reply(
            200,
            {
                "id_token": id_token,
                "access_token": secrets.token_urlsafe(24),
                "token_type": "Bearer",
                "expires_in": 120,
                "scope": "openid",
            },
        )

    def _end_session(self, request: Request) -> Reply:
        # RP-Initiated Logout: GET with a query, or POST with a form body.
        if request.method == "POST":
            query = request.form()
        else:
            query = {name: values[0] for name, values in request.query.items()}
        self.end_sessions.append({**query, "method": request.method})
        hint = query.get("id_token_hint", "")
        if hint not in self.id_tokens or not query.get("post_logout_redirect_uri"):
            return Reply(400, {"error": "invalid_request"})
        return Reply(302, None, headers={"Location": query["post_logout_redirect_uri"]})

    # --- tokens ------------------------------------------------------------------------

    def id_token(self, authorization: Authorization) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": hashlib.sha256(f"{CLIENT_ID}:{authorization.pid}".encode()).hexdigest()[:32],
            "pid": authorization.pid,
            "acr": authorization.acr,
            "amr": ["BankID"],
            "auth_time": now,
            "iat": now,
            "exp": now + 120,
            "nonce": authorization.query["nonce"],
            "locale": "nb",
            "sid": secrets.token_hex(8),
        }
        for name, value in self.claim_overrides.items():
            if value is DELETE:
                claims.pop(name, None)
            else:
                claims[name] = value
        key = self.signing_key or self.keys[self.current_kid]
        headers = {"kid": self.current_kid, **self.header_overrides}
        if self.hmac_secret:
            token = jwt.encode(claims, self.hmac_secret, algorithm="HS256", headers=headers)
        else:
            token = jwt.encode(claims, key, algorithm="RS256", headers=headers)
        self.id_tokens.append(token)
        return token
