"""The card office's pages: print queue, batch page, progress, download and shipping."""

from __future__ import annotations

import datetime
import re

import pypdfium2 as pdfium
import pytest
from django.core.files.base import ContentFile
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone, translation

from cards.batches import print_batch_create, print_batch_render
from cards.forms import PrintBatchCreateForm
from cards.models import Card, CardTransition, PrintBatch, Producer
from hmsportal.models import User
from tests.cards.factories import CardFactory, CardTypeFactory, ProducerFactory

pytestmark = pytest.mark.django_db

QUEUE = reverse("cards:print_queue")


@pytest.fixture
def producer():
    return ProducerFactory(
        name="Evry Card Services AS", effective_from=timezone.now() - datetime.timedelta(days=1)
    )


@pytest.fixture
def staff() -> User:
    return User.objects.create_user(username="card-office", is_staff=True)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    # The messages asserted below are the English msgids.
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def batch_urls(batch_id: int) -> list[tuple[str, str]]:
    return [
        ("get", reverse("cards:batch_detail", args=[batch_id])),
        ("get", reverse("cards:batch_progress", args=[batch_id])),
        ("get", reverse("cards:batch_pdf", args=[batch_id])),
        ("post", reverse("cards:batch_ship", args=[batch_id])),
        ("post", reverse("cards:batch_retry", args=[batch_id])),
    ]


def ready_batch(cards: list[Card], staff: User) -> PrintBatch:
    return print_batch_render(batch_id=print_batch_create(cards=cards, actor=staff).pk)


def has_error_summary(response) -> bool:
    return 'class="error-summary"' in response.content.decode()


# --- Access ------------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_the_login_page(client, producer, staff):
    batch = print_batch_create(cards=[CardFactory()], actor=staff)
    for method, url in [("get", QUEUE), ("post", QUEUE), *batch_urls(batch.pk)]:
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login") + "?next="), url
    assert PrintBatch.objects.get(pk=batch.pk).state == PrintBatch.State.RENDERING


def test_signed_in_users_who_are_not_staff_get_403(client, producer, staff):
    batch = print_batch_create(cards=[CardFactory()], actor=staff)
    worker = User.objects.create_user(username="worker", national_id="01019012345")
    client.force_login(worker)
    for method, url in [("get", QUEUE), ("post", QUEUE), *batch_urls(batch.pk)]:
        assert getattr(client, method)(url, {"tracking_reference": "ABCD"}).status_code == 403, url
    assert PrintBatch.objects.get(pk=batch.pk).state == PrintBatch.State.RENDERING


def test_unknown_batches_are_404_even_with_huge_ids(staff_client):
    for batch_id in (424242, 99999999999999999999999):
        for method, url in batch_urls(batch_id):
            assert getattr(staff_client, method)(url).status_code == 404, url


# --- Print queue -------------------------------------------------------------------------


def test_queue_lists_waiting_cards_oldest_first_with_counts_per_card_type(
    staff_client, producer, staff
):
    construction, cleaning = CardTypeFactory(), CardTypeFactory(cleaning=True)
    oldest = CardFactory()
    middle = CardFactory(card_type=cleaning)
    newest = CardFactory()
    Card.objects.filter(pk=oldest.pk).update(created_at=timezone.now() - datetime.timedelta(days=2))
    Card.objects.filter(pk=middle.pk).update(created_at=timezone.now() - datetime.timedelta(days=1))
    batched = CardFactory()
    batch = print_batch_create(cards=[batched], actor=staff)

    response = staff_client.get(QUEUE)

    assert response.status_code == 200
    page = response.content.decode()
    positions = [page.index(f'value="{card.pk}"') for card in (oldest, middle, newest)]
    assert positions == sorted(positions)
    assert f'value="{batched.pk}"' not in page
    assert "3 cards waiting" in page
    assert f"<dt>{construction.name_en}</dt><dd>2</dd>" in page
    assert f"<dt>{cleaning.name_en}</dt><dd>1</dd>" in page
    assert reverse("cards:batch_detail", args=[batch.pk]) in page


