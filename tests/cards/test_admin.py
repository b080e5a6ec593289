"""The back office's admin: cards change only through their services; keys are issued once."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from cards.models import ApiClient, Card, CardTransition
from tests.cards.factories import CardFactory

pytestmark = pytest.mark.django_db


def test_staff_withdraw_cards_with_a_recorded_transition(admin_client, admin_user) -> None:
    live, revoked = CardFactory(state=Card.State.ACTIVE), CardFactory(state=Card.State.REVOKED)
    response = admin_client.post(
        "/admin/cards/card/",
        {"action": "withdraw", "_selected_action": [live.pk, revoked.pk]},
    )
    assert response.status_code == 302
    live.refresh_from_db()
    assert live.state == Card.State.REVOKED
    step = CardTransition.objects.get(card=live)
    assert (step.reason, step.actor) == ("withdrawn", admin_user)
    assert not CardTransition.objects.filter(card=revoked).exists()


def test_a_card_cannot_be_edited_in_the_admin(admin_client) -> None:
    card = CardFactory(state=Card.State.ACTIVE)
    page = admin_client.get(f"/admin/cards/card/{card.pk}/change/")
    assert page.status_code == 200
    assert 'name="valid_until"' not in page.content.decode()
    assert card.holder_national_id not in page.content.decode()
    admin_client.post(f"/admin/cards/card/{card.pk}/change/", {"valid_until": "2099-01-01"})
    card.refresh_from_db()
    assert card.valid_until.year != 2099


def test_an_api_key_is_issued_once_and_works(client) -> None:
    out = io.StringIO()
    call_command("create_api_client", "Byggplass AS", "--per-minute", "900", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    api_client = ApiClient.objects.get(name="Byggplass AS")
    assert key not in (api_client.key_hash, api_client.key_prefix)
    card = CardFactory(state=Card.State.ACTIVE)
    response = client.get(f"/api/v1/cards/{card.number}", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200
    assert response.json()["status"] == "valid"
