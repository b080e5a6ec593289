"""Issue 11 point 1 (b): a worker killed in the middle of rendering a print batch.

A real `celery worker` renders a batch (a few cards a chunk, so the test can see it half
done) and is killed with SIGKILL between two chunks. Its message was not acknowledged
(acks_late), so Redis hands it to the next worker; that worker renders the batch from scratch,
and the batch ends READY once, with every card in its PDF once and nothing else doubled.
"""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import time
import uuid
from collections import Counter
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from django.conf import settings
from django.utils import timezone

from cards.batches import print_batch_create
from cards.models import Card, CardTransition, PrintBatch
from cards.numbers import display
from hmsportal.models import AuditEntry, OutboxMessage, User
from tests.cards.factories import CardFactory, CardTypeFactory, ProducerFactory
from tests.real_services import app_on_broker, worker_env, worker_start, worker_stop

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CARDS = 24
CHUNK = 3


def _wait_for(condition, *, seconds: float, what: str, workers=()):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        for worker in workers:
            assert worker.poll() is None, "a Celery worker died on its own"
        time.sleep(0.02)
    pytest.fail(f"{what} did not happen within {seconds} s")


def test_a_batch_whose_worker_is_killed_mid_render_completes_once_on_the_next_worker(
    own_redis,
) -> None:
    ProducerFactory(effective_from=timezone.now() - datetime.timedelta(days=1))
    staff = User.objects.create_user(username="card-office", is_staff=True)
    card_type = CardTypeFactory()
    cards = CardFactory.create_batch(CARDS, card_type=card_type)
    queue = f"batch-killed-{uuid.uuid4().hex[:8]}"
    env = worker_env(broker_url=own_redis.url, queue=queue)
    outputs: list[str] = []

    with app_on_broker(own_redis.url, queue):
        batch = print_batch_create(cards=cards, actor=staff)
    audit_entries_after_create = AuditEntry.objects.count()
    assert own_redis.queued_tasks(queue) == ["cards.render_print_batch"]

    first = worker_start(env=env, queue=queue, name=f"first-{queue}", small_chunks=CHUNK)
    try:
        _wait_for(
            lambda: PrintBatch.objects.filter(
                pk=batch.pk, state=PrintBatch.State.RENDERING, progress_done__gte=2 * CHUNK
            ).exists(),
            seconds=120,
            what="the first worker rendering two chunks",
            workers=[first],
        )
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        outputs.append(worker_stop(first))
    half_done = PrintBatch.objects.get(pk=batch.pk)
    assert half_done.state == PrintBatch.State.RENDERING
    assert 2 * CHUNK <= half_done.progress_done < CARDS
    assert not half_done.pdf
    # The message was taken but never acknowledged: Redis still holds it for another worker.
    assert own_redis.client().hlen("unacked") == 1

    # The next worker gives abandoned messages back after two seconds rather than five hours.
    second = worker_start(
        env={
            **env,
            "CELERY_BROKER_TRANSPORT_OPTIONS": json.dumps(
                {
                    "visibility_timeout": 2,
                    "unacked_restore_interval": 1,
                    "unacked_restore_throttle": 1,
                }
            ),
        },
        queue=queue,
        name=f"second-{queue}",
    )
    try:
        _wait_for(
            lambda: PrintBatch.objects.filter(pk=batch.pk, state=PrintBatch.State.READY).exists(),
            seconds=180,
            what="the second worker finishing the batch",
            workers=[second],
        )
        # Acknowledged once done: nothing left to hand to anyone.
        _wait_for(
            lambda: OutboxMessage.objects.filter(consumed_at__isnull=False).exists(),
            seconds=10,
            what="the outbox message recorded as carried out",
        )
        time.sleep(3)  # longer than the visibility timeout: a redelivery would show now
        client = own_redis.client()
        assert (client.llen(queue), client.hlen("unacked")) == (0, 0)
    finally:
        outputs.append(worker_stop(second))
        print("\n---\n".join(outputs))

    batch = PrintBatch.objects.get(pk=batch.pk)
    assert batch.state == PrintBatch.State.READY
    assert batch.render_attempt == 2
    assert batch.progress_done == batch.progress_total == CARDS
    assert "rendering 1 overtaken" not in outputs[1]
    document = pdfium.PdfDocument(batch.pdf.storage.read_bytes(batch.pdf.name))
    assert len(document) == 2 * CARDS  # front and back per card
    fronts = [str(document[i].get_textpage().get_text_range()) for i in range(0, len(document), 2)]
    printed = Counter(card.pk for card in cards for text in fronts if display(card.number) in text)
    assert printed == dict.fromkeys((card.pk for card in cards), 1)
    # The cards went into production once, with the batch, and rendering changed nothing else.
    assert set(Card.objects.values_list("state", flat=True)) == {Card.State.IN_PRODUCTION}
    assert CardTransition.objects.filter(to_state=Card.State.IN_PRODUCTION).count() == CARDS
    assert AuditEntry.objects.count() == audit_entries_after_create
    assert OutboxMessage.objects.get().task_name == "cards.render_print_batch"
    stored = sorted((Path(settings.MEDIA_ROOT) / "private" / "cards" / "batches").iterdir())
    assert [path.name for path in stored] == [Path(batch.pdf.name).name]


