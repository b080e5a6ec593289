"""Enhetsregisteret over HTTP, against a fake register that speaks the documented API."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from registry.clients.aareg import EMPLOYMENT_PATH
from registry.clients.brreg import BrregBusinessRegister
from registry.facts import RegisterUnavailable, Requirements
from registry.models import RegisterLookup, RoleSeen
from registry.rules import Purpose
from registry.services import register_check, roles_refresh
from tests.registry.servers import (
    ACCEPT_ENHET,
    ACCEPT_ROLLE,
    ACCEPT_UNDERENHET,
    Reply,
    closed_port_url,
    enhet,
    freg_person,
    national_id,
    orgnr,
    rolle,
    roller,
    underenhet,
)

pytestmark = pytest.mark.django_db

MAIN = orgnr(1)
SUB = orgnr(2)
OTHER = orgnr(3)


def test_main_unit_is_mapped_from_enhet_v2(brreg):
    brreg.add(f"/enheter/{MAIN}", Reply(200, enhet(MAIN)), accept=ACCEPT_ENHET)

    unit = BrregBusinessRegister().organisations([MAIN])[MAIN]

    assert unit.name == "BYGG OG RENHOLD AS"
    assert unit.form == "AS"
    assert unit.parent_orgnr is None
    assert unit.registered_on == datetime.date(2015, 3, 2)
    assert unit.deleted_on is None
    assert unit.vat_registered is True
    assert unit.industry_code == "41.200"
    assert (unit.street, unit.postcode, unit.city) == ("Storgata 1, 2. etasje", "0155", "OSLO")
    assert not (unit.bankrupt or unit.under_liquidation or unit.under_forced_dissolution)
    assert brreg.hits(f"/underenheter/{MAIN}") == []


def test_status_flags_are_mapped(brreg):
    brreg.add(
        f"/enheter/{MAIN}",
        Reply(
            200,
            enhet(
                MAIN,
                konkurs=True,
                underAvvikling=True,
                underTvangsavviklingEllerTvangsopplosning=True,
                registrertIMvaregisteret=False,
            ),
        ),
        accept=ACCEPT_ENHET,
    )

    unit = BrregBusinessRegister().organisations([MAIN])[MAIN]

    assert unit.bankrupt and unit.under_liquidation and unit.under_forced_dissolution
    assert unit.vat_registered is False


def test_sub_unit_is_found_after_enheter_answers_404(brreg):
    brreg.add(f"/enheter/{SUB}", Reply(404, {"status": 404, "error": "Not Found"}))
    brreg.add(f"/underenheter/{SUB}", Reply(200, underenhet(SUB, MAIN)), accept=ACCEPT_UNDERENHET)

    unit = BrregBusinessRegister().organisations([SUB])[SUB]

    assert unit.parent_orgnr == MAIN
    assert unit.main_orgnr == MAIN
    assert unit.form == "BEDR"
    assert (unit.street, unit.postcode, unit.city) == ("Bryggen 3", "5003", "BERGEN")


def test_closed_sub_unit_is_deleted_on_its_nedleggelsesdato(brreg):
    brreg.add(f"/enheter/{SUB}", Reply(404))
    brreg.add(
        f"/underenheter/{SUB}",
        Reply(200, underenhet(SUB, MAIN, nedleggelsesdato="2025-09-30")),
        accept=ACCEPT_UNDERENHET,
    )

    unit = BrregBusinessRegister().organisations([SUB])[SUB]

    assert unit.deleted_on == datetime.date(2025, 9, 30)


def test_deleted_unit_answering_200_with_slettedato_is_deleted(brreg):
    brreg.add(
        f"/enheter/{MAIN}",
        Reply(200, {"organisasjonsnummer": MAIN, "slettedato": "2024-02-01"}),
        accept=ACCEPT_ENHET,
    )

    unit = BrregBusinessRegister().organisations([MAIN])[MAIN]

    assert unit.deleted_on == datetime.date(2024, 2, 1)


def test_removed_unit_answering_410_is_reported_deleted(brreg):
    brreg.add(
        f"/enheter/{MAIN}",
        Reply(410, {"organisasjonsnummer": MAIN, "slettedato": "2023-11-20"}),
        accept=ACCEPT_ENHET,
    )

    found = BrregBusinessRegister().organisations([MAIN])

    assert found[MAIN].deleted_on == datetime.date(2023, 11, 20)
    assert brreg.hits(f"/underenheter/{MAIN}") == []


def test_unknown_unit_is_left_out(brreg):
    brreg.add(f"/enheter/{MAIN}", Reply(404, {"status": 404}))
    brreg.add(f"/underenheter/{MAIN}", Reply(404, {"status": 404}))

    assert BrregBusinessRegister().organisations([MAIN]) == {}
    assert len(brreg.hits(f"/underenheter/{MAIN}")) == 1


def test_malformed_number_is_not_asked(brreg):
    assert BrregBusinessRegister().organisations(["123456789", "abc"]) == {}
    assert brreg.requests == []


def test_a_register_that_refuses_our_accept_header_is_unavailable(brreg):
    brreg.add(f"/enheter/{MAIN}", Reply(200, enhet(MAIN)), accept="application/vnd.brreg.v9+json")

    with pytest.raises(RegisterUnavailable, match="406"):
        BrregBusinessRegister().organisations([MAIN])


def test_sub_units_are_listed_by_their_main_unit(brreg):
    def search(request):
        assert request.param("overordnetEnhet") == MAIN
        page = int(request.param("page") or 0)
        units = (
            [underenhet(SUB, MAIN, name="B AVD")]
            if page == 0
            else [underenhet(OTHER, MAIN, name="A AVD")]
        )
        return Reply(
            200,
            {
                "_embedded": {"underenheter": units},
                "page": {"size": 1, "totalElements": 2, "totalPages": 2, "number": page},
            },
        )

    brreg.add("/underenheter", responder=search, accept=ACCEPT_UNDERENHET)

    units = BrregBusinessRegister().sub_units(MAIN)

    assert [(u.orgnr, u.parent_orgnr) for u in units] == [(OTHER, MAIN), (SUB, MAIN)]


# --- Roles ---------------------------------------------------------------------------------


def test_open_roles_drop_resigned_deregistered_and_unit_roles(brreg):
    brreg.add(
        f"/enheter/{MAIN}/roller",
        Reply(
            200,
            roller(
                ("DAGL", [rolle("DAGL")]),
                (
                    "STYR",
                    [
                        rolle("LEDE"),
                        rolle("MEDL", fratraadt=True),
                        rolle("VARA", avregistrert=True),
                    ],
                ),
                ("REVI", [rolle("REVI", enhet_orgnr=OTHER)]),
            ),
        ),
        accept=ACCEPT_ROLLE,
    )

    roles = BrregBusinessRegister().roles(MAIN)

    assert sorted(r.code for r in roles) == ["DAGL", "LEDE"]
    # The open endpoint has birth dates and names only, never identity numbers.
    assert {r.national_id for r in roles} == {""}


def test_authorised_roles_carry_identity_numbers_and_are_remembered(brreg, settings):
    settings.ENHETSREGISTERET_TOKEN = "maskinporten-token"
    settings.REGISTRY_BACKEND = "http"
    daglig_leder = national_id("010181")
    brreg.add(
        f"/enhetsregisteret/autorisert-api/enheter/{MAIN}/roller",
        Reply(
            200,
            roller(
                ("DAGL", [rolle("DAGL", fnr=daglig_leder)]),
                ("STYR", [rolle("LEDE", fnr=national_id("020282", seed=1), fratraadt=True)]),
            ),
        ),
        accept=ACCEPT_ROLLE,
        absolute=True,
    )

    roles = BrregBusinessRegister().roles(MAIN)

    assert [(r.code, r.national_id) for r in roles] == [("DAGL", daglig_leder)]
    request = brreg.hits(f"/enhetsregisteret/autorisert-api/enheter/{MAIN}/roller", absolute=True)
    assert request[0].headers["authorization"] == "Bearer maskinporten-token"
    # Looking up roles writes nothing; claiming the unit records the roles seen.
    assert not RoleSeen.objects.exists()
    roles_refresh(orgnr=MAIN)
    assert list(RoleSeen.objects.values_list("orgnr", "national_id", "code")) == [
        (MAIN, daglig_leder, "DAGL")
    ]


def test_organisations_with_role_are_confirmed_against_the_register(brreg, settings):
    settings.ENHETSREGISTERET_TOKEN = "maskinporten-token"
    person = national_id("010181")
    RoleSeen.objects.create(orgnr=MAIN, national_id=person, code="DAGL")
    RoleSeen.objects.create(orgnr=OTHER, national_id=person, code="DAGL")
    path = "/enhetsregisteret/autorisert-api/enheter/{}/roller"
    brreg.add(
        path.format(MAIN),
        Reply(200, roller(("DAGL", [rolle("DAGL", fnr=person)]))),
        absolute=True,
    )
    # The person has left OTHER since the role was seen.
    brreg.add(
        path.format(OTHER),
        Reply(200, roller(("DAGL", [rolle("DAGL", fnr=person, fratraadt=True)]))),
        absolute=True,
    )

    found = BrregBusinessRegister().organisations_with_role(person, ["DAGL", "LEDE"])

    assert found == [MAIN]


def test_organisations_with_role_without_token_is_empty(brreg):
    RoleSeen.objects.create(orgnr=MAIN, national_id=national_id("010181"), code="DAGL")

    assert BrregBusinessRegister().organisations_with_role(national_id("010181"), ["DAGL"]) == []
    assert brreg.requests == []


# --- Outages, retries and the cache --------------------------------------------------------


def test_register_down_is_unavailable(settings):
    settings.ENHETSREGISTERET_URL = closed_port_url()

    with pytest.raises(RegisterUnavailable) as raised:
        BrregBusinessRegister().organisations([MAIN])

    assert raised.value.register == "enhetsregisteret"
    assert "could not connect" in raised.value.detail


def test_register_too_slow_is_unavailable(brreg, settings):
    settings.REGISTER_TIMEOUT_SECONDS = 0.05
    settings.REGISTER_RETRIES = 1
    brreg.add(f"/enheter/{MAIN}", Reply(200, enhet(MAIN), stall=True))

    with pytest.raises(RegisterUnavailable, match="no answer within"):
        BrregBusinessRegister().organisations([MAIN])

    assert len(brreg.hits(f"/enheter/{MAIN}")) == 2


def test_server_error_then_success_is_retried(brreg):
    brreg.add(
        f"/enheter/{MAIN}",
        Reply(500, {"error": "Internal Server Error"}),
        Reply(200, enhet(MAIN)),
        accept=ACCEPT_ENHET,
    )

    assert MAIN in BrregBusinessRegister().organisations([MAIN])
    assert len(brreg.hits(f"/enheter/{MAIN}")) == 2


def test_lasting_server_error_is_unavailable_after_the_retries(brreg):
    brreg.add(f"/enheter/{MAIN}", Reply(503, "Service Unavailable", content_type="text/plain"))

    with pytest.raises(RegisterUnavailable, match="HTTP 503"):
        BrregBusinessRegister().organisations([MAIN])

    assert len(brreg.hits(f"/enheter/{MAIN}")) == 3


def test_garbage_instead_of_json_is_unavailable(brreg):
    brreg.add(f"/enheter/{MAIN}", Reply(200, "<html>maintenance</html>", content_type="text/html"))

    with pytest.raises(RegisterUnavailable, match="not JSON"):
        BrregBusinessRegister().organisations([MAIN])


def test_json_that_is_not_a_unit_is_unavailable(brreg):
    brreg.add(f"/enheter/{MAIN}", Reply(200, ["not", "a", "unit"]))

    with pytest.raises(RegisterUnavailable, match="not a unit"):
        BrregBusinessRegister().organisations([MAIN])


def test_answers_are_cached_across_adapters(brreg):
    brreg.add(f"/enheter/{MAIN}", Reply(200, enhet(MAIN)), accept=ACCEPT_ENHET)
    brreg.add(f"/enheter/{OTHER}", Reply(404))
    brreg.add(f"/underenheter/{OTHER}", Reply(404))

    first = BrregBusinessRegister().organisations([MAIN, OTHER])
    second = BrregBusinessRegister().organisations([MAIN, OTHER])

    assert first == second
    assert MAIN in second and OTHER not in second
    assert len(brreg.hits(f"/enheter/{MAIN}")) == 1
    assert len(brreg.hits(f"/underenheter/{OTHER}")) == 1


def test_failures_are_not_cached(brreg, settings):
    settings.REGISTER_RETRIES = 0
    brreg.add(f"/enheter/{MAIN}", Reply(502), Reply(200, enhet(MAIN)))

    with pytest.raises(RegisterUnavailable):
        BrregBusinessRegister().organisations([MAIN])
    assert MAIN in BrregBusinessRegister().organisations([MAIN])


def test_cache_can_be_turned_off(brreg, settings):
    settings.REGISTER_CACHE_SECONDS = 0
    brreg.add(f"/enheter/{MAIN}", Reply(200, enhet(MAIN)))

    BrregBusinessRegister().organisations([MAIN])
    BrregBusinessRegister().organisations([MAIN])

    assert len(brreg.hits(f"/enheter/{MAIN}")) == 2


# --- End to end: a register check over HTTP ------------------------------------------------


def _registers_for_a_worker(brreg, freg, skatt, *, bankrupt: bool) -> tuple[str, str]:
    worker = national_id("150690")
    brreg.add(f"/enheter/{SUB}", Reply(404))
    brreg.add(f"/underenheter/{SUB}", Reply(200, underenhet(SUB, MAIN)), accept=ACCEPT_UNDERENHET)
    brreg.add(f"/enheter/{MAIN}", Reply(200, enhet(MAIN, konkurs=bankrupt)), accept=ACCEPT_ENHET)
    freg.add(f"/personer/{worker}", Reply(200, freg_person(worker)))
    skatt.add(
        EMPLOYMENT_PATH.format(orgnr=MAIN, national_id=worker),
        Reply(200, {"aktiv": "JA", "perioder": [{"startdato": "2025-03-01", "sluttdato": None}]}),
    )
    return worker, SUB


@pytest.mark.parametrize("bankrupt", [False, True])
def test_register_check_over_http(http_backend, brreg, freg, skatt, bankrupt):
    worker, employer = _registers_for_a_worker(brreg, freg, skatt, bankrupt=bankrupt)

    verdict = register_check(
        national_id=worker,
        orgnr=employer,
        requirements=Requirements(),
        on=timezone.localdate(),
        purpose=Purpose.ORDER,
    )

    if bankrupt:
        assert verdict.eligible is False
        assert verdict.reason_codes == ["employer_bankrupt"]
    else:
        assert verdict.eligible is True, verdict.reason_codes
        assert verdict.employment is not None
        assert verdict.employment.main_orgnr == MAIN
    outcomes = set(RegisterLookup.objects.values_list("register", "key", "outcome"))
    assert ("enhetsregisteret", SUB, "found") in outcomes
    assert ("enhetsregisteret", MAIN, "found") in outcomes
    assert ("folkeregisteret", worker, "found") in outcomes
    assert ("aa_registeret", worker, "found") in outcomes


def test_register_check_of_a_removed_employer_says_deleted(http_backend, brreg, freg, skatt):
    worker = national_id("150690")
    brreg.add(
        f"/enheter/{MAIN}",
        Reply(410, {"organisasjonsnummer": MAIN, "slettedato": "2024-05-02"}),
        accept=ACCEPT_ENHET,
    )
    freg.add(f"/personer/{worker}", Reply(200, freg_person(worker)))
    skatt.add(
        EMPLOYMENT_PATH.format(orgnr=MAIN, national_id=worker),
        Reply(404, {"kode": "ARBEIDSFORHOLD-007", "melding": "Fant ikke arbeidsforhold"}),
    )

    verdict = register_check(
        national_id=worker,
        orgnr=MAIN,
        requirements=Requirements(),
        on=timezone.localdate(),
        purpose=Purpose.RECHECK,
    )

    assert verdict.eligible is False
    assert "employer_deleted" in verdict.reason_codes
