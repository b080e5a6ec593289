"""Fixtures of the project-level tests: a local ID-porten for the login tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from registry.datasets import registry_dataset_load
from tests.datasets import OWNER, small_dataset
from tests.hmsportal.idporten_provider import CLIENT_ID, CLIENT_SECRET, LocalIdPorten
from tests.registry.servers import FakeRegister


@pytest.fixture
def idporten(settings) -> Iterator[LocalIdPorten]:
    """A local ID-porten the portal is configured for; it logs Kari Nordmann (OWNER) in."""
    server = FakeRegister()
    provider = LocalIdPorten(server, pid=OWNER)
    settings.IDPORTEN_ISSUER = provider.issuer
    settings.IDPORTEN_CLIENT_ID = CLIENT_ID
    settings.IDPORTEN_CLIENT_SECRET = CLIENT_SECRET
    settings.IDPORTEN_ACR_VALUES = "idporten-loa-substantial"
    registry_dataset_load(dataset=small_dataset())
    yield provider
    server.stop()
