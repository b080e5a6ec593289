"""Print batches: the approved cards sent to the producer together, as one PDF and one shipment.

Reads (the print queue, the batch list) and writes (create, render, ship) of the sub-domain
live together here; every write is a service in the shape of STYLE.md §2.

Rendering: a batch holds up to MAX_BATCH_CARDS cards. WeasyPrint keeps the layout of every
page of a document in memory until the PDF is written, so rendering 1,000 cards in one call
(or rendering chunks as WeasyPrint Documents and joining their pages, which still lays out
every page before writing) needs memory in proportion to the batch: measured on the
development machine, 300 cards took about 275 MB above the idle worker in one call, and
250 MB as joined Documents. print_batch_render instead renders RENDER_CHUNK_CARDS cards at a
time to PDF bytes with cards.pdf.render_cards_pdf and appends each chunk's pages to the
batch PDF with PDFium (pypdfium2), which copies finished pages without laying anything out:
70 MB above idle for the same 300 cards, whatever the batch size, and progress_done moves
after every chunk. The cost is one font subset per chunk (about 1 % of the file).
"""

from __future__ import annotations

import io
import logging
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import pypdfium2 as pdfium
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from cards import catalogue
from cards.models import Card, PrintBatch
from cards.services import cards_transition_bulk
from hmsportal.models import User
from hmsportal.outbox import outbox_record

logger = logging.getLogger(__name__)

# One batch is one shipment the producer handles in a day; it also bounds one transaction's
# row locks and the rendering time (about a tenth of a second per card).
MAX_BATCH_CARDS = 1000
# Cards per render_cards_pdf call: bounds WeasyPrint's memory and sets the progress step.
RENDER_CHUNK_CARDS = 50
# Cards that must not be printed any more even though they are in a batch.
NOT_PRINTED_STATES = (Card.State.REVOKED, Card.State.EXPIRED)
# A courier's consignment number: letters, digits and dashes (DHL, Posten/Bring, PostNord).
TRACKING_REFERENCE = re.compile(r"[A-Za-z0-9-]{4,100}")
# PDFium is not thread-safe, not even across documents; a threaded worker (or the eager
# development server) may merge two batches at once.
_PDFIUM_LOCK = threading.Lock()


class PrintBatchError(Exception):
    """A print batch request that cannot be carried out; the message is for the user."""


class NoProducerInForce(PrintBatchError):
    """No card producer is in force now (between producers, DOMAIN.md "Producers")."""


class NothingToPrint(PrintBatchError):
    """None of the cards asked for is waiting in the print queue."""


class BatchNotReady(PrintBatchError):
    """The batch is not in the state the request needs."""


class InvalidTrackingReference(PrintBatchError):
    """The tracking reference is not letters, digits and dashes, 4 to 100 long."""


class RenderingOvertaken(Exception):
    """A later rendering of the same batch has started: this one stops and stores nothing."""


# --- Reads -------------------------------------------------------------------------------


def _queued() -> QuerySet[Card]:
    # A subquery rather than a LEFT JOIN on print_batches: PostgreSQL refuses FOR UPDATE on
    # the nullable side of an outer join, and print_batch_create locks these rows.
    return Card.objects.filter(state=Card.State.APPROVED).exclude(
        pk__in=PrintBatch.cards.through.objects.values("card_id")
    )


def print_queue_cards() -> QuerySet[Card]:
    """Approved cards not yet in any batch, oldest first (the order they are printed in)."""
    return _queued().select_related("card_type").order_by("created_at", "pk")


@dataclass(frozen=True)
class QueueCount:
    """How many cards of one card type wait in the print queue."""

    card_type_name_nb: str
    card_type_name_en: str
    cards: int

    def name(self, language: str | None) -> str:
        return (
            self.card_type_name_en if (language or "").startswith("en") else self.card_type_name_nb
        )


