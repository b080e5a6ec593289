"""Mobile numbers people give as contact details: parsed with `phonenumbers`, stored E.164.

A number without a country code is read as Norwegian; numbers from other countries are
accepted with their country code (many workers keep a foreign mobile).
"""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

DEFAULT_REGION = "NO"
MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}
INVALID_MOBILE = _(
    "The mobile number is not valid. Write 8 digits for a Norwegian number, or the country code first for a number from another country, for example +46 70 123 45 67."
)
NOT_A_MOBILE = _("This is not a mobile number. Write the number of a mobile phone.")


def mobile_normalise(raw: str) -> str:
    """The mobile number in E.164 (+4791234567); ValidationError when it is not one."""
    try:
        number = phonenumbers.parse(raw, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValidationError(INVALID_MOBILE, code="invalid") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(INVALID_MOBILE, code="invalid")
    if phonenumbers.number_type(number) not in MOBILE_TYPES:
        raise ValidationError(NOT_A_MOBILE, code="not_mobile")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_mobile_e164(value: str) -> None:
    """Model validator: a stored mobile number is already normalised."""
    if value and mobile_normalise(value) != value:
        raise ValidationError(INVALID_MOBILE, code="invalid")


def mobile_display(value: str) -> str:
    """A stored number as people write it: +47 912 34 567."""
    if not value:
        return ""
    number = phonenumbers.parse(value, DEFAULT_REGION)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
