"""Writes of the portal's own records: the users who log in, and what they may act for."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from hmsportal import ratelimit
from hmsportal.models import User
from hmsportal.permissions import employer_for
from registry import selectors as registry_selectors
from registry import services as registry_services
from registry.facts import OrganisationFacts


class LookupsExhausted(Exception):
    """The user has looked up too many organisations in the register this minute."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


@transaction.atomic
def user_for_person(*, national_id: str, full_name: str) -> User:
    """The portal user of a person identified by fødselsnummer or D-number, made on first login.

    The username says nothing about the person (it shows in logs and the admin); a name from
    Folkeregisteret replaces the stored one, an empty one (register not answering) does not.
    """
    user, created = User.objects.select_for_update().get_or_create(
        national_id=national_id,
        defaults={"username": f"person-{secrets.token_hex(8)}", "full_name": full_name},
    )
    if not created and full_name and user.full_name != full_name:
        user.full_name = full_name
        user.save(update_fields=["full_name"])
    return user


def organisation_claim(*, user: User, orgnr: str) -> OrganisationFacts | None:
    """The employer the user may act for through orgnr, asking Enhetsregisteret if need be.

    An organisation the user can already act for needs no lookup. Otherwise the unit's roles
    are fetched (and remembered) and access decided again; each such lookup draws on a
    per-user budget, so the form cannot be used to walk the register. Raises LookupsExhausted
    over the budget; RegisterUnavailable propagates.
    """
    employer = employer_for(user, orgnr)
    if employer is not None:
        return employer
    decision = ratelimit.hit(
        scope="organisation-lookup",
        budget=ratelimit.Budget(
            identity=f"user:{user.pk}",
            per_minute=settings.ORGANISATION_LOOKUP_RATE_LIMIT_PER_MINUTE,
        ),
    )
    if not decision.allowed:
        raise LookupsExhausted(decision.retry_after)
    # Roles are held by the main unit: a sub-unit's number asks for its parent's roles.
    unit = registry_selectors.organisation_get(orgnr=orgnr)
    registry_services.roles_refresh(
        orgnr=unit.parent_orgnr if unit and unit.parent_orgnr else orgnr
    )
    return employer_for(user, orgnr)


class NotStaff(Exception):
    """Only the card producer's staff log in with a second factor."""


class SecondFactorExists(Exception):
    """The user already has an authenticator app set up (replace it explicitly)."""


@transaction.atomic
def staff_totp_device_create(*, user: User, replace: bool = False) -> TOTPDevice:
    """A confirmed TOTP device (an authenticator app) for a staff user, replacing theirs if asked.

    Confirmed at once: the administrator hands the QR code to the person, and the first
    login with a code shows that the app works. Replacing deletes the old device, which also
    ends every session verified with it.
    """
    if not user.is_staff:
        raise NotStaff(user.get_username())
    existing = TOTPDevice.objects.select_for_update().filter(user=user)
    if existing.exists():
        if not replace:
            raise SecondFactorExists(user.get_username())
        existing.delete()
    device = TOTPDevice(user=user, name="Authenticator app", confirmed=True)
    device.full_clean()
    device.save()
    return device