def test_batch_list_is_newest_first(staff_client, producer, staff):
    first = print_batch_create(cards=[CardFactory()], actor=staff)
    second = print_batch_create(cards=[CardFactory()], actor=staff)
    PrintBatch.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=1)
    )

    page = staff_client.get(QUEUE).content.decode()

    assert page.index(f">#{second.pk}<") < page.index(f">#{first.pk}<")


def test_a_batch_from_the_oldest_n_cards(
    staff_client, producer, django_capture_on_commit_callbacks
):
    cards = [CardFactory() for _ in range(3)]
    for age, card in enumerate(reversed(cards)):
        Card.objects.filter(pk=card.pk).update(
            created_at=timezone.now() - datetime.timedelta(hours=age)
        )

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(QUEUE, {"selection": "oldest", "count": "2"})

    batch = PrintBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("cards:batch_detail", args=[batch.pk])
    assert set(batch.cards.all()) == {cards[0], cards[1]}
    assert Card.objects.get(pk=cards[2].pk).state == Card.State.APPROVED
    assert batch.state == PrintBatch.State.READY


def test_an_empty_count_takes_every_waiting_card(staff_client, producer):
    cards = [CardFactory() for _ in range(3)]

    staff_client.post(QUEUE, {"selection": "oldest", "count": ""})

    assert set(PrintBatch.objects.get().cards.all()) == set(cards)


def test_a_batch_from_the_chosen_cards(staff_client, producer):
    chosen = [CardFactory(), CardFactory()]
    left = CardFactory()

    response = staff_client.post(
        QUEUE, {"selection": "selected", "cards": [str(c.pk) for c in chosen]}
    )

    assert response.status_code == 302
    assert set(PrintBatch.objects.get().cards.all()) == set(chosen)
    assert Card.objects.get(pk=left.pk).state == Card.State.APPROVED


@pytest.mark.parametrize(
    ("post", "message"),
    [
        ({"selection": "oldest", "count": "abc"}, "whole number"),
        ({"selection": "oldest", "count": "1e3"}, "whole number"),
        ({"selection": "oldest", "count": "\uff10"}, "at least 1"),
        ({"selection": "oldest", "count": "0"}, "at least 1"),
        ({"selection": "oldest", "count": "-5"}, "at least 1"),
        ({"selection": "oldest", "count": "1001"}, "at most 1000"),
        ({"selection": "oldest", "count": "9" * 400}, "at most 1000"),
        ({"selection": "oldest", "count": "2\x00"}, "whole number"),
        ({"count": "2"}, "Choose which cards"),
        ({"selection": "everything", "count": "2"}, "Choose which cards"),
        ({"selection": "selected"}, "Tick at least one card"),
        ({"selection": "selected", "cards": ["x"]}, "could not be read"),
        ({"selection": "selected", "cards": ["1.5"]}, "could not be read"),
        ({"selection": "selected", "cards": ["٣"]}, "could not be read"),
        ({"selection": "selected", "cards": ["9" * 30]}, "could not be read"),
        ({"selection": "selected", "cards": ["99999999999999999"]}, "not in the print queue"),
    ],
)
def test_hostile_queue_input_gets_a_message_and_saves_nothing(
    staff_client, producer, post, message
):
    card = CardFactory()

    response = staff_client.post(QUEUE, post)

    assert response.status_code == 200
    assert has_error_summary(response)
    assert message in response.content.decode()
    assert not PrintBatch.objects.exists()
    assert Card.objects.get(pk=card.pk).state == Card.State.APPROVED


def test_choosing_a_card_that_left_the_queue_is_refused_whole(staff_client, producer, staff):
    waiting = CardFactory()
    taken = CardFactory()
    print_batch_create(cards=[taken], actor=staff)

    response = staff_client.post(
        QUEUE, {"selection": "selected", "cards": [str(waiting.pk), str(taken.pk)]}
    )

    assert has_error_summary(response)
    assert "1 of the chosen cards are not in the print queue" in response.content.decode()
    assert PrintBatch.objects.count() == 1
    assert Card.objects.get(pk=waiting.pk).state == Card.State.APPROVED


