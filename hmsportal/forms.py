"""Forms of the portal's own pages. Every field says what is wrong in plain language."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hmsportal.phone import mobile_normalise

# What every e-mail field in the portal says about a bad address.
EMAIL_ERROR_MESSAGES = {
    "invalid": _("The e-mail address is not valid. Write it like this: name@example.no"),
    "max_length": _("The e-mail address is too long."),
}


class ContactDetailsForm(forms.Form):
    """The person's e-mail address (required) and mobile number (optional)."""

    email = forms.EmailField(
        label=_("E-mail address"),
        help_text=_(
            "We send a link to this address. The address is used when you have clicked the link."
        ),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"required": _("Enter your e-mail address."), **EMAIL_ERROR_MESSAGES},
    )
    mobile = forms.CharField(
        label=_("Mobile number (optional)"),
        help_text=_(
            "8 digits for a Norwegian number. Other countries: start with + and the country code."
        ),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
        error_messages={"max_length": _("The mobile number is too long.")},
    )

    def clean_mobile(self) -> str:
        raw = self.cleaned_data["mobile"].strip()
        return mobile_normalise(raw) if raw else ""
