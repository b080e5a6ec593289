"""registry.rules.evaluate against every rule of DOMAIN.md, "When a card is valid".

Pure: the facts are built from registry.facts dataclasses, no database and no register.
"""

from __future__ import annotations

import datetime
from dataclasses import replace

import pytest
from django.utils import translation

from registry.facts import (
    CleaningStatus,
    EmploymentFacts,
    OrganisationFacts,
    PersonFacts,
    RegisterFacts,
    Requirements,
)
from registry.rules import (
    D_NUMBER_GRACE_DAYS,
    NEW_EMPLOYEE_DAYS,
    REASONS,
    Purpose,
    Reason,
    Verdict,
    add_years,
    evaluate,
)

TODAY = datetime.date(2025, 6, 2)
MAIN = "974760673"
SUB = "923609016"
OTHER = "991825827"
WORKER = "15108695088"

CONSTRUCTION = Requirements()
CLEANING = Requirements(cleaning_approval=True, residence_permit=True)

MAIN_UNIT = OrganisationFacts(
    orgnr=MAIN, name="Nordbygg AS", form="AS", vat_registered=True, industry_code="41.200"
)
SUB_UNIT = OrganisationFacts(
    orgnr=SUB, name="Nordbygg AS avd. Bergen", form="BEDR", parent_orgnr=MAIN
)
PERSON = PersonFacts(
    national_id=WORKER,
    first_name="Kari",
    last_name="Nordmann",
    birth_date=datetime.date(1986, 10, 15),
)
D_NUMBER_PERSON = PersonFacts(
    national_id="55059012370", first_name="Tomas", last_name="Kazlauskas", is_d_number=True
)
EMPLOYMENT = EmploymentFacts(
    workplace_orgnr=MAIN, main_orgnr=MAIN, national_id=WORKER, start=datetime.date(2020, 1, 1)
)


def facts(
    *,
    employer: OrganisationFacts | None = MAIN_UNIT,
    main_unit: OrganisationFacts | None = None,
    person: PersonFacts | None = PERSON,
    employments: tuple[EmploymentFacts, ...] = (EMPLOYMENT,),
    cleaning_status: CleaningStatus | None = CleaningStatus.APPROVED_WITH_EMPLOYEES,
    staffing_approved: bool | None = None,
) -> RegisterFacts:
    """Facts of a card that is valid today, with the given changes."""
    return RegisterFacts(
        employer=employer,
        main_unit=main_unit if main_unit is not None else employer,
        person=person,
        employments=employments,
        cleaning_status=cleaning_status,
        staffing_approved=staffing_approved,
    )


def check(
    register_facts: RegisterFacts,
    requirements: Requirements = CONSTRUCTION,
    *,
    on: datetime.date = TODAY,
    purpose: Purpose = Purpose.ORDER,
) -> Verdict:
    return evaluate(facts=register_facts, requirements=requirements, on=on, purpose=purpose)


def employment(
    start: datetime.date = EMPLOYMENT.start, end: datetime.date | None = None
) -> EmploymentFacts:
    return replace(EMPLOYMENT, start=start, end=end)


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def test_everything_in_order_is_eligible_for_two_years() -> None:
    verdict = check(facts())
    assert verdict.eligible
    assert verdict.reasons == ()
    assert verdict.reason_codes == []
    assert verdict.valid_until == datetime.date(2027, 6, 2)
    assert verdict.employment == EMPLOYMENT
    assert not verdict.awaiting_registration


# --- Rule 2: the employer is registered and in business ---------------------------------


def test_employer_not_found() -> None:
    verdict = check(facts(employer=None))
    assert not verdict.eligible
    assert verdict.reason_codes == ["employer_not_found"]
    assert verdict.valid_until is None
    assert not verdict.awaiting_registration


def test_sub_unit_without_its_main_unit_is_not_found() -> None:
    verdict = check(
        RegisterFacts(employer=SUB_UNIT, main_unit=None, person=PERSON, employments=(EMPLOYMENT,))
    )
    assert verdict.reason_codes == ["employer_not_found"]


@pytest.mark.parametrize("deleted_days_ago", [0, 1, 400])
def test_deleted_employer(deleted_days_ago: int) -> None:
    deleted = replace(MAIN_UNIT, deleted_on=TODAY - days(deleted_days_ago))
    verdict = check(facts(employer=deleted))
    assert not verdict.eligible
    assert verdict.reason_codes == ["employer_deleted"]


