"""What the registers say, as plain values: the input of the rules engine.

Each adapter (embedded tables or a register's HTTP API) answers in these types, so the rules
engine never knows where a fact came from.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass


class RegisterUnavailable(Exception):
    """A register did not answer (down, timed out, or answered garbage).

    Never a reason to invalidate a card or reject an order: the check is retried later.
    """

    def __init__(self, register: str, detail: str = "") -> None:
        super().__init__(f"{register}: {detail}" if detail else register)
        self.register = register
        self.detail = detail


class CleaningStatus(enum.StrEnum):
    APPROVED_WITH_EMPLOYEES = "approved_with_employees"
    APPROVED_WITHOUT_EMPLOYEES = "approved_without_employees"
    APPLICATION_PENDING = "application_pending"
    CARD_ORDER_PENDING = "card_order_pending"
    NOT_APPROVED = "not_approved"

    @property
    def is_approved(self) -> bool:
        return self in (
            CleaningStatus.APPROVED_WITH_EMPLOYEES,
            CleaningStatus.APPROVED_WITHOUT_EMPLOYEES,
        )


@dataclass(frozen=True)
class OrganisationFacts:
    """A unit in Enhetsregisteret."""

    orgnr: str
    name: str
    form: str
    parent_orgnr: str | None = None
    registered_on: datetime.date | None = None
    deleted_on: datetime.date | None = None
    bankrupt: bool = False
    under_liquidation: bool = False
    under_forced_dissolution: bool = False
    vat_registered: bool = True
    industry_code: str = ""
    street: str = ""
    postcode: str = ""
    city: str = ""

    @property
    def main_orgnr(self) -> str:
        return self.parent_orgnr or self.orgnr

    @property
    def is_staffing_business(self) -> bool:
        # NACE 78.2 (temporary employment agency) and 78.3 (other provision of labour).
        return self.industry_code.startswith(("78.2", "78.3"))


@dataclass(frozen=True)
class RoleFacts:
    orgnr: str
    national_id: str
    code: str


@dataclass(frozen=True)
class PersonFacts:
    """A person in Folkeregisteret."""

    national_id: str
    first_name: str
    last_name: str
    birth_date: datetime.date | None = None
    is_d_number: bool = False
    id_in_use: bool = True
    id_inactive_since: datetime.date | None = None
    eea_citizen: bool = True
    permit_until: datetime.date | None = None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class EmploymentFacts:
    """An employment in Aa-registeret, on the unit where it is registered."""

    workplace_orgnr: str
    main_orgnr: str
    national_id: str
    start: datetime.date
    end: datetime.date | None = None

    def covers(self, day: datetime.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class EmployeeListing:
    """An employee as shown in an employer's list (employment + the person's name)."""

    employment: EmploymentFacts
    first_name: str
    last_name: str
    birth_date: datetime.date | None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class Requirements:
    """What a card type demands of the registers beyond the common rules."""

    cleaning_approval: bool = False
    residence_permit: bool = False


@dataclass(frozen=True)
class RegisterFacts:
    """Everything the rules engine needs for one person and one employer."""

    employer: OrganisationFacts | None
    main_unit: OrganisationFacts | None
    person: PersonFacts | None
    employments: tuple[EmploymentFacts, ...] = ()
    cleaning_status: CleaningStatus | None = None
    staffing_approved: bool | None = None
