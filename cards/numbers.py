"""Card numbers.

Our numbers are 12 digits: 11 random digits (never sequential, so numbers cannot be walked)
and a Luhn check digit computed by python-stdnum, so a mistyped number is told apart from an
unknown one. Cards imported from the previous producer keep their 10-digit numbers, which
carry no check digit of ours.
"""

from __future__ import annotations

import enum
import secrets

from registry.identifiers import luhn_check_digit, luhn_is_valid

CARD_NUMBER_LENGTH = 12
LEGACY_NUMBER_LENGTH = 10


class NumberForm(enum.StrEnum):
    OURS = "ours"
    LEGACY = "legacy"
    MISTYPED = "mistyped"  # our length, but the check digit does not match
    MALFORMED = "malformed"  # not a card number at all


def card_number_new() -> str:
    """A fresh random card number with its check digit (uniqueness is the caller's job)."""
    body = str(secrets.randbelow(9 * 10**10) + 10**10)  # 11 digits, no leading zero
    return body + luhn_check_digit(body)


def normalise(value: str) -> str:
    """Strip the spaces and dashes people type or that print formats add."""
    if value.isdigit():  # what a QR code and a site system send: nothing to strip
        return value
    return "".join(ch for ch in value if ch not in " -\u00a0\t")


def has_card_number_shape(number: str) -> bool:
    """Whether the (normalised) number is digits of a card number's length, check digit aside."""
    return (
        len(number) in (CARD_NUMBER_LENGTH, LEGACY_NUMBER_LENGTH)
        and number.isascii()
        and number.isdigit()
    )


def classify(value: str) -> NumberForm:
    number = normalise(value)
    if not has_card_number_shape(number):
        return NumberForm.MALFORMED
    if len(number) == CARD_NUMBER_LENGTH:
        return NumberForm.OURS if luhn_is_valid(number) else NumberForm.MISTYPED
    return NumberForm.LEGACY


def display(number: str) -> str:
    """Groups of four for print and screen: 1234 5678 9012."""
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))
