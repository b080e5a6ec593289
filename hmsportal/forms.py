"""Forms of the portal's own pages. Every field says what is wrong in plain language."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hmsportal.models import AuditEntry
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


class AuditFilterForm(forms.Form):
    """Filters of the audit trail: what kind of change, who, between which dates.

    Sent by GET: a bad value is explained and the unfiltered trail shown, never an error page.
    """

    action = forms.ChoiceField(label=_("What"), required=False)
    actor = forms.CharField(
        label=_("Who (name)"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"max_length": _("The name is too long.")},
    )
    date_from = forms.DateField(
        label=_("From date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter a real date, for example 01.03.2027.")},
    )
    date_to = forms.DateField(
        label=_("To date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter a real date, for example 01.03.2027.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        action = self.fields["action"]
        assert isinstance(action, forms.ChoiceField)  # noqa: S101 (declared above)
        action.choices = [("", _("All changes")), *AuditEntry.Action.choices]
        action.error_messages["invalid_choice"] = _("Choose a kind of change from the list.")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The to date must be the same as the from date or later."))
        return cleaned


class BackofficeAuditFilterForm(AuditFilterForm):
    """The back office's filters: also by organisation."""

    organisation = forms.CharField(
        label=_("Organisation number"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={"max_length": _("An organisation number has 9 digits.")},
    )

    def clean_organisation(self) -> str:
        value = "".join(self.cleaned_data["organisation"].split())
        if value and not (len(value) == 9 and value.isdigit()):
            raise forms.ValidationError(_("An organisation number has 9 digits."))
        return value
