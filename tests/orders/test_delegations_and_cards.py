"""Delegations (access for others) and the employer's card administration."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from cards.models import Card
from orders.models import Delegation
from registry.datasets import registry_dataset_load
from tests.cards.factories import CardFactory
from tests.datasets import EMPLOYER, OWNER, SUB_UNIT, WORKER, small_dataset
from tests.hmsportal.factories import UserFactory

pytestmark = pytest.mark.django_db
DELEGATE = "01017512419"


@pytest.fixture
def owner(client):
    registry_dataset_load(dataset=small_dataset())
    user = UserFactory()
    client.force_login(user)
    return user


def test_an_owner_gives_access_and_the_delegate_can_then_order(client, owner) -> None:
    today = timezone.localdate()
    response = client.post(
        f"/orders/{EMPLOYER}/access/",
        {
            "national_id": DELEGATE,
            "name": "Per Hansen",
            "email": "per@example.no",
            "valid_from": today.isoformat(),
            "valid_until": "",
        },
    )
    assert response.status_code == 302
    delegation = Delegation.objects.get()
    assert (delegation.grantee_national_id, delegation.granted_by) == (DELEGATE, owner)

    delegate = UserFactory(username="per", national_id=DELEGATE, full_name="Per Hansen")
    client.force_login(delegate)
    assert client.get(f"/orders/{EMPLOYER}/new/").status_code == 200
    # The delegation covers the sub-units too.
    assert client.get(f"/orders/{SUB_UNIT}/").status_code == 200
    # A delegate may not give access further.
    response = client.post(
        f"/orders/{EMPLOYER}/access/",
        {"national_id": OWNER, "name": "X", "valid_from": today.isoformat()},
    )
    assert response.status_code == 403

    client.force_login(owner)
    client.post(f"/orders/{EMPLOYER}/access/", {"revoke": str(delegation.pk)})
    delegation.refresh_from_db()
    assert delegation.revoked_at is not None
    client.force_login(delegate)
    assert client.get(f"/orders/{EMPLOYER}/new/").status_code == 404


def test_a_delegation_counts_only_between_its_dates(client, owner) -> None:
    today = timezone.localdate()
    Delegation.objects.create(
        employer_orgnr=EMPLOYER,
        grantee_national_id=DELEGATE,
        granted_by=owner,
        valid_from=today + datetime.timedelta(days=3),
        valid_until=today + datetime.timedelta(days=10),
    )
    client.force_login(UserFactory(username="per", national_id=DELEGATE, full_name="Per Hansen"))
    assert client.get(f"/orders/{EMPLOYER}/").status_code == 404


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {
                "national_id": "12345678901",
                "name": "A",
                "email": "per@example.no",
                "valid_from": "2027-01-01",
            },
            "Fødselsnummeret er ikke gyldig",
        ),
        (
            {
                "national_id": DELEGATE,
                "name": "",
                "email": "per@example.no",
                "valid_from": "2027-01-01",
            },
            "Skriv inn navnet til personen.",
        ),
        (
            {
                "national_id": DELEGATE,
                "name": "A",
                "email": "per@example.no",
                "valid_from": "31.02.2027",
            },
            "Skriv inn en ekte dato",
        ),
        (
            {
                "national_id": DELEGATE,
                "name": "A",
                "email": "per@example.no",
                "valid_from": "2027-03-01",
                "valid_until": "2027-02-01",
            },
            "Sluttdatoen må være samme dag som startdatoen eller senere.",
        ),
        (
            {
                "national_id": OWNER,
                "name": "A",
                "email": "per@example.no",
                "valid_from": "2027-03-01",
            },
            "Du kan ikke gi tilgang til deg selv.",
        ),
    ],
)
def test_bad_delegation_input_is_explained_and_nothing_saved(client, owner, data, message) -> None:
    response = client.post(f"/orders/{EMPLOYER}/access/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Delegation.objects.count() == 0


def test_revoking_an_unknown_delegation_is_404(client, owner) -> None:
    for value in ["999", "abc", "9" * 40, ""]:
        assert client.post(f"/orders/{EMPLOYER}/access/", {"revoke": value}).status_code == 404


def test_the_employer_sees_why_a_card_is_invalid_and_can_replace_a_lost_one(client, owner) -> None:
    card = CardFactory(
        state=Card.State.INVALID,
        reason_codes=["employment_ended"],
        holder_national_id=WORKER,
        employer_orgnr=EMPLOYER,
        workplace_orgnr=SUB_UNIT,
        with_photo=True,
    )
    page = client.get(f"/orders/{EMPLOYER}/cards/{card.number}/")
    body = page.content.decode()
    assert "Arbeidsforholdet er avsluttet." in body
    assert client.get(f"/orders/{EMPLOYER}/cards/").status_code == 200

    # An invalid card is not replaced (the replacement would be just as invalid) …
    response = client.post(
        f"/orders/{EMPLOYER}/cards/{card.number}/", {"reason": "lost", "replace": "on"}
    )
    assert "Bare et gyldig kort kan erstattes." in response.content.decode()
    assert Card.objects.count() == 1
    # … a valid one is.
    Card.objects.filter(pk=card.pk).update(state=Card.State.ACTIVE, reason_codes=[])
    response = client.post(
        f"/orders/{EMPLOYER}/cards/{card.number}/", {"reason": "lost", "replace": "on"}
    )
    assert response.status_code == 302
    card.refresh_from_db()
    assert card.state == Card.State.REVOKED
    replacement = Card.objects.get(replaces=card)
    assert response["Location"] == f"/orders/{EMPLOYER}/cards/{replacement.number}/"


def test_only_lost_or_stolen_cards_are_replaced_and_bad_reasons_are_refused(client, owner) -> None:
    card = CardFactory(state=Card.State.ACTIVE, employer_orgnr=EMPLOYER)
    response = client.post(
        f"/orders/{EMPLOYER}/cards/{card.number}/", {"reason": "returned", "replace": "on"}
    )
    assert "Bare et kort som er mistet eller stjålet" in response.content.decode()
    response = client.post(f"/orders/{EMPLOYER}/cards/{card.number}/", {"reason": "<b>"})
    assert response.status_code == 200
    card.refresh_from_db()
    assert card.state == Card.State.ACTIVE
    assert Card.objects.count() == 1


def test_another_employers_card_is_404(client, owner) -> None:
    card = CardFactory(employer_orgnr="974760673")
    assert client.get(f"/orders/{EMPLOYER}/cards/{card.number}/").status_code == 404


def test_periods_that_do_not_overlap_can_both_be_given(client, owner) -> None:
    client.post(
        f"/orders/{EMPLOYER}/access/",
        {
            "national_id": DELEGATE,
            "name": "Per",
            "email": "per@example.no",
            "valid_from": "2027-06-01",
            "valid_until": "",
        },
    )
    response = client.post(
        f"/orders/{EMPLOYER}/access/",
        {
            "national_id": DELEGATE,
            "name": "Per",
            "email": "per@example.no",
            "valid_from": "2027-01-01",
            "valid_until": "2027-02-28",
        },
    )
    assert response.status_code == 302
    overlapping = client.post(
        f"/orders/{EMPLOYER}/access/",
        {
            "national_id": DELEGATE,
            "name": "Per",
            "email": "per@example.no",
            "valid_from": "2027-02-01",
            "valid_until": "2027-03-01",
        },
    )
    assert "Denne personen har allerede tilgang i denne perioden." in overlapping.content.decode()
    assert Delegation.objects.count() == 2


def test_who_removed_an_access_is_recorded(client, owner) -> None:
    delegation = Delegation.objects.create(
        employer_orgnr=EMPLOYER,
        grantee_national_id=DELEGATE,
        granted_by=owner,
        valid_from=timezone.localdate(),
    )
    client.post(f"/orders/{EMPLOYER}/access/", {"revoke": str(delegation.pk)})
    delegation.refresh_from_db()
    assert delegation.revoked_by == owner


def test_unicode_digits_in_a_revoke_are_404_not_500(client, owner) -> None:
    assert client.post(f"/orders/{EMPLOYER}/access/", {"revoke": "²"}).status_code == 404
