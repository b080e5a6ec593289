"""seed_demo: the demo dataset has every case the portal must show, and loads idempotently."""

from __future__ import annotations

import datetime
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, Q
from django.utils import timezone
from stdnum.no import fodselsnummer

from registry.datasets import registry_dataset_load
from registry.demo import demo_dataset, key_role_holders, synthetic_dataset
from registry.facts import Requirements
from registry.identifiers import IdentifierKind, is_valid_orgnr, parse_national_id
from registry.models import (
    CleaningApproval,
    Employment,
    Organisation,
    Person,
    Role,
    StaffingApproval,
)
from registry.rules import Purpose
from registry.selectors import KEY_ROLE_CODES
from registry.services import register_check

pytestmark = pytest.mark.django_db

MODELS = (Organisation, Person, Role, Employment, CleaningApproval, StaffingApproval)
CONSTRUCTION = Requirements()
CLEANING = Requirements(cleaning_approval=True, residence_permit=True)


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    return {
        model.__name__: list(model._default_manager.order_by("pk").values_list())
        for model in MODELS
    }


@pytest.fixture
def today() -> datetime.date:
    return timezone.localdate()


@pytest.fixture
def seeded() -> str:
    return seed()


def test_seeding_twice_changes_nothing() -> None:
    first = seed()
    before = snapshot()
    second = seed()
    assert snapshot() == before
    assert "Done." in first
    assert "no changes" in second


def test_seeding_on_a_later_day_creates_no_duplicates(today: datetime.date) -> None:
    registry_dataset_load(dataset=demo_dataset(today))
    counts = {model.__name__: model._default_manager.count() for model in MODELS}
    # Dates move with the day, identities do not: rows are updated, not added.
    registry_dataset_load(dataset=demo_dataset(today + datetime.timedelta(days=1)))
    assert {model.__name__: model._default_manager.count() for model in MODELS} == counts


def test_demo_dataset_is_deterministic(today: datetime.date) -> None:
    assert demo_dataset(today) == demo_dataset(today)
    later = demo_dataset(today + datetime.timedelta(days=40))
    assert [p["id"] for p in later["persons"]] == [p["id"] for p in demo_dataset(today)["persons"]]
    assert [u["orgnr"] for u in later["organisations"]] == [
        u["orgnr"] for u in demo_dataset(today)["organisations"]
    ]


def test_size_of_the_demo(seeded: str) -> None:
    assert 12 <= Organisation.objects.count() <= 20
    assert 60 <= Person.objects.count() <= 100


def test_every_identifier_is_valid(seeded: str) -> None:
    assert all(is_valid_orgnr(orgnr) for orgnr in Organisation.objects.values_list("pk", flat=True))
    for national_id, birth_date in Person.objects.values_list("national_id", "birth_date"):
        parsed = parse_national_id(national_id)
        assert parsed.value == national_id
        assert birth_date is not None
        assert parsed.birth_date in (None, birth_date)


def test_people_have_realistic_distinct_names(seeded: str) -> None:
    names = list(Person.objects.values_list("first_name", "last_name"))
    assert len(set(names)) == len(names)
    assert all(first and last and first[0].isupper() for first, last in names)
    assert ("Ingrid", "Bakken") in names


def test_construction_firms_as_and_enk(seeded: str) -> None:
    construction = Organisation.objects.filter(
        parent__isnull=True, industry_code__regex=r"^4[123]\."
    )
    assert construction.filter(form="AS").count() >= 3
    assert construction.filter(form="ENK").count() >= 2
    # An ENK under the VAT threshold, which the rules accept.
    assert construction.filter(form="ENK", vat_registered=False).exists()


def test_firm_with_employees_on_two_or_three_sub_units(seeded: str) -> None:
    groups = Organisation.objects.annotate(subs=Count("sub_units")).filter(subs__gte=2, subs__lte=3)
    assert groups.exists()
    group = groups.get()
    for sub_unit in group.sub_units.all():
        assert sub_unit.form == "BEDR"
        assert sub_unit.employments.exists()
    assert not Role.objects.filter(organisation__parent__isnull=False).exists()


