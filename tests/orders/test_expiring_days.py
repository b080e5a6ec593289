"""One number says when a card is "expiring" (issue 10 review): settings.CARD_EXPIRING_WITHIN_DAYS
drives the card register's filter and its label, the cards offered for renewal and the
administrators' daily digest, so they never disagree."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from cards.models import Card
from cards.numbers import display
from orders.digests import administrator_digests_send
from registry.datasets import registry_dataset_load
from tests.cards.factories import CardFactory
from tests.datasets import EMPLOYER, SUB_UNIT, small_dataset
from tests.hmsportal.factories import UserFactory

pytestmark = pytest.mark.django_db
REGISTER = f"/orders/{EMPLOYER}/cards/"
RENEW = f"/orders/{EMPLOYER}/cards/renew/"


def _card(national_id: str, last_name: str, expires_in: int) -> Card:
    today = timezone.localdate()
    return CardFactory(
        state=Card.State.ACTIVE,
        holder_national_id=national_id,
        holder_first_name="Ola",
        holder_last_name=last_name,
        employer_orgnr=EMPLOYER,
        employer_name="Fjordbygg AS",
        workplace_orgnr=SUB_UNIT,
        issued_on=today - datetime.timedelta(days=700),
        valid_until=today + datetime.timedelta(days=expires_in),
        with_photo=True,
    )


@pytest.mark.parametrize(("days", "expected"), [(10, {"Fem"}), (30, {"Fem", "Tjue"})])
def test_the_setting_moves_the_filter_the_renewals_and_the_digest_together(
    client, settings, days, expected
) -> None:
    registry_dataset_load(dataset=small_dataset())
    owner = UserFactory(language="nb")
    client.force_login(owner)
    settings.CARD_EXPIRING_WITHIN_DAYS = days
    cards = {
        "Fem": _card("15068512345", "Fem", 5),
        "Tjue": _card("02028010047", "Tjue", 20),
        "Femti": _card("15108695088", "Femti", 50),
    }

    register = client.get(REGISTER, {"expiring": "on"}).content.decode()
    # The filter's label names the configured number of days, in the reader's language.
    assert f"Bare kort som går ut innen {days} dager" in register
    assert "60 dager" not in register
    renew = client.get(RENEW).content.decode()
    assert f"Disse kortene går ut innen {days} dager." in renew

    assert administrator_digests_send() == 1
    [message] = mail.outbox
    assert f"Kort som utløper innen {days} dager:" in message.body

    for name, card in cards.items():
        listed = card.number in register
        assert listed == (name in expected), f"register filter: {name}"
        assert (display(card.number) in renew) == (name in expected), f"renewals: {name}"
        assert (display(card.number) in message.body) == (name in expected), f"digest: {name}"


def test_the_label_speaks_english_to_an_english_reader(client, settings) -> None:
    registry_dataset_load(dataset=small_dataset())
    client.force_login(UserFactory())
    client.cookies["django_language"] = "en"
    settings.CARD_EXPIRING_WITHIN_DAYS = 1
    register = client.get(REGISTER).content.decode()
    assert "Only cards that expire within 1 day" in register