def print_queue_counts() -> list[QueueCount]:
    """The print queue counted per card type, in card type order."""
    rows = (
        _queued()
        .values("card_type__code", "card_type__name_nb", "card_type__name_en")
        .annotate(cards=Count("pk"))
        .order_by("card_type__code")
    )
    return [
        QueueCount(
            card_type_name_nb=row["card_type__name_nb"],
            card_type_name_en=row["card_type__name_en"],
            cards=row["cards"],
        )
        for row in rows
    ]


def print_batches_recent() -> QuerySet[PrintBatch]:
    """Print batches, newest first, with their producer and number of cards."""
    return (
        PrintBatch.objects.select_related("producer", "created_by")
        .annotate(card_count=Count("cards"))
        .order_by("-created_at", "-pk")
    )


def print_batch_get(*, batch_id: int) -> PrintBatch | None:
    """One batch with its producer, or None."""
    return PrintBatch.objects.select_related("producer", "created_by").filter(pk=batch_id).first()


def print_batch_cards(*, batch: PrintBatch) -> QuerySet[Card]:
    """The batch's cards in print order."""
    return batch.cards.select_related("card_type").order_by("created_at", "pk")


# --- Writes ------------------------------------------------------------------------------


def _card_ids(cards: Iterable[Card] | Iterable[int]) -> set[int]:
    return {card.pk if isinstance(card, Card) else int(card) for card in cards}


@transaction.atomic
def print_batch_create(*, cards: Iterable[Card] | Iterable[int], actor: User | None) -> PrintBatch:
    """Put queued cards (objects or ids) in a new batch for the producer in force now.

    Cards no longer waiting (moved on, revoked, or taken by another batch meanwhile) are
    left out; NothingToPrint when none is left. The PDF is rendered after commit.
    """
    card_ids = _card_ids(cards)
    if not card_ids:
        raise NothingToPrint(_("Choose at least one card for the batch."))
    if len(card_ids) > MAX_BATCH_CARDS:
        raise PrintBatchError(
            _("A batch can hold at most %(max)d cards.") % {"max": MAX_BATCH_CARDS}
        )
    producer = catalogue.producer_at(timezone.now())
    if producer is None:
        raise NoProducerInForce(
            _(
                "No card producer is in force now, so no batch can be made. Add the producer "
                "and the moment it takes over in the admin."
            )
        )
    # Lock the cards so that a revocation or another staff member's batch cannot take the
    # same card at the same time; the second one then finds them gone from the queue.
    waiting = list(
        _queued()
        .select_for_update()
        .filter(pk__in=card_ids)
        .order_by("created_at", "pk")
        .only("pk", "state")
    )
    if not waiting:
        raise NothingToPrint(_("None of the chosen cards is waiting in the print queue any more."))
    batch = PrintBatch(
        producer=producer,
        state=PrintBatch.State.RENDERING,
        progress_total=len(waiting),
        created_by=actor,
    )
    batch.full_clean()
    batch.save()
    Through = PrintBatch.cards.through
    Through.objects.bulk_create(
        [Through(printbatch_id=batch.pk, card_id=card.pk) for card in waiting], batch_size=500
    )
    cards_transition_bulk(
        cards=waiting,
        from_state=Card.State.APPROVED,
        to_state=Card.State.IN_PRODUCTION,
        actor=actor,
        reason=f"print batch #{batch.pk}",
    )
    _enqueue_render(batch)
    return batch


def _enqueue_render(batch: PrintBatch) -> None:
    outbox_record(task="cards.render_print_batch", kwargs={"batch_id": batch.pk})


@transaction.atomic
def print_batch_retry(*, batch: PrintBatch, actor: User | None) -> PrintBatch:
    """Render a batch whose rendering failed again (after the cause is fixed)."""
    batch = PrintBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.state != PrintBatch.State.FAILED:
        raise BatchNotReady(_("Only a batch whose rendering failed can be rendered again."))
    batch.state = PrintBatch.State.RENDERING
    batch.progress_done = 0
    batch.save(update_fields=["state", "progress_done"])
    logger.info(
        "Print batch #%s rendered again on request of user %s",
        batch.pk,
        actor.pk if actor else None,
    )
    _enqueue_render(batch)
    return batch


