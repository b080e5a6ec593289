"""What the register check does to an order line: issue, wait for Aa-registeret, reject."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from cards.models import Card
from orders.models import OrderLine
from orders.services import order_line_check
from registry.datasets import registry_dataset_load
from registry.models import Employment, Organisation
from registry.rules import add_years
from tests.datasets import EMPLOYER, WORKER, small_dataset
from tests.orders.factories import OrderLineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def line() -> OrderLine:
    registry_dataset_load(dataset=small_dataset())
    return OrderLineFactory()


def test_an_eligible_line_gets_a_card_valid_for_two_years(
    line, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        checked = order_line_check(line_id=line.pk)
    assert checked.state == OrderLine.State.APPROVED
    card = checked.card
    today = timezone.localdate()
    assert card.issued_on == today
    assert card.valid_until == add_years(today, 2)
    assert card.employer_name == "Fjordbygg AS"
    assert card.holder_birth_date == datetime.date(1975, 1, 1)
    card.refresh_from_db()
    assert card.pdf.name  # rendered after commit


def test_a_new_hire_gets_a_card_at_once_that_is_valid_from_the_start(line, client) -> None:
    today = timezone.localdate()
    start = today + datetime.timedelta(days=12)
    Employment.objects.filter(person_id=WORKER).update(start=start)
    card = order_line_check(line_id=line.pk).card
    assert card is not None
    assert card.state == Card.State.APPROVED  # into the print queue now
    assert card.valid_from == start
    assert card.valid_until == add_years(today, 2)

    answer = client.get(f"/api/v1/cards/{card.number}").json()
    assert answer["status"] == "invalid"
    assert answer["reasons"] == ["employment_not_started"]
    page = client.get(f"/status/{card.number}/").content.decode()
    assert 'data-status="invalid"' in page
    assert f"Kortet gjelder fra {start.day}." in page


def test_a_check_twice_issues_one_card(line) -> None:
    order_line_check(line_id=line.pk)
    order_line_check(line_id=line.pk)
    assert Card.objects.count() == 1


def test_a_line_waits_for_aa_registeret_then_is_rejected(line, settings) -> None:
    settings.ORDER_AWAIT_REGISTRATION_DAYS = 3
    Employment.objects.filter(person_id=WORKER).delete()
    today = timezone.localdate()
    checked = order_line_check(line_id=line.pk, today=today)
    assert checked.state == OrderLine.State.AWAITING_REGISTRATION
    assert checked.awaiting_since == today
    assert checked.reason_codes == ["employment_not_found"]

    checked = order_line_check(line_id=line.pk, today=today + datetime.timedelta(days=2))
    assert checked.state == OrderLine.State.AWAITING_REGISTRATION
    checked = order_line_check(line_id=line.pk, today=today + datetime.timedelta(days=3))
    assert checked.state == OrderLine.State.REJECTED
    assert Card.objects.count() == 0


def test_the_employer_is_told_when_waiting_and_when_rejected(
    line, settings, django_capture_on_commit_callbacks
) -> None:
    settings.ORDER_AWAIT_REGISTRATION_DAYS = 1
    Employment.objects.filter(person_id=WORKER).delete()
    today = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        order_line_check(line_id=line.pk, today=today)
    assert [m.to for m in mail.outbox] == [["kari@fjordbygg.example"]]
    assert "venter på Aa-registeret" in mail.outbox[0].subject
    with django_capture_on_commit_callbacks(execute=True):
        order_line_check(line_id=line.pk, today=today + datetime.timedelta(days=1))
    assert len(mail.outbox) == 2
    assert "ble ikke godkjent" in mail.outbox[1].subject
    assert "Aa-registeret viser ikke noe arbeidsforhold" in mail.outbox[1].body


def test_a_line_for_a_bankrupt_employer_is_rejected_at_once(line) -> None:
    Organisation.objects.filter(orgnr=EMPLOYER).update(bankrupt=True)
    checked = order_line_check(line_id=line.pk)
    assert checked.state == OrderLine.State.REJECTED
    assert checked.reason_codes == ["employer_bankrupt"]
