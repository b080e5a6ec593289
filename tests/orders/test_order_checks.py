"""What the register check does to an order line: issue, wait for Aa-registeret, reject."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.utils import timezone, translation

from cards.models import Card
from hmsportal.models import User
from orders.models import OrderLine
from orders.services import order_line_check
from registry.datasets import registry_dataset_load
from registry.models import Employment, Organisation
from registry.rules import Reason, add_years
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
    assert f"Ikke gyldig ennå: kortet gjelder fra {start.day}." in page


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
    # UserFactory's orderer has confirmed kari@fjordbygg.example and chose bokmål.
    assert [m.to for m in mail.outbox] == [["kari@fjordbygg.example"]]
    assert mail.outbox[0].subject == "HMS-kort for Ola Snekker venter på Aa-registeret"
    assert "Vi sjekker igjen hver dag i 1 dag." in mail.outbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        order_line_check(line_id=line.pk, today=today + datetime.timedelta(days=1))
    assert len(mail.outbox) == 2
    assert "ble ikke godkjent" in mail.outbox[1].subject
    assert "Aa-registeret viser ikke noe arbeidsforhold" in mail.outbox[1].body


def test_the_mail_goes_only_to_a_confirmed_address(
    line, settings, django_capture_on_commit_callbacks
) -> None:
    # The orderer has given a new address but not followed the link, and had none before.
    User.objects.filter(pk=line.order.ordered_by_id).update(
        email="", email_confirmed_at=None, pending_email="kari@fjordbygg.example"
    )
    settings.ORDER_AWAIT_REGISTRATION_DAYS = 1
    Employment.objects.filter(person_id=WORKER).delete()
    today = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        order_line_check(line_id=line.pk, today=today)
    with django_capture_on_commit_callbacks(execute=True):
        checked = order_line_check(line_id=line.pk, today=today + datetime.timedelta(days=1))
    assert checked.state == OrderLine.State.REJECTED
    assert mail.outbox == []


def test_the_mail_is_in_the_orderers_language(
    line, settings, django_capture_on_commit_callbacks
) -> None:
    User.objects.filter(pk=line.order.ordered_by_id).update(language="en")
    settings.ORDER_AWAIT_REGISTRATION_DAYS = 1
    Employment.objects.filter(person_id=WORKER).delete()
    today = timezone.localdate()
    with translation.override("nb"), django_capture_on_commit_callbacks(execute=True):
        order_line_check(line_id=line.pk, today=today)
    with translation.override("nb"), django_capture_on_commit_callbacks(execute=True):
        order_line_check(line_id=line.pk, today=today + datetime.timedelta(days=1))
    awaiting, rejected = mail.outbox
    assert awaiting.subject == "HMS card for Ola Snekker is waiting for Aa-registeret"
    assert "We check again every day for 1 day." in awaiting.body
    assert f"http://127.0.0.1:8000/orders/{EMPLOYER}/orders/{line.order_id}/" in awaiting.body
    assert rejected.subject == "HMS card for Ola Snekker was not approved"
    assert "was rejected after the register check" in rejected.body
    assert Reason("employment_not_found").text("en") in rejected.body
    assert "Aa-registeret viser" not in rejected.body


def test_a_line_for_a_bankrupt_employer_is_rejected_at_once(line) -> None:
    Organisation.objects.filter(orgnr=EMPLOYER).update(bankrupt=True)
    checked = order_line_check(line_id=line.pk)
    assert checked.state == OrderLine.State.REJECTED
    assert checked.reason_codes == ["employer_bankrupt"]


def test_the_daily_retry_records_each_waiting_line_in_the_outbox(line) -> None:
    from hmsportal.models import OutboxMessage
    from orders.tasks import recheck_awaiting_order_lines

    waiting = OrderLineFactory(
        state=OrderLine.State.AWAITING_REGISTRATION,
        national_id="01017512419",
        awaiting_since=timezone.localdate(),
    )
    OrderLineFactory(state=OrderLine.State.REJECTED, national_id="02028010047")

    assert recheck_awaiting_order_lines.apply().get() == 2
    # Recorded with the outbox (sent once this commits), not sent to the broker one by one.
    recorded = OutboxMessage.objects.filter(task_name="orders.check_order_line")
    assert sorted(m.kwargs["line_id"] for m in recorded) == [line.pk, waiting.pk]
    line.refresh_from_db()
    assert line.state == OrderLine.State.SUBMITTED  # checked when the message runs, not here
