"""Folkeregisteret over HTTP, against a fake register with its documented fields."""

from __future__ import annotations

import datetime

import pytest

from registry.clients.freg import FolkeregisteretPopulationRegister
from registry.clients.http import RegisterThrottled
from registry.facts import RegisterUnavailable
from tests.registry.servers import Reply, freg_person, national_id

pytestmark = pytest.mark.django_db

FNR = national_id("150690")
DNR = national_id("150690", d_number=True, seed=3)


def test_person_with_fodselsnummer(freg):
    freg.add(f"/personer/{FNR}", Reply(200, freg_person(FNR, first="Kari", last="Nordmann")))

    person = FolkeregisteretPopulationRegister().persons([FNR])[FNR]

    assert (person.first_name, person.last_name) == ("Kari", "Nordmann")
    assert person.birth_date == datetime.date(1990, 6, 15)
    assert person.is_d_number is False
    assert person.id_in_use is True
    assert person.eea_citizen is True
    request = freg.hits(f"/personer/{FNR}")[0]
    # Data minimisation: only the parts hmsportal needs are asked for.
    assert set(request.query["part"]) == {
        "identifikasjonsnummer",
        "navn",
        "foedsel",
        "opphold",
        "statsborgerskap",
    }
    assert request.headers["authorization"] == "Bearer freg-token"


def test_active_d_number(freg):
    freg.add(f"/personer/{DNR}", Reply(200, freg_person(DNR, d_number=True)))

    person = FolkeregisteretPopulationRegister().persons([DNR])[DNR]

    assert person.is_d_number is True
    assert person.id_in_use is True


def test_ceased_d_number_is_not_in_use_since_it_ceased(freg):
    freg.add(
        f"/personer/{DNR}",
        Reply(
            200,
            freg_person(
                DNR,
                d_number=True,
                status="opphoert",
                opphoerstidspunkt="2025-04-01T10:00:00Z",
            ),
        ),
    )

    person = FolkeregisteretPopulationRegister().persons([DNR])[DNR]

    assert person.id_in_use is False
    assert person.id_inactive_since == datetime.date(2025, 4, 1)


def test_temporary_residence_permit_outside_the_eea(freg):
    freg.add(
        f"/personer/{DNR}",
        Reply(
            200,
            freg_person(
                DNR,
                d_number=True,
                statsborgerskap=["PHL"],
                opphold=[
                    {
                        "oppholdstillatelse": "midlertidig",
                        "oppholdFra": "2024-01-01",
                        "oppholdTil": "2026-12-31",
                        "erGjeldende": True,
                    }
                ],
            ),
        ),
    )

    person = FolkeregisteretPopulationRegister().persons([DNR])[DNR]

    assert person.eea_citizen is False
    assert person.permit_until == datetime.date(2026, 12, 31)


def test_eea_citizen_needs_no_permit(freg):
    freg.add(
        f"/personer/{DNR}", Reply(200, freg_person(DNR, d_number=True, statsborgerskap=["POL"]))
    )

    person = FolkeregisteretPopulationRegister().persons([DNR])[DNR]

    assert person.eea_citizen is True
    assert person.permit_until is None


def test_permanent_permit_has_no_end(freg):
    freg.add(
        f"/personer/{FNR}",
        Reply(
            200,
            freg_person(
                FNR,
                statsborgerskap=["IND"],
                opphold=[{"oppholdstillatelse": "permanent", "oppholdFra": "2019-01-01"}],
            ),
        ),
    )

    person = FolkeregisteretPopulationRegister().persons([FNR])[FNR]

    assert person.eea_citizen is False
    assert person.permit_until == datetime.date.max


def test_unknown_person_is_left_out(freg):
    freg.add(
        f"/personer/{FNR}",
        Reply(404, {"kode": "FREG-004", "melding": "Fant ikke person"}),
    )

    assert FolkeregisteretPopulationRegister().persons([FNR]) == {}


def test_bare_404_is_unavailable(freg):
    freg.add(f"/personer/{FNR}", Reply(404, "Not Found", content_type="text/plain"))

    with pytest.raises(RegisterUnavailable, match="without an error code"):
        FolkeregisteretPopulationRegister().persons([FNR])


def test_too_many_requests_carries_the_retry_delay_in_seconds(freg, settings):
    # Waiting out a 429 and asking again: tests/registry/test_throttling.py.
    settings.REGISTER_THROTTLE_RETRIES = 0
    freg.add(
        f"/personer/{FNR}",
        Reply(
            429, {"kode": "FREG-429", "melding": "For mange kall"}, headers={"Retry-After": "1500"}
        ),
    )

    with pytest.raises(RegisterThrottled) as raised:
        FolkeregisteretPopulationRegister().persons([FNR])

    assert raised.value.retry_after_seconds == 1.5
    assert isinstance(raised.value, RegisterUnavailable)
    assert len(freg.hits(f"/personer/{FNR}")) == 1


def test_invalid_number_is_not_asked(freg):
    assert FolkeregisteretPopulationRegister().persons(["12345678901"]) == {}
    assert freg.requests == []
