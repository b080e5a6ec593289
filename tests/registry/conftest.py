"""Fixtures for the register adapters: fake register servers and the settings pointing at them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.registry.servers import (
    ACCEPT_ENHET_GZIP,
    ACCEPT_UNDERENHET_GZIP,
    FakeRegister,
    enhet,
    gzip_reply,
    orgnr,
    underenhet,
)

ENHETSREGISTERET_PREFIX = "/enhetsregisteret/api"
FOLKEREGISTERET_PREFIX = "/folkeregisteret/offentlig-med-hjemmel/v1"
ARBEIDSFORHOLD_PREFIX = "/api/arbeidsforholdioppdrag/v1"
AAREG_PREFIX = "/aareg/api/v2"
BULK_MAIN_UNITS = [enhet(orgnr(i), f"FIRMA {i} AS") for i in range(10)]
BULK_SUB_UNITS = [underenhet(orgnr(100 + i), orgnr(i), f"FIRMA {i} AS AVD") for i in range(4)]


@pytest.fixture(autouse=True)
def _register_settings(settings) -> Iterator[None]:
    """Retries without waiting (tests/conftest.py gives every test a fresh cache)."""
    settings.REGISTER_RETRY_BACKOFF_SECONDS = 0
    settings.REGISTER_RETRIES = 2
    settings.REGISTER_TIMEOUT_SECONDS = 5.0
    settings.REGISTER_CACHE_SECONDS = 300
    yield


@pytest.fixture
def fake_register() -> Iterator[Callable[[str], FakeRegister]]:
    servers: list[FakeRegister] = []

    def start(prefix: str = "") -> FakeRegister:
        server = FakeRegister(prefix)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def brreg(fake_register, settings) -> FakeRegister:
    server = fake_register(ENHETSREGISTERET_PREFIX)
    settings.ENHETSREGISTERET_URL = server.url
    settings.ENHETSREGISTERET_TOKEN = ""
    return server


@pytest.fixture
def freg(fake_register, settings) -> FakeRegister:
    server = fake_register(FOLKEREGISTERET_PREFIX)
    settings.FOLKEREGISTERET_URL = server.url
    settings.FOLKEREGISTERET_TOKEN = "freg-token"
    return server


@pytest.fixture
def skatt(fake_register, settings) -> FakeRegister:
    server = fake_register(ARBEIDSFORHOLD_PREFIX)
    settings.ARBEIDSFORHOLD_URL = server.url
    settings.ARBEIDSFORHOLD_TOKEN = "arbeidsforhold-token"
    return server


@pytest.fixture
def nav(fake_register, settings) -> FakeRegister:
    server = fake_register(AAREG_PREFIX)
    settings.AAREG_URL = server.url
    settings.AAREG_TOKEN = "aareg-token"
    return server


@pytest.fixture
def files(fake_register) -> FakeRegister:
    """Arbeidstilsynet's open data files."""
    return fake_register("/opendata")


@pytest.fixture
def http_backend(settings, brreg, freg, skatt) -> None:
    settings.REGISTRY_BACKEND = "http"


@pytest.fixture
def bulk_files(brreg, settings) -> FakeRegister:
    """Enhetsregisteret's bulk files: ten main units, four sub-units (small batches)."""
    settings.REGISTRY_BACKEND = "http"
    settings.ENHETSREGISTERET_COPY_BATCH_SIZE = 3
    brreg.add("/enheter/lastned", gzip_reply(BULK_MAIN_UNITS), accept=ACCEPT_ENHET_GZIP)
    brreg.add("/underenheter/lastned", gzip_reply(BULK_SUB_UNITS), accept=ACCEPT_UNDERENHET_GZIP)
    return brreg
