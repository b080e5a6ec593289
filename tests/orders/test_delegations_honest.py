"""Delegations that stay honest (issue 10, point 6): the grant names the grantee's e-mail and
whether they may give access further; the grantee is told; grants whose grantor loses the key
role are flagged, the current key-role holders asked, and unconfirmed ones end."""

from __future__ import annotations

import copy
import datetime

import pytest
from django.core import mail
from django.utils import timezone

from hmsportal.models import AuditEntry, User
from orders.delegations import delegations_review
from orders.models import Delegation
from registry.datasets import registry_dataset_load
from tests.datasets import EMPLOYER, OWNER, SUB_UNIT, small_dataset
from tests.hmsportal.factories import UserFactory

pytestmark = pytest.mark.django_db
DELEGATE = "01017512419"
BOARD_CHAIR = "02028010047"  # styrets leder, who loses the role
THIRD = "02028010128"
STRANGER = "02028010209"
ACCESS = f"/orders/{EMPLOYER}/access/"
A = AuditEntry.Action


def _dataset(*, chair_has_role: bool) -> dict:
    dataset = copy.deepcopy(small_dataset())
    for person, first in [(BOARD_CHAIR, "Sigrid"), (DELEGATE, "Per"), (THIRD, "Tone")]:
        dataset["persons"].append(
            {
                "id": person,
                "first_name": first,
                "last_name": "Berg",
                "birth_date": None,
                "d_number_active": True,
                "permit_until": None,
            }
        )
    if chair_has_role:
        dataset["organisations"][0]["roles"].append({"person": BOARD_CHAIR, "role": "LEDE"})
    return dataset


@pytest.fixture
def owner(client):
    registry_dataset_load(dataset=_dataset(chair_has_role=True))
    user = UserFactory()
    client.force_login(user)
    return user


@pytest.fixture
def chair():
    return UserFactory(username="sigrid", national_id=BOARD_CHAIR, full_name="Sigrid Berg")


def _grant(client, **overrides):
    data = {
        "national_id": DELEGATE,
        "name": "Per Berg",
        "email": "per@example.no",
        "valid_from": timezone.localdate().isoformat(),
        "valid_until": "",
        **overrides,
    }
    return client.post(ACCESS, data)


def test_a_grant_names_the_email_and_whether_the_grantee_may_give_further(
    client, owner, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = _grant(client, may_grant_further="on")
    assert response.status_code == 302
    delegation = Delegation.objects.get()
    assert delegation.grantee_email == "per@example.no"
    assert delegation.may_grant_further is True
    granted = AuditEntry.objects.get(action=A.DELEGATION_GRANTED)
    assert granted.after["may_grant_further"] is True
    # The grantee has no portal account yet: the mail goes to the address the grant names,
    # in the granter's language.
    (message,) = mail.outbox
    assert message.to == ["per@example.no"]
    assert "Fjordbygg AS" in message.subject
    assert "Kari Nordmann har gitt deg tilgang" in message.body
    assert "Du kan også gi andre tilgang." in message.body
    assert f"/orders/{EMPLOYER}/" in message.body
    assert DELEGATE not in message.body


def test_a_grantee_with_a_confirmed_address_gets_the_mail_there_in_their_language(
    client, owner, django_capture_on_commit_callbacks
) -> None:
    UserFactory(
        username="per", national_id=DELEGATE, full_name="Per Berg", email="per@home.example"
    )
    User.objects.filter(username="per").update(language="en")
    with django_capture_on_commit_callbacks(execute=True):
        _grant(client)
    (message,) = mail.outbox
    assert message.to == ["per@home.example"]
    assert "Kari Nordmann has given you access" in message.body
    assert "give others access" not in message.body


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"email": ""}, "Skriv inn e-postadressen til personen."),
        ({"email": "per@"}, "Skriv inn en e-postadresse som navn@eksempel.no."),
        ({"email": "a" * 250 + "@example.no"}, "Skriv inn en e-postadresse som navn@eksempel.no."),
    ],
)
def test_a_grant_without_a_good_email_is_explained_and_nothing_saved(
    client, owner, overrides, message
) -> None:
    response = _grant(client, **overrides)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Delegation.objects.count() == 0


