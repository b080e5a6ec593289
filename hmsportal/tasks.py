"""Celery tasks of the portal itself: they load ids and call a service."""

from __future__ import annotations

from celery import shared_task

from hmsportal import contact


@shared_task(
    name="hmsportal.send_email_confirmation",
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=60,
    max_retries=5,
)
def send_email_confirmation(*, user_id: int) -> bool:
    return contact.email_confirmation_send(user_id=user_id)
