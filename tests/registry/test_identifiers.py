"""registry.identifiers: organisation numbers, fødselsnummer, D-numbers and the 2032 scheme.

Check digits are computed here independently of the module (DOMAIN.md, "Identifiers"), so a
mistake in the module's own helpers cannot hide one in its validation.
"""

from __future__ import annotations

import datetime

import pytest
from stdnum.no import fodselsnummer

from registry.identifiers import (
    IdentifierKind,
    InvalidIdentifier,
    is_valid_national_id,
    is_valid_orgnr,
    luhn_check_digit,
    luhn_is_valid,
    national_id_with_check_digits,
    orgnr_with_check_digit,
    parse_national_id,
    validate_orgnr,
)

_K1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_K2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
_ORGNR = (3, 2, 7, 6, 5, 4, 3, 2)


def with_check_digits(first_nine: str, base: int = 11) -> str:
    """First check digit (base - weighted sum) mod 11, second the classic one."""
    k1 = (base - sum(w * int(d) for w, d in zip(_K1, first_nine, strict=True)) % 11) % 11
    assert k1 != 10, "pick another number for this test"
    ten = first_nine + str(k1)
    k2 = (11 - sum(w * int(d) for w, d in zip(_K2, ten, strict=True)) % 11) % 11
    assert k2 != 10, "pick another number for this test"
    return ten + str(k2)


# --- Organisation numbers ---------------------------------------------------------------


@pytest.mark.parametrize("orgnr", ["974760673", "923609016", "991825827"])
def test_valid_organisation_numbers_pass(orgnr: str) -> None:
    assert validate_orgnr(orgnr) == orgnr
    assert is_valid_orgnr(orgnr)


def test_organisation_number_is_compacted() -> None:
    assert validate_orgnr(" 974 760 673 ") == "974760673"


@pytest.mark.parametrize(
    "orgnr",
    ["974760674", "974760670", "97476067", "9747606733", "97476067a", "", "abcdefghi"],
)
def test_invalid_organisation_numbers_are_rejected(orgnr: str) -> None:
    with pytest.raises(InvalidIdentifier):
        validate_orgnr(orgnr)
    assert not is_valid_orgnr(orgnr)


def test_orgnr_with_check_digit_completes_the_mod11_digit() -> None:
    orgnr = orgnr_with_check_digit("97476067")
    assert orgnr == "974760673"
    weighted = sum(w * int(d) for w, d in zip(_ORGNR, "97476067", strict=True))
    assert int(orgnr[-1]) == (11 - weighted % 11) % 11


def test_orgnr_with_check_digit_is_none_when_the_remainder_leaves_no_digit() -> None:
    # A weighted sum with remainder 1 would need check digit 10, which does not exist.
    prefixes = [f"{10000000 + n}" for n in range(100)]
    impossible = [
        p for p in prefixes if sum(w * int(d) for w, d in zip(_ORGNR, p, strict=True)) % 11 == 1
    ]
    assert impossible, "the range must contain a prefix without a check digit"
    for prefix in impossible:
        assert orgnr_with_check_digit(prefix) is None


# --- Fødselsnummer, classic scheme ------------------------------------------------------


def test_classic_fodselsnummer_is_accepted_with_its_birth_date() -> None:
    national_id = parse_national_id("15108695088")
    assert national_id.value == "15108695088"
    assert national_id.kind is IdentifierKind.FODSELSNUMMER
    assert not national_id.is_d_number
    assert national_id.birth_date == datetime.date(1986, 10, 15)


def test_fodselsnummer_with_separators_is_compacted() -> None:
    assert parse_national_id("151086 95088").value == "15108695088"
    assert parse_national_id("151086-95088").value == "15108695088"


def test_century_is_read_from_the_individual_digits() -> None:
    born_2005 = with_check_digits("010105" + "512")
    assert parse_national_id(born_2005).birth_date == datetime.date(2005, 1, 1)
    born_1905 = with_check_digits("010105" + "123")
    assert parse_national_id(born_1905).birth_date == datetime.date(1905, 1, 1)


@pytest.mark.parametrize(
    "number",
    [
        "15108695077",  # both check digits wrong
        "15108695089",  # second check digit wrong
        "15108695188",  # an individual digit changed
    ],
)
def test_classic_fodselsnummer_with_wrong_check_digits_is_rejected(number: str) -> None:
    with pytest.raises(InvalidIdentifier):
        parse_national_id(number)
    assert not is_valid_national_id(number)


# --- D-numbers --------------------------------------------------------------------------


def test_d_number_is_recognised_with_its_birth_date() -> None:
    number = with_check_digits("550590123")  # 15 May 1990, first digit + 4
    national_id = parse_national_id(number)
    assert national_id.kind is IdentifierKind.D_NUMBER
    assert national_id.is_d_number
    assert national_id.birth_date == datetime.date(1990, 5, 15)


@pytest.mark.parametrize("first_digit", "4567")
def test_every_d_number_first_digit_is_a_d_number(first_digit: str) -> None:
    day = int(first_digit) * 10 + 1 - 40  # 01, 11, 21, 31
    number = with_check_digits(f"{first_digit}10190{'123' if day != 31 else '124'}")
    national_id = parse_national_id(number)
    assert national_id.kind is IdentifierKind.D_NUMBER
    assert national_id.birth_date == datetime.date(1990, 1, day)


@pytest.mark.parametrize("first_nine", ["010190124", "110190123", "210190123", "310190125"])
def test_fodselsnummer_starting_with_0_to_3_is_not_a_d_number(first_nine: str) -> None:
    national_id = parse_national_id(with_check_digits(first_nine))
    assert national_id.kind is IdentifierKind.FODSELSNUMMER
    assert national_id.birth_date == datetime.date(1990, 1, int(first_nine[:2]))