def _printed_card_ids(batch: PrintBatch) -> list[int]:
    return list(
        batch.cards.exclude(state__in=NOT_PRINTED_STATES)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)
    )


def _claim_for_rendering(batch_id: int) -> tuple[PrintBatch, list[int]] | None:
    """Start a rendering from scratch with a new attempt number; None when the batch waits
    for no rendering (READY or SHIPPED: done already; FAILED: waits for print_batch_retry)."""
    with transaction.atomic():
        batch = PrintBatch.objects.select_for_update().get(pk=batch_id)
        if batch.state != PrintBatch.State.RENDERING:
            return None
        card_ids = _printed_card_ids(batch)
        batch.render_attempt += 1
        batch.progress_done = 0
        batch.progress_total = len(card_ids)
        batch.save(update_fields=["render_attempt", "progress_done", "progress_total"])
    return batch, card_ids


def _still_current(batch: PrintBatch) -> QuerySet[PrintBatch]:
    """The batch, if it is still rendering and this is its latest rendering."""
    return PrintBatch.objects.filter(
        pk=batch.pk, state=PrintBatch.State.RENDERING, render_attempt=batch.render_attempt
    )


def _render_merged(batch: PrintBatch, card_ids: Sequence[int]) -> bytes:
    """The batch PDF, rendered chunk by chunk; progress_done is saved after each chunk."""
    # Imported here so that web processes, which only enqueue, do not load WeasyPrint.
    from cards.pdf import render_cards_pdf

    if not card_ids:
        raise NothingToPrint(f"print batch #{batch.pk} has no card that may be printed")
    with _PDFIUM_LOCK:
        merged = pdfium.PdfDocument.new()
    try:
        for start in range(0, len(card_ids), RENDER_CHUNK_CARDS):
            chunk_ids = card_ids[start : start + RENDER_CHUNK_CARDS]
            by_id = Card.objects.select_related("card_type", "design").in_bulk(chunk_ids)
            chunk_pdf = render_cards_pdf([by_id[pk] for pk in chunk_ids if pk in by_id])
            with _PDFIUM_LOCK:
                chunk = pdfium.PdfDocument(chunk_pdf)
                try:
                    merged.import_pages(chunk)
                finally:
                    chunk.close()
            # Outside any transaction, so the batch page's poll sees it at once. A rendering
            # overtaken by a later one (a second delivery of the task) stops here.
            if not _still_current(batch).update(progress_done=start + len(chunk_ids)):
                raise RenderingOvertaken(f"print batch #{batch.pk} is rendered by a later attempt")
        out = io.BytesIO()
        with _PDFIUM_LOCK:
            merged.save(out)
    finally:
        with _PDFIUM_LOCK:
            merged.close()
    return out.getvalue()


def _store_pdf(rendering: PrintBatch, pdf: bytes) -> PrintBatch:
    """Store the PDF as the batch's file, replacing an earlier rendering, and mark it READY.

    Only once: a rendering that is no longer the batch's latest, or a batch already READY,
    stores nothing (RenderingOvertaken).
    """
    with transaction.atomic():
        batch = PrintBatch.objects.select_for_update().get(pk=rendering.pk)
        if (
            batch.state != PrintBatch.State.RENDERING
            or batch.render_attempt != rendering.render_attempt
        ):
            raise RenderingOvertaken(f"print batch #{batch.pk} is rendered by a later attempt")
        old_name = batch.pdf.name if batch.pdf else ""
        batch.pdf.save(f"print-batch-{batch.pk}.pdf", ContentFile(pdf), save=False)
        batch.state = PrintBatch.State.READY
        batch.progress_done = batch.progress_total
        batch.save(update_fields=["pdf", "state", "progress_done"])
    if old_name and old_name != batch.pdf.name:
        batch.pdf.storage.delete(old_name)
    return batch


