"""Celery tasks of the orders app: they load ids and call a service."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from orders import selectors, services, stash
from registry.facts import RegisterUnavailable


@shared_task(
    name="orders.check_order_line",
    acks_late=True,
    autoretry_for=(RegisterUnavailable,),
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=12,
)
def check_order_line(*, line_id: int) -> str:
    return services.order_line_check(line_id=line_id).state


@shared_task(name="orders.recheck_awaiting_order_lines", acks_late=True)
def recheck_awaiting_order_lines() -> int:
    line_ids = list(selectors.lines_awaiting_registration().values_list("pk", flat=True))
    for line_id in line_ids:
        check_order_line.delay(line_id=line_id)
    return len(line_ids)


@shared_task(
    name="orders.tell_employer_awaiting", acks_late=True, autoretry_for=(OSError,), retry_backoff=60
)
def tell_employer_awaiting(*, line_id: int) -> None:
    services.employer_told_awaiting(line_id=line_id)


@shared_task(
    name="orders.tell_employer_rejected", acks_late=True, autoretry_for=(OSError,), retry_backoff=60
)
def tell_employer_rejected(*, line_id: int) -> None:
    services.employer_told_rejected(line_id=line_id)


@shared_task(
    name="orders.tell_employer_card_reported",
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=60,
)
def tell_employer_card_reported(*, card_id: int) -> None:
    services.employer_told_card_reported(card_id=card_id)


@shared_task(name="orders.purge_upload_stash")
def purge_upload_stash() -> int:
    return stash.stash_purge_expired(now=timezone.now())