def test_an_empty_queue_cannot_make_a_batch(staff_client, producer):
    response = staff_client.post(QUEUE, {"selection": "oldest", "count": ""})

    assert has_error_summary(response)
    assert "There are no cards in the print queue." in response.content.decode()
    assert not PrintBatch.objects.exists()


def test_without_a_producer_in_force_the_page_says_so_and_saves_nothing(staff_client):
    Producer.objects.all().delete()
    card = CardFactory()

    response = staff_client.post(QUEUE, {"selection": "oldest", "count": "1"})

    assert has_error_summary(response)
    assert "No card producer is in force now" in response.content.decode()
    assert not PrintBatch.objects.exists()
    assert not CardTransition.objects.exists()
    assert Card.objects.get(pk=card.pk).state == Card.State.APPROVED


def test_more_fields_than_django_accepts_is_a_400_not_a_500(staff_client, producer):
    card = CardFactory()

    response = staff_client.post(
        QUEUE, {"selection": "selected", "cards": [str(n) for n in range(1, 2001)]}
    )

    assert response.status_code == 400
    assert not PrintBatch.objects.exists()
    assert Card.objects.get(pk=card.pk).state == Card.State.APPROVED


def test_hostile_page_numbers_fall_back_to_a_page(staff_client, producer):
    CardFactory()
    for page in ("abc", "-1", "99999", "9" * 50):
        response = staff_client.get(QUEUE, {"page": page, "batches": page})
        assert response.status_code == 200


# --- Batch page, progress and download ---------------------------------------------------


def test_batch_page_shows_progress_while_rendering(staff_client, producer, staff):
    batch = print_batch_create(cards=[CardFactory(), CardFactory()], actor=staff)
    PrintBatch.objects.filter(pk=batch.pk).update(progress_done=1)

    response = staff_client.get(reverse("cards:batch_detail", args=[batch.pk]))
    page = response.content.decode()

    assert response.status_code == 200
    assert "Evry Card Services AS" in page
    assert re.search(
        r'class="progress" role="progressbar"[^>]*aria-valuemin="0" aria-valuemax="2" '
        r'aria-valuenow="1"',
        page,
    )
    assert "progress-bar progress-w-50" in page
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in page
    assert reverse("cards:batch_progress", args=[batch.pk]) in page
    assert reverse("cards:batch_pdf", args=[batch.pk]) not in page

    progress = staff_client.get(reverse("cards:batch_progress", args=[batch.pk]))
    assert progress.json() == {"state": "rendering", "done": 1, "total": 2}
    assert "no-cache" in progress["Cache-Control"]
    assert staff_client.get(reverse("cards:batch_pdf", args=[batch.pk])).status_code == 404


def test_a_ready_batch_downloads_as_one_pdf(staff_client, producer, staff):
    batch = ready_batch([CardFactory(with_photo=True), CardFactory(), CardFactory()], staff)

    page = staff_client.get(reverse("cards:batch_detail", args=[batch.pk])).content.decode()
    progress = staff_client.get(reverse("cards:batch_progress", args=[batch.pk])).json()
    response = staff_client.get(reverse("cards:batch_pdf", args=[batch.pk]))

    assert reverse("cards:batch_pdf", args=[batch.pk]) in page
    assert "noscript" not in page
    assert progress == {"state": "ready", "done": 3, "total": 3}
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="print-batch-{batch.pk}.pdf"'
    pdf = b"".join(response.streaming_content)
    assert len(pdfium.PdfDocument(pdf)) == 6


def test_a_failed_batch_can_be_rendered_again(
    staff_client, producer, staff, django_capture_on_commit_callbacks
):
    card = CardFactory(with_photo=True)
    photo = card.photo.storage.read_bytes(card.photo.name)
    card.photo.storage.delete(card.photo.name)
    with django_capture_on_commit_callbacks(execute=True):
        batch = print_batch_create(cards=[card], actor=staff)
    assert PrintBatch.objects.get(pk=batch.pk).state == PrintBatch.State.FAILED
    page = staff_client.get(reverse("cards:batch_detail", args=[batch.pk])).content.decode()
    assert "Rendering the PDF failed" in page

    card.photo.storage.save(card.photo.name, ContentFile(photo))
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("cards:batch_retry", args=[batch.pk]))

    assert response.status_code == 302
    assert PrintBatch.objects.get(pk=batch.pk).state == PrintBatch.State.READY
    again = staff_client.post(reverse("cards:batch_retry", args=[batch.pk]), follow=True)
    assert "Only a batch whose rendering failed" in again.content.decode()


