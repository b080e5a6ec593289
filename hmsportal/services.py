"""Writes of the portal's own records: the users who log in."""

from __future__ import annotations

from django.db import transaction

from hmsportal.models import User


@transaction.atomic
def user_for_person(*, national_id: str, full_name: str) -> User:
    """The portal user of a person identified by fødselsnummer or D-number, made on first login."""
    user, _created = User.objects.get_or_create(
        national_id=national_id,
        defaults={"username": f"id-{national_id}", "full_name": full_name},
    )
    return user
