"""Celery tasks of the cards app: they load ids and call a service."""

from __future__ import annotations

import datetime

from celery import Task, group, shared_task
from django.conf import settings
from django.utils import timezone

from cards import rechecks, services
from cards.models import CardCheck

RETRY_LEFT_OVER_SECONDS = 15 * 60
# Time for the broker's bookkeeping between a retry's end and its acknowledgement.
_ACK_MARGIN_SECONDS = 10 * 60


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


@shared_task(name="cards.recheck_all_cards", acks_late=True)
def recheck_all_cards() -> dict[str, int]:
    """The night's re-check: activate delivered cards, then start a run whose chunks the
    workers share (cards.rechecks); this task only records them, so it takes seconds."""
    started = timezone.now()
    activated = services.cards_activate_delivered(
        shipped_before=started - datetime.timedelta(days=settings.CARD_DELIVERY_DAYS)
    )
    run = rechecks.recheck_run_start()
    return {
        "run": run.pk,
        "cards": run.total_cards,
        "chunks": run.chunks_total,
        "activated": activated,
    }


def _send_chunks(chunk_ids: list[int]) -> int:
    if chunk_ids:
        # A group, not a chord: the last chunk to finish closes the run itself
        # (cards.rechecks), so nothing waits on a result backend.
        group(recheck_chunk.s(chunk_id=chunk_id) for chunk_id in chunk_ids).apply_async()
    return len(chunk_ids)


@shared_task(name="cards.recheck_run_send", acks_late=True)
def recheck_run_send(*, run_id: int) -> int:
    """Send a new run's chunks to the workers (outbox). Idempotent: a chunk already sent is
    not sent again until it is overdue (cards.rechecks.recheck_chunks_to_send)."""
    return _send_chunks(rechecks.recheck_chunks_to_send(run_id=run_id))


@shared_task(name="cards.recheck_runs_resume", acks_late=True)
def recheck_runs_resume(*, stale_seconds: int | None = None) -> int:
    """Send again the chunks of open runs whose message or worker was lost (beat)."""
    stale_after = (
        rechecks.CHUNK_LEASE if stale_seconds is None else datetime.timedelta(seconds=stale_seconds)
    )
    return _send_chunks(rechecks.recheck_chunks_to_send(stale_after=stale_after))


# A chunk (RECHECK_CHUNK_CARDS cards) takes seconds to a few minutes; a register slow enough
# to take longer is treated as down (the cards keep their status). Below CHUNK_LEASE.
@shared_task(
    name="cards.recheck_chunk",
    bind=True,
    acks_late=True,
    soft_time_limit=10 * 60,
    time_limit=11 * 60,
)
def recheck_chunk(self: Task, *, chunk_id: int) -> dict[str, int] | None:
    """Re-check one chunk of a run. Idempotent: a chunk done is skipped, and one cut short
    checks only the cards its run has not checked yet."""
    outcome = rechecks.recheck_chunk_run(chunk_id=chunk_id, delivery=self.request.id or "")
    if outcome is None:
        return None
    if outcome.left_over_since is not None:
        # A register was down for some chunks: those cards kept their status; ask again later.
        recheck_cards_left_over.apply_async(
            kwargs={"started_at": outcome.left_over_since.isoformat()},
            countdown=RETRY_LEFT_OVER_SECONDS,
        )
    return {"run": outcome.run_id, "ran": int(outcome.ran), "finished": int(outcome.run_finished)}


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
        raise self.retry(countdown=left_over_retry_delay(self.request.retries))
    return summary.checked


def left_over_retry_delay(retries: int) -> int:
    """Seconds before the left-over cards are asked again, after `retries` retries so far:
    doubling, but never so long that the retry could be handed out twice.

    Celery's Redis transport hands a message out again once it has gone unacknowledged for the
    broker's visibility timeout (settings), and a retry is unacknowledged from the moment a
    worker takes it, while it waits out its countdown, until its run ends (acks late). So the
    countdown plus the longest run stays below the timeout; a longer one would run the retry
    twice, and each copy would retry again. What is still left then, the next night's run takes.
    """
    visibility = int(str(settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)))
    longest_run = int(recheck_cards_left_over.time_limit or 0)
    longest_wait = max(visibility - longest_run - _ACK_MARGIN_SECONDS, 60)
    return min(RETRY_LEFT_OVER_SECONDS * 2 ** (retries + 1), longest_wait)


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
