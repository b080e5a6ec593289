"""Print batch services: real WeasyPrint renders into encrypted storage, read back with PDFium."""

from __future__ import annotations

import datetime
import logging
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from django.conf import settings
from django.utils import timezone, translation

from cards import batches
from cards import pdf as pdf_module
from cards.batches import (
    BatchNotReady,
    InvalidTrackingReference,
    NoProducerInForce,
    NothingToPrint,
    print_batch_create,
    print_batch_render,
    print_batch_retry,
    print_batch_ship,
)
from cards.models import Card, CardDesign, CardTransition, PrintBatch, Producer
from cards.numbers import display
from cards.services import card_transition, cards_recheck_all
from hmsportal.models import User
from registry.datasets import registry_dataset_load
from tests.cards.factories import CardFactory, CardTypeFactory, ProducerFactory
from tests.datasets import EMPLOYER, SUB_UNIT, WORKER, small_dataset

pytestmark = pytest.mark.django_db


@pytest.fixture
def producer():
    return ProducerFactory(
        name="Evry Card Services AS", effective_from=timezone.now() - datetime.timedelta(days=30)
    )


@pytest.fixture
def staff() -> User:
    return User.objects.create_user(username="card-office", is_staff=True)


def page_texts(pdf: bytes) -> list[str]:
    document = pdfium.PdfDocument(pdf)
    return [str(document[i].get_textpage().get_text_range()) for i in range(len(document))]


def stored_batch_files() -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / "private" / "cards" / "batches"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_create_moves_cards_to_production_with_a_transition_each(producer, staff):
    cards = [CardFactory() for _ in range(3)]

    batch = print_batch_create(cards=cards, actor=staff)

    assert batch.producer == producer
    assert batch.created_by == staff
    assert batch.progress_total == 3
    assert set(batch.cards.values_list("pk", flat=True)) == {card.pk for card in cards}
    assert set(Card.objects.values_list("state", flat=True)) == {Card.State.IN_PRODUCTION}
    transitions = CardTransition.objects.filter(to_state=Card.State.IN_PRODUCTION)
    assert sorted(transitions.values_list("card_id", flat=True)) == sorted(c.pk for c in cards)
    for transition in transitions:
        assert transition.from_state == Card.State.APPROVED
        assert transition.actor == staff
        assert transition.reason == f"print batch #{batch.pk}"
        assert transition.at is not None


def test_create_accepts_card_ids_and_skips_cards_that_left_the_queue(producer, staff):
    waiting = CardFactory()
    already_in_production = CardFactory(state=Card.State.IN_PRODUCTION)
    revoked = CardFactory()
    card_transition(card=revoked, to_state=Card.State.REVOKED, actor=staff, reason="lost")
    in_other_batch = CardFactory()
    first = print_batch_create(cards=[in_other_batch.pk], actor=staff)

    batch = print_batch_create(
        cards=[waiting.pk, already_in_production.pk, revoked.pk, in_other_batch.pk], actor=staff
    )

    assert list(batch.cards.all()) == [waiting]
    assert batch.progress_total == 1
    assert list(in_other_batch.print_batches.all()) == [first]
    revoked.refresh_from_db()
    assert revoked.state == Card.State.REVOKED
    assert not CardTransition.objects.filter(card=already_in_production).exists()


def test_create_refuses_when_no_chosen_card_is_waiting(producer, staff):
    in_production = CardFactory(state=Card.State.IN_PRODUCTION)

    with pytest.raises(NothingToPrint):
        print_batch_create(cards=[in_production.pk], actor=staff)
    with pytest.raises(NothingToPrint):
        print_batch_create(cards=[], actor=staff)

    assert not PrintBatch.objects.exists()


def test_create_refuses_more_cards_than_a_batch_holds(producer, staff):
    with pytest.raises(batches.PrintBatchError):
        print_batch_create(cards=range(1, batches.MAX_BATCH_CARDS + 2), actor=staff)
    assert not PrintBatch.objects.exists()


def test_batch_goes_to_the_producer_with_the_latest_start_not_after_now(staff):
    now = timezone.now()
    ProducerFactory(name="IDEMIA", effective_from=now - datetime.timedelta(days=400))
    in_force = ProducerFactory(name="Evry", effective_from=now - datetime.timedelta(minutes=5))
    ProducerFactory(name="Next producer", effective_from=now + datetime.timedelta(minutes=5))

    batch = print_batch_create(cards=[CardFactory()], actor=staff)

    assert batch.producer == in_force


def test_without_a_producer_in_force_nothing_is_saved(staff):
    Producer.objects.all().delete()  # the seed migration's producers
    ProducerFactory(effective_from=timezone.now() + datetime.timedelta(days=1))
    card = CardFactory()

    with translation.override("en"), pytest.raises(NoProducerInForce, match="No card producer"):
        print_batch_create(cards=[card], actor=staff)

    card.refresh_from_db()
    assert card.state == Card.State.APPROVED
    assert not PrintBatch.objects.exists()
    assert not CardTransition.objects.exists()


