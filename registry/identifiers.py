"""Norwegian identifiers: organisation numbers, fødselsnummer and D-numbers.

python-stdnum does the classic check digits. It has no notion of the 2032 scheme, in which
the first check digit may be any of (11, 12, 13 or 14 minus the weighted sum) mod 11 and the
century (and gender) can no longer be read from the number, and it does not say whether a
number is a D-number. This module is the one place that handles both on top of stdnum.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass

from stdnum import luhn
from stdnum.exceptions import ValidationError
from stdnum.no import fodselsnummer, orgnr
from stdnum.util import clean, isdigits

_WEIGHTS_K1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_WEIGHTS_K2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


class InvalidIdentifier(ValueError):
    """The value is not a well-formed identifier of the expected kind."""


class IdentifierKind(enum.StrEnum):
    FODSELSNUMMER = "fnr"
    D_NUMBER = "dnr"


@dataclass(frozen=True)
class NationalId:
    """A validated fødselsnummer or D-number."""

    value: str
    kind: IdentifierKind
    # None when the number follows the 2032 scheme only, where the century is not encoded.
    birth_date: datetime.date | None

    @property
    def is_d_number(self) -> bool:
        return self.kind is IdentifierKind.D_NUMBER


def compact(value: str) -> str:
    return clean(value, " -.:").strip()


def validate_orgnr(value: str) -> str:
    """The organisation number in compact form, or InvalidIdentifier."""
    try:
        return str(orgnr.validate(compact(value)))
    except ValidationError as error:
        raise InvalidIdentifier(str(error)) from error


def is_valid_orgnr(value: str) -> bool:
    try:
        validate_orgnr(value)
    except InvalidIdentifier:
        return False
    return True


def _weighted(number: str, weights: tuple[int, ...]) -> int:
    return sum(w * int(n) for w, n in zip(weights, number, strict=False))


def _second_check_digit_ok(number: str) -> bool:
    return (11 - _weighted(number[:10], _WEIGHTS_K2) % 11) % 11 == int(number[10])


def _first_check_digit_2032_ok(number: str) -> bool:
    remainder = _weighted(number[:9], _WEIGHTS_K1) % 11
    # From 2032 the first check digit may be any of these; 10 is never a digit.
    allowed = {(base - remainder) % 11 for base in (11, 12, 13, 14)} - {10}
    return int(number[9]) in allowed


def _kind(number: str) -> IdentifierKind:
    # A D-number adds 4 to the first digit of the day of birth.
    return IdentifierKind.D_NUMBER if number[0] in "4567" else IdentifierKind.FODSELSNUMMER


def _is_calendar_day(number: str) -> bool:
    """The date part is a real day of the year (the century is unknown, so 29 February
    counts: 2000 is a leap year)."""
    day = int(number[0:2]) - (40 if _kind(number) is IdentifierKind.D_NUMBER else 0)
    month = int(number[2:4]) % 40  # H-numbers add 40 to the month
    try:
        datetime.date(2000, month, day)
    except ValueError:
        return False
    return True


def parse_national_id(value: str) -> NationalId:
    """Validate a fødselsnummer or D-number under either check-digit scheme."""
    number = compact(value)
    if not isdigits(number) or len(number) != 11:
        raise InvalidIdentifier("A national identity number has 11 digits.")
    kind = _kind(number)
    try:
        fodselsnummer.validate(number)
    except ValidationError:
        pass
    else:
        if not _is_calendar_day(number):
            raise InvalidIdentifier("The date part of the number is not a real date.")
        try:
            birth_date: datetime.date | None = fodselsnummer.get_birth_date(number)
        except ValidationError:
            birth_date = None
        return NationalId(value=number, kind=kind, birth_date=birth_date)
    if (
        _first_check_digit_2032_ok(number)
        and _second_check_digit_ok(number)
        and _is_calendar_day(number)
    ):
        return NationalId(value=number, kind=kind, birth_date=None)
    raise InvalidIdentifier("The check digits of the national identity number do not match.")


def is_valid_national_id(value: str) -> bool:
    try:
        parse_national_id(value)
    except InvalidIdentifier:
        return False
    return True


def national_id_with_check_digits(first_nine: str, *, scheme_2032_base: int = 11) -> str | None:
    """Complete nine digits into a valid number (used by the demo-data generator); None when
    the check digits cannot be formed. scheme_2032_base 12–14 gives a 2032-scheme number."""
    k1 = (scheme_2032_base - _weighted(first_nine, _WEIGHTS_K1) % 11) % 11
    if k1 == 10:
        return None
    ten = first_nine + str(k1)
    k2 = (11 - _weighted(ten, _WEIGHTS_K2) % 11) % 11
    if k2 == 10:
        return None
    return ten + str(k2)


def orgnr_with_check_digit(first_eight: str) -> str | None:
    """Complete eight digits into a valid organisation number; None when impossible."""
    # stdnum exposes validation only; the one digit that validates is the check digit.
    for digit in "0123456789":
        if orgnr.is_valid(first_eight + digit):
            return first_eight + digit
    return None


def luhn_check_digit(digits: str) -> str:
    return str(luhn.calc_check_digit(digits))


def luhn_is_valid(digits: str) -> bool:
    return bool(luhn.is_valid(digits))
