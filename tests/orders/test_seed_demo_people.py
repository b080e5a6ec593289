"""The demo's staff member, delegate and cardholder, made through the services."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from cards.models import Card
from hmsportal.models import User
from orders.models import Delegation, OrderLine
from registry.datasets import registry_dataset_load
from registry.demo import demo_dataset
from tests.datasets import ensure_card_catalogue

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo_people", stdout=out)
    return out.getvalue()


def test_the_demo_gets_one_of_every_kind_of_user_once(
    settings, client, django_capture_on_commit_callbacks
) -> None:
    settings.DEBUG = True
    settings.DEV_LOGIN_ENABLED = True
    ensure_card_catalogue()
    registry_dataset_load(dataset=demo_dataset(timezone.localdate()))
    with django_capture_on_commit_callbacks(execute=True):
        seed()
    staff = User.objects.get(username="kortkontoret")
    assert staff.is_staff and not staff.has_usable_password()
    delegation = Delegation.objects.get()
    line = OrderLine.objects.select_related("card").get()
    assert line.state == OrderLine.State.APPROVED
    assert line.card is not None and line.card.state == Card.State.APPROVED
    assert line.national_id != delegation.grantee_national_id
    assert seed()  # again: nothing new
    assert (Delegation.objects.count(), OrderLine.objects.count(), Card.objects.count()) == (
        1,
        1,
        1,
    )
    page = client.get("/login/dev/").content.decode()
    for group in (
        "Eiere og personer med rolle",
        "Personer som har fått tilgang",
        "Kortinnehavere",
        "Ansatte på kortkontoret",
    ):
        assert group in page
    assert line.card.holder_name in page and delegation.grantee_name in page


def test_it_refuses_outside_the_demo(settings) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG=1"):
        seed()