def test_render_after_commit_makes_one_pdf_with_front_and_back_per_card(
    producer, staff, monkeypatch, django_capture_on_commit_callbacks
):
    # Two cards per chunk, so three cards need two renders merged into one file.
    monkeypatch.setattr(batches, "RENDER_CHUNK_CARDS", 2)
    cleaning = CardTypeFactory(cleaning=True)
    cards = [CardFactory(with_photo=True), CardFactory(card_type=cleaning), CardFactory()]
    # The progress saved when each chunk starts rendering: the batch page's poll sees it move.
    progress: list[int] = []
    render_cards_pdf = pdf_module.render_cards_pdf

    def record_progress(chunk):
        progress.append(PrintBatch.objects.get().progress_done)
        return render_cards_pdf(chunk)

    monkeypatch.setattr(pdf_module, "render_cards_pdf", record_progress)
    with django_capture_on_commit_callbacks(execute=True):
        batch = print_batch_create(cards=cards, actor=staff)

    batch.refresh_from_db()
    assert batch.state == PrintBatch.State.READY
    assert progress == [0, 2]
    assert (batch.progress_done, batch.progress_total) == (3, 3)
    pdf = batch.pdf.storage.read_bytes(batch.pdf.name)
    texts = page_texts(pdf)
    assert len(texts) == 6
    for index, card in enumerate(cards):
        assert display(card.number) in texts[2 * index]
    # Stored encrypted: the file on disk is not a PDF.
    assert not Path(batch.pdf.path).read_bytes().startswith(b"%PDF")
    assert set(Card.objects.values_list("state", flat=True)) == {Card.State.IN_PRODUCTION}


def test_a_second_delivery_of_the_render_task_leaves_a_ready_batch_alone(producer, staff):
    batch = print_batch_create(cards=[CardFactory(), CardFactory()], actor=staff)

    first = print_batch_render(batch_id=batch.pk)
    second = print_batch_render(batch_id=batch.pk)

    assert second.state == PrintBatch.State.READY
    assert second.pdf.name == first.pdf.name
    assert second.render_attempt == first.render_attempt == 1
    assert [path.name for path in stored_batch_files()] == [Path(second.pdf.name).name]
    assert len(page_texts(second.pdf.storage.read_bytes(second.pdf.name))) == 4
    assert first.pdf.name.startswith("cards/batches/print-batch-")


def test_a_rendering_overtaken_by_a_later_one_stores_nothing(producer, staff, monkeypatch):
    """Two deliveries of the render task at once: only the later rendering finishes the batch."""
    batch = print_batch_create(cards=[CardFactory(), CardFactory()], actor=staff)
    real_render = batches._render_merged
    overtaken: list[PrintBatch] = []

    def render_while_a_second_delivery_starts(rendering, card_ids):
        if not overtaken:
            overtaken.append(rendering)
            # The second delivery claims the batch and finishes it while the first renders.
            assert print_batch_render(batch_id=rendering.pk).state == PrintBatch.State.READY
        return real_render(rendering, card_ids)

    monkeypatch.setattr(batches, "_render_merged", render_while_a_second_delivery_starts)
    result = print_batch_render(batch_id=batch.pk)

    assert result.state == PrintBatch.State.READY
    assert result.render_attempt == 2
    assert overtaken[0].render_attempt == 1
    assert len(stored_batch_files()) == 1
    assert len(page_texts(result.pdf.storage.read_bytes(result.pdf.name))) == 4


def test_revoked_cards_in_a_batch_are_not_printed(producer, staff):
    keep, revoke = CardFactory(), CardFactory()
    batch = print_batch_create(cards=[keep, revoke], actor=staff)
    card_transition(card=revoke, to_state=Card.State.REVOKED, actor=staff, reason="stolen")

    batch = print_batch_render(batch_id=batch.pk)

    texts = page_texts(batch.pdf.storage.read_bytes(batch.pdf.name))
    assert len(texts) == 2
    assert display(keep.number) in texts[0]
    assert batch.progress_total == 1


def test_a_photo_missing_from_storage_fails_the_batch_and_keeps_the_cards(producer, staff, caplog):
    card = CardFactory(with_photo=True)
    other = CardFactory()
    card.photo.storage.delete(card.photo.name)
    batch = print_batch_create(cards=[card, other], actor=staff)

    with caplog.at_level(logging.ERROR, logger="cards.batches"):
        batch = print_batch_render(batch_id=batch.pk)

    assert batch.state == PrintBatch.State.FAILED
    assert not batch.pdf
    assert stored_batch_files() == []
    assert f"Rendering print batch #{batch.pk} failed" in caplog.text
    assert "FileNotFoundError" in caplog.text
    assert set(Card.objects.values_list("state", flat=True)) == {Card.State.IN_PRODUCTION}


