"""The development login (DEBUG only): every kind of user, in words, and nothing else."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from cards.models import Card
from hmsportal.models import User
from orders.models import Delegation
from registry.datasets import registry_dataset_load
from tests.cards.factories import CardFactory
from tests.datasets import EMPLOYER, OWNER, WORKER, small_dataset
from tests.orders.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings) -> None:
    settings.DEV_LOGIN_ENABLED = True
    registry_dataset_load(dataset=small_dataset())


def test_every_kind_of_user_is_listed_with_roles_in_words(client, demo):
    owner = UserFactory(national_id=OWNER)
    Delegation.objects.create(
        employer_orgnr=EMPLOYER,
        grantee_national_id="01017512338",
        grantee_name="Ola Snekker",
        granted_by=owner,
        valid_from=timezone.localdate() - datetime.timedelta(days=1),
    )
    CardFactory(
        holder_national_id=WORKER,
        holder_first_name="Ola",
        holder_last_name="Snekker",
        employer_name="Fjordbygg AS",
        state=Card.State.ACTIVE,
    )
    UserFactory(
        username="kortkontoret", national_id=None, full_name="Kari Kortkontor", is_staff=True
    )
    page = client.get("/login/dev/").content.decode()
    assert "Daglig leder, Fjordbygg AS" in page
    assert "DAGL" not in page
    assert "Tilgang for Fjordbygg AS" in page
    assert "HMS-kort fra Fjordbygg AS" in page
    assert "Kari Kortkontor" in page
    english = client.get("/login/dev/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Managing director, Fjordbygg AS" in english


def test_a_listed_person_and_a_staff_member_can_log_in(client, demo):
    response = client.post("/login/dev/", {"national_id": OWNER})
    assert response.status_code == 302
    user = User.objects.get(pk=client.session["_auth_user_id"])
    assert user.national_id == OWNER and user.full_name == "Kari Nordmann"
    client.logout()
    staff = UserFactory(username="kortkontoret", national_id=None, is_staff=True)
    client.post("/login/dev/", {"staff": "kortkontoret"})
    assert int(client.session["_auth_user_id"]) == staff.pk


def test_nobody_who_is_not_listed_can_log_in(client, demo):
    UserFactory(username="plain", national_id=None, is_staff=False)
    for choice in ({"national_id": "01017512338"}, {"staff": "plain"}, {"national_id": ""}):
        response = client.post("/login/dev/", choice)
        assert response.status_code == 200
        assert "_auth_user_id" not in client.session


def test_without_debug_there_is_no_development_login(client, settings):
    settings.DEV_LOGIN_ENABLED = False
    assert client.get("/login/dev/").status_code == 404
    assert client.post("/login/dev/", {"national_id": OWNER}).status_code == 404
    assert "Utviklingsinnlogging" not in client.get("/login/").content.decode()


def test_with_idporten_configured_both_logins_are_offered(client, demo, settings):
    settings.IDPORTEN_ISSUER = "http://127.0.0.1:1"
    settings.IDPORTEN_CLIENT_ID = "client"
    page = client.get("/login/").content.decode()
    assert 'href="/login/idporten/"' in page
    assert 'href="/login/dev/"' in page
    settings.IDPORTEN_ISSUER = ""
    page = client.get("/login/").content.decode()
    assert 'href="/login/idporten/"' not in page
