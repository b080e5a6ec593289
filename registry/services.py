"""Register checks: gather what the registers say and ask the rules engine.

Checks are batched: for any number of (person, employer) pairs each organisation and each
person is looked up once, and every lookup is recorded in RegisterLookup.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from registry import selectors
from registry.clients import business_register, employment_register, population_register
from registry.facts import (
    EmploymentFacts,
    OrganisationFacts,
    PersonFacts,
    RegisterFacts,
    RegisterUnavailable,
    Requirements,
)
from registry.models import RegisterLookup
from registry.rules import Purpose, Verdict, evaluate

V = TypeVar("V")


@dataclass(frozen=True)
class CheckSubject:
    """One person and the unit (main or sub-unit) they are employed by."""

    national_id: str
    orgnr: str
    requirements: Requirements


def _record(
    register: str, keys: Iterable[str], found: Iterable[str], failed: str = ""
) -> list[RegisterLookup]:
    found_set = set(found)
    entries = []
    for key in sorted(set(keys)):
        if failed:
            outcome, detail = RegisterLookup.Outcome.FAILED, failed[:500]
        elif key in found_set:
            outcome, detail = RegisterLookup.Outcome.FOUND, ""
        else:
            outcome, detail = RegisterLookup.Outcome.NOT_FOUND, ""
        entries.append(RegisterLookup(register=register, key=key, outcome=outcome, detail=detail))
    return entries


def register_facts_gather(*, subjects: Sequence[CheckSubject]) -> dict[CheckSubject, RegisterFacts]:
    """Look up every register once per organisation and person for all subjects.

    Raises RegisterUnavailable when a register does not answer; the lookups made so far are
    recorded (the failure too), so the back office can see the outage.
    """
    lookups: list[RegisterLookup] = []
    try:
        return _gather(subjects, lookups)
    finally:
        RegisterLookup.objects.bulk_create(lookups, batch_size=2000)


def _gather(
    subjects: Sequence[CheckSubject], lookups: list[RegisterLookup]
) -> dict[CheckSubject, RegisterFacts]:
    R = RegisterLookup.Register
    orgnrs = {s.orgnr for s in subjects}
    units = _ask(R.ENHETSREGISTERET, orgnrs, business_register().organisations, lookups)
    parent_orgnrs = {u.parent_orgnr for u in units.values() if u.parent_orgnr} - set(units)
    if parent_orgnrs:
        units |= _ask(R.ENHETSREGISTERET, parent_orgnrs, business_register().organisations, lookups)

    def main_of(orgnr: str) -> OrganisationFacts | None:
        unit = units.get(orgnr)
        if unit is None:
            return None
        return units.get(unit.main_orgnr)

    national_ids = {s.national_id for s in subjects}
    persons: dict[str, PersonFacts] = _ask(
        R.FOLKEREGISTERET, national_ids, population_register().persons, lookups
    )
    pairs = {
        (s.national_id, main.orgnr) for s in subjects if (main := main_of(s.orgnr)) is not None
    }
    employments: dict[tuple[str, str], list[EmploymentFacts]] = {}
    if pairs:
        try:
            employments = employment_register().employments(pairs)
        except RegisterUnavailable as error:
            lookups.extend(
                _record(R.EMPLOYMENT, {nid for nid, _ in pairs}, (), error.detail or "unavailable")
            )
            raise
        lookups.extend(
            _record(
                R.EMPLOYMENT,
                {nid for nid, _ in pairs},
                {nid for (nid, _), e in employments.items() if e},
            )
        )
    main_orgnrs = {u.main_orgnr for u in units.values()}
    cleaning = selectors.cleaning_statuses(orgnrs=main_orgnrs)
    staffing = selectors.staffing_approvals(orgnrs=main_orgnrs)

    facts: dict[CheckSubject, RegisterFacts] = {}
    for subject in subjects:
        main = main_of(subject.orgnr)
        main_orgnr = main.orgnr if main else ""
        facts[subject] = RegisterFacts(
            employer=units.get(subject.orgnr),
            main_unit=main,
            person=persons.get(subject.national_id),
            employments=tuple(employments.get((subject.national_id, main_orgnr), ())),
            cleaning_status=cleaning.get(main_orgnr),
            staffing_approved=staffing.get(main_orgnr),
        )
    return facts


def _ask(
    register: str,
    keys: set[str],
    question: Callable[[set[str]], dict[str, V]],
    lookups: list[RegisterLookup],
) -> dict[str, V]:
    try:
        answer = question(keys)
    except RegisterUnavailable as error:
        lookups.extend(_record(register, keys, (), error.detail or "unavailable"))
        raise
    lookups.extend(_record(register, keys, answer.keys()))
    return answer


def register_check_many(
    *, subjects: Sequence[CheckSubject], on: datetime.date, purpose: Purpose
) -> dict[CheckSubject, Verdict]:
    """Check many subjects with one batch of register lookups."""
    facts = register_facts_gather(subjects=subjects)
    return {
        subject: evaluate(
            facts=facts[subject], requirements=subject.requirements, on=on, purpose=purpose
        )
        for subject in subjects
    }


def register_check(
    *, national_id: str, orgnr: str, requirements: Requirements, on: datetime.date, purpose: Purpose
) -> Verdict:
    """Check one person for one employer."""
    subject = CheckSubject(national_id=national_id, orgnr=orgnr, requirements=requirements)
    return register_check_many(subjects=[subject], on=on, purpose=purpose)[subject]


def roles_refresh(*, orgnr: str) -> None:
    """Ask Enhetsregisteret for the unit's roles now (a person claims to act for it).

    With the HTTP backend the answer is remembered as roles seen, which is how a person's
    key roles become known: the registers have no "roles of this person" question.
    RegisterUnavailable propagates: the caller says the register did not answer.
    """
    business_register().roles(orgnr)