def test_deletion_in_the_future_does_not_count_yet() -> None:
    assert check(facts(employer=replace(MAIN_UNIT, deleted_on=TODAY + days(1)))).eligible


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"bankrupt": True}, "employer_bankrupt"),
        ({"under_liquidation": True}, "employer_under_liquidation"),
        ({"under_forced_dissolution": True}, "employer_forced_dissolution"),
    ],
)
def test_employer_out_of_business(change: dict[str, bool], code: str) -> None:
    verdict = check(facts(employer=replace(MAIN_UNIT, **change)))
    assert not verdict.eligible
    assert verdict.reason_codes == [code]


def test_problems_of_the_main_unit_count_for_a_sub_unit_employer() -> None:
    verdict = check(
        facts(
            employer=SUB_UNIT,
            main_unit=replace(MAIN_UNIT, bankrupt=True),
            employments=(replace(EMPLOYMENT, workplace_orgnr=SUB),),
        )
    )
    assert verdict.reason_codes == ["employer_bankrupt"]


@pytest.mark.parametrize("form", ["AS", "ASA", "NUF", "ANS", "DA"])
def test_business_that_must_be_vat_registered_but_is_not(form: str) -> None:
    verdict = check(facts(employer=replace(MAIN_UNIT, form=form, vat_registered=False)))
    assert not verdict.eligible
    assert verdict.reason_codes == ["employer_not_vat_registered"]


def test_sole_proprietorship_without_vat_registration_passes() -> None:
    # An ENK may lie under the VAT threshold.
    verdict = check(facts(employer=replace(MAIN_UNIT, form="ENK", vat_registered=False)))
    assert verdict.eligible


def test_several_problems_are_all_reported() -> None:
    verdict = check(
        facts(employer=replace(MAIN_UNIT, bankrupt=True, vat_registered=False), person=None)
    )
    assert verdict.reason_codes == [
        "employer_bankrupt",
        "employer_not_vat_registered",
        "person_not_found",
    ]
    assert not verdict.awaiting_registration


# --- Rule 3: an employment with the employer --------------------------------------------


def test_employment_on_a_sub_unit_counts_for_the_main_unit() -> None:
    on_sub_unit = EmploymentFacts(
        workplace_orgnr=SUB, main_orgnr=MAIN, national_id=WORKER, start=datetime.date(2021, 3, 1)
    )
    verdict = check(facts(employer=SUB_UNIT, main_unit=MAIN_UNIT, employments=(on_sub_unit,)))
    assert verdict.eligible
    assert verdict.employment == on_sub_unit


def test_card_ordered_for_the_main_unit_finds_the_sub_unit_employment() -> None:
    on_sub_unit = replace(EMPLOYMENT, workplace_orgnr=SUB)
    verdict = check(facts(employer=MAIN_UNIT, employments=(on_sub_unit,)))
    assert verdict.eligible
    assert verdict.employment is not None
    assert verdict.employment.workplace_orgnr == SUB


def test_deleted_sub_unit() -> None:
    deleted_sub_unit = replace(SUB_UNIT, deleted_on=TODAY - days(10))
    verdict = check(
        facts(
            employer=deleted_sub_unit,
            main_unit=MAIN_UNIT,
            employments=(replace(EMPLOYMENT, workplace_orgnr=SUB),),
        )
    )
    assert not verdict.eligible
    assert verdict.reason_codes == ["workplace_deleted"]


def test_employment_not_found_means_awaiting_registration() -> None:
    verdict = check(facts(employments=()))
    assert not verdict.eligible
    assert verdict.reason_codes == ["employment_not_found"]
    assert verdict.awaiting_registration
    assert verdict.employment is None


def test_employment_with_another_employer_does_not_count() -> None:
    elsewhere = replace(EMPLOYMENT, workplace_orgnr=OTHER, main_orgnr=OTHER)
    verdict = check(facts(employments=(elsewhere,)))
    assert verdict.reason_codes == ["employment_not_found"]


def test_missing_employment_with_another_problem_is_not_just_awaiting_registration() -> None:
    verdict = check(facts(employer=replace(MAIN_UNIT, bankrupt=True), employments=()))
    assert verdict.reason_codes == ["employer_bankrupt", "employment_not_found"]
    assert not verdict.awaiting_registration


def test_employment_starting_in_exactly_30_days_may_be_ordered() -> None:
    upcoming = employment(start=TODAY + days(NEW_EMPLOYEE_DAYS))
    verdict = check(facts(employments=(upcoming,)))
    assert NEW_EMPLOYEE_DAYS == 30
    assert verdict.eligible
    assert verdict.employment == upcoming
    assert verdict.valid_until == add_years(TODAY, 2)


