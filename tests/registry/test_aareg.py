"""Aa-registeret over Skatteetaten's Arbeidsforhold i oppdrag API and NAV's employee list."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from registry.clients.aareg import EMPLOYMENT_PATH, SkatteetatenEmploymentRegister
from registry.facts import EmploymentFacts, RegisterUnavailable
from tests.registry.servers import Reply, freg_person, national_id, orgnr

pytestmark = pytest.mark.django_db

EMPLOYER = orgnr(1)
WORKPLACE = orgnr(2)
WORKER = national_id("150690")
COLLEAGUE = national_id("030385", seed=2)


def _path(employer: str, worker: str) -> str:
    return EMPLOYMENT_PATH.format(orgnr=employer, national_id=worker)


def test_active_employment_with_periods(skatt):
    skatt.add(
        _path(EMPLOYER, WORKER),
        Reply(200, {"aktiv": "JA", "perioder": [{"startdato": "2025-03-01", "sluttdato": None}]}),
    )

    found = SkatteetatenEmploymentRegister().employments([(WORKER, EMPLOYER)])

    assert found == {
        (WORKER, EMPLOYER): [
            EmploymentFacts(
                workplace_orgnr=EMPLOYER,
                main_orgnr=EMPLOYER,
                national_id=WORKER,
                start=datetime.date(2025, 3, 1),
                end=None,
            )
        ]
    }
    request = skatt.hits(_path(EMPLOYER, WORKER))[0]
    assert request.headers["authorization"] == "Bearer arbeidsforhold-token"


def test_ended_employment_answers_nei_with_its_periods(skatt):
    skatt.add(
        _path(EMPLOYER, WORKER),
        Reply(
            200,
            {
                "aktiv": "NEI",
                "perioder": [
                    {"startdato": "2023-10-04", "sluttdato": "2023-10-11"},
                    {"startdato": "2023-10-17", "sluttdato": "2023-10-20"},
                ],
            },
        ),
    )

    employments = SkatteetatenEmploymentRegister().employments([(WORKER, EMPLOYER)])[
        (WORKER, EMPLOYER)
    ]

    assert [(e.start, e.end) for e in employments] == [
        (datetime.date(2023, 10, 4), datetime.date(2023, 10, 11)),
        (datetime.date(2023, 10, 17), datetime.date(2023, 10, 20)),
    ]
    assert not any(e.covers(timezone.localdate()) for e in employments)


def test_error_007_with_404_means_no_employment(skatt):
    skatt.add(
        _path(EMPLOYER, WORKER),
        Reply(
            404,
            {
                "kode": "ARBEIDSFORHOLD-007",
                "melding": "Fant ikke arbeidsforhold mellom angitt arbeidstaker og arbeidsgiver",
                "korrelasjonsid": "13a865f5-28f9-47db-9abd-ab78977c79fe",
            },
        ),
    )

    assert SkatteetatenEmploymentRegister().employments([(WORKER, EMPLOYER)]) == {
        (WORKER, EMPLOYER): []
    }


def test_unknown_url_404_is_unavailable_not_no_employment(skatt):
    skatt.add(
        _path(EMPLOYER, WORKER),
        Reply(404, {"kode": "ARBEIDSFORHOLD-003", "melding": "Ukjent url benyttet."}),
    )

    with pytest.raises(RegisterUnavailable, match="ARBEIDSFORHOLD-003"):
        SkatteetatenEmploymentRegister().employments([(WORKER, EMPLOYER)])


def test_backend_error_is_unavailable(skatt):
    skatt.add(
        _path(EMPLOYER, WORKER),
        Reply(500, {"kode": "ARBEIDSFORHOLD-002", "melding": "Uventet feil"}),
    )

    with pytest.raises(RegisterUnavailable, match="ARBEIDSFORHOLD-002") as raised:
        SkatteetatenEmploymentRegister().employments([(WORKER, EMPLOYER)])

    assert raised.value.register == "aa_registeret"


def test_missing_base_url_is_a_configuration_error(settings):
    settings.ARBEIDSFORHOLD_URL = ""

    with pytest.raises(ImproperlyConfigured, match="ARBEIDSFORHOLD_URL"):
        SkatteetatenEmploymentRegister()


def test_employees_come_from_nav_with_names_from_folkeregisteret(skatt, nav, freg):
    today = timezone.localdate()
    nav.add(
        "/arbeidsforhold",
        Reply(
            200,
            {
                "arbeidsforhold": [
                    {
                        "id": "a1",
                        "type": {"kode": "ordinaertArbeidsforhold"},
                        "arbeidstaker": {"ident": WORKER},
                        "arbeidssted": {"type": "Underenhet", "ident": WORKPLACE},
                        "opplysningspliktig": {"type": "Hovedenhet", "ident": EMPLOYER},
                        "ansettelsesperiode": {"startdato": "2024-01-01", "sluttdato": None},
                        "permisjoner": [],
                    },
                    {
                        "id": "a2",
                        "type": {"kode": "ordinaertArbeidsforhold"},
                        "arbeidstaker": {"ident": COLLEAGUE},
                        "arbeidssted": {"type": "Underenhet", "ident": WORKPLACE},
                        "opplysningspliktig": {"type": "Hovedenhet", "ident": EMPLOYER},
                        "ansettelsesperiode": {
                            "startdato": (today + datetime.timedelta(days=10)).isoformat()
                        },
                        "permisjoner": [],
                    },
                    {
                        "id": "a3",
                        "arbeidstaker": {"ident": COLLEAGUE},
                        "arbeidssted": {"type": "Underenhet", "ident": WORKPLACE},
                        "opplysningspliktig": {"type": "Hovedenhet", "ident": EMPLOYER},
                        "ansettelsesperiode": {
                            "startdato": "2020-01-01",
                            "sluttdato": "2021-01-01",
                        },
                    },
                ]
            },
        ),
    )
    freg.add(f"/personer/{WORKER}", Reply(200, freg_person(WORKER, first="Kari", last="Nordmann")))
    freg.add(f"/personer/{COLLEAGUE}", Reply(200, freg_person(COLLEAGUE, first="Ali", last="Berg")))

    listings = SkatteetatenEmploymentRegister().employees(EMPLOYER)

    assert [(x.full_name, x.employment.workplace_orgnr) for x in listings] == [
        ("Ali Berg", WORKPLACE),
        ("Kari Nordmann", WORKPLACE),
    ]
    assert all(x.employment.main_orgnr == EMPLOYER for x in listings)
    request = nav.hits("/arbeidsforhold")[0]
    assert request.param("opplysningspliktig") == EMPLOYER
    assert request.headers["authorization"] == "Bearer aareg-token"