# --- Shipping ----------------------------------------------------------------------------


def test_marking_a_ready_batch_as_shipped(staff_client, producer, staff):
    cards = [CardFactory(), CardFactory()]
    batch = ready_batch(cards, staff)

    response = staff_client.post(
        reverse("cards:batch_ship", args=[batch.pk]), {"tracking_reference": "70730259-NO"}
    )

    assert response.status_code == 302
    batch.refresh_from_db()
    assert (batch.state, batch.tracking_reference) == (PrintBatch.State.SHIPPED, "70730259-NO")
    assert set(Card.objects.values_list("state", flat=True)) == {Card.State.SHIPPED}
    page = staff_client.get(response["Location"]).content.decode()
    assert "is marked as shipped" in page
    assert "70730259-NO" in page


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("", "Enter the tracking reference of the shipment."),
        ("   ", "Enter the tracking reference of the shipment."),
        ("abc", "4 to 100 letters, digits or dashes"),
        ("ABC 1234", "4 to 100 letters, digits or dashes"),
        ("<script>1234", "4 to 100 letters, digits or dashes"),
        ("ÆØÅ-1234", "4 to 100 letters, digits or dashes"),
        ("a" * 101, "at most 100 characters"),
        ("1234\x00", "Null characters"),
    ],
)
def test_a_bad_tracking_reference_is_refused(staff_client, producer, staff, reference, message):
    batch = print_batch_create(cards=[CardFactory()], actor=staff)
    PrintBatch.objects.filter(pk=batch.pk).update(state=PrintBatch.State.READY)

    response = staff_client.post(
        reverse("cards:batch_ship", args=[batch.pk]), {"tracking_reference": reference}
    )

    assert response.status_code == 200
    assert has_error_summary(response)
    assert message in response.content.decode()
    assert "<script>1234" not in response.content.decode()
    assert PrintBatch.objects.get(pk=batch.pk).state == PrintBatch.State.READY
    assert not CardTransition.objects.filter(to_state=Card.State.SHIPPED).exists()


def test_a_batch_that_is_not_ready_cannot_be_shipped(staff_client, producer, staff):
    batch = print_batch_create(cards=[CardFactory()], actor=staff)

    response = staff_client.post(
        reverse("cards:batch_ship", args=[batch.pk]), {"tracking_reference": "ABCD-1234"}
    )

    assert response.status_code == 200
    assert has_error_summary(response)
    assert "Only a batch that is ready for printing can be marked as shipped" in (
        response.content.decode()
    )
    assert PrintBatch.objects.get(pk=batch.pk).state == PrintBatch.State.RENDERING
    assert staff_client.get(reverse("cards:batch_ship", args=[batch.pk])).status_code == 405


# serialized_rollback keeps the seed migration's rows for the tests that run after this one.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_render_task_runs_after_the_batch_is_committed(client, producer):
    staff = User.objects.create_user(username="office", is_staff=True)
    client.force_login(staff)
    card = CardFactory()

    response = client.post(QUEUE, {"selection": "selected", "cards": [str(card.pk)]})

    batch = PrintBatch.objects.get()
    assert response["Location"] == reverse("cards:batch_detail", args=[batch.pk])
    assert batch.state == PrintBatch.State.READY
    assert batch.progress_done == batch.progress_total == 1
    assert len(pdfium.PdfDocument(batch.pdf.storage.read_bytes(batch.pdf.name))) == 2


def test_the_form_refuses_more_ids_than_a_batch_holds_should_django_let_them_through(producer):
    data = QueryDict(mutable=True)
    data["selection"] = "selected"
    data.setlist("cards", [str(n) for n in range(1, 1002)])
    form = PrintBatchCreateForm(data)

    with translation.override("en"):
        assert not form.is_valid()
        assert form.errors["cards"] == ["Choose at most 1000 cards for one batch."]
