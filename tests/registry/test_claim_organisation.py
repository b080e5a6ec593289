"""With the real Enhetsregisteret (authorised roles API), a person who holds a key role gets
access by typing the organisation number: the portal asks the register for the unit's roles."""

from __future__ import annotations

import pytest

from hmsportal.models import User
from registry.models import RoleSeen
from tests.registry.servers import (
    ACCEPT_ENHET,
    ACCEPT_UNDERENHET,
    Reply,
    enhet,
    national_id,
    orgnr,
    rolle,
    roller,
    underenhet,
)

pytestmark = pytest.mark.django_db

UNIT = orgnr(7)
ROLES_PATH = f"/enhetsregisteret/autorisert-api/enheter/{UNIT}/roller"


def test_a_daglig_leder_claims_the_unit_and_gets_access(
    client, brreg, freg, skatt, settings
) -> None:
    settings.REGISTRY_BACKEND = "http"
    settings.ENHETSREGISTERET_TOKEN = "maskinporten-token"
    leader, stranger = national_id("010181"), national_id("020282", seed=1)
    brreg.add(f"/enheter/{UNIT}", Reply(200, enhet(UNIT)), accept=ACCEPT_ENHET)
    brreg.add(ROLES_PATH, Reply(200, roller(("DAGL", [rolle("DAGL", fnr=leader)]))), absolute=True)

    client.force_login(User.objects.create(username="stranger", national_id=stranger))
    refused = client.post("/orders/", {"orgnr": UNIT})
    assert refused.status_code == 200
    assert "Du kan ikke bestille kort for denne virksomheten" in refused.content.decode()

    client.force_login(User.objects.create(username="leader", national_id=leader))
    claimed = client.post("/orders/", {"orgnr": UNIT})
    assert claimed.status_code == 302
    assert claimed["Location"] == f"/orders/{UNIT}/"
    assert RoleSeen.objects.filter(orgnr=UNIT, national_id=leader, code="DAGL").exists()
    # The organisation list now shows it, confirmed against the register.
    assert enhet(UNIT)["navn"] in client.get("/orders/").content.decode()


def test_a_daglig_leder_can_claim_through_a_sub_unit_number(
    client, brreg, freg, skatt, settings
) -> None:
    settings.REGISTRY_BACKEND = "http"
    settings.ENHETSREGISTERET_TOKEN = "maskinporten-token"
    leader = national_id("030383", seed=2)
    sub_unit = orgnr(8)
    brreg.add(
        f"/enheter/{sub_unit}", Reply(404, {"feilmelding": "Ikke funnet"}), accept=ACCEPT_ENHET
    )
    brreg.add(
        f"/underenheter/{sub_unit}",
        Reply(200, underenhet(sub_unit, UNIT)),
        accept=ACCEPT_UNDERENHET,
    )
    brreg.add(f"/enheter/{UNIT}", Reply(200, enhet(UNIT)), accept=ACCEPT_ENHET)
    brreg.add(ROLES_PATH, Reply(200, roller(("DAGL", [rolle("DAGL", fnr=leader)]))), absolute=True)

    client.force_login(User.objects.create(username="leader", national_id=leader))
    claimed = client.post("/orders/", {"orgnr": sub_unit})
    assert claimed.status_code == 302
    assert claimed["Location"] == f"/orders/{UNIT}/"