def test_an_upcoming_employment_gives_valid_from_for_ordering_and_the_recheck() -> None:
    upcoming = employment(start=TODAY + days(12))
    ordered = check(facts(employments=(upcoming,)))
    assert ordered.eligible and ordered.valid_from == TODAY + days(12)
    rechecked = check(facts(employments=(upcoming,)), purpose=Purpose.RECHECK)
    assert not rechecked.eligible
    assert rechecked.reason_codes == ["employment_not_started"]
    assert rechecked.valid_from == TODAY + days(12)
    assert rechecked.eligible_from_start
    # Another problem as well: no longer only a matter of waiting for the start.
    both = check(
        facts(employer=replace(MAIN_UNIT, bankrupt=True), employments=(upcoming,)),
        purpose=Purpose.RECHECK,
    )
    assert not both.eligible_from_start
    assert check(facts()).valid_from is None  # a started employment


def test_employment_starting_in_31_days_starts_later() -> None:
    verdict = check(facts(employments=(employment(start=TODAY + days(31)),)))
    assert not verdict.eligible
    assert verdict.reason_codes == ["employment_starts_later"]
    assert not verdict.awaiting_registration


def test_employment_that_has_ended() -> None:
    verdict = check(facts(employments=(employment(end=TODAY - days(1)),)))
    assert not verdict.eligible
    assert verdict.reason_codes == ["employment_ended"]


def test_employment_ending_today_is_still_valid_today() -> None:
    verdict = check(facts(employments=(employment(end=TODAY),)))
    assert verdict.eligible
    assert verdict.valid_until == TODAY


def test_current_employment_wins_over_an_ended_one() -> None:
    old = employment(start=datetime.date(2015, 1, 1), end=datetime.date(2018, 12, 31))
    verdict = check(facts(employments=(old, EMPLOYMENT)))
    assert verdict.eligible
    assert verdict.employment == EMPLOYMENT


def test_ended_employment_fails_again_at_recheck() -> None:
    verdict = check(facts(employments=(employment(end=TODAY - days(1)),)), purpose=Purpose.RECHECK)
    assert verdict.reason_codes == ["employment_ended"]


# --- Rule 4: Folkeregisteret ------------------------------------------------------------


def test_person_not_found() -> None:
    verdict = check(facts(person=None))
    assert not verdict.eligible
    assert verdict.reason_codes == ["person_not_found"]


def test_active_d_number_is_fine() -> None:
    worker = replace(EMPLOYMENT, national_id=D_NUMBER_PERSON.national_id)
    assert check(facts(person=D_NUMBER_PERSON, employments=(worker,))).eligible


def _inactive(days_ago: int | None) -> PersonFacts:
    return replace(
        D_NUMBER_PERSON,
        id_in_use=False,
        id_inactive_since=None if days_ago is None else TODAY - days(days_ago),
    )


def test_inactive_d_number_is_rejected_at_order_even_within_the_grace_period() -> None:
    verdict = check(facts(person=_inactive(1)), purpose=Purpose.ORDER)
    assert not verdict.eligible
    assert verdict.reason_codes == ["person_id_inactive"]


@pytest.mark.parametrize("days_ago", [0, 1, D_NUMBER_GRACE_DAYS])
def test_inactive_d_number_within_the_grace_period_is_ok_at_recheck(days_ago: int) -> None:
    assert D_NUMBER_GRACE_DAYS == 30
    verdict = check(facts(person=_inactive(days_ago)), purpose=Purpose.RECHECK)
    assert verdict.eligible


@pytest.mark.parametrize("days_ago", [D_NUMBER_GRACE_DAYS + 1, 365])
def test_inactive_d_number_past_the_grace_period_is_invalid_at_recheck(days_ago: int) -> None:
    verdict = check(facts(person=_inactive(days_ago)), purpose=Purpose.RECHECK)
    assert not verdict.eligible
    assert verdict.reason_codes == ["person_id_inactive"]


def test_inactive_d_number_without_a_date_has_no_grace_period() -> None:
    verdict = check(facts(person=_inactive(None)), purpose=Purpose.RECHECK)
    assert verdict.reason_codes == ["person_id_inactive"]


# --- Rule 5: staffing businesses --------------------------------------------------------

STAFFING = replace(MAIN_UNIT, name="Bemanning Nord AS", industry_code="78.200")


