"""Renewals (issue 10, point 3): cards expiring within 60 days renewed in one order from the
card register; the photo reused when young enough, else the employee's link; the new card gets
its own number and valid-until, and the old one stays live until the new one is delivered."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from cards.models import Card, CardTransition
from cards.numbers import display
from cards.services import card_transition, cards_activate_delivered
from orders.models import EmployeeUploadLink, Invoice, Order, OrderLine
from registry.datasets import registry_dataset_load
from tests.cards.factories import CardFactory
from tests.datasets import EMPLOYER, SUB_UNIT, WORKER, small_dataset
from tests.hmsportal.factories import UserFactory

pytestmark = pytest.mark.django_db
RENEW = f"/orders/{EMPLOYER}/cards/renew/"
OTHER = "02028010047"


@pytest.fixture
def owner(client):
    registry_dataset_load(dataset=small_dataset())
    user = UserFactory()
    client.force_login(user)
    return user


def _card(national_id: str, *, issued_days_ago: int, expires_in: int, **extra) -> Card:
    today = timezone.localdate()
    return CardFactory(
        state=Card.State.ACTIVE,
        holder_national_id=national_id,
        holder_first_name="Ola",
        holder_last_name="Snekker" if national_id == WORKER else "Berg",
        employer_orgnr=EMPLOYER,
        employer_name="Fjordbygg AS",
        workplace_orgnr=SUB_UNIT,
        issued_on=today - datetime.timedelta(days=issued_days_ago),
        valid_until=today + datetime.timedelta(days=expires_in),
        with_photo=True,
        **extra,
    )


@pytest.fixture
def expiring(owner):
    return {
        "young": _card(WORKER, issued_days_ago=700, expires_in=30),
        "old_photo": _card(OTHER, issued_days_ago=6 * 365, expires_in=20),
        "later": _card("15068512345", issued_days_ago=10, expires_in=200),
    }


def test_the_register_filter_offers_the_renewal_and_the_page_lists_the_price(
    client, expiring
) -> None:
    page = client.get(f"/orders/{EMPLOYER}/cards/?expiring=on").content.decode()
    assert "Forny disse kortene" in page and RENEW in page
    assert "Forny disse kortene" not in client.get(f"/orders/{EMPLOYER}/cards/").content.decode()

    body = client.get(RENEW).content.decode()
    # Numbers grouped as printed on the card, as everywhere else in the portal.
    assert (
        display(expiring["young"].number) in body and display(expiring["old_photo"].number) in body
    )
    assert expiring["young"].number not in body
    assert display(expiring["later"].number) not in body
    # On a phone each stacked row's checkbox says what it does.
    assert body.count('<td class="table-stack-choice" data-label="Forny">') == 2
    assert "Brukes på nytt" in body and "Nytt bilde via lenke" in body
    # The seed's construction price (131.56) and postage (40.00): 2 × 131.56 + 40.00.
    assert "kr 131,56" in body
    assert "kr 303,12" in body


def test_renewing_makes_one_order_one_invoice_and_a_line_per_card(
    client, owner, expiring, django_capture_on_commit_callbacks
) -> None:
    young, old_photo = expiring["young"], expiring["old_photo"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RENEW, {"cards": [str(young.pk), str(old_photo.pk)]})
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/orders/{EMPLOYER}/orders/{order.pk}/"
    assert Invoice.objects.filter(order=order).count() == 1
    lines = {line.renews_id: line for line in order.lines.all()}
    assert set(lines) == {young.pk, old_photo.pk}

    # The young card's photo is reused; the register check issues a new card.
    renewed = lines[young.pk]
    assert renewed.state == OrderLine.State.APPROVED
    new_card = renewed.card
    assert new_card.renews == young and new_card.number != young.number
    assert new_card.valid_until > young.valid_until
    assert new_card.photo
    young.refresh_from_db()
    assert young.state == Card.State.ACTIVE  # still valid until the new one is delivered

    # The card with an old photo waits for the employee's own photo and ID.
    waiting = lines[old_photo.pk]
    assert waiting.state == OrderLine.State.AWAITING_FILES and not waiting.photo
    assert EmployeeUploadLink.objects.filter(order_line=waiting).exists()

    # Delivered, the new card is active and the old one ends as renewed.
    for state in (Card.State.IN_PRODUCTION, Card.State.SHIPPED):
        card_transition(card=new_card, to_state=state, actor=None, reason="test")
    assert cards_activate_delivered(shipped_before=timezone.now() + datetime.timedelta(1)) == 1
    young.refresh_from_db()
    new_card.refresh_from_db()
    assert (new_card.state, young.state) == (Card.State.ACTIVE, Card.State.REVOKED)
    assert CardTransition.objects.filter(card=young, reason="renewed").exists()


def test_a_renewed_card_is_not_offered_or_renewed_again(
    client, expiring, django_capture_on_commit_callbacks
) -> None:
    young = expiring["young"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(RENEW, {"cards": [str(young.pk)]})
    assert young.number not in client.get(RENEW).content.decode()
    response = client.post(RENEW, {"cards": [str(young.pk)]})
    assert response.status_code == 200
    assert "Et kort du valgte, kan ikke lenger fornyes." in response.content.decode()
    assert Order.objects.count() == 1


@pytest.mark.parametrize(
    ("cards", "message"),
    [
        ([], "Velg minst ett kort som skal fornyes."),
        (["abc"], "Et kort du valgte, kan ikke lenger fornyes."),
        (["9" * 30], "Et kort du valgte, kan ikke lenger fornyes."),
    ],
)
def test_hostile_renewal_input_is_explained_and_nothing_saved(
    client, expiring, cards, message
) -> None:
    response = client.post(RENEW, {"cards": cards})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Order.objects.count() == 0


def test_cards_of_another_employer_cannot_be_renewed(client, expiring) -> None:
    foreign = CardFactory(
        state=Card.State.ACTIVE,
        valid_until=timezone.localdate() + datetime.timedelta(days=10),
        issued_on=timezone.localdate() - datetime.timedelta(days=700),
        with_photo=True,
    )
    response = client.post(RENEW, {"cards": [str(foreign.pk)]})
    assert response.status_code == 200
    assert Order.objects.count() == 0
    client.force_login(UserFactory(username="stranger", national_id="15068512345"))
    assert client.get(RENEW).status_code == 404
    assert client.post(RENEW, {"cards": [str(expiring["young"].pk)]}).status_code == 404


def test_only_a_renewal_may_live_beside_the_card_it_renews(expiring) -> None:
    young = expiring["young"]
    _card(WORKER, issued_days_ago=0, expires_in=700, renews=young)
    with pytest.raises(IntegrityError), transaction.atomic():
        _card(WORKER, issued_days_ago=0, expires_in=700)


def test_once_the_old_card_ends_the_renewal_is_held_to_the_one_card_rule(expiring) -> None:
    from cards.services import card_revoke

    young = expiring["young"]
    renewal = _card(WORKER, issued_days_ago=0, expires_in=700, renews=young)
    assert renewal.renewal_pending
    card_revoke(card=young, reason="renewed", actor=None)
    renewal.refresh_from_db()
    assert not renewal.renewal_pending
    # The database guards the person again: a second live card of the type is refused.
    with pytest.raises(IntegrityError), transaction.atomic():
        _card(WORKER, issued_days_ago=0, expires_in=700)


def test_the_photo_age_limit_is_a_setting(client, expiring, settings) -> None:
    settings.RENEWAL_PHOTO_MAX_AGE_DAYS = 100
    body = client.get(RENEW).content.decode()
    assert "Brukes på nytt" not in body


def test_grantees_in_every_state_and_a_stranger_try_the_renewal_page(
    client, owner, expiring
) -> None:
    from orders.models import Delegation

    today = timezone.localdate()
    people = {
        "grantee": ("01017512419", None, None),
        "revoked": ("02028010128", None, timezone.now()),
        "expired": ("02028010209", today - datetime.timedelta(days=1), None),
    }
    for kind, (national_id, until, revoked_at) in people.items():
        Delegation.objects.create(
            employer_orgnr=EMPLOYER,
            grantee_national_id=national_id,
            grantee_name=kind,
            granted_by=owner,
            valid_from=today - datetime.timedelta(days=10),
            valid_until=until,
            revoked_at=revoked_at,
        )
    young = str(expiring["young"].pk)
    client.force_login(UserFactory(username="grantee", national_id=people["grantee"][0]))
    assert client.get(RENEW).status_code == 200
    for kind in ["revoked", "expired"]:
        client.force_login(UserFactory(username=kind, national_id=people[kind][0]))
        assert client.get(RENEW).status_code == 404
        assert client.post(RENEW, {"cards": [young]}).status_code == 404
    assert Order.objects.count() == 0


def test_a_photo_carried_over_renewals_is_as_old_as_the_first_card() -> None:
    from orders.renewals import renewal_photo_reusable

    today = timezone.localdate()
    first = _card(WORKER, issued_days_ago=6 * 365, expires_in=-4 * 365)
    Card.objects.filter(pk=first.pk).update(state=Card.State.EXPIRED)
    second = _card(WORKER, issued_days_ago=700, expires_in=30, renews=first)
    # The second card is young, but its photo came with the renewal from a six-year-old card.
    assert second.issued_on >= today - datetime.timedelta(days=5 * 365)
    assert not renewal_photo_reusable(second, today=today)
    alone = _card(OTHER, issued_days_ago=700, expires_in=30)
    assert renewal_photo_reusable(alone, today=today)
