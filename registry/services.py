"""Register checks: gather what the registers say and ask the rules engine.

Checks are batched: for any number of (person, employer) pairs each organisation and each
person is looked up once, and every lookup is recorded in RegisterLookup.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from django.db import transaction

from registry import selectors
from registry.clients import business_register, employment_register, population_register
from registry.facts import (
    CleaningStatus,
    EmploymentFacts,
    OrganisationFacts,
    PersonFacts,
    RegisterFacts,
    RegisterUnavailable,
    Requirements,
    RoleFacts,
)
from registry.models import RegisterLookup, RoleSeen
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


@dataclass
class LookupMemo:
    """What the registers answered during one run (None: asked, and not found).

    A nightly re-check passes one memo through all its batches, so each organisation and
    person is looked up once per run, not once per batch.
    """

    units: dict[str, OrganisationFacts | None] = field(default_factory=dict)
    persons: dict[str, PersonFacts | None] = field(default_factory=dict)
    employments: dict[tuple[str, str], list[EmploymentFacts]] = field(default_factory=dict)
    cleaning: dict[str, CleaningStatus | None] = field(default_factory=dict)
    staffing: dict[str, bool | None] = field(default_factory=dict)


def register_facts_gather(
    *, subjects: Sequence[CheckSubject], memo: LookupMemo | None = None
) -> dict[CheckSubject, RegisterFacts]:
    """Look up every register once per organisation and person for all subjects.

    Raises RegisterUnavailable when a register does not answer; the lookups made so far are
    recorded (the failure too), so the back office can see the outage.
    """
    lookups: list[RegisterLookup] = []
    try:
        return _gather(subjects, memo or LookupMemo(), lookups)
    finally:
        RegisterLookup.objects.bulk_create(lookups, batch_size=2000)


def _gather(
    subjects: Sequence[CheckSubject], memo: LookupMemo, lookups: list[RegisterLookup]
) -> dict[CheckSubject, RegisterFacts]:
    R = RegisterLookup.Register
    units = memo.units
    # One adapter for the whole batch: the copy or the API, not one for units and another
    # for their parents should the copy's freshness change in between.
    organisations = business_register().organisations
    _ask(
        R.ENHETSREGISTERET,
        {s.orgnr for s in subjects},
        organisations,
        units,
        lookups,
    )
    parents = {u.parent_orgnr for u in units.values() if u is not None and u.parent_orgnr}
    _ask(R.ENHETSREGISTERET, parents, organisations, units, lookups)

    def main_of(orgnr: str) -> OrganisationFacts | None:
        unit = units.get(orgnr)
        return None if unit is None else units.get(unit.main_orgnr)

    _ask(
        R.FOLKEREGISTERET,
        {s.national_id for s in subjects},
        population_register().persons,
        memo.persons,
        lookups,
    )
    pairs = {
        (s.national_id, main.orgnr) for s in subjects if (main := main_of(s.orgnr)) is not None
    } - set(memo.employments)
    if pairs:
        people = {nid for nid, _ in pairs}
        try:
            answer = employment_register().employments(pairs)
        except RegisterUnavailable as error:
            lookups.extend(_record(R.EMPLOYMENT, people, (), error.detail or "unavailable"))
            raise
        lookups.extend(_record(R.EMPLOYMENT, people, {nid for (nid, _), e in answer.items() if e}))
        memo.employments.update({pair: answer.get(pair, []) for pair in pairs})
    mains = {main.orgnr for s in subjects if (main := main_of(s.orgnr)) is not None}
    new_mains = mains - set(memo.cleaning)
    if new_mains:
        cleaning = selectors.cleaning_statuses(orgnrs=new_mains)
        staffing = selectors.staffing_approvals(orgnrs=new_mains)
        memo.cleaning.update({o: cleaning.get(o) for o in new_mains})
        memo.staffing.update({o: staffing.get(o) for o in new_mains})

    facts: dict[CheckSubject, RegisterFacts] = {}
    for subject in subjects:
        main = main_of(subject.orgnr)
        main_orgnr = main.orgnr if main else ""
        facts[subject] = RegisterFacts(
            employer=units.get(subject.orgnr),
            main_unit=main,
            person=memo.persons.get(subject.national_id),
            employments=tuple(memo.employments.get((subject.national_id, main_orgnr), ())),
            cleaning_status=memo.cleaning.get(main_orgnr),
            staffing_approved=memo.staffing.get(main_orgnr),
        )
    return facts


def _ask(
    register: str,
    keys: set[str],
    question: Callable[[set[str]], Mapping[str, V]],
    known: dict[str, V | None],
    lookups: list[RegisterLookup],
) -> None:
    """Ask the register about the keys not asked yet in this run, and remember the answer."""
    wanted = keys - set(known)
    if not wanted:
        return
    try:
        answer = question(wanted)
    except RegisterUnavailable as error:
        lookups.extend(_record(register, wanted, (), error.detail or "unavailable"))
        raise
    lookups.extend(_record(register, wanted, answer.keys()))
    known.update({key: answer.get(key) for key in wanted})


def register_check_many(
    *,
    subjects: Sequence[CheckSubject],
    on: datetime.date,
    purpose: Purpose,
    memo: LookupMemo | None = None,
) -> dict[CheckSubject, Verdict]:
    """Check many subjects with one batch of register lookups."""
    facts = register_facts_gather(subjects=subjects, memo=memo)
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

    The answer is remembered as roles seen, which is how a person's key roles become known:
    the registers have no "roles of this person" question. Only roles with an identity
    number (the authorised API's) are kept. RegisterUnavailable propagates: the caller says
    the register did not answer.
    """
    roles_seen_record(orgnr=orgnr, roles=business_register().roles(orgnr))


@transaction.atomic
def roles_seen_record(*, orgnr: str, roles: Sequence[RoleFacts]) -> None:
    """Replace what hmsportal remembers of a unit's roles with the register's answer."""
    current = {(r.national_id, r.code) for r in roles if r.national_id}
    stored = set(RoleSeen.objects.filter(orgnr=orgnr).values_list("national_id", "code"))
    if stored == current:
        return
    RoleSeen.objects.filter(orgnr=orgnr).delete()
    RoleSeen.objects.bulk_create(
        [RoleSeen(orgnr=orgnr, national_id=nid, code=code) for nid, code in sorted(current)]
    )
