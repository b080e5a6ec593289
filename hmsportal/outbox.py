"""The transactional outbox: tasks are written to the database with the change that needs them.

A service that needs a task run (a register check, a PDF, a mail) calls outbox_record inside
its own transaction. The row commits or rolls back with the change, so a broker (Redis) that
is down when an order is submitted costs nothing but latency: the order is kept, the
employer sees it received, and the task waits in the table until the broker answers.

Delivery: right after the commit, the process that wrote the rows hands them to the broker
(so a working broker sees no added latency); whatever is still waiting is handed over by the
beat task hmsportal.outbox_dispatch every few seconds and by every worker as it starts
(hmsportal/celery.py). Rows are sent by task name (celery send_task), so services never
import a tasks module: imports go one way, tasks → services.

At least once: a dispatcher that dies between handing a row to the broker and committing
dispatched_at sends it again next time. Each message carries the task id "outbox-<pk>", and
hmsportal.celery.PortalTask skips a delivery whose message has already been carried out;
each task is also idempotent in itself (see its docstring) for the rarer case of a worker
that dies after the task's effect but before it is recorded.
"""

from __future__ import annotations

import datetime
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from hmsportal.celery import app as celery_app
from hmsportal.models import OutboxMessage

logger = logging.getLogger(__name__)

# Rows one dispatch pass hands over; the beat task runs again a few seconds later.
DISPATCH_BATCH = 500
# After an immediate dispatch finds the broker down, this process leaves the broker alone for
# this long: every other request would otherwise wait for the same connection timeout. The
# rows wait for the beat task or the next worker start-up meanwhile.
BROKER_DOWN_PAUSE_SECONDS = 15.0
# Dispatched rows are kept this long for inspection, then deleted: their arguments may hold a
# one-time token (orders.employee_upload), which must not outlive its use in the database.
KEEP_DISPATCHED = datetime.timedelta(days=2)
TASK_ID_PREFIX = "outbox-"
# One quick reconnect: the pooled connection may be stale after the broker restarted, but a
# broker that is down must not hold a web request for long (see also the broker's
# socket_connect_timeout in hmsportal/settings.py).
_SEND_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}

_broker_down_until = 0.0


@dataclass(frozen=True)
class DispatchResult:
    """What one dispatch pass did: messages handed over, and whether the broker refused one."""

    sent: int
    broker_down: bool


def outbox_record(*, task: str, kwargs: dict[str, Any]) -> OutboxMessage:
    """Record that the named task must run with these (JSON) arguments once this commits."""
    message = OutboxMessage(task_name=task, kwargs=kwargs)
    message.full_clean()
    message.save()
    message_id = message.pk
    # Not robust: the dispatcher never raises for a broker's sake, so an error here is a bug.
    transaction.on_commit(lambda: _dispatch_committed(message_id))
    return message


def _dispatch_committed(message_id: int) -> None:
    global _broker_down_until
    if not celery_app.conf.task_always_eager and time.monotonic() < _broker_down_until:
        return
    if outbox_dispatch(message_ids=[message_id]).broker_down:
        _broker_down_until = time.monotonic() + BROKER_DOWN_PAUSE_SECONDS


def outbox_dispatch(
    *, message_ids: list[int] | None = None, limit: int = DISPATCH_BATCH
) -> DispatchResult:
    """Hand waiting messages (all, or those named) to the broker, oldest first.

    Rows are locked FOR UPDATE SKIP LOCKED, so dispatchers running at once (the beat task,
    a worker starting, a web process after its commit) never send the same row. The first
    broker error ends the pass: that row gets its attempt and error recorded, and it and the
    rest wait for the next pass. Never raises for the broker's sake.
    """
    eager = bool(celery_app.conf.task_always_eager)
    sent: list[OutboxMessage] = []
    broker_down = False
    with transaction.atomic():
        waiting = OutboxMessage.objects.select_for_update(skip_locked=True).filter(
            dispatched_at__isnull=True
        )
        if message_ids is not None:
            waiting = waiting.filter(pk__in=message_ids)
        for message in waiting.order_by("pk")[:limit]:
            if not eager:
                try:
                    celery_app.send_task(
                        message.task_name,
                        kwargs=message.kwargs,
                        task_id=f"{TASK_ID_PREFIX}{message.pk}",
                        retry=True,
                        retry_policy=_SEND_RETRY_POLICY,
                    )
                # Whatever the broker or its client raises (kombu's OperationalError, a socket
                # error, a timeout) means the same: not sent, try again later.
                except Exception as error:
                    logger.warning(
                        "Outbox message %s (%s) not sent, the broker did not take it: %s",
                        message.pk,
                        message.task_name,
                        error,
                    )
                    OutboxMessage.objects.filter(pk=message.pk).update(
                        attempts=F("attempts") + 1, last_error=f"{type(error).__name__}: {error}"
                    )
                    broker_down = True
                    break
            sent.append(message)
        OutboxMessage.objects.filter(pk__in=[message.pk for message in sent]).update(
            dispatched_at=timezone.now()
        )
    if eager:
        # The embedded default has no broker: the tasks run here, after the rows are marked
        # and outside the lock, as `.delay()` would have run them.
        for message in sent:
            _run_eagerly(message)
    return DispatchResult(sent=len(sent), broker_down=broker_down)


def _run_eagerly(message: OutboxMessage) -> None:
    if message.task_name not in celery_app.tasks:
        # Nothing in a web process imports a tasks module (services send by name): find them.
        celery_app.loader.import_default_modules()
    try:
        celery_app.tasks[message.task_name].apply(
            kwargs=message.kwargs, task_id=f"{TASK_ID_PREFIX}{message.pk}"
        )
    # As a worker would: a task that fails is logged, and the change that asked for it stands.
    except Exception:
        logger.exception("Outbox message %s (%s) failed", message.pk, message.task_name)


def outbox_message_id(task_id: str | None) -> int | None:
    """The outbox message a task id was sent for, or None for a task sent some other way."""
    if not task_id or not task_id.startswith(TASK_ID_PREFIX):
        return None
    try:
        return int(task_id.removeprefix(TASK_ID_PREFIX))
    except ValueError:
        return None


def outbox_consumed(*, message_id: int) -> bool:
    """Has the task of this message already been carried out (a delivery seen before)?"""
    return OutboxMessage.objects.filter(pk=message_id, consumed_at__isnull=False).exists()


def outbox_consumed_mark(*, message_id: int) -> None:
    """Record that the task of this message has been carried out."""
    OutboxMessage.objects.filter(pk=message_id, consumed_at__isnull=True).update(
        consumed_at=timezone.now()
    )


def outbox_purge(*, now: datetime.datetime) -> int:
    """Delete messages dispatched long enough ago; the number deleted."""
    deleted, _ = OutboxMessage.objects.filter(Q(dispatched_at__lt=now - KEEP_DISPATCHED)).delete()
    return deleted