def test_cleaning_firms_with_each_kind_of_entry(seeded: str) -> None:
    statuses = set(CleaningApproval.objects.values_list("status", flat=True))
    assert {"approved_with_employees", "not_approved", "application_pending"} <= statuses
    for approval in CleaningApproval.objects.all():
        unit = Organisation.objects.get(orgnr=approval.orgnr)
        assert unit.industry_code == "81.210"
        assert unit.parent_id is None


def test_staffing_companies_approved_and_not(seeded: str) -> None:
    staffing = Organisation.objects.filter(industry_code="78.200")
    approvals = dict(
        StaffingApproval.objects.filter(orgnr__in=staffing.values("orgnr")).values_list(
            "orgnr", "approved"
        )
    )
    assert sorted(approvals.values()) == [False, True]
    assert Employment.objects.filter(organisation__in=staffing, hired_out=True).exists()


def test_foreign_business_with_d_number_workers_one_inactive(seeded: str) -> None:
    nuf = Organisation.objects.get(form="NUF")
    assert Role.objects.filter(organisation=nuf, code="REPR").exists()
    workers = Person.objects.filter(employments__organisation=nuf)
    assert workers.count() >= 3
    kinds = {parse_national_id(worker.national_id).kind for worker in workers}
    assert kinds == {IdentifierKind.D_NUMBER}
    inactive = workers.filter(id_in_use=False)
    assert inactive.count() == 1
    assert inactive.get().id_inactive_since is not None


def test_bankrupt_and_deleted_firms(seeded: str, today: datetime.date) -> None:
    bankrupt = Organisation.objects.get(bankrupt=True)
    assert bankrupt.employments.exists()
    deleted = Organisation.objects.get(deleted_on__isnull=False)
    assert deleted.deleted_on is not None and deleted.deleted_on <= today
    assert not deleted.employments.filter(Q(end__isnull=True) | Q(end__gte=today)).exists()


def test_ended_employments_and_new_hires(seeded: str, today: datetime.date) -> None:
    assert Employment.objects.filter(end__lt=today).count() >= 2
    horizon = today + datetime.timedelta(days=30)
    assert Employment.objects.filter(start__gt=today, start__lte=horizon).exists()
    assert Employment.objects.filter(start__gt=horizon).exists()


def test_non_eea_cleaning_worker_with_a_permit_ending_soon(
    seeded: str, today: datetime.date
) -> None:
    worker = Person.objects.get(eea_citizen=False)
    assert worker.permit_until is not None
    assert today + datetime.timedelta(days=30) < worker.permit_until
    assert worker.permit_until < today + datetime.timedelta(days=200)
    employer_orgnrs = worker.employments.values_list("organisation_id", flat=True)
    assert CleaningApproval.objects.filter(
        orgnr__in=list(employer_orgnrs), status="approved_with_employees"
    ).exists()


def test_one_person_numbered_under_the_2032_scheme(seeded: str) -> None:
    scheme_2032 = [
        person
        for person in Person.objects.all()
        if not fodselsnummer.is_valid(person.national_id)
        and parse_national_id(person.national_id).birth_date is None
    ]
    assert len(scheme_2032) == 1
    assert scheme_2032[0].birth_date is not None  # given in the dataset, not derivable
    assert scheme_2032[0].employments.exists()


def test_every_main_unit_has_someone_in_a_key_role(seeded: str) -> None:
    for unit in Organisation.objects.filter(parent__isnull=True):
        assert unit.roles.filter(code__in=KEY_ROLE_CODES).exists(), unit.name