def test_a_delegate_without_the_right_to_give_further_cannot_give_access(client, owner) -> None:
    _grant(client)
    client.force_login(UserFactory(username="per", national_id=DELEGATE, full_name="Per Berg"))
    page = client.get(ACCESS)
    assert page.status_code == 200
    assert 'name="national_id"' not in page.content.decode()
    response = _grant(client, national_id=THIRD, name="Tone Berg", email="tone@example.no")
    assert response.status_code == 403
    assert not Delegation.objects.filter(grantee_national_id=THIRD).exists()
    # Nor remove anyone's access.
    mine = Delegation.objects.get()
    assert client.post(ACCESS, {"revoke": str(mine.pk)}).status_code == 403
    mine.refresh_from_db()
    assert mine.revoked_at is None


def test_a_delegate_who_may_give_further_gives_no_more_than_their_own_grant(client, owner) -> None:
    today = timezone.localdate()
    own_end = today + datetime.timedelta(days=30)
    _grant(client, may_grant_further="on", valid_until=own_end.isoformat())
    per = UserFactory(username="per", national_id=DELEGATE, full_name="Per Berg")
    client.force_login(per)
    assert 'name="national_id"' in client.get(ACCESS).content.decode()

    for until in ["", (own_end + datetime.timedelta(days=1)).isoformat()]:
        response = _grant(
            client, national_id=THIRD, name="Tone Berg", email="t@example.no", valid_until=until
        )
        assert response.status_code == 200
        assert "Tilgangen kan ikke vare lenger enn din egen" in response.content.decode()
    assert not Delegation.objects.filter(grantee_national_id=THIRD).exists()

    response = _grant(
        client, national_id=THIRD, name="Tone Berg", email="t@example.no", valid_until=own_end
    )
    assert response.status_code == 302
    given = Delegation.objects.get(grantee_national_id=THIRD)
    assert (given.granted_by, given.valid_until) == (per, own_end)
    # The delegate may remove what they gave, not the owner's grant to them.
    own = Delegation.objects.get(grantee_national_id=DELEGATE)
    assert client.post(ACCESS, {"revoke": str(own.pk)}).status_code == 404
    assert client.post(ACCESS, {"revoke": str(given.pk)}).status_code == 302
    given.refresh_from_db()
    own.refresh_from_db()
    assert given.revoked_at is not None and own.revoked_at is None


def _chair_grants(client, chair) -> Delegation:
    client.force_login(chair)
    assert _grant(client).status_code == 302
    return Delegation.objects.get(grantee_national_id=DELEGATE)


def test_the_nightly_review_flags_grants_of_someone_who_lost_the_role_and_asks_the_holders(
    client, owner, chair, django_capture_on_commit_callbacks
) -> None:
    delegation = _chair_grants(client, chair)
    # While the grantor holds the role, nothing happens.
    with django_capture_on_commit_callbacks(execute=True):
        assert delegations_review().flagged == 0
    mail.outbox.clear()

    registry_dataset_load(dataset=_dataset(chair_has_role=False))
    with django_capture_on_commit_callbacks(execute=True):
        review = delegations_review()
    assert review.flagged == 1
    delegation.refresh_from_db()
    assert delegation.flagged_at is not None and delegation.revoked_at is None
    flagged = AuditEntry.objects.get(action=A.DELEGATION_FLAGGED)
    assert (flagged.actor, flagged.organisation_orgnr) == (None, EMPLOYER)
    # Only the current key-role holder with a confirmed address is asked (not the chair).
    (message,) = mail.outbox
    assert message.to == [owner.confirmed_email]
    assert "Per Berg (gitt av Sigrid Berg)" in message.body
    assert f"/orders/{EMPLOYER}/access/{delegation.pk}/confirm/" in message.body

    # Flagged grants stay in force: the delegate still sees the organisation.
    client.force_login(UserFactory(username="per", national_id=DELEGATE, full_name="Per Berg"))
    assert client.get(f"/orders/{EMPLOYER}/").status_code == 200
    # A second night flags nothing again and mails nobody.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert delegations_review().flagged == 0
    assert mail.outbox == []


