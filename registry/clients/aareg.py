"""Employments (Aa-registeret) over Skatteetaten's and NAV's APIs.

Whether a person is employed by an employer is asked of Skatteetaten's "Arbeidsforhold i
oppdrag" API, which the HMS card scheme has its own access package for
(`arbeidstilsynetHmsKort`, Maskinporten scope `skatteetaten:arbeidsforhold`). The list of an
employer's employees follows NAV's Aa-registeret shape, from AAREG_URL. Both take
Maskinporten tokens (registry/clients/maskinporten.py; a fixed ARBEIDSFORHOLD_TOKEN or
AAREG_TOKEN wins when set).

REGISTERS.md documents no change events for employments (neither API offers a feed in the
public material), so the nightly re-check asks about every card's employment, once a night:
any employment may have ended. Should an employment event feed be confirmed, follow
registry/person_copy.py's pattern, with a full sweep over a number of nights.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from registry.clients.freg import FolkeregisteretPopulationRegister
from registry.clients.http import RegisterClient, ask_each, error_code, setting
from registry.clients.maskinporten import BearerToken
from registry.facts import EmployeeListing, EmploymentFacts, RegisterUnavailable
from registry.models import RegisterLookup

REGISTER = RegisterLookup.Register.EMPLOYMENT.value

# ARBEIDSFORHOLD-007 with HTTP 404: no employment between the worker and the employer.
NO_EMPLOYMENT = "ARBEIDSFORHOLD-007"


# --- Unconfirmed (REGISTERS.md): where the two questions are asked. ------------------------
# Skatteetaten publishes the exact path only in its OpenAPI description; this assumes the
# access package and both numbers in the path, below ARBEIDSFORHOLD_URL.
EMPLOYMENT_PATH = "/arbeidstilsynetHmsKort/arbeidsgiver/{orgnr}/arbeidstaker/{national_id}"
# NAV's list of an employer's employments is assumed to be a REST resource below AAREG_URL,
# filtered by the main unit (opplysningspliktig) and status, answering {"arbeidsforhold": […]}.
EMPLOYEES_PATH = "/arbeidsforhold"


def _employees_params(main_orgnr: str) -> dict[str, str]:
    return {"opplysningspliktig": main_orgnr, "arbeidsforholdstatus": "AKTIV,FREMTIDIG"}


# ------------------------------------------------------------------------------------------


def _date(value: Any) -> datetime.date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.date.fromisoformat(value[:10])
    except ValueError:
        return None


def employment_periods(body: Any, *, national_id: str, main_orgnr: str) -> list[EmploymentFacts]:
    """Map {"aktiv": "JA"|"NEI", "perioder": [{startdato, sluttdato}]} to employments.

    The periods are trusted over "aktiv": an ended employment answers NEI with its periods
    (the rules engine then says employment_ended), a pre-registered one has a future start.
    The API names the employer only, so the workplace is the main unit.
    """
    if not isinstance(body, dict) or not isinstance(body.get("perioder", []), list):
        raise RegisterUnavailable(REGISTER, "the answer is not a list of periods")
    employments = []
    for period in body.get("perioder") or []:
        start = _date(period.get("startdato")) if isinstance(period, dict) else None
        if start is None:
            raise RegisterUnavailable(REGISTER, "a period without a start date")
        employments.append(
            EmploymentFacts(
                workplace_orgnr=main_orgnr,
                main_orgnr=main_orgnr,
                national_id=national_id,
                start=start,
                end=_date(period.get("sluttdato")),
            )
        )
    if not employments and body.get("aktiv") == "JA":
        # Active but without periods: take it as running from today, open-ended.
        employments.append(
            EmploymentFacts(
                workplace_orgnr=main_orgnr,
                main_orgnr=main_orgnr,
                national_id=national_id,
                start=timezone.localdate(),
            )
        )
    return employments


class SkatteetatenEmploymentRegister:
    """Aa-registeret: one question per (person, employer), the employee list from NAV."""

    def __init__(self) -> None:
        base_url = str(setting("ARBEIDSFORHOLD_URL", ""))
        if not base_url:
            raise ImproperlyConfigured(
                "REGISTRY_BACKEND=http needs ARBEIDSFORHOLD_URL (see README.md)."
            )
        self.client = RegisterClient(
            register=REGISTER,
            base_url=base_url,
            token=BearerToken.from_settings(
                fixed_from="ARBEIDSFORHOLD_TOKEN", scope_from="ARBEIDSFORHOLD_SCOPE"
            ),
        )

    def employments(
        self, pairs: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], list[EmploymentFacts]]:
        return ask_each(pairs, self._employment)

    def _employment(self, pair: tuple[str, str]) -> list[EmploymentFacts]:
        national_id, main_orgnr = pair
        answer = self.client.get_json(
            EMPLOYMENT_PATH.format(orgnr=main_orgnr, national_id=national_id),
            answers=(200, 404),
        )
        if answer.status == 404:
            # Only the register's own "no employment" is an answer; ARBEIDSFORHOLD-003
            # (unknown URL) or a bare 404 means we asked in the wrong place.
            if error_code(answer.body) != NO_EMPLOYMENT:
                raise RegisterUnavailable(
                    REGISTER, f"HTTP 404 {error_code(answer.body) or 'without error code'}"
                )
            return []
        return employment_periods(answer.body, national_id=national_id, main_orgnr=main_orgnr)

    def employees(self, main_orgnr: str) -> list[EmployeeListing]:
        base_url = str(setting("AAREG_URL", ""))
        if not base_url:
            raise RegisterUnavailable(REGISTER, "AAREG_URL is not configured")
        client = RegisterClient(
            register=REGISTER,
            base_url=base_url,
            token=BearerToken.from_settings(fixed_from="AAREG_TOKEN", scope_from="AAREG_SCOPE"),
        )
        answer = client.get_json(EMPLOYEES_PATH, params=_employees_params(main_orgnr))
        body = answer.body
        items = body.get("arbeidsforhold") if isinstance(body, dict) else body
        if not isinstance(items, list):
            raise RegisterUnavailable(REGISTER, "the answer is not a list of employments")
        today = timezone.localdate()
        employments = [
            e
            for e in (_nav_employment(item, main_orgnr) for item in items)
            if e is not None and (e.end is None or e.end >= today)
        ]
        # Names come from Folkeregisteret: Aa-registeret holds identity numbers only.
        persons = FolkeregisteretPopulationRegister().persons({e.national_id for e in employments})
        listings = []
        for employment in employments:
            person = persons.get(employment.national_id)
            listings.append(
                EmployeeListing(
                    employment=employment,
                    first_name=person.first_name if person else "",
                    last_name=person.last_name if person else "",
                    birth_date=person.birth_date if person else None,
                )
            )
        return sorted(listings, key=lambda x: (x.last_name, x.first_name, x.employment.start))


def _nav_employment(item: Any, main_orgnr: str) -> EmploymentFacts | None:
    """One arbeidsforhold in NAV's shape; None when it is not this employer's or has no start."""
    if not isinstance(item, dict):
        return None
    worker = item.get("arbeidstaker") or {}
    workplace = item.get("arbeidssted") or {}
    reporter = item.get("opplysningspliktig") or {}
    period = item.get("ansettelsesperiode") or {}
    national_id = worker.get("ident")
    start = _date(period.get("startdato"))
    owner = reporter.get("ident") or main_orgnr
    if not national_id or start is None or owner != main_orgnr:
        return None
    return EmploymentFacts(
        workplace_orgnr=str(workplace.get("ident") or main_orgnr),
        main_orgnr=main_orgnr,
        national_id=str(national_id),
        start=start,
        end=_date(period.get("sluttdato")),
    )
