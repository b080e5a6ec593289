"""Celery tasks of the cards app: they load ids and call a service."""

from __future__ import annotations

import datetime

from celery import Task, shared_task
from django.conf import settings
from django.utils import timezone

from cards import services
from cards.models import CardCheck

RETRY_LEFT_OVER_SECONDS = 15 * 60


@shared_task(
    name="cards.render_card_pdf",
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=30,
    max_retries=3,
)
def render_card_pdf(*, card_id: int) -> None:
    """Render the card's PDF (outbox). Idempotent: a second run replaces the file."""
    services.card_render_pdf(card_id=card_id)


# The whole population takes longer than the default task limit (100,000 cards: see bench/).
@shared_task(
    name="cards.recheck_all_cards",
    acks_late=True,
    soft_time_limit=4 * 3600,
    time_limit=4 * 3600 + 600,
)
def recheck_all_cards() -> dict[str, int]:
    started = timezone.now()
    activated = services.cards_activate_delivered(
        shipped_before=started - datetime.timedelta(days=settings.CARD_DELIVERY_DAYS)
    )
    summary = services.cards_recheck_all()
    if summary.failed_lookups:
        # A register was down: those cards kept their status; try them again later.
        recheck_cards_left_over.apply_async(
            kwargs={"started_at": started.isoformat()}, countdown=RETRY_LEFT_OVER_SECONDS
        )
    return {
        "checked": summary.checked,
        "became_invalid": summary.became_invalid,
        "became_valid": summary.became_valid,
        "expired": summary.expired,
        "ended": summary.ended,
        "failed_lookups": summary.failed_lookups,
        "check_rows": summary.check_rows,
        "activated": activated,
    }


@shared_task(
    name="cards.recheck_cards_left_over",
    bind=True,
    acks_late=True,
    max_retries=8,
    soft_time_limit=4 * 3600,
    time_limit=4 * 3600 + 600,
)
def recheck_cards_left_over(self: Task, *, started_at: str) -> int:
    """Cards a night's run could not check, retried with growing delays."""
    summary = services.cards_recheck_all(checked_before=datetime.datetime.fromisoformat(started_at))
    if summary.failed_lookups:
        raise self.retry(countdown=RETRY_LEFT_OVER_SECONDS * 2 ** (self.request.retries + 1))
    return summary.checked


@shared_task(
    name="cards.recheck_organisations", acks_late=True, soft_time_limit=3600, time_limit=3900
)
def recheck_organisations_task(*, orgnrs: list[str]) -> None:
    """Re-check the cards of these employers now (outbox, after an import or a change in the
    feed). Idempotent: a second check finds the registers as the first did and changes nothing
    more.
    """
    services.cards_recheck_all(employer_orgnrs=orgnrs, kind=CardCheck.Kind.EXTRA)


# Rendering takes about a tenth of a second per card, so a full batch (cards.batches
# MAX_BATCH_CARDS) needs more than the settings' default limits for short tasks. The service
# catches the soft limit and marks the batch FAILED; re-running replaces the file.
@shared_task(name="cards.render_print_batch", acks_late=True, soft_time_limit=1800, time_limit=1900)
def render_print_batch(*, batch_id: int) -> str:
    """Render a print batch (outbox). Idempotent: only a RENDERING batch is rendered, and
    only its latest rendering stores the PDF (cards.batches.print_batch_render).
    """
    from cards.batches import print_batch_render

    return print_batch_render(batch_id=batch_id).state
