"""Celery tasks of the orders app: they load ids and call a service."""

from __future__ import annotations

from celery import Task, shared_task
from django.utils import timezone

from orders import (
    bulk,
    delegations,
    digests,
    employee_upload,
    notifications,
    services,
    stash,
)
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
    """Check the line against the registers (outbox). Idempotent: a line already decided
    is left as it is (under its row lock), so a second delivery issues no second card.
    """
    return services.order_line_check(line_id=line_id).state


@shared_task(name="orders.recheck_awaiting_order_lines", acks_late=True)
def recheck_awaiting_order_lines() -> int:
    return services.order_lines_awaiting_check_queue()


@shared_task(
    name="orders.tell_employer_awaiting", acks_late=True, autoretry_for=(OSError,), retry_backoff=60
)
def tell_employer_awaiting(*, line_id: int) -> None:
    """Mail the orderer that the line waits for Aa-registeret (outbox). Not stamped: a second
    delivery of the message is skipped by its outbox id (PortalTask); only a worker that dies
    between sending and finishing sends it twice, which a notice allows.
    """
    services.employer_told_awaiting(line_id=line_id)


@shared_task(
    name="orders.tell_employer_rejected", acks_late=True, autoretry_for=(OSError,), retry_backoff=60
)
def tell_employer_rejected(*, line_id: int) -> None:
    """Mail the orderer that the line was rejected (outbox). Not stamped: a second delivery of
    the message is skipped by its outbox id (PortalTask); only a worker that dies between
    sending and finishing sends it twice, which a notice allows.
    """
    services.employer_told_rejected(line_id=line_id)


@shared_task(
    name="orders.tell_employer_card_reported",
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=60,
)
def tell_employer_card_reported(*, card_id: int) -> None:
    """Mail the orderer that the holder reported the card (outbox). Not stamped: a second
    delivery of the message is skipped by its outbox id (PortalTask); only a worker that dies
    between sending and finishing sends it twice, which a notice allows.
    """
    services.employer_told_card_reported(card_id=card_id)


@shared_task(name="orders.purge_upload_stash")
def purge_upload_stash() -> int:
    return stash.stash_purge_expired(now=timezone.now())


@shared_task(
    name="orders.send_employee_upload_link",
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=60,
)
def send_employee_upload_link(*, link_id: int, token: str) -> bool:
    """Mail the employee their upload link (outbox). A second delivery of the message is
    skipped by its outbox id (PortalTask); sent twice, it is the same link, which still works.
    """
    # The token is an argument because only its hash is stored; the service checks the two match.
    return employee_upload.employee_told_upload_link(link_id=link_id, token=token)


@shared_task(
    name="orders.tell_orderer_confirmed", acks_late=True, autoretry_for=(OSError,), retry_backoff=60
)
def tell_orderer_confirmed(*, order_id: int) -> bool:
    """Mail the order confirmation (outbox). Idempotent: the order is stamped in the
    transaction that sends it, so a second delivery finds it sent.
    """
    return notifications.orderer_told_confirmed(order_id=order_id)


@shared_task(
    name="orders.tell_orderers_shipped_task",
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=60,
)
def tell_orderers_shipped_task(*, card_ids: list[int], tracking_reference: str) -> int:
    """Mail the orderers of a shipped batch (outbox). Idempotent: each line is stamped in
    the transaction that sends its mail, so a second delivery finds them sent.
    """
    return notifications.orderers_told_shipped(
        card_ids=card_ids, tracking_reference=tracking_reference
    )


@shared_task(name="orders.remind_waiting_orderers", acks_late=True)
def remind_waiting_orderers() -> int:
    return notifications.orderers_reminded()


@shared_task(name="orders.send_administrator_digests", acks_late=True)
def send_administrator_digests() -> int:
    # Safe to run again: each item is recorded per person in the transaction that mails it.
    return digests.administrator_digests_send()


@shared_task(
    name="orders.tell_orderer_files_received",
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=60,
)
def tell_orderer_files_received(*, line_id: int) -> bool:
    """Mail the orderer that the employee's files are in (outbox); sent only while the line
    waits for the ID check. A second delivery of the message is skipped by its outbox id
    (PortalTask); only a worker that dies between sending and finishing sends it twice.
    """
    return employee_upload.orderer_told_files_received(line_id=line_id)


@shared_task(name="orders.review_delegations", acks_late=True)
def review_delegations() -> int:
    # Safe to run again: a flagged grant is not flagged twice, an ended one not ended twice.
    review = delegations.delegations_review()
    return review.flagged + review.ended


@shared_task(name="orders.tell_grantee", acks_late=True, autoretry_for=(OSError,), retry_backoff=60)
def tell_grantee(*, delegation_id: int) -> bool:
    """Tell the grantee of their access (outbox); nothing once the access is removed. A second
    delivery of the message is skipped by its outbox id (PortalTask); only a worker that dies
    between sending and finishing sends it twice.
    """
    return delegations.grantee_told(delegation_id=delegation_id)


@shared_task(
    name="orders.ask_key_role_holders", acks_late=True, autoretry_for=(OSError,), retry_backoff=60
)
def ask_key_role_holders(*, orgnr: str, delegation_ids: list[int], national_ids: list[str]) -> int:
    """Ask the key-role holders to confirm flagged access (outbox); only grants still flagged
    and in force. A second delivery of the message is skipped by its outbox id (PortalTask);
    only a worker that dies between sending and finishing sends it twice.
    """
    return delegations.key_role_holders_asked(
        orgnr=orgnr, delegation_ids=delegation_ids, national_ids=national_ids
    )


BULK_CHECK_RETRIES = 10


@shared_task(bind=True, name="orders.validate_bulk_upload", acks_late=True)
def validate_bulk_upload(self: Task, *, upload_id: int) -> str:
    """Check a bulk upload's rows (outbox). Idempotent: rows already reported are skipped
    (orders/bulk.py), so a second delivery only finishes what the first left."""
    try:
        return bulk.bulk_upload_validate(upload_id=upload_id).state
    except RegisterUnavailable as error:
        if self.request.retries >= BULK_CHECK_RETRIES:
            # Hours of outage: say so on the page rather than check for ever.
            return bulk.bulk_upload_give_up(upload_id=upload_id, error=str(error)).state
        raise self.retry(exc=error, countdown=min(30 * 2**self.request.retries, 1800)) from error


@shared_task(name="orders.expire_bulk_uploads")
def expire_bulk_uploads() -> int:
    return bulk.bulk_uploads_expire(now=timezone.now())


@shared_task(name="orders.review_delegations_of", acks_late=True)
def review_delegations_of(*, orgnrs: list[str]) -> int:
    """Look at the grants of changed organisations (outbox). Idempotent: a flagged grant is
    not flagged twice, an ended one not ended twice."""
    review = delegations.delegations_review(orgnrs=orgnrs)
    return review.flagged + review.ended
