"""Mail to the person who ordered: the order confirmation with its PDFs, the shipment with
its tracking reference (once per order), and one reminder for a line that waits too long."""

from __future__ import annotations

import datetime

import pypdfium2 as pdfium
import pytest
from django.core import mail
from django.utils import timezone

from cards.batches import print_batch_create, print_batch_ship
from cards.models import Card, PrintBatch
from cards.numbers import display
from hmsportal.models import User
from orders.models import OrderLine
from orders.notifications import orderer_told_confirmed, orderers_reminded, orderers_told_shipped
from registry.datasets import registry_dataset_load
from tests.cards.factories import CardFactory, ProducerFactory, valid_national_id
from tests.datasets import WORKER, small_dataset
from tests.hmsportal.factories import UserFactory
from tests.orders.factories import OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _registry() -> None:
    registry_dataset_load(dataset=small_dataset())


def _pdf_text(content: bytes) -> str:
    return str(pdfium.PdfDocument(content)[0].get_textpage().get_text_range())


# --- The order confirmation ------------------------------------------------------------


def test_submitting_sends_the_confirmation_with_the_pdf_once_committed(
    django_capture_on_commit_callbacks,
) -> None:
    from django.core.files.base import ContentFile
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cards.models import CardType
    from orders.services import order_submit
    from registry import selectors as registry_selectors

    user = UserFactory()
    employer = registry_selectors.organisation_get(orgnr="914778271")
    employee = next(
        e
        for e in registry_selectors.employees_list(main_orgnr="914778271")
        if e.employment.national_id == WORKER
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order = order_submit(
            actor=user,
            employer=employer,
            employee=employee,
            card_type=CardType.objects.get(code="construction"),
            photo=ContentFile(b"\xff\xd8\xff photo", name="p.jpg"),
            id_document=SimpleUploadedFile("id.pdf", b"%PDF-1.4\n"),
        )
    assert mail.outbox == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["kari@fjordbygg.example"]
    assert message.subject == f"Ordrebekreftelse for bestilling {order.pk} av HMS-kort"
    assert "Ola Snekker, HMS-kort bygg og anlegg" in message.body
    assert WORKER not in message.body
    [(filename, content, media_type)] = message.attachments
    line = order.lines.get()
    assert filename == f"ordrebekreftelse-{order.pk}-{line.pk}.pdf"
    assert media_type == "application/pdf"
    assert "Ola Snekker" in _pdf_text(content)


def test_the_confirmation_is_in_the_orderers_language_and_sent_once() -> None:
    line = OrderLineFactory(order=OrderFactory(ordered_by=UserFactory(language="en")))

    assert orderer_told_confirmed(order_id=line.order_id) is True
    assert orderer_told_confirmed(order_id=line.order_id) is False

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == f"Order confirmation for HMS card order {line.order_id}"
    assert "Ola Snekker, HSE card construction" in message.body
    assert "attached as a PDF" in message.body
    assert len(message.attachments) == 1


def test_the_confirmation_goes_only_to_a_confirmed_address() -> None:
    orderer = UserFactory()
    User.objects.filter(pk=orderer.pk).update(
        email="", email_confirmed_at=None, pending_email="kari@fjordbygg.example"
    )
    line = OrderLineFactory(order=OrderFactory(ordered_by=User.objects.get(pk=orderer.pk)))
    assert orderer_told_confirmed(order_id=line.order_id) is False
    assert mail.outbox == []


def test_a_line_already_rejected_gets_no_confirmation() -> None:
    order = OrderFactory()
    OrderLineFactory(order=order, state=OrderLine.State.REJECTED)
    approved_later = OrderLineFactory(order=order, first_name="Kari", last_name="Flis")

    assert orderer_told_confirmed(order_id=order.pk) is True

    [message] = mail.outbox
    assert [name for name, _, _ in message.attachments] == [
        f"ordrebekreftelse-{order.pk}-{approved_later.pk}.pdf"
    ]
    assert "Kari Flis" in message.body and "Ola Snekker" not in message.body

    only_rejected = OrderLineFactory(state=OrderLine.State.REJECTED)
    assert orderer_told_confirmed(order_id=only_rejected.order_id) is False
    assert len(mail.outbox) == 1


# --- The shipment ------------------------------------------------------------------------


@pytest.fixture
def staff() -> User:
    ProducerFactory(effective_from=timezone.now() - datetime.timedelta(days=30))
    return User.objects.create_user(username="card-office", is_staff=True)


def _approved_line(order, first_name: str) -> OrderLine:
    card = CardFactory(holder_first_name=first_name, holder_last_name="Snekker")
    return OrderLineFactory(
        order=order, first_name=first_name, state=OrderLine.State.APPROVED, card=card
    )


def _ship(cards: list[Card], staff: User, reference: str, callbacks_fixture) -> PrintBatch:
    batch = print_batch_create(cards=cards, actor=staff)
    PrintBatch.objects.filter(pk=batch.pk).update(state=PrintBatch.State.READY)
    with callbacks_fixture(execute=True):
        return print_batch_ship(batch=batch, tracking_reference=reference, actor=staff)


def test_shipping_a_batch_mails_each_orderer_once_per_order_with_the_tracking_reference(
    staff, django_capture_on_commit_callbacks
) -> None:
    order = OrderFactory()
    first, second = _approved_line(order, "Ola"), _approved_line(order, "Per")
    other_orderer = UserFactory(
        username="per", national_id="01017512419", email="per@fjordbygg.example"
    )
    elsewhere = _approved_line(OrderFactory(ordered_by=other_orderer), "Nils")
    unordered = CardFactory()  # imported or a replacement: nobody ordered it here
    cards = [first.card, second.card, elsewhere.card, unordered]

    _ship(cards, staff, "70730259-NO", django_capture_on_commit_callbacks)

    assert sorted(m.to[0] for m in mail.outbox) == [
        "kari@fjordbygg.example",
        "per@fjordbygg.example",
    ]
    to_kari = next(m for m in mail.outbox if m.to == ["kari@fjordbygg.example"])
    assert to_kari.subject == "2 HMS-kort er på vei"
    assert "Sporingsnummer: 70730259-NO" in to_kari.body
    assert f"kortnummer {display(first.card.number)}" in to_kari.body
    assert f"kortnummer {display(second.card.number)}" in to_kari.body
    to_per = next(m for m in mail.outbox if m.to == ["per@fjordbygg.example"])
    assert to_per.subject == "Et HMS-kort er på vei"
    assert "70730259-NO" in to_per.body

    # The hook run again (a retried task) sends nothing more.
    assert orderers_told_shipped(card_ids=[c.pk for c in cards], tracking_reference="X") == 0
    assert len(mail.outbox) == 2


# --- The reminder ------------------------------------------------------------------------


def test_a_line_waiting_for_aa_registeret_too_long_reminds_once(settings) -> None:
    settings.ORDER_REMINDER_AFTER_DAYS = 3
    today = timezone.localdate()
    waited = OrderLineFactory(
        state=OrderLine.State.AWAITING_REGISTRATION,
        awaiting_since=today - datetime.timedelta(days=4),
    )
    OrderLineFactory(  # three days is not more than three (another person: one open order each)
        state=OrderLine.State.AWAITING_REGISTRATION,
        awaiting_since=today - datetime.timedelta(days=3),
        national_id=valid_national_id(datetime.date(1985, 6, 1)),
    )
    OrderLineFactory(  # decided lines are not reminded however old
        state=OrderLine.State.REJECTED, awaiting_since=today - datetime.timedelta(days=10)
    )

    assert orderers_reminded(today=today) == 1
    assert orderers_reminded(today=today) == 0

    [message] = mail.outbox
    assert message.to == ["kari@fjordbygg.example"]
    assert message.subject == f"Bestilling {waited.order_id} av HMS-kort venter fortsatt"
    assert "på mer enn 3 dager" in message.body
    assert "- Ola Snekker" in message.body
    assert "a-meldingen" in message.body
    waited.refresh_from_db()
    assert waited.reminder_mailed_at is not None

    # The next day the other line has waited long enough: it is reminded, the first is not.
    assert orderers_reminded(today=today + datetime.timedelta(days=1)) == 1
    assert len(mail.outbox) == 2
    assert orderers_reminded(today=today + datetime.timedelta(days=1)) == 0


def test_the_daily_task_reminds_in_the_orderers_language(settings) -> None:
    from orders.tasks import remind_waiting_orderers

    settings.ORDER_REMINDER_AFTER_DAYS = 1
    OrderLineFactory(
        order=OrderFactory(ordered_by=UserFactory(language="en")),
        state=OrderLine.State.AWAITING_REGISTRATION,
        awaiting_since=timezone.localdate() - datetime.timedelta(days=2),
    )
    assert remind_waiting_orderers.delay().get() == 1
    assert remind_waiting_orderers.delay().get() == 0
    [message] = mail.outbox
    assert "is still waiting" in message.subject
    assert "for more than 1 day:" in message.body
