"""Maskinporten tokens for the registers, against a token endpoint on 127.0.0.1.

The stand-in checks each JWT grant the way Maskinporten does (RS256 signature against the
registered key, audience, issuer, key id, a lifetime of at most 120 s, only the documented
claims) and hands out numbered tokens, so tests see which token reached a register.
"""

from __future__ import annotations

import datetime
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ImproperlyConfigured

from registry.clients.freg import FolkeregisteretPopulationRegister
from registry.clients.maskinporten import GRANT_TYPE
from registry.facts import RegisterUnavailable
from tests.registry.servers import FakeRegister, Reply, Request, freg_person, national_id

pytestmark = pytest.mark.django_db

ISSUER = "https://test.maskinporten.no/"
CLIENT_ID = "hmsportal-test-client"
KEY_ID = "hmsportal-key-2026"
SCOPE = "folkeregister:deling/offentligmedhjemmel"
FNR = national_id("150690")
OTHER = national_id("010180", seed=2)
DOCUMENTED_CLAIMS = {"aud", "iss", "scope", "iat", "exp", "jti"}


@pytest.fixture(scope="module")
def client_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class TokenEndpoint:
    """Maskinporten's /token: verifies grants and answers with token-1, token-2, …"""

    def __init__(self, server: FakeRegister, public_key: Any) -> None:
        self.server = server
        self.public_key = public_key
        self.grants: list[dict[str, Any]] = []
        self.expires_in = 120
        self.refuse: Reply | None = None
        server.add("/token", responder=self.answer)

    def answer(self, request: Request) -> Reply:
        if self.refuse is not None:
            return self.refuse
        form = request.form()
        if request.method != "POST" or form.get("grant_type") != GRANT_TYPE:
            return Reply(400, {"error": "unsupported_grant_type"})
        try:
            header = jwt.get_unverified_header(form["assertion"])
            claims = jwt.decode(
                form["assertion"],
                self.public_key,
                algorithms=["RS256"],
                audience=ISSUER,
                issuer=CLIENT_ID,
            )
        except (KeyError, jwt.InvalidTokenError) as error:
            return Reply(400, {"error": "invalid_grant", "error_description": str(error)})
        if header.get("kid") != KEY_ID or set(claims) != DOCUMENTED_CLAIMS:
            return Reply(400, {"error": "invalid_grant", "error_description": "Invalid assertion"})
        if not 0 < claims["exp"] - claims["iat"] <= 120:
            return Reply(400, {"error": "invalid_grant", "error_description": "exp too far"})
        self.grants.append(claims)
        token = f"token-{len(self.grants)}"
        return Reply(
            200,
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": self.expires_in,
                "scope": claims["scope"],
            },
        )


@pytest.fixture
def maskinporten(fake_register, settings, client_key) -> TokenEndpoint:
    server = fake_register("")
    settings.MASKINPORTEN_TOKEN_URL = f"{server.url}/token"
    settings.MASKINPORTEN_ISSUER = ISSUER
    settings.MASKINPORTEN_CLIENT_ID = CLIENT_ID
    settings.MASKINPORTEN_KEY_ID = KEY_ID
    settings.MASKINPORTEN_PRIVATE_KEY = client_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return TokenEndpoint(server, client_key.public_key())


@pytest.fixture
def freg_on_maskinporten(freg, settings, maskinporten) -> FakeRegister:
    settings.FOLKEREGISTERET_TOKEN = ""
    settings.FOLKEREGISTERET_SCOPE = SCOPE
    for number in (FNR, OTHER):
        freg.add(f"/personer/{number}", Reply(200, freg_person(number)))
    return freg


def test_a_register_gets_a_maskinporten_token_that_is_reused_until_it_expires(
    freg_on_maskinporten, maskinporten
):
    FolkeregisteretPopulationRegister().persons([FNR])
    FolkeregisteretPopulationRegister().persons([OTHER])

    assert len(maskinporten.grants) == 1
    grant = maskinporten.grants[0]
    assert grant["scope"] == SCOPE
    assert datetime.timedelta(seconds=grant["exp"] - grant["iat"]) <= datetime.timedelta(
        seconds=120
    )
    hits = [r.headers["authorization"] for r in freg_on_maskinporten.requests]
    assert hits == ["Bearer token-1", "Bearer token-1"]


def test_a_token_about_to_expire_is_not_kept(freg_on_maskinporten, maskinporten):
    maskinporten.expires_in = 5  # shorter than the safety margin
    FolkeregisteretPopulationRegister().persons([FNR])
    FolkeregisteretPopulationRegister().persons([OTHER])
    assert len(maskinporten.grants) == 2


def test_a_refused_token_is_replaced_and_the_lookup_retried(freg_on_maskinporten, maskinporten):
    freg_on_maskinporten.add(
        f"/personer/{FNR}",
        Reply(401, {"kode": "FREG-401", "melding": "Ugyldig token"}),
        Reply(200, freg_person(FNR, first="Kari")),
    )
    person = FolkeregisteretPopulationRegister().persons([FNR])[FNR]
    assert person.first_name == "Kari"
    hits = [r.headers["authorization"] for r in freg_on_maskinporten.hits(f"/personer/{FNR}")]
    assert hits == ["Bearer token-1", "Bearer token-2"]


def test_maskinporten_refusing_the_grant_is_an_outage_with_its_explanation(
    freg_on_maskinporten, maskinporten
):
    maskinporten.refuse = Reply(
        400,
        {
            "error": "invalid_scope",
            "error_description": "Scope folkeregister:deling/x not allowed for client",
        },
    )
    with pytest.raises(RegisterUnavailable) as raised:
        FolkeregisteretPopulationRegister().persons([FNR])
    assert raised.value.register == "folkeregisteret"
    assert "Maskinporten: HTTP 400 invalid_scope Scope folkeregister:deling/x not allowed" in str(
        raised.value
    )
    assert freg_on_maskinporten.requests == []  # the register was never asked without a token
    # Nothing was cached: once Maskinporten agrees, the next lookup gets a token.
    maskinporten.refuse = None
    FolkeregisteretPopulationRegister().persons([FNR])
    assert len(maskinporten.grants) == 1


def test_a_fixed_token_wins_over_maskinporten(freg_on_maskinporten, maskinporten, settings):
    settings.FOLKEREGISTERET_TOKEN = "fixed-token"
    FolkeregisteretPopulationRegister().persons([FNR])
    assert maskinporten.grants == []
    assert freg_on_maskinporten.requests[0].headers["authorization"] == "Bearer fixed-token"


def test_a_missing_key_is_named(freg_on_maskinporten, settings):
    settings.MASKINPORTEN_PRIVATE_KEY = ""
    with pytest.raises(ImproperlyConfigured, match="MASKINPORTEN_PRIVATE_KEY"):
        FolkeregisteretPopulationRegister().persons([FNR])