def test_output_lists_the_people_who_can_act_for_the_firms(seeded: str) -> None:
    assert "organisations: " in seeded
    assert "People who can act for the demo firms" in seeded
    ingrid = next(line for line in seeded.splitlines() if "Ingrid Bakken" in line)
    assert "Nordbygg AS" in ingrid
    assert "Glans Renhold AS" in ingrid
    for unit in Organisation.objects.filter(parent__isnull=True):
        assert unit.name in seeded


def test_key_role_holders_lists_each_person_once(today: datetime.date) -> None:
    holders = key_role_holders(demo_dataset(today))
    assert len({h.national_id for h in holders}) == len(holders)
    ingrid = next(h for h in holders if h.full_name == "Ingrid Bakken")
    assert {code for _, _, code in ingrid.organisations} == {"DAGL", "LEDE"}
    assert all(code in KEY_ROLE_CODES for h in holders for _, _, code in h.organisations)


# --- The demo drives the rules engine through the embedded registry ---------------------


def _employee_of(unit: Organisation, **filters: Any) -> str:
    employment = Employment.objects.filter(
        Q(organisation=unit) | Q(organisation__parent=unit), **filters
    ).first()
    assert employment is not None
    return employment.person_id


def test_demo_cases_give_the_expected_verdicts(
    seeded: str, today: datetime.date, settings: Any
) -> None:
    settings.REGISTRY_BACKEND = "embedded"

    def codes(national_id: str, unit: Organisation, requirements: Requirements) -> list[str]:
        return register_check(
            national_id=national_id,
            orgnr=unit.orgnr,
            requirements=requirements,
            on=today,
            purpose=Purpose.RECHECK,
        ).reason_codes

    group = Organisation.objects.annotate(subs=Count("sub_units")).get(subs__gte=2)
    sub_unit_employee = _employee_of(group, start__lte=today, end__isnull=True)
    assert codes(sub_unit_employee, group, CONSTRUCTION) == []
    later = today + datetime.timedelta(days=30)
    assert codes(_employee_of(group, start__gt=later), group, CONSTRUCTION) == [
        "employment_starts_later"
    ]
    bankrupt = Organisation.objects.get(bankrupt=True)
    assert "employer_bankrupt" in codes(_employee_of(bankrupt), bankrupt, CONSTRUCTION)
    nuf = Organisation.objects.get(form="NUF")
    inactive = Person.objects.get(id_in_use=False)
    assert codes(inactive.national_id, nuf, CONSTRUCTION) == ["person_id_inactive"]
    not_approved = Organisation.objects.get(
        orgnr=CleaningApproval.objects.get(status="not_approved").orgnr
    )
    assert codes(_employee_of(not_approved), not_approved, CLEANING) == [
        "employer_cleaning_not_approved"
    ]


# --- --size: synthetic datasets for benchmarks ------------------------------------------


def test_size_option_loads_that_many_organisations() -> None:
    output = seed("--size", "60")
    assert Organisation.objects.count() == 60
    assert Person.objects.count() >= 60 * 3
    for unit in Organisation.objects.filter(parent__isnull=True):
        assert unit.roles.filter(code__in=KEY_ROLE_CODES).exists()
    assert Organisation.objects.filter(parent__isnull=False).exists()
    assert "more." in output  # the long list of key-role holders is cut short


def test_size_option_is_idempotent() -> None:
    seed("--size", "40")
    before = snapshot()
    assert "no changes" in seed("--size", "40")
    assert snapshot() == before


def test_synthetic_dataset_ids_are_valid_and_unique(today: datetime.date) -> None:
    dataset = synthetic_dataset(today, size=200)
    orgnrs = [u["orgnr"] for u in dataset["organisations"]]
    ids = [p["id"] for p in dataset["persons"]]
    assert len(set(orgnrs)) == len(orgnrs) == 200
    assert len(set(ids)) == len(ids)
    assert all(is_valid_orgnr(orgnr) for orgnr in orgnrs)
    assert all(parse_national_id(national_id) for national_id in ids)


def test_size_must_be_positive() -> None:
    with pytest.raises(CommandError, match="at least 1"):
        seed("--size", "0")
