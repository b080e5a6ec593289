"""Celery tasks of the portal itself: they load ids and call a service."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from hmsportal import contact, outbox


@shared_task(
    name="hmsportal.send_email_confirmation",
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=60,
    max_retries=5,
)
def send_email_confirmation(*, user_id: int) -> bool:
    """Mail the confirmation link for the pending address.

    Run twice it sends the link twice (both work): the outbox's task id keeps a second
    delivery of one message from doing so (hmsportal.celery.PortalTask).
    """
    return contact.email_confirmation_send(user_id=user_id)


@shared_task(name="hmsportal.outbox_dispatch", acks_late=True, soft_time_limit=120, time_limit=150)
def outbox_dispatch() -> int:
    """Every few seconds (beat): hand what waits in the outbox to the broker.

    Safe to run at once and again: rows are locked SKIP LOCKED and each is sent until marked.
    """
    outbox.outbox_purge(now=timezone.now())
    return outbox.outbox_dispatch().sent
