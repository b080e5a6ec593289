"""The embedded registry: the registry app's tables stand in for the national registers."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q
from django.utils import timezone

from registry.facts import (
    EmployeeListing,
    EmploymentFacts,
    OrganisationFacts,
    PersonFacts,
    RoleFacts,
)
from registry.identifiers import IdentifierKind, InvalidIdentifier, parse_national_id
from registry.models import Employment, Organisation, Person, Role

_CHUNK = 5000


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
    batch: list[str] = []
    for value in values:
        batch.append(value)
        if len(batch) == _CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def organisation_facts(unit: Organisation) -> OrganisationFacts:
    return OrganisationFacts(
        orgnr=unit.orgnr,
        name=unit.name,
        form=unit.form,
        parent_orgnr=unit.parent_id,
        registered_on=unit.registered_on,
        deleted_on=unit.deleted_on,
        bankrupt=unit.bankrupt,
        under_liquidation=unit.under_liquidation,
        under_forced_dissolution=unit.under_forced_dissolution,
        vat_registered=unit.vat_registered,
        industry_code=unit.industry_code,
        street=unit.street,
        postcode=unit.postcode,
        city=unit.city,
    )


def _is_d_number(national_id: str) -> bool:
    try:
        return parse_national_id(national_id).kind is IdentifierKind.D_NUMBER
    except InvalidIdentifier:
        return False


def person_facts(person: Person) -> PersonFacts:
    return PersonFacts(
        national_id=person.national_id,
        first_name=person.first_name,
        last_name=person.last_name,
        birth_date=person.birth_date,
        is_d_number=_is_d_number(person.national_id),
        id_in_use=person.id_in_use,
        id_inactive_since=person.id_inactive_since,
        eea_citizen=person.eea_citizen,
        permit_until=person.permit_until,
    )


def _employment_facts(employment: Employment, main_orgnr: str) -> EmploymentFacts:
    return EmploymentFacts(
        workplace_orgnr=employment.organisation_id,
        main_orgnr=main_orgnr,
        national_id=employment.person_id,
        start=employment.start,
        end=employment.end,
    )


class EmbeddedBusinessRegister:
    def organisations(self, orgnrs: Iterable[str]) -> dict[str, OrganisationFacts]:
        found: dict[str, OrganisationFacts] = {}
        for chunk in _chunks(set(orgnrs)):
            for unit in Organisation.objects.filter(orgnr__in=chunk):
                found[unit.orgnr] = organisation_facts(unit)
        return found

    def sub_units(self, main_orgnr: str) -> list[OrganisationFacts]:
        return [organisation_facts(u) for u in Organisation.objects.filter(parent_id=main_orgnr)]

    def roles(self, orgnr: str) -> list[RoleFacts]:
        return [
            RoleFacts(orgnr=role.organisation_id, national_id=role.person_id, code=role.code)
            for role in Role.objects.filter(organisation_id=orgnr)
        ]

    def organisations_with_role(self, national_id: str, codes: Iterable[str]) -> list[str]:
        return list(
            Role.objects.filter(person_id=national_id, code__in=list(codes))
            .values_list("organisation_id", flat=True)
            .distinct()
            .order_by("organisation_id")
        )


class EmbeddedEmploymentRegister:
    def employments(
        self, pairs: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], list[EmploymentFacts]]:
        wanted = set(pairs)
        found: dict[tuple[str, str], list[EmploymentFacts]] = {pair: [] for pair in wanted}
        national_ids = {national_id for national_id, _ in wanted}
        for chunk in _chunks(national_ids):
            rows = Employment.objects.filter(person_id__in=chunk).values_list(
                "organisation_id", "organisation__parent_id", "person_id", "start", "end"
            )
            for workplace, parent, national_id, start, end in rows:
                main_orgnr = parent or workplace
                key = (national_id, main_orgnr)
                if key in found:
                    found[key].append(
                        EmploymentFacts(
                            workplace_orgnr=workplace,
                            main_orgnr=main_orgnr,
                            national_id=national_id,
                            start=start,
                            end=end,
                        )
                    )
        return found

    def employees(self, main_orgnr: str) -> list[EmployeeListing]:
        today = timezone.localdate()
        employments = (
            Employment.objects.filter(
                Q(organisation_id=main_orgnr) | Q(organisation__parent_id=main_orgnr)
            )
            .filter(Q(end__isnull=True) | Q(end__gte=today))
            .select_related("person", "organisation")
            .order_by("person__last_name", "person__first_name", "start")
        )
        return [
            EmployeeListing(
                employment=_employment_facts(e, e.organisation.parent_id or e.organisation_id),
                first_name=e.person.first_name,
                last_name=e.person.last_name,
                birth_date=e.person.birth_date,
            )
            for e in employments
        ]


class EmbeddedPopulationRegister:
    def persons(self, national_ids: Iterable[str]) -> dict[str, PersonFacts]:
        found: dict[str, PersonFacts] = {}
        for chunk in _chunks(set(national_ids)):
            for person in Person.objects.filter(national_id__in=chunk):
                found[person.national_id] = person_facts(person)
        return found
