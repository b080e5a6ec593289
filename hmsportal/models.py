"""The portal's user: a person logged in through ID-porten (or the development login)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person using the portal, identified by fødselsnummer or D-number when logged in
    through ID-porten; back-office staff may have none."""

    national_id = models.CharField(
        _("national identity number"), max_length=11, unique=True, null=True, blank=True
    )
    full_name = models.CharField(_("full name"), max_length=200, blank=True)

    def __str__(self) -> str:
        return self.full_name or self.username
