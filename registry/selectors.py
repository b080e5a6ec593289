"""Reads of the registers that pages and tasks share."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Max, QuerySet

from registry.clients import business_register, employment_register, population_register
from registry.facts import (
    CleaningStatus,
    EmployeeListing,
    OrganisationFacts,
    PersonFacts,
    Requirements,
)
from registry.models import (
    CleaningApproval,
    Person,
    RegisterFileLoad,
    RegisterLookup,
    RoleSeen,
    StaffingApproval,
)

# The roles that may act for a unit (REGISTERS.md: what Norwegian public services accept).
KEY_ROLE_CODES = ("DAGL", "LEDE", "INNH", "KOMP", "DTPR", "DTSO", "BEST", "REPR")


def key_role_holders() -> QuerySet[Person]:
    """People in the embedded registry who hold a key role, with their roles (dev login)."""
    return (
        Person.objects.filter(roles__code__in=KEY_ROLE_CODES)
        .distinct()
        .prefetch_related("roles__organisation")
        .order_by("last_name", "first_name")
    )


def register_display_name(*, register: str) -> str:
    """The name people know a register by (RegisterUnavailable.register is its code)."""
    if register in RegisterLookup.Register.values:
        return str(RegisterLookup.Register(register).label)
    return register


def registers_consulted(requirements: Requirements) -> list[str]:
    """The registers a check with these requirements consults (RegisterLookup.Register).

    Every check asks Enhetsregisteret (the employer), Folkeregisteret (the person, and a
    work permit where the card type asks for one), Aa-registeret (the employment) and
    Bemanningsforetaksregisteret (DOMAIN.md rule 5: any employer may be a staffing business);
    Renholdsregisteret decides only card types that require a cleaning approval (rule 6).
    """
    R = RegisterLookup.Register
    registers = [R.ENHETSREGISTERET, R.FOLKEREGISTERET, R.EMPLOYMENT, R.STAFFING]
    if requirements.cleaning_approval:
        registers.append(R.CLEANING)
    return [str(register.value) for register in registers]


def organisations_where_key_role(*, national_id: str) -> list[str]:
    """Main units the person may act for through a role in Enhetsregisteret."""
    return business_register().organisations_with_role(national_id, KEY_ROLE_CODES)


def key_role_national_ids(*, orgnr: str) -> set[str]:
    """Identity numbers of the people who hold a key role in the unit (those Enhetsregisteret
    names by identity number: the open API gives none); RegisterUnavailable propagates."""
    return {
        role.national_id
        for role in business_register().roles(orgnr)
        if role.code in KEY_ROLE_CODES and role.national_id
    }


def person_get(*, national_id: str) -> PersonFacts | None:
    """One person from Folkeregisteret, or None; RegisterUnavailable propagates."""
    return population_register().persons([national_id]).get(national_id)


def organisation_get(*, orgnr: str) -> OrganisationFacts | None:
    """One unit from Enhetsregisteret, or None."""
    return business_register().organisations([orgnr]).get(orgnr)


def organisations_get(*, orgnrs: Iterable[str]) -> dict[str, OrganisationFacts]:
    """The units found, by organisation number."""
    return business_register().organisations(orgnrs)


def sub_units_list(*, main_orgnr: str) -> list[OrganisationFacts]:
    """The sub-units of a main unit."""
    return business_register().sub_units(main_orgnr)


def employees_list(*, main_orgnr: str) -> list[EmployeeListing]:
    """Active and future employments with the unit and its sub-units, from Aa-registeret."""
    return employment_register().employees(main_orgnr)


def cleaning_statuses(*, orgnrs: Iterable[str]) -> dict[str, CleaningStatus]:
    """Renholdsregisteret status by main unit (sub-units follow their main unit)."""
    return {
        orgnr: CleaningStatus(status)
        for orgnr, status in CleaningApproval.objects.filter(orgnr__in=list(orgnrs)).values_list(
            "orgnr", "status"
        )
    }


def staffing_approvals(*, orgnrs: Iterable[str]) -> dict[str, bool]:
    """Bemanningsforetaksregisteret approval by unit."""
    return dict(
        StaffingApproval.objects.filter(orgnr__in=list(orgnrs)).values_list("orgnr", "approved")
    )


@dataclass(frozen=True)
class RegisterHealth:
    """How a register has answered lately, for the back office."""

    register: str
    label: str
    last_ok: datetime.datetime | None
    last_failure: datetime.datetime | None
    last_failure_detail: str
    failures_last_day: int

    @property
    def is_down(self) -> bool:
        return self.last_failure is not None and (
            self.last_ok is None or self.last_failure > self.last_ok
        )


def register_health(*, now: datetime.datetime) -> list[RegisterHealth]:
    """One row per register: the latest success and failure, and failures in the last day."""
    since = now - datetime.timedelta(days=1)
    rows = []
    for register, label in RegisterLookup.Register.choices:
        lookups = RegisterLookup.objects.filter(register=register)
        ok = lookups.exclude(outcome=RegisterLookup.Outcome.FAILED).aggregate(at=Max("at"))["at"]
        failure = (
            lookups.filter(outcome=RegisterLookup.Outcome.FAILED)
            .order_by("-at")
            .values("at", "detail")
            .first()
        )
        rows.append(
            RegisterHealth(
                register=register,
                label=str(label),
                last_ok=ok,
                last_failure=failure["at"] if failure else None,
                last_failure_detail=failure["detail"] if failure else "",
                failures_last_day=lookups.filter(
                    outcome=RegisterLookup.Outcome.FAILED, at__gte=since
                ).count(),
            )
        )
    return rows


def recent_failures(*, limit: int = 50) -> list[RegisterLookup]:
    """The latest lookups a register did not answer."""
    return list(
        RegisterLookup.objects.filter(outcome=RegisterLookup.Outcome.FAILED).order_by("-at")[:limit]
    )


def file_loads(*, limit: int = 10) -> list[RegisterFileLoad]:
    """The latest loads of the registers' open data files."""
    return list(RegisterFileLoad.objects.order_by("-loaded_at")[:limit])


@dataclass(frozen=True)
class LookupsSummary:
    """How many register lookups were made about a key (a person or a unit), and the latest."""

    count: int
    latest: datetime.datetime | None


def lookups_summary(*, key: str) -> LookupsSummary:
    """The register lookups kept about a person or unit (for "what do you hold about me")."""
    if not key:
        return LookupsSummary(count=0, latest=None)
    facts = RegisterLookup.objects.filter(key=key).aggregate(count=Count("pk"), latest=Max("at"))
    return LookupsSummary(count=facts["count"], latest=facts["latest"])


def roles_seen_count(*, national_id: str) -> int:
    """How many roles in Enhetsregisteret the portal remembers for the person."""
    if not national_id:
        return 0
    return RoleSeen.objects.filter(national_id=national_id).count()
