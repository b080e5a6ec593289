"""The admin site: django-otp's OTPAdminSite while STAFF_SECOND_FACTOR_REQUIRED is on.

One site object serves both cases and reads the setting on each request (not at start-up),
so that tests can switch it and the demo (DEBUG) keeps Django's plain password login.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

from hmsportal.backoffice import has_second_factor, second_factor_missing, session_verified


class SecondFactorLoginForm(OTPAdminAuthenticationForm):
    """Username, password and the code from the authenticator app, in one step."""

    otp_token = forms.CharField(
        label=_("Code from the authenticator app"),
        required=False,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": 8}
        ),
    )
    otp_error_messages = {
        **OTPAdminAuthenticationForm.otp_error_messages,
        "token_required": _("Type the code your authenticator app shows for this account."),
        "invalid_token": _(
            "The code is wrong or too old. Type the code the app shows now and try again."
        ),
        "device_required": _(
            "This account has no authenticator app set up. Ask an administrator to set one up."
        ),
        "n_failed_attempts": ngettext_lazy(
            "The code was wrong %(failure_count)d time. Wait a little and try again.",
            "The code was wrong %(failure_count)d times. Wait a little and try again.",
            "failure_count",
        ),
        "verification_not_allowed": _("Codes cannot be checked right now. Try again later."),
    }

    def _chosen_device(self, user: Any) -> Device | None:
        # Staff have one authenticator each (staff_totp_device replaces it), so nobody has to
        # pick a device first: without a choice, the user's own confirmed TOTP device is used.
        device = super()._chosen_device(user)
        if device is None:
            device = (
                TOTPDevice.objects.select_for_update()
                .filter(user=user, confirmed=True)
                .order_by("pk")
                .first()
            )
        return device


class PortalAdminSite(OTPAdminSite):
    """Password plus a TOTP code for staff when STAFF_SECOND_FACTOR_REQUIRED; password alone in DEBUG."""

    site_header = _("HMS card portal: the card office")
    site_title = _("The card office")
    index_title = _("Back office")

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)

    @property
    def login_form(self) -> type[AuthenticationForm]:
        if settings.STAFF_SECOND_FACTOR_REQUIRED:
            return SecondFactorLoginForm
        return AdminAuthenticationForm

    @property
    def login_template(self) -> str | None:
        if settings.STAFF_SECOND_FACTOR_REQUIRED:
            return "admin/login_second_factor.html"
        return None

    def has_permission(self, request: HttpRequest) -> bool:
        if settings.STAFF_SECOND_FACTOR_REQUIRED:
            return bool(super().has_permission(request))
        # Without the second factor: Django's own rule (active staff).
        return bool(super(OTPAdminSite, self).has_permission(request))

    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponseBase:
        user = request.user
        if user.is_authenticated and not (user.is_active and user.is_staff):
            # An employer or cardholder logged in through ID-porten: the same page as the rest
            # of the back office (hmsportal.backoffice.staff_required), not a password form
            # that greets them by their opaque user name.
            raise PermissionDenied(_("This page is for the card office's staff."))
        if (
            settings.STAFF_SECOND_FACTOR_REQUIRED
            and user.is_authenticated
            and user.is_active
            and user.is_staff
            and not session_verified(user)
            and not has_second_factor(user)
        ):
            # Signed in some other way, with no authenticator to give: a password and code
            # form would only lead nowhere.
            return second_factor_missing(request)
        return super().login(request, extra_context)