# --- The 2032 scheme --------------------------------------------------------------------


@pytest.mark.parametrize("base", [12, 13, 14])
def test_2032_scheme_number_is_accepted_without_a_birth_date(base: int) -> None:
    number = with_check_digits("150590125", base)
    # python-stdnum knows only the classic scheme: this number is valid under 2032 rules only.
    assert not fodselsnummer.is_valid(number)
    national_id = parse_national_id(number)
    assert national_id.value == number
    assert national_id.kind is IdentifierKind.FODSELSNUMMER
    assert national_id.birth_date is None


def test_2032_scheme_d_number_is_a_d_number() -> None:
    number = with_check_digits("550590123", 12)
    national_id = parse_national_id(number)
    assert national_id.kind is IdentifierKind.D_NUMBER
    assert national_id.birth_date is None


def test_national_id_with_check_digits_makes_both_schemes() -> None:
    assert national_id_with_check_digits("150590125") == with_check_digits("150590125", 11)
    for base in (12, 13, 14):
        made = national_id_with_check_digits("150590125", scheme_2032_base=base)
        assert made == with_check_digits("150590125", base)
        assert made is not None and is_valid_national_id(made)


def test_national_id_with_check_digits_is_none_when_a_digit_would_be_10() -> None:
    # For 150590123 the first check digit from 13 would be 10.
    assert national_id_with_check_digits("150590123", scheme_2032_base=13) is None


@pytest.mark.parametrize(
    "number",
    [
        with_check_digits("150590125", 15),  # first check digit from 15: no scheme allows it
        with_check_digits("150590124", 16),
        "15059012558",  # classic first check digit, wrong second one
        "15059012550",
    ],
)
def test_numbers_valid_under_neither_scheme_are_rejected(number: str) -> None:
    with pytest.raises(InvalidIdentifier):
        parse_national_id(number)


@pytest.mark.parametrize(
    "first_nine",
    [
        "310290125",  # 31 February
        "310490125",  # 31 April
        "001090125",  # day 0
        "151390125",  # month 13
    ],
)
@pytest.mark.parametrize("base", [11, 12])
def test_numbers_without_a_real_date_are_rejected(first_nine: str, base: int) -> None:
    # The date part of a number is a date under both schemes (only the century becomes
    # unreadable in 2032), so a number for 31 February is valid under neither.
    number = with_check_digits(first_nine, base)
    with pytest.raises(InvalidIdentifier):
        parse_national_id(number)


# --- Malformed input --------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    ["", "1510869508", "151086950888", "1510869508a", "15108695O88", "abcdefghijk", "+4791234567"],
)
def test_non_digits_and_wrong_length_are_rejected(number: str) -> None:
    with pytest.raises(InvalidIdentifier, match="11 digits"):
        parse_national_id(number)
    assert not is_valid_national_id(number)


# --- KID (Luhn) -------------------------------------------------------------------------


def test_luhn_check_digit_and_validation() -> None:
    assert luhn_check_digit("7992739871") == "3"
    assert luhn_is_valid("79927398713")
    assert not luhn_is_valid("79927398710")


# --- The test factories make valid identifiers ------------------------------------------


@pytest.mark.django_db
def test_factories_make_valid_distinct_identifiers() -> None:
    from registry.models import CleaningApproval
    from tests.registry.factories import (
        CleaningApprovalFactory,
        EmploymentFactory,
        OrganisationFactory,
        PersonFactory,
        RoleFactory,
        StaffingApprovalFactory,
    )

    units = OrganisationFactory.create_batch(30)
    sub_unit = OrganisationFactory(sub_unit=True)
    persons = PersonFactory.create_batch(30)
    d_number_person = PersonFactory(d_number=True)
    role = RoleFactory()
    employment = EmploymentFactory(organisation=sub_unit)
    cleaning = CleaningApprovalFactory()
    staffing = StaffingApprovalFactory(approved=False)

    orgnrs = [unit.orgnr for unit in [*units, sub_unit, role.organisation]]
    assert len(set(orgnrs)) == len(orgnrs)
    assert all(is_valid_orgnr(orgnr) for orgnr in [*orgnrs, cleaning.orgnr, staffing.orgnr])
    assert sub_unit.parent is not None and sub_unit.form == "BEDR"
    assert employment.organisation.main_orgnr == sub_unit.parent.orgnr

    national_ids = [p.national_id for p in [*persons, d_number_person, role.person]]
    assert len(set(national_ids)) == len(national_ids)
    for person in [*persons, role.person]:
        parsed = parse_national_id(person.national_id)
        assert parsed.kind is IdentifierKind.FODSELSNUMMER
        assert parsed.birth_date == person.birth_date
    assert parse_national_id(d_number_person.national_id).is_d_number
    assert d_number_person.birth_date is not None

    # Default register entries never approve a factory unit by chance.
    assert not CleaningApproval.objects.filter(orgnr__in=orgnrs).exists()
    assert staffing.status_text == "Ikke godkjent"


def test_factory_helpers_make_numbers_of_each_kind() -> None:
    from tests.registry.factories import make_national_id, make_orgnr

    born = datetime.date(1990, 5, 15)
    assert parse_national_id(make_national_id(born)).birth_date == born
    d_number = parse_national_id(make_national_id(born, d_number=True))
    assert d_number.is_d_number and d_number.birth_date == born
    scheme_2032 = make_national_id(born, scheme_2032_base=13)
    assert not fodselsnummer.is_valid(scheme_2032)
    assert parse_national_id(scheme_2032).birth_date is None
    assert parse_national_id(make_national_id(datetime.date(2004, 2, 29))).birth_date == (
        datetime.date(2004, 2, 29)
    )
    assert len({make_orgnr(n) for n in range(500)}) == 500