def print_batch_render(*, batch_id: int) -> PrintBatch:
    """Render the batch's one PDF (front and back per card) and store it; READY or FAILED.

    Idempotent, so the task may be delivered twice (the outbox, a worker killed mid-render
    with acks_late): only a RENDERING batch is rendered, each rendering from scratch (the
    PDF is built in memory, so one cut short leaves no pages behind), and only the latest
    rendering stores its PDF and marks the batch READY; an earlier one still running stops
    at its next chunk. A READY, FAILED or SHIPPED batch is left alone. Not one transaction:
    progress must be visible while it runs, and a long transaction would hold the batch's
    lock for minutes. The cards stay IN_PRODUCTION whatever happens (their transitions are
    made with the batch), so a failed batch can be rendered again once the cause is fixed.
    """
    claimed = _claim_for_rendering(batch_id)
    if claimed is None:
        return PrintBatch.objects.get(pk=batch_id)
    batch, card_ids = claimed
    try:
        return _store_pdf(batch, _render_merged(batch, card_ids))
    except RenderingOvertaken:
        logger.info("Print batch #%s: rendering %s overtaken", batch_id, batch.render_attempt)
        return PrintBatch.objects.get(pk=batch_id)
    # Whatever breaks a rendering (a photo missing from storage, a design template that is
    # gone, the worker's soft time limit) must leave the batch FAILED, not RENDERING forever.
    except Exception:
        logger.exception("Rendering print batch #%s failed", batch_id)
        _still_current(batch).update(state=PrintBatch.State.FAILED)
        return PrintBatch.objects.get(pk=batch_id)


def tracking_reference_clean(value: str) -> str:
    """The tracking reference without surrounding spaces, or InvalidTrackingReference."""
    value = value.strip()
    if not TRACKING_REFERENCE.fullmatch(value):
        raise InvalidTrackingReference(
            _("Enter the tracking reference: 4 to 100 letters, digits or dashes.")
        )
    return value


@transaction.atomic
def print_batch_ship(
    *, batch: PrintBatch, tracking_reference: str, actor: User | None
) -> PrintBatch:
    """Record that the producer shipped a ready batch: the batch and its cards are SHIPPED."""
    tracking_reference = tracking_reference_clean(tracking_reference)
    batch = PrintBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.state != PrintBatch.State.READY:
        raise BatchNotReady(
            _(
                "Only a batch that is ready for printing can be marked as shipped. This batch is: "
                "%(state)s."
            )
            % {"state": batch.get_state_display()}
        )
    # Cards revoked or made invalid since the batch was made keep their state.
    in_production = list(
        batch.cards.select_for_update().filter(state=Card.State.IN_PRODUCTION).only("pk", "state")
    )
    cards_transition_bulk(
        cards=in_production,
        from_state=Card.State.IN_PRODUCTION,
        to_state=Card.State.SHIPPED,
        actor=actor,
        reason=f"print batch #{batch.pk} shipped, tracking {tracking_reference}",
    )
    batch.state = PrintBatch.State.SHIPPED
    batch.tracking_reference = tracking_reference
    batch.shipped_at = timezone.now()
    batch.full_clean(exclude=["pdf"])
    batch.save(update_fields=["state", "tracking_reference", "shipped_at"])
    _tell_shipped(
        card_ids=[card.pk for card in in_production], tracking_reference=tracking_reference
    )
    return batch


def _tell_shipped(*, card_ids: list[int], tracking_reference: str) -> None:
    """Hand the shipped cards to CARDS_SHIPPED_HANDLER (a dotted path) in this transaction,
    so that what it records (in the outbox) commits or rolls back with the shipment.

    The hook is how the people who ordered the cards hear of the shipment without the cards
    app knowing about orders (the same shape as REGISTRY_CHANGED_ORGANISATIONS_HANDLER).
    """
    path = getattr(settings, "CARDS_SHIPPED_HANDLER", "")
    if not path or not card_ids:
        return
    handler: Callable[[list[int], str], object] = import_string(path)
    handler(card_ids, tracking_reference)
