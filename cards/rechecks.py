"""The night's re-check of every live card, fanned out over the workers (issue 12, point 2).

A run splits the live cards into chunks by primary-key range (RECHECK_CHUNK_CARDS each) and
records them; cards.tasks sends one task per chunk as a Celery group, so every worker takes
chunks and a second worker machine adds throughput. Each chunk checks the live cards of its
range not checked since the run started, so:

- a chunk that is done is skipped (its row is locked and its state read first): a message
  delivered twice, or re-sent when resuming, does not ask the registers twice;
- a chunk cut short (a worker killed halfway) checks only its cards still unchecked when it
  runs again;
- a run left unfinished (a crash, a deploy) is resumed by sending its unfinished chunks again
  (recheck_chunks_to_send: the beat task every few minutes, or `manage.py recheck_resume`).

The last chunk to finish marks the run finished: no chord, so no result backend is needed and
a lost chord callback cannot leave a run open for ever.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from cards.models import Card, RecheckChunk, RecheckRun
from cards.services import RecheckSummary, cards_recheck_all
from hmsportal.outbox import outbox_record

logger = logging.getLogger(__name__)

# A chunk taken by a worker and not done after this long is taken to be lost (its worker
# died) and is sent again; above the chunk task's time limit (cards.tasks.recheck_chunk),
# so a chunk still at work is not run twice at once.
CHUNK_LEASE = datetime.timedelta(minutes=15)
_COUNTERS = ("became_invalid", "became_valid", "expired", "ended", "failed_lookups", "check_rows")


@dataclass(frozen=True)
class ChunkOutcome:
    """What running a chunk did: whether it ran, whether it finished its run, and when that
    run started if it finished with cards a register did not answer for (left over)."""

    run_id: int
    ran: bool
    run_finished: bool = False
    left_over_since: datetime.datetime | None = None


def _live_cards() -> Q:
    return Q(state__in=Card.CHECKED_STATES)


@transaction.atomic
def recheck_run_start(
    *, on: datetime.date | None = None, chunk_cards: int | None = None
) -> RecheckRun:
    """Start a re-check of every live card: record the run and its chunks, and ask (outbox)
    for the chunks to be sent to the workers. A run still open is superseded: this one checks
    every card again."""
    now = timezone.now()
    size = max(1, chunk_cards or int(settings.RECHECK_CHUNK_CARDS))
    RecheckRun.objects.filter(state=RecheckRun.State.RUNNING).update(
        state=RecheckRun.State.SUPERSEDED, finished_at=now
    )
    run = RecheckRun(started_at=now, on=on or timezone.localdate())
    run.full_clean()
    run.save()
    # Every size-th live card starts a chunk; each chunk ends where the next starts, and the
    # last at the highest live card. Only primary keys leave the database (one int a card).
    starts: list[int] = []
    total = 0
    last_pk = 0
    for pk in (
        Card.objects.filter(_live_cards())
        .order_by("pk")
        .values_list("pk", flat=True)
        .iterator(chunk_size=10_000)
    ):
        if total % size == 0:
            starts.append(pk)
        total += 1
        last_pk = pk
    ends = [start - 1 for start in starts[1:]] + ([last_pk] if starts else [])
    RecheckChunk.objects.bulk_create(
        RecheckChunk(run=run, first_pk=first, last_pk=last)
        for first, last in zip(starts, ends, strict=True)
    )
    run.total_cards = total
    run.chunks_total = len(starts)
    if not starts:
        run.state = RecheckRun.State.FINISHED
        run.finished_at = now
    run.save(update_fields=["total_cards", "chunks_total", "state", "finished_at"])
    if starts:
        outbox_record(task="cards.recheck_run_send", kwargs={"run_id": run.pk})
    return run


@transaction.atomic
def recheck_chunks_to_send(
    *, run_id: int | None = None, stale_after: datetime.timedelta = CHUNK_LEASE
) -> list[int]:
    """The chunks of open runs (or of one) that need sending to a worker, marked as sent now.

    A chunk needs sending when it was never sent, or when it was sent or taken longer ago
    than stale_after and is still not done (its message or its worker was lost). With
    stale_after zero every unfinished chunk is sent again (after a crash of every worker).
    """
    now = timezone.now()
    cutoff = now - stale_after
    # Only the chunks' rows: locking the run too would make a chunk that is finishing (and
    # updating its run's counters) hide every chunk of the run from this pass.
    chunks = RecheckChunk.objects.select_for_update(skip_locked=True, of=("self",)).filter(
        run__state=RecheckRun.State.RUNNING
    )
    if run_id is not None:
        chunks = chunks.filter(run_id=run_id)
    waiting = Q(state=RecheckChunk.State.PENDING) & (
        Q(sent_at__isnull=True) | Q(sent_at__lte=cutoff)
    )
    lost = Q(state=RecheckChunk.State.RUNNING) & Q(claimed_at__lte=cutoff)
    ids = list(chunks.filter(waiting | lost).order_by("pk").values_list("pk", flat=True))
    RecheckChunk.objects.filter(pk__in=ids).update(sent_at=now)
    if stale_after <= datetime.timedelta(0):
        # Sent again on purpose: a running chunk's claim no longer keeps its new message out.
        RecheckChunk.objects.filter(pk__in=ids, state=RecheckChunk.State.RUNNING).update(
            claimed_at=None
        )
    return ids


def _claim(chunk_id: int, delivery: str) -> RecheckChunk | None:
    """Take the chunk for this delivery, or None when it is done, its run closed, or another
    delivery holds it (a second message for it while the first is at work)."""
    now = timezone.now()
    with transaction.atomic():
        chunk = (
            RecheckChunk.objects.select_for_update(of=("self",))
            .select_related("run")
            .filter(pk=chunk_id)
            .first()
        )
        if chunk is None or chunk.state == RecheckChunk.State.DONE:
            return None
        if chunk.run.state != RecheckRun.State.RUNNING:
            return None
        if (
            chunk.state == RecheckChunk.State.RUNNING
            and chunk.claimed_at is not None
            and chunk.claimed_at > now - CHUNK_LEASE
            and not (delivery and chunk.claimed_by == delivery)
        ):
            return None
        chunk.state = RecheckChunk.State.RUNNING
        chunk.claimed_at = now
        chunk.claimed_by = delivery
        chunk.attempts += 1
        chunk.save(update_fields=["state", "claimed_at", "claimed_by", "attempts"])
        return chunk


def recheck_chunk_run(*, chunk_id: int, delivery: str = "") -> ChunkOutcome | None:
    """Re-check the cards of one chunk not yet checked in its run, then record it done and,
    if it was the run's last, the run finished. None when the chunk no longer exists.

    delivery names the message (the Celery task id): when the chunk is held under the same
    name, its worker died and the message came back (acks late), so this takes it over.
    """
    chunk = _claim(chunk_id, delivery)
    if chunk is None:
        run_id = RecheckChunk.objects.filter(pk=chunk_id).values_list("run_id", flat=True).first()
        if run_id is None:
            return None
        logger.info("Re-check chunk %s is done or taken: skipped", chunk_id)
        return ChunkOutcome(run_id=run_id, ran=False)
    run = chunk.run
    # The registers are asked outside any transaction here (cards_recheck locks the cards of
    # each batch only to apply the verdicts). A register that does not answer leaves the
    # cards unchecked: they keep their status and the run's left-over pass asks again.
    summary = cards_recheck_all(
        on=run.on, checked_before=run.started_at, pk_range=(chunk.first_pk, chunk.last_pk)
    )
    return _chunk_done(chunk_id=chunk_id, summary=summary)


@transaction.atomic
def _chunk_done(*, chunk_id: int, summary: RecheckSummary) -> ChunkOutcome:
    now = timezone.now()
    chunk = RecheckChunk.objects.select_for_update().get(pk=chunk_id)
    if chunk.state == RecheckChunk.State.DONE:
        # Sent again by force while this ran, and the other finished first: count it once.
        return ChunkOutcome(run_id=chunk.run_id, ran=True)
    chunk.state = RecheckChunk.State.DONE
    chunk.done_at = now
    chunk.cards_checked = summary.checked
    chunk.failed_lookups = summary.failed_lookups
    chunk.save(update_fields=["state", "done_at", "cards_checked", "failed_lookups"])
    RecheckRun.objects.filter(pk=chunk.run_id).update(
        chunks_done=F("chunks_done") + 1,
        cards_checked=F("cards_checked") + summary.checked,
        **{name: F(name) + getattr(summary, name) for name in _COUNTERS},
    )
    run = RecheckRun.objects.select_for_update().get(pk=chunk.run_id)
    finished = run.state == RecheckRun.State.RUNNING and run.chunks_done >= run.chunks_total
    if finished:
        run.state = RecheckRun.State.FINISHED
        run.finished_at = now
        run.save(update_fields=["state", "finished_at"])
        logger.info(
            "Re-check run %s finished: %d cards checked, %d lookups failed",
            run.pk,
            run.cards_checked,
            run.failed_lookups,
        )
    return ChunkOutcome(
        run_id=run.pk,
        ran=True,
        run_finished=finished,
        left_over_since=run.started_at if finished and run.failed_lookups else None,
    )


# --- Reads for the back office ----------------------------------------------------------

RUNS_SHOWN = 10


def recheck_runs_recent(*, limit: int = RUNS_SHOWN) -> list[RecheckRun]:
    """The latest re-check runs, newest first."""
    return list(RecheckRun.objects.order_by("-started_at", "-pk")[:limit])