@pytest.mark.parametrize("approved", [None, False])
def test_staffing_business_not_approved(approved: bool | None) -> None:
    verdict = check(facts(employer=STAFFING, staffing_approved=approved))
    assert not verdict.eligible
    assert verdict.reason_codes == ["employer_staffing_not_approved"]


def test_staffing_business_approved() -> None:
    assert check(facts(employer=STAFFING, staffing_approved=True)).eligible


def test_other_businesses_need_no_staffing_approval() -> None:
    assert check(facts(staffing_approved=None)).eligible
    assert check(facts(staffing_approved=False)).eligible


def test_sub_unit_of_a_staffing_business_follows_its_main_unit() -> None:
    verdict = check(
        facts(
            employer=replace(SUB_UNIT, industry_code="41.200"),
            main_unit=STAFFING,
            staffing_approved=False,
            employments=(replace(EMPLOYMENT, workplace_orgnr=SUB),),
        )
    )
    assert verdict.reason_codes == ["employer_staffing_not_approved"]


# --- Rule 6: cleaning cards need an approved cleaning business ---------------------------


@pytest.mark.parametrize(
    ("status", "eligible"),
    [
        (CleaningStatus.APPROVED_WITH_EMPLOYEES, True),
        (CleaningStatus.APPROVED_WITHOUT_EMPLOYEES, True),
        (CleaningStatus.APPLICATION_PENDING, False),
        (CleaningStatus.CARD_ORDER_PENDING, False),
        (CleaningStatus.NOT_APPROVED, False),
        (None, False),
    ],
)
def test_cleaning_card_needs_an_approved_business(
    status: CleaningStatus | None, eligible: bool
) -> None:
    verdict = check(facts(cleaning_status=status), CLEANING)
    assert verdict.eligible is eligible
    assert verdict.reason_codes == ([] if eligible else ["employer_cleaning_not_approved"])


@pytest.mark.parametrize("status", [None, CleaningStatus.NOT_APPROVED])
def test_construction_card_needs_no_cleaning_approval(status: CleaningStatus | None) -> None:
    assert check(facts(cleaning_status=status), CONSTRUCTION).eligible


# --- Rule 7: residence permit for cleaning workers from outside the EEA -----------------


def _non_eea(permit_until: datetime.date | None) -> PersonFacts:
    return replace(PERSON, eea_citizen=False, permit_until=permit_until)


def test_non_eea_cleaning_worker_without_a_permit() -> None:
    verdict = check(facts(person=_non_eea(None)), CLEANING)
    assert not verdict.eligible
    assert verdict.reason_codes == ["residence_permit_missing"]


def test_non_eea_cleaning_worker_with_an_expired_permit() -> None:
    verdict = check(facts(person=_non_eea(TODAY - days(1))), CLEANING)
    assert not verdict.eligible
    assert verdict.reason_codes == ["residence_permit_expired"]


def test_non_eea_cleaning_card_is_valid_until_the_permit_ends() -> None:
    permit_until = TODAY + days(100)
    verdict = check(facts(person=_non_eea(permit_until)), CLEANING)
    assert verdict.eligible
    assert verdict.valid_until == permit_until


def test_permit_ending_today_gives_a_card_valid_today() -> None:
    verdict = check(facts(person=_non_eea(TODAY)), CLEANING)
    assert verdict.eligible
    assert verdict.valid_until == TODAY


def test_eea_cleaning_worker_needs_no_permit() -> None:
    assert check(
        facts(person=replace(PERSON, eea_citizen=True, permit_until=None)), CLEANING
    ).eligible


@pytest.mark.parametrize("permit_until", [None, TODAY - days(1), TODAY + days(10)])
def test_construction_card_ignores_the_permit(permit_until: datetime.date | None) -> None:
    verdict = check(facts(person=_non_eea(permit_until)), CONSTRUCTION)
    assert verdict.eligible
    assert verdict.valid_until == add_years(TODAY, 2)


def test_permit_ending_before_the_new_employment_starts_gives_no_card() -> None:
    # Ordered 20 days before the start; the permit ends after 10. The card would only be
    # valid from the start (when the permit has ended), so it must not be issued; the engine
    # must never answer a valid_until past the permit's end (rule 7).
    permit_until = TODAY + days(10)
    verdict = check(
        facts(person=_non_eea(permit_until), employments=(employment(start=TODAY + days(20)),)),
        CLEANING,
    )
    assert verdict.valid_until is None or verdict.valid_until <= permit_until
    assert not verdict.eligible
    assert verdict.reason_codes == ["residence_permit_expired"]


