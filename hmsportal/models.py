"""The portal's user: a person logged in through ID-porten (or the development login)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from hmsportal.phone import validate_mobile_e164


class User(AbstractUser):
    """A person using the portal, identified by fødselsnummer or D-number when logged in
    through ID-porten; back-office staff may have none."""

    class Language(models.TextChoices):
        NB = "nb", _("Norwegian bokmål")
        EN = "en", _("English")

    national_id = models.CharField(
        _("national identity number"), max_length=11, unique=True, null=True, blank=True
    )
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    # `email` (from AbstractUser) is the address mail goes to once email_confirmed_at is set.
    # A new address waits in pending_email until the person follows the link sent to it, so
    # the confirmed one keeps working meanwhile.
    email_confirmed_at = models.DateTimeField(_("e-mail confirmed at"), null=True, blank=True)
    pending_email = models.EmailField(_("e-mail waiting for confirmation"), blank=True)
    mobile = models.CharField(
        _("mobile number"), max_length=16, blank=True, validators=[validate_mobile_e164]
    )
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.NB
    )

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def confirmed_email(self) -> str:
        """The address the person has confirmed, or "" (then no mail is sent to them)."""
        return self.email if self.email and self.email_confirmed_at else ""
