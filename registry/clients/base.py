"""The interfaces every register adapter implements.

Each register has two implementations: the embedded one (the registry app's own tables) and
one that speaks the register's real API. settings.REGISTRY_BACKEND chooses.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from registry.facts import (
    EmployeeListing,
    EmploymentFacts,
    OrganisationFacts,
    PersonFacts,
    RoleFacts,
)


class BusinessRegister(Protocol):
    """Enhetsregisteret: units, sub-units and roles."""

    def organisations(self, orgnrs: Iterable[str]) -> dict[str, OrganisationFacts]:
        """The units found, by organisation number; unknown or removed ones are left out."""
        ...

    def sub_units(self, main_orgnr: str) -> list[OrganisationFacts]: ...

    def roles(self, orgnr: str) -> list[RoleFacts]: ...

    def organisations_with_role(self, national_id: str, codes: Iterable[str]) -> list[str]:
        """Main units in which the person holds one of the given roles."""
        ...


class EmploymentRegister(Protocol):
    """Aa-registeret: employments, on the unit where they are registered."""

    def employments(
        self, pairs: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], list[EmploymentFacts]]:
        """Employments by (national id, main unit's orgnr)."""
        ...

    def employees(self, main_orgnr: str) -> list[EmployeeListing]:
        """Active and future employments with the unit or any of its sub-units."""
        ...


class PopulationRegister(Protocol):
    """Folkeregisteret: persons by fødselsnummer or D-number."""

    def persons(self, national_ids: Iterable[str]) -> dict[str, PersonFacts]: ...
