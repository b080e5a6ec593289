"""The transactional outbox (hmsportal/outbox.py): recorded with the change, sent once the
broker answers, never sent by two dispatchers at once, carried out once per message."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connections, transaction
from django.utils import timezone

from hmsportal import outbox
from hmsportal.celery import app as celery_app
from hmsportal.models import OutboxMessage
from hmsportal.outbox import outbox_dispatch, outbox_purge, outbox_record
from tests.real_services import app_on_broker

carried_out: list[int] = []


@celery_app.task(name="tests.outbox_probe")
def outbox_probe(*, n: int) -> int:
    carried_out.append(n)
    return n


@pytest.fixture(autouse=True)
def _nothing_carried_out():
    carried_out.clear()
    yield
    carried_out.clear()


@pytest.mark.django_db
def test_a_record_in_a_transaction_that_rolls_back_leaves_nothing(
    django_capture_on_commit_callbacks,
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        outbox_record(task="tests.outbox_probe", kwargs={"n": 1})
        raise RuntimeError("the change failed")

    assert not OutboxMessage.objects.exists()
    assert callbacks == []
    assert carried_out == []


@pytest.mark.django_db
def test_run_eagerly_the_task_runs_after_commit_and_the_message_is_marked(
    django_capture_on_commit_callbacks,
):
    """The embedded default (no broker): the task runs in-process once the change commits."""
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = outbox_record(task="tests.outbox_probe", kwargs={"n": 7})
        assert carried_out == []

    assert carried_out == [7]
    message.refresh_from_db()
    assert message.dispatched_at is not None
    assert message.consumed_at is not None


@pytest.mark.django_db
def test_a_second_delivery_of_a_carried_out_message_does_nothing():
    message = OutboxMessage.objects.create(task_name="tests.outbox_probe", kwargs={"n": 3})
    task_id = f"outbox-{message.pk}"

    assert outbox_probe.apply(kwargs={"n": 3}, task_id=task_id).get() == 3
    assert outbox_probe.apply(kwargs={"n": 3}, task_id=task_id).get() is None
    # A task sent some other way (beat, another task) is not affected.
    assert outbox_probe.apply(kwargs={"n": 4}).get() == 4

    assert carried_out == [3, 4]


@pytest.mark.django_db
def test_a_task_that_fails_is_not_marked_carried_out():
    message = OutboxMessage.objects.create(task_name="tests.outbox_probe", kwargs={})

    with pytest.raises(TypeError):
        outbox_probe.apply(kwargs={}, task_id=f"outbox-{message.pk}").get()

    message.refresh_from_db()
    assert message.consumed_at is None


@pytest.mark.django_db
def test_dispatched_messages_are_purged_after_two_days_and_waiting_ones_never():
    now = timezone.now()
    old = OutboxMessage.objects.create(
        task_name="t", dispatched_at=now - outbox.KEEP_DISPATCHED - timezone.timedelta(minutes=1)
    )
    recent = OutboxMessage.objects.create(task_name="t", dispatched_at=now)
    waiting = OutboxMessage.objects.create(
        task_name="t", created_at=now - timezone.timedelta(days=30)
    )

    assert outbox_purge(now=now) == 1
    assert set(OutboxMessage.objects.values_list("pk", flat=True)) == {recent.pk, waiting.pk}
    assert not OutboxMessage.objects.filter(pk=old.pk).exists()


# --- With a real broker: a Redis of the test's own -----------------------------------------


@pytest.fixture
def queue() -> str:
    return f"outbox-{uuid.uuid4().hex[:8]}"


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_after_commit_the_message_goes_to_the_broker_at_once(own_redis, queue):
    with app_on_broker(own_redis.url, queue):
        with transaction.atomic():
            message = outbox_record(task="tests.outbox_probe", kwargs={"n": 1})
            assert own_redis.queued_tasks(queue) == []

        assert own_redis.queued_tasks(queue) == ["tests.outbox_probe"]
    message.refresh_from_db()
    assert message.dispatched_at is not None
    assert message.attempts == 0
    sent = own_redis.client().lindex(queue, 0)
    assert f'"id": "outbox-{message.pk}"' in sent.decode()


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_dispatcher_marks_what_it_sent_oldest_first(own_redis, queue):
    first = OutboxMessage.objects.create(task_name="tests.first", kwargs={"n": 1})
    second = OutboxMessage.objects.create(task_name="tests.second", kwargs={"n": 2})

    with app_on_broker(own_redis.url, queue):
        result = outbox_dispatch()
        again = outbox_dispatch()

    assert (result.sent, result.broker_down) == (2, False)
    assert again.sent == 0
    assert own_redis.queued_tasks(queue) == ["tests.first", "tests.second"]
    for message in (first, second):
        message.refresh_from_db()
        assert message.dispatched_at is not None


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_with_the_broker_down_messages_wait_with_the_attempt_recorded(own_redis, queue):
    first = OutboxMessage.objects.create(task_name="tests.first", kwargs={"n": 1})
    second = OutboxMessage.objects.create(task_name="tests.second", kwargs={"n": 2})

    with app_on_broker(own_redis.url, queue):
        own_redis.stop()
        down = outbox_dispatch()
        still_down = outbox_dispatch()
        own_redis.start()
        back = outbox_dispatch()

    assert (down.sent, down.broker_down) == (0, True)
    assert (still_down.sent, still_down.broker_down) == (0, True)
    # The pass stops at the first refusal: the second waited behind the first, untried.
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.attempts, second.attempts) == (2, 0)
    assert "Connection refused" in first.last_error
    assert (back.sent, back.broker_down) == (2, False)
    assert first.dispatched_at is not None and second.dispatched_at is not None
    assert own_redis.queued_tasks(queue) == ["tests.first", "tests.second"]


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_after_a_refusal_the_process_leaves_the_broker_alone_for_a_while(own_redis, queue):
    with app_on_broker(own_redis.url, queue):
        own_redis.stop()
        with transaction.atomic():
            refused = outbox_record(task="tests.first", kwargs={})
        with transaction.atomic():
            waiting = outbox_record(task="tests.second", kwargs={})

    refused.refresh_from_db()
    waiting.refresh_from_db()
    assert (refused.attempts, refused.dispatched_at) == (1, None)
    # Not tried at all: a second web request does not wait for the same dead broker.
    assert (waiting.attempts, waiting.dispatched_at) == (0, None)


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_dispatchers_never_send_the_same_message(own_redis, queue):
    """FOR UPDATE SKIP LOCKED: a row another dispatcher holds is left to it."""
    held = OutboxMessage.objects.create(task_name="tests.held", kwargs={})
    free = OutboxMessage.objects.create(task_name="tests.free", kwargs={})
    locked = threading.Event()
    release = threading.Event()

    def other_dispatcher_holding_the_first_row():
        try:
            with transaction.atomic():
                list(OutboxMessage.objects.select_for_update().filter(pk=held.pk))
                locked.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    other = threading.Thread(target=other_dispatcher_holding_the_first_row)
    other.start()
    try:
        assert locked.wait(timeout=10)
        with app_on_broker(own_redis.url, queue):
            while_held = outbox_dispatch()
            release.set()
            other.join(timeout=10)
            after = outbox_dispatch()
    finally:
        release.set()
        other.join(timeout=10)

    assert while_held.sent == 1
    assert after.sent == 1
    assert own_redis.queued_tasks(queue) == ["tests.free", "tests.held"]
    held.refresh_from_db()
    free.refresh_from_db()
    assert held.dispatched_at is not None and free.dispatched_at is not None


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_starting_hands_over_what_waits(own_redis, queue):
    from hmsportal.celery import _outbox_dispatch_at_start

    waiting = OutboxMessage.objects.create(task_name="tests.waiting", kwargs={})

    with app_on_broker(own_redis.url, queue):
        _outbox_dispatch_at_start(sender=None)

    waiting.refresh_from_db()
    assert waiting.dispatched_at is not None
    assert own_redis.queued_tasks(queue) == ["tests.waiting"]


@pytest.mark.django_db
def test_staff_see_what_waits_in_the_admin_but_not_the_arguments(admin_client):
    message = OutboxMessage.objects.create(
        task_name="orders.send_employee_upload_link",
        kwargs={"link_id": 1, "token": "one-time-secret"},
        attempts=3,
        last_error="OperationalError: Error 111 connecting",
    )

    listing = admin_client.get("/admin/hmsportal/outboxmessage/?dispatched_at__isempty=1")
    page = admin_client.get(f"/admin/hmsportal/outboxmessage/{message.pk}/change/")

    assert listing.status_code == page.status_code == 200
    assert "orders.send_employee_upload_link" in listing.content.decode()
    assert "Error 111" in page.content.decode()
    assert "one-time-secret" not in listing.content.decode() + page.content.decode()