def test_confirming_clears_the_flag_and_records_who(client, owner, chair) -> None:
    delegation = _chair_grants(client, chair)
    registry_dataset_load(dataset=_dataset(chair_has_role=False))
    delegations_review()
    client.force_login(owner)
    url = f"/orders/{EMPLOYER}/access/{delegation.pk}/confirm/"
    page = client.get(url)
    assert page.status_code == 200
    assert "Sigrid Berg" in page.content.decode()
    assert "behold eller fjern" in client.get(ACCESS).content.decode().lower()

    assert client.post(url, {"decision": "nonsense"}).status_code == 200
    delegation.refresh_from_db()
    assert delegation.flagged_at is not None

    response = client.post(url, {"decision": "confirm"})
    assert response.status_code == 302
    delegation.refresh_from_db()
    assert delegation.flagged_at is None
    assert (delegation.confirmed_by, delegation.revoked_at) == (owner, None)
    confirmed = AuditEntry.objects.get(action=A.DELEGATION_CONFIRMED)
    assert confirmed.actor == owner
    # Confirmed by a current key-role holder, the grant is not flagged again, and ends never.
    assert delegations_review().flagged == 0
    later = timezone.now() + datetime.timedelta(days=30)
    assert delegations_review(now=later).ended == 0
    # The page has nothing more to do.
    assert client.get(url).status_code == 302


def test_revoking_a_flagged_grant_ends_it(client, owner, chair) -> None:
    delegation = _chair_grants(client, chair)
    registry_dataset_load(dataset=_dataset(chair_has_role=False))
    delegations_review()
    client.force_login(owner)
    response = client.post(
        f"/orders/{EMPLOYER}/access/{delegation.pk}/confirm/", {"decision": "revoke"}
    )
    assert response.status_code == 302
    delegation.refresh_from_db()
    assert (delegation.revoked_by, delegation.revocation_reason) == (owner, "")
    assert AuditEntry.objects.filter(action=A.DELEGATION_REVOKED, actor=owner).exists()


def test_unconfirmed_flagged_grants_end_after_the_days(client, owner, chair, settings) -> None:
    settings.DELEGATION_CONFIRM_DAYS = 14
    delegation = _chair_grants(client, chair)
    registry_dataset_load(dataset=_dataset(chair_has_role=False))
    delegations_review()
    delegation.refresh_from_db()
    flagged_at = delegation.flagged_at
    assert delegations_review(now=flagged_at + datetime.timedelta(days=13)).ended == 0
    assert delegations_review(now=flagged_at + datetime.timedelta(days=14)).ended == 1
    delegation.refresh_from_db()
    assert delegation.revoked_at is not None and delegation.revoked_by is None
    assert delegation.revocation_reason == Delegation.RevocationReason.UNCONFIRMED
    ended = AuditEntry.objects.get(action=A.DELEGATION_ENDED)
    assert ended.after["revocation_reason"] == "unconfirmed"
    # Ended, it no longer opens the organisation.
    client.force_login(UserFactory(username="per", national_id=DELEGATE, full_name="Per Berg"))
    assert client.get(f"/orders/{EMPLOYER}/").status_code == 404


def test_the_beat_schedule_runs_the_review_task_daily() -> None:
    from hmsportal.celery import app
    from orders.tasks import review_delegations

    entries = [e for e in app.conf.beat_schedule.values() if e["task"] == review_delegations.name]
    assert len(entries) == 1


