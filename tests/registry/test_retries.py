"""Retrying a register that has a bad moment: patiently in workers, briefly when a person waits."""

from __future__ import annotations

import pytest

from hmsportal.models import User
from registry.clients.brreg import BrregBusinessRegister
from registry.clients.waiting import person_waiting
from registry.facts import RegisterUnavailable
from tests.registry.servers import ACCEPT_ENHET, Reply, enhet, national_id, orgnr

pytestmark = pytest.mark.django_db

UNIT = orgnr(11)


def _flaky(brreg) -> None:
    brreg.add(
        f"/enheter/{UNIT}",
        Reply(503),
        Reply(503),
        Reply(200, enhet(UNIT)),
        accept=ACCEPT_ENHET,
    )


def test_a_worker_rides_out_two_failures(brreg) -> None:
    _flaky(brreg)
    assert UNIT in BrregBusinessRegister().organisations([UNIT])
    assert len(brreg.hits(f"/enheter/{UNIT}")) == 3


def test_a_person_waiting_gets_one_more_try_then_an_answer(brreg) -> None:
    _flaky(brreg)
    with person_waiting(), pytest.raises(RegisterUnavailable):
        BrregBusinessRegister().organisations([UNIT])
    assert len(brreg.hits(f"/enheter/{UNIT}")) == 2


def test_a_web_request_is_a_person_waiting(client, brreg, freg, skatt, settings) -> None:
    settings.REGISTRY_BACKEND = "http"
    settings.ENHETSREGISTERET_TOKEN = ""
    brreg.add(f"/enheter/{UNIT}/roller", Reply(503))
    client.force_login(User.objects.create(username="kari"))
    response = client.post("/orders/", {"orgnr": UNIT}, follow=True)
    assert "Enhetsregisteret svarer ikke akkurat nå" in response.content.decode()
    assert len(brreg.hits(f"/enheter/{UNIT}/roller")) == 2


def test_with_the_register_down_the_lookup_says_so_without_refusing_access(
    client, brreg, freg, skatt, settings
) -> None:
    settings.REGISTRY_BACKEND = "http"
    brreg.add(f"/enheter/{UNIT}/roller", Reply(503))
    client.force_login(User.objects.create(username="kari"))
    html = client.post("/orders/", {"orgnr": UNIT}).content.decode()
    assert "Enhetsregisteret svarer ikke akkurat nå" in html
    assert "Du kan ikke bestille kort" not in html


def test_the_organisation_list_is_a_503_page_when_the_register_is_down(
    client, brreg, freg, skatt, settings
) -> None:
    from registry.models import RoleSeen

    settings.REGISTRY_BACKEND = "http"
    settings.ENHETSREGISTERET_TOKEN = "maskinporten-token"
    user = User.objects.create(username="kari", national_id=national_id("040484", seed=4))
    RoleSeen.objects.create(orgnr=UNIT, national_id=user.national_id, code="DAGL")
    brreg.add(f"/enheter/{UNIT}", Reply(503))
    brreg.add(f"/enheter/{UNIT}/roller", Reply(503))
    brreg.add(f"/enhetsregisteret/autorisert-api/enheter/{UNIT}/roller", Reply(503), absolute=True)
    client.force_login(user)
    response = client.get("/orders/")
    assert response.status_code == 503
    assert "Registrene svarer ikke" in response.content.decode()
