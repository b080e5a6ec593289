"""factory_boy factories for the embedded registry, with valid identifiers.

Organisation numbers and identity numbers are made with registry.identifiers' own helpers, so
every generated number passes validation. Helpers for one-off numbers:

    make_orgnr(7)                                    # the 7th valid organisation number
    make_national_id(date(1990, 5, 15))              # a fødselsnummer born that day
    make_national_id(date(1990, 5, 15), d_number=True)
    make_national_id(date(1990, 5, 15), scheme_2032_base=12)   # valid only under 2032 rules
"""

from __future__ import annotations

import datetime

import factory
from factory.django import DjangoModelFactory

from registry.identifiers import (
    national_id_with_check_digits,
    orgnr_with_check_digit,
    parse_national_id,
)
from registry.models import (
    CleaningApproval,
    Employment,
    Organisation,
    Person,
    Role,
    StaffingApproval,
)

_FIRST_BIRTH_DATE = datetime.date(1960, 1, 1)
_BIRTH_DAYS = 15000  # up to 2001: every factory person is of working age


def make_orgnr(n: int) -> str:
    """The n-th of a series of distinct valid organisation numbers (n >= 0)."""
    # Each n owns ten consecutive prefixes; the last digit has weight 2, so the ten prefixes
    # give ten different remainders and at most one of them has no valid check digit.
    for last in range(10):
        orgnr = orgnr_with_check_digit(f"{81000000 + n * 10 + last:08d}")
        if orgnr is not None:
            return orgnr
    raise AssertionError(f"no valid organisation number for {n}")


def make_national_id(
    birth_date: datetime.date,
    *,
    d_number: bool = False,
    scheme_2032_base: int = 11,
    first_individual: int = 0,
) -> str:
    """A valid fødselsnummer or D-number for the birth date, the first from first_individual."""
    day = birth_date.day + (40 if d_number else 0)
    prefix = f"{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}"
    # Individual numbers 000-499 mean born 1900-1999, 500-999 born 2000-2039.
    low, high = (0, 500) if birth_date.year < 2000 else (500, 1000)
    for individual in range(max(low, first_individual), high):
        national_id = national_id_with_check_digits(
            f"{prefix}{individual:03d}", scheme_2032_base=scheme_2032_base
        )
        if national_id is not None:
            return national_id
    raise AssertionError(f"no valid number for {birth_date}")


def _nth_national_id(n: int, *, d_number: bool = False) -> str:
    # Distinct for every n: a birth date per n, and a fresh block of individual numbers each
    # time the dates run out.
    birth_date = _FIRST_BIRTH_DATE + datetime.timedelta(days=n % _BIRTH_DAYS)
    return make_national_id(birth_date, d_number=d_number, first_individual=(n // _BIRTH_DAYS) * 20)


def _birth_date(national_id: str) -> datetime.date | None:
    return parse_national_id(national_id).birth_date


class OrganisationFactory(DjangoModelFactory[Organisation]):
    """A main unit in business: AS, registered for VAT, construction."""

    class Meta:
        model = Organisation

    orgnr = factory.Sequence(make_orgnr)
    parent = None
    name = factory.Sequence(lambda n: f"Testbygg {n} AS")
    form = "AS"
    registered_on = datetime.date(2010, 1, 1)
    vat_registered = True
    industry_code = "41.200"
    street = "Torggata 5"
    postcode = "0181"
    city = "Oslo"

    class Params:
        sub_unit = factory.Trait(
            parent=factory.SubFactory("tests.registry.factories.OrganisationFactory"),
            form="BEDR",
            name=factory.LazyAttribute(lambda o: f"{o.parent.name} avd. {o.city}"),
        )


class PersonFactory(DjangoModelFactory[Person]):
    """A person with a fødselsnummer (d_number=True for a D-number), birth date to match."""

    class Meta:
        model = Person

    class Params:
        d_number = False

    national_id = factory.LazyAttributeSequence(
        lambda o, n: _nth_national_id(n, d_number=o.d_number)
    )
    first_name = factory.Iterator(["Kari", "Ola", "Ingrid", "Lars", "Silje", "Knut"])
    last_name = factory.Iterator(["Nordmann", "Hansen", "Johansen", "Olsen", "Berg"])
    birth_date = factory.LazyAttribute(lambda o: _birth_date(o.national_id))
    id_in_use = True
    eea_citizen = True


class RoleFactory(DjangoModelFactory[Role]):
    class Meta:
        model = Role

    organisation = factory.SubFactory(OrganisationFactory)
    person = factory.SubFactory(PersonFactory)
    code = Role.Code.DAGL


class EmploymentFactory(DjangoModelFactory[Employment]):
    """An ongoing employment that started in 2020."""

    class Meta:
        model = Employment

    organisation = factory.SubFactory(OrganisationFactory)
    person = factory.SubFactory(PersonFactory)
    start = datetime.date(2020, 1, 1)
    end = None
    hired_out = False


class CleaningApprovalFactory(DjangoModelFactory[CleaningApproval]):
    """An approved entry in Renholdsregisteret (pass orgnr=unit.orgnr to tie it to a unit)."""

    class Meta:
        model = CleaningApproval
        django_get_or_create = ("orgnr",)

    # A series of its own, so a default entry never approves some other factory unit by chance.
    orgnr = factory.Sequence(lambda n: make_orgnr(400_000 + n))
    name = factory.Sequence(lambda n: f"Testrenhold {n} AS")
    status = CleaningApproval.Status.APPROVED_WITH_EMPLOYEES


class StaffingApprovalFactory(DjangoModelFactory[StaffingApproval]):
    """An approved entry in Bemanningsforetaksregisteret (pass orgnr=unit.orgnr)."""

    class Meta:
        model = StaffingApproval
        django_get_or_create = ("orgnr",)

    orgnr = factory.Sequence(lambda n: make_orgnr(600_000 + n))
    name = factory.Sequence(lambda n: f"Testbemanning {n} AS")
    approved = True
    status_text = factory.LazyAttribute(lambda o: "Godkjent" if o.approved else "Ikke godkjent")