def test_a_missing_design_template_fails_and_the_batch_renders_after_the_fix(
    producer, staff, django_capture_on_commit_callbacks
):
    card_type = CardTypeFactory()
    broken = CardDesign.objects.create(
        card_type=card_type,
        name="Withdrawn design",
        template="cards/pdf/design_withdrawn.html",
        effective_from=datetime.date(2001, 1, 1),
    )
    card = CardFactory(card_type=card_type, design=broken)
    with django_capture_on_commit_callbacks(execute=True):
        batch = print_batch_create(cards=[card], actor=staff)
    batch.refresh_from_db()
    assert batch.state == PrintBatch.State.FAILED

    CardDesign.objects.filter(pk=broken.pk).update(template=CardDesign.Template.DESIGN_2020)
    with django_capture_on_commit_callbacks(execute=True):
        print_batch_retry(batch=batch, actor=staff)

    batch.refresh_from_db()
    assert batch.state == PrintBatch.State.READY
    assert batch.progress_done == batch.progress_total == 1
    assert len(page_texts(batch.pdf.storage.read_bytes(batch.pdf.name))) == 2


def test_retry_needs_a_failed_batch(producer, staff):
    batch = print_batch_create(cards=[CardFactory()], actor=staff)
    with pytest.raises(BatchNotReady):
        print_batch_retry(batch=batch, actor=staff)


def test_ship_moves_a_ready_batch_and_its_cards(producer, staff):
    cards = [CardFactory(), CardFactory()]
    batch = print_batch_render(batch_id=print_batch_create(cards=cards, actor=staff).pk)
    # A card made invalid by a register check after the batch was made keeps its state.
    card_transition(card=cards[1], to_state=Card.State.INVALID, actor=None, reason="check")

    shipped = print_batch_ship(batch=batch, tracking_reference=" 70730259-NO ", actor=staff)

    shipped.refresh_from_db()
    assert shipped.state == PrintBatch.State.SHIPPED
    assert shipped.tracking_reference == "70730259-NO"
    assert shipped.shipped_at is not None
    states = dict(Card.objects.values_list("pk", "state"))
    assert states == {cards[0].pk: Card.State.SHIPPED, cards[1].pk: Card.State.INVALID}
    transition = CardTransition.objects.get(card=cards[0], to_state=Card.State.SHIPPED)
    assert transition.from_state == Card.State.IN_PRODUCTION
    assert transition.actor == staff
    assert transition.reason == f"print batch #{batch.pk} shipped, tracking 70730259-NO"


@pytest.mark.parametrize("state", [PrintBatch.State.RENDERING, PrintBatch.State.FAILED])
def test_ship_needs_a_ready_batch(producer, staff, state):
    card = CardFactory()
    batch = print_batch_create(cards=[card], actor=staff)
    PrintBatch.objects.filter(pk=batch.pk).update(state=state)

    with pytest.raises(BatchNotReady):
        print_batch_ship(batch=batch, tracking_reference="ABC-1234", actor=staff)

    batch.refresh_from_db()
    card.refresh_from_db()
    assert (batch.state, batch.tracking_reference, batch.shipped_at) == (state, "", None)
    assert card.state == Card.State.IN_PRODUCTION


def test_a_shipped_batch_is_shipped_once_and_never_rendered_again(producer, staff):
    batch = print_batch_render(batch_id=print_batch_create(cards=[CardFactory()], actor=staff).pk)
    print_batch_ship(batch=batch, tracking_reference="ABCD", actor=staff)
    pdf_name = PrintBatch.objects.get(pk=batch.pk).pdf.name

    with pytest.raises(BatchNotReady):
        print_batch_ship(batch=batch, tracking_reference="EFGH", actor=staff)
    again = print_batch_render(batch_id=batch.pk)

    assert (again.state, again.tracking_reference, again.pdf.name) == (
        PrintBatch.State.SHIPPED,
        "ABCD",
        pdf_name,
    )
    assert CardTransition.objects.filter(to_state=Card.State.SHIPPED).count() == 1


@pytest.mark.parametrize(
    "reference", ["", "abc", "a" * 101, "ABC 1234", "ABC_1234", "ÆØÅ-1234", "1234\x00", "<b>1234"]
)
def test_ship_refuses_a_bad_tracking_reference(producer, staff, reference):
    batch = print_batch_create(cards=[CardFactory()], actor=staff)
    PrintBatch.objects.filter(pk=batch.pk).update(state=PrintBatch.State.READY)

    with pytest.raises(InvalidTrackingReference):
        print_batch_ship(batch=batch, tracking_reference=reference, actor=staff)

    assert PrintBatch.objects.get(pk=batch.pk).state == PrintBatch.State.READY


def test_a_card_valid_again_after_its_batch_shipped_is_shipped(producer, staff):
    """Invalid while its batch shipped (shipping skips it), valid again → shipped, as it is."""
    registry_dataset_load(dataset=small_dataset())
    card = CardFactory(holder_national_id=WORKER, workplace_orgnr=SUB_UNIT, employer_orgnr=EMPLOYER)
    batch = print_batch_render(batch_id=print_batch_create(cards=[card], actor=staff).pk)
    card_transition(card=card, to_state=Card.State.INVALID, actor=None, reason="check")
    print_batch_ship(batch=batch, tracking_reference="70730259-NO", actor=staff)

    summary = cards_recheck_all()

    card.refresh_from_db()
    assert summary.became_valid == 1
    assert card.state == Card.State.SHIPPED