def test_a_pool_process_killed_mid_render_gives_the_batch_back_at_once(own_redis) -> None:
    """Prefork: the OOM killer takes the pool process that renders, not the worker. The task
    goes back to the queue at once (task_reject_on_worker_lost) and the worker's next pool
    process renders the batch from scratch, once."""
    ProducerFactory(effective_from=timezone.now() - datetime.timedelta(days=1))
    staff = User.objects.create_user(username="card-office", is_staff=True)
    card_type = CardTypeFactory()
    cards = CardFactory.create_batch(CARDS, card_type=card_type)
    queue = f"pool-killed-{uuid.uuid4().hex[:8]}"
    with app_on_broker(own_redis.url, queue):
        batch = print_batch_create(cards=cards, actor=staff)

    worker = worker_start(
        env=worker_env(broker_url=own_redis.url, queue=queue),
        queue=queue,
        name=queue,
        small_chunks=CHUNK,
        pool="prefork",
    )
    output = ""
    try:
        _wait_for(
            lambda: PrintBatch.objects.filter(
                pk=batch.pk, state=PrintBatch.State.RENDERING, progress_done__gte=2 * CHUNK
            ).exists(),
            seconds=120,
            what="the pool process rendering two chunks",
            workers=[worker],
        )
        children = subprocess.run(
            ["pgrep", "-P", str(worker.pid)], capture_output=True, text=True, check=True
        ).stdout.split()
        assert len(children) == 1, children
        os.kill(int(children[0]), signal.SIGKILL)
        _wait_for(
            lambda: PrintBatch.objects.filter(pk=batch.pk, state=PrintBatch.State.READY).exists(),
            seconds=180,
            what="the worker's next pool process finishing the batch",
            workers=[worker],
        )
        _wait_for(
            lambda: OutboxMessage.objects.filter(consumed_at__isnull=False).exists(),
            seconds=10,
            what="the outbox message recorded as carried out",
        )
        client = own_redis.client()
        _wait_for(
            lambda: (client.llen(queue), client.hlen("unacked")) == (0, 0),
            seconds=10,
            what="the message acknowledged",
        )
    finally:
        output = worker_stop(worker)
        print(output)

    assert "WorkerLostError" in output
    batch = PrintBatch.objects.get(pk=batch.pk)
    assert (batch.state, batch.render_attempt) == (PrintBatch.State.READY, 2)
    document = pdfium.PdfDocument(batch.pdf.storage.read_bytes(batch.pdf.name))
    assert len(document) == 2 * CARDS
    assert CardTransition.objects.filter(to_state=Card.State.IN_PRODUCTION).count() == CARDS