def test_grantees_in_every_state_and_strangers_try_the_delegation_urls(
    client, owner, chair
) -> None:
    """A grantee, a revoked grantee, an expired grantee, a flagged grantee and a stranger."""
    today = timezone.localdate()
    people = {
        "grantee": "01017512419",
        "revoked": "02028010128",
        "expired": "02028010209",
        "flagged": "02028010470",
    }
    grants = {}
    for kind, national_id in people.items():
        grants[kind] = Delegation.objects.create(
            employer_orgnr=EMPLOYER,
            grantee_national_id=national_id,
            grantee_name=kind,
            grantee_email=f"{kind}@example.no",
            granted_by=owner if kind != "flagged" else chair,
            valid_from=today - datetime.timedelta(days=10),
            valid_until=today - datetime.timedelta(days=1) if kind == "expired" else None,
            revoked_at=timezone.now() if kind == "revoked" else None,
        )
    registry_dataset_load(dataset=_dataset(chair_has_role=False))
    assert delegations_review().flagged == 1
    grants["flagged"].refresh_from_db()
    assert grants["flagged"].flagged_at is not None
    confirm = f"/orders/{EMPLOYER}/access/{grants['flagged'].pk}/confirm/"
    urls = [ACCESS, f"/orders/{SUB_UNIT}/access/", confirm]

    def visitor(kind: str, national_id: str) -> None:
        client.force_login(
            UserFactory(username=kind, national_id=national_id, full_name=kind.title())
        )

    for kind in ["grantee", "flagged"]:
        visitor(kind, people[kind])
        # In force (a flagged grant too, until it ends): the access page opens, nothing more.
        assert client.get(ACCESS).status_code == 200
        assert client.get(f"/orders/{SUB_UNIT}/access/").status_code == 200
        assert client.get(confirm).status_code == 404
        assert client.post(confirm, {"decision": "confirm"}).status_code == 404
        assert _grant(client, national_id=OWNER).status_code == 403
        assert client.post(ACCESS, {"revoke": str(grants["grantee"].pk)}).status_code == 403
    for kind in ["revoked", "expired"]:
        visitor(kind, people[kind])
        for url in urls:
            assert client.get(url).status_code == 404
            assert client.post(url, {"decision": "confirm"}).status_code == 404
    visitor("stranger", "15068512345")
    for url in urls:
        assert client.get(url).status_code == 404
        assert client.post(url, {"decision": "revoke"}).status_code == 404
    # The chair who lost the role is a stranger now too.
    client.force_login(chair)
    assert client.get(confirm).status_code == 404
    client.logout()
    assert client.get(confirm).status_code == 302  # to the login

    grants["flagged"].refresh_from_db()
    grants["grantee"].refresh_from_db()
    assert grants["flagged"].flagged_at is not None and grants["flagged"].revoked_at is None
    assert grants["grantee"].revoked_at is None
    assert Delegation.objects.count() == 4


def test_the_change_feed_flags_a_grant_the_same_hour(
    client, owner, chair, django_capture_on_commit_callbacks
) -> None:
    from orders.handlers import organisations_changed

    delegation = _chair_grants(client, chair)
    registry_dataset_load(dataset=_dataset(chair_has_role=False))
    with django_capture_on_commit_callbacks(execute=True):
        organisations_changed(["987654325"])  # another organisation: this grant is not looked at
    delegation.refresh_from_db()
    assert delegation.flagged_at is None
    with django_capture_on_commit_callbacks(execute=True):
        organisations_changed([EMPLOYER])
    delegation.refresh_from_db()
    assert delegation.flagged_at is not None and delegation.revoked_at is None


def test_two_delegates_cannot_keep_each_other_in_force(owner) -> None:
    """K gives A the right to give further, A gives B the same, K removes A, and B gives A a
    new grant: neither leads back to a key-role holder, so both are flagged."""
    today = timezone.localdate()
    a = UserFactory(username="a", national_id=DELEGATE, full_name="A")
    b = UserFactory(username="b", national_id=THIRD, full_name="B")

    def grant(by, to: str, **fields) -> Delegation:
        return Delegation.objects.create(
            employer_orgnr=EMPLOYER,
            grantee_national_id=to,
            grantee_name=to,
            granted_by=by,
            valid_from=today - datetime.timedelta(days=5),
            may_grant_further=True,
            **fields,
        )

    grant(owner, DELEGATE, revoked_at=timezone.now())  # K's grant to A, removed
    a_to_b = grant(a, THIRD)
    b_to_a = grant(b, DELEGATE)
    assert delegations_review().flagged == 2
    a_to_b.refresh_from_db()
    b_to_a.refresh_from_db()
    assert a_to_b.flagged_at is not None and b_to_a.flagged_at is not None


def test_a_chain_that_leads_to_a_key_role_holder_stays_unflagged(owner) -> None:
    today = timezone.localdate()
    a = UserFactory(username="a", national_id=DELEGATE, full_name="A")
    first = Delegation.objects.create(
        employer_orgnr=EMPLOYER,
        grantee_national_id=DELEGATE,
        grantee_name="A",
        granted_by=owner,
        valid_from=today - datetime.timedelta(days=5),
        may_grant_further=True,
    )
    second = Delegation.objects.create(
        employer_orgnr=EMPLOYER,
        grantee_national_id=THIRD,
        grantee_name="B",
        granted_by=a,
        valid_from=today - datetime.timedelta(days=5),
    )
    assert delegations_review().flagged == 0
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.flagged_at is None and second.flagged_at is None
