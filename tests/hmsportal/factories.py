"""Factories for the portal's own records: people who log in."""

from __future__ import annotations

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from hmsportal.models import User
from tests.datasets import OWNER


class UserFactory(DjangoModelFactory[User]):
    """The small dataset's managing director, with a confirmed e-mail address (so the pages
    that send mail to the person acting let her in). `unconfirmed=True`: no address at all."""

    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = "kari"
    national_id = OWNER
    full_name = "Kari Nordmann"
    email = factory.LazyAttribute(lambda user: f"{user.username}@fjordbygg.example")
    email_confirmed_at = factory.LazyFunction(timezone.now)

    class Params:
        unconfirmed = factory.Trait(email="", email_confirmed_at=None)
