"""A register that is down never invalidates a card and never loses an order."""

from __future__ import annotations

import socket

import pytest

from cards.models import Card, CardCheck
from cards.services import cards_recheck_all
from hmsportal.models import User
from orders.models import OrderLine
from orders.services import order_line_check
from registry.datasets import registry_dataset_load
from registry.facts import RegisterUnavailable
from registry.models import RegisterLookup
from tests.cards.factories import CardFactory
from tests.datasets import EMPLOYER, OWNER, SUB_UNIT, WORKER, small_dataset
from tests.orders.factories import OrderLineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def registers_down(settings) -> None:
    """Every register URL points at a port on 127.0.0.1 where nothing listens."""
    _registers_down(settings)


def _registers_down(settings) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    settings.REGISTRY_BACKEND = "http"
    settings.ENHETSREGISTERET_URL = f"{dead}/enhetsregisteret/api"
    settings.FOLKEREGISTERET_URL = f"{dead}/folkeregisteret/v1"
    settings.ARBEIDSFORHOLD_URL = f"{dead}/arbeidsforhold"
    settings.REGISTER_RETRIES = 1
    settings.REGISTER_RETRY_BACKOFF_SECONDS = 0
    settings.REGISTER_TIMEOUT_SECONDS = 1


def test_cards_keep_their_status_while_a_register_is_down(registers_down) -> None:
    valid = CardFactory(
        state=Card.State.ACTIVE,
        holder_national_id=WORKER,
        workplace_orgnr=SUB_UNIT,
        employer_orgnr=EMPLOYER,
    )
    invalid = CardFactory(
        state=Card.State.INVALID, reason_codes=["employer_bankrupt"], employer_orgnr=EMPLOYER
    )

    summary = cards_recheck_all()

    assert summary.failed_lookups == 2
    assert summary.checked == summary.became_invalid == summary.became_valid == 0
    valid.refresh_from_db()
    invalid.refresh_from_db()
    assert valid.state == Card.State.ACTIVE and valid.checked_at is None
    assert invalid.state == Card.State.INVALID and invalid.reason_codes == ["employer_bankrupt"]
    # The outage is recorded, so the back office sees it.
    failed = RegisterLookup.objects.filter(outcome=RegisterLookup.Outcome.FAILED)
    assert failed.filter(register=RegisterLookup.Register.ENHETSREGISTERET).exists()
    # It is the register's outage, not the cards': their records of checks get no row.
    assert not CardCheck.objects.exists()


def test_an_outage_after_a_check_leaves_the_cards_record_and_checked_at_alone(settings) -> None:
    registry_dataset_load(dataset=small_dataset())
    card = CardFactory(
        state=Card.State.ACTIVE,
        holder_national_id=WORKER,
        workplace_orgnr=SUB_UNIT,
        employer_orgnr=EMPLOYER,
    )
    cards_recheck_all()
    card.refresh_from_db()
    checked_at = card.checked_at
    assert CardCheck.objects.filter(card=card).count() == 1

    _registers_down(settings)
    summary = cards_recheck_all()

    card.refresh_from_db()
    assert summary.failed_lookups == 1 and summary.check_rows == 0
    assert CardCheck.objects.filter(card=card).count() == 1
    # The card page's "last checked" stays at the last check the registers answered.
    assert card.checked_at == checked_at


def test_an_order_line_waits_while_a_register_is_down(registers_down) -> None:
    line = OrderLineFactory()

    # The task retries RegisterUnavailable with backoff; the line is untouched meanwhile.
    with pytest.raises(RegisterUnavailable):
        order_line_check(line_id=line.pk)
    line.refresh_from_db()
    assert line.state == OrderLine.State.SUBMITTED
    assert Card.objects.count() == 0


def test_employer_pages_say_the_register_is_down_instead_of_failing(client, registers_down) -> None:
    client.force_login(User.objects.create(username="kari", national_id=OWNER))
    client.cookies["django_language"] = "en"
    response = client.get(f"/orders/{EMPLOYER}/")
    assert response.status_code == 503
    assert "The registers are not answering right now" in response.content.decode()