# --- Rule 1: valid-until ----------------------------------------------------------------


def test_valid_until_is_two_years_after_issue() -> None:
    verdict = check(facts(), on=datetime.date(2025, 1, 31))
    assert verdict.valid_until == datetime.date(2027, 1, 31)


def test_valid_until_from_29_february_is_28_february() -> None:
    verdict = check(facts(), on=datetime.date(2024, 2, 29))
    assert verdict.valid_until == datetime.date(2026, 2, 28)


def test_add_years_handles_29_february() -> None:
    assert add_years(datetime.date(2024, 2, 29), 2) == datetime.date(2026, 2, 28)
    assert add_years(datetime.date(2024, 2, 29), 4) == datetime.date(2028, 2, 29)
    assert add_years(datetime.date(2023, 3, 1), 2) == datetime.date(2025, 3, 1)


def test_valid_until_is_capped_by_the_employment_end() -> None:
    end = TODAY + days(100)
    verdict = check(facts(employments=(employment(end=end),)))
    assert verdict.valid_until == end


def test_employment_end_past_two_years_does_not_extend_the_card() -> None:
    verdict = check(facts(employments=(employment(end=TODAY + days(1000)),)))
    assert verdict.valid_until == add_years(TODAY, 2)


def test_valid_until_takes_the_earliest_of_employment_end_and_permit_end() -> None:
    verdict = check(
        facts(
            person=_non_eea(TODAY + days(200)),
            employments=(employment(end=TODAY + days(150)),),
        ),
        CLEANING,
    )
    assert verdict.valid_until == TODAY + days(150)
    verdict = check(
        facts(
            person=_non_eea(TODAY + days(120)),
            employments=(employment(end=TODAY + days(150)),),
        ),
        CLEANING,
    )
    assert verdict.valid_until == TODAY + days(120)


# --- Reasons: stable codes, Norwegian and English texts -----------------------------------

EXPECTED_CODES = {
    "employer_not_found",
    "employer_deleted",
    "workplace_deleted",
    "employer_bankrupt",
    "employer_under_liquidation",
    "employer_forced_dissolution",
    "employer_not_vat_registered",
    "employer_staffing_not_approved",
    "employer_cleaning_not_approved",
    "person_not_found",
    "person_id_inactive",
    "employment_not_found",
    "employment_starts_later",
    "employment_not_started",
    "employment_ended",
    "residence_permit_missing",
    "residence_permit_expired",
    # The portal's own rule, on order lines only (orders.services.order_line_check).
    "already_has_live_card",
}


def test_reason_codes_are_stable() -> None:
    # Codes reach the API and stored checks: renaming one is a breaking change.
    assert set(REASONS) == EXPECTED_CODES


@pytest.mark.parametrize("code", sorted(EXPECTED_CODES))
def test_every_reason_has_norwegian_and_english_text_and_fix(code: str) -> None:
    reason = Reason(code)
    texts = [reason.text("nb"), reason.text("en"), reason.fix("nb"), reason.fix("en")]
    assert all(text.strip() for text in texts)
    assert reason.text("nb") != reason.text("en")
    assert reason.fix("nb") != reason.fix("en")
    assert reason.text("nb") != reason.fix("nb")


def test_reason_texts_by_language() -> None:
    reason = Reason("employer_bankrupt")
    assert reason.text("nb") == "Virksomheten er konkurs."
    assert reason.text("en") == "The employer is bankrupt."
    assert reason.text("en-gb") == "The employer is bankrupt."
    assert reason.fix("en") == "The card cannot be valid while the employer is bankrupt."
    assert reason.fix("nb") == "Kortet kan ikke være gyldig mens virksomheten er konkurs."


def test_reason_follows_the_active_language() -> None:
    reason = Reason("person_not_found")
    with translation.override("en"):
        assert str(reason) == "The person is not registered in the National Population Register."
        assert reason.fix() == "Check the national identity number or D-number."
    with translation.override("nb"):
        assert str(reason) == "Personen finnes ikke i Folkeregisteret."


def test_verdict_reasons_carry_their_texts() -> None:
    verdict = check(facts(employments=(employment(start=TODAY + days(45)),)))
    (reason,) = verdict.reasons
    assert reason.code == "employment_starts_later"
    assert reason.text("en") == "The employment starts in more than 30 days."
    assert reason.fix("nb") == "Bestill kortet tidligst 30 dager før oppstart."
