"""One card per person, employer and card type, and one order per sent form (issue 9, 1–2)."""

from __future__ import annotations

import threading

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction

from cards.models import Card, CardType
from hmsportal.models import AuditEntry, OutboxMessage, User
from orders import services
from orders.forms import employee_reference_for
from orders.models import Order, OrderLine
from registry.datasets import registry_dataset_load
from registry.facts import OrganisationFacts
from registry.rules import ALREADY_HAS_LIVE_CARD, Reason
from registry.selectors import employees_list, organisation_get
from tests.cards.factories import CardFactory
from tests.datasets import EMPLOYER, SUB_UNIT, WORKER, ensure_card_catalogue, jpeg, small_dataset
from tests.hmsportal.factories import UserFactory
from tests.orders.factories import OrderLineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(client):
    registry_dataset_load(dataset=small_dataset())
    client.force_login(UserFactory())
    return client


def construction() -> CardType:
    return CardType.objects.get(code="construction")


def form(**overrides):
    data = {
        "employee": f"{WORKER}:{SUB_UNIT}",
        "card_type": construction().pk,
        "photo": SimpleUploadedFile("ola.jpg", jpeg(), content_type="image/jpeg"),
        "id_document": SimpleUploadedFile(
            "pass.pdf", b"%PDF-1.4\n", content_type="application/pdf"
        ),
        "identity_checked": "on",
        "submission_token": "token-of-one-form-0123456789abcdef",
    }
    data.update(overrides)
    return data


def live_card(**fields) -> Card:
    return CardFactory(
        holder_national_id=WORKER,
        holder_first_name="Ola",
        holder_last_name="Snekker",
        employer_orgnr=EMPLOYER,
        workplace_orgnr=SUB_UNIT,
        card_type=construction(),
        **fields,
    )


# --- one card per person, employer and card type -------------------------------------------


@pytest.mark.parametrize("state", ["approved", "in_production", "shipped", "active", "invalid"])
def test_a_person_with_a_live_card_cannot_be_ordered_another(owner_client, state):
    card = live_card(state=state)
    response = owner_client.post(f"/orders/{EMPLOYER}/new/", form())
    assert response.status_code == 200
    assert Order.objects.count() == 0
    page = response.content.decode()
    assert "data-already-ordered" in page
    assert "Ola Snekker har allerede" in page
    assert f'href="/orders/{EMPLOYER}/cards/{card.number}/"' in page
    assert f'href="/orders/{EMPLOYER}/cards/{card.number}/#lost-or-stolen"' in page
    assert (
        'id="lost-or-stolen"'
        in owner_client.get(f"/orders/{EMPLOYER}/cards/{card.number}/").content.decode()
    )


def test_the_check_page_is_not_reached_for_a_person_who_already_has_the_card(owner_client):
    """The refusal comes at "Continue", not after the check page has shown the price."""
    card = live_card(state=Card.State.APPROVED)
    response = owner_client.post(f"/orders/{EMPLOYER}/new/", form(step="review"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "data-already-ordered" in page
    assert "Ola Snekker har allerede" in page
    assert f'href="/orders/{EMPLOYER}/cards/{card.number}/"' in page
    assert "Kontroller bestillingen før du sender den" not in page
    assert Order.objects.count() == 0


def test_the_check_page_is_not_reached_for_a_person_with_an_open_order(owner_client):
    line = OrderLineFactory(
        order__employer_orgnr=EMPLOYER, state=OrderLine.State.AWAITING_REGISTRATION
    )
    response = owner_client.post(f"/orders/{EMPLOYER}/new/", form(step="review"))
    page = response.content.decode()
    assert f'href="/orders/{EMPLOYER}/orders/{line.order_id}/"' in page
    assert "Kontroller bestillingen før du sender den" not in page


def test_the_check_page_still_comes_for_another_card_type(owner_client):
    live_card(state=Card.State.ACTIVE)
    cleaning = CardType.objects.get(code="cleaning")
    response = owner_client.post(
        f"/orders/{EMPLOYER}/new/", form(card_type=cleaning.pk, step="review")
    )
    assert "Kontroller bestillingen før du sender den" in response.content.decode()


def test_an_open_order_counts_as_the_card_it_will_become(owner_client):
    line = OrderLineFactory(
        order__employer_orgnr=EMPLOYER, state=OrderLine.State.AWAITING_REGISTRATION
    )
    response = owner_client.post(f"/orders/{EMPLOYER}/new/", form())
    assert OrderLine.objects.count() == 1
    assert f'href="/orders/{EMPLOYER}/orders/{line.order_id}/"' in response.content.decode()


@pytest.mark.parametrize("state", ["revoked", "expired"])
def test_a_card_that_is_no_longer_live_does_not_stop_a_new_order(owner_client, state):
    live_card(state=state)
    response = owner_client.post(f"/orders/{EMPLOYER}/new/", form())
    assert response.status_code == 302
    assert Order.objects.count() == 1


def test_another_card_type_can_be_ordered(owner_client):
    live_card(state=Card.State.ACTIVE)
    cleaning = CardType.objects.get(code="cleaning")
    owner_client.post(f"/orders/{EMPLOYER}/new/", form(card_type=cleaning.pk))
    assert OrderLine.objects.filter(card_type=cleaning).count() == 1


def test_the_database_refuses_a_second_live_card_and_a_second_open_order():
    live_card(state=Card.State.ACTIVE)
    with pytest.raises(IntegrityError), transaction.atomic():
        live_card(state=Card.State.SHIPPED)
    live_card(state=Card.State.REVOKED)  # any number of cards that are no longer live
    OrderLineFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLineFactory()


def test_the_employee_list_shows_each_live_card_and_names_sub_units(owner_client):
    card = live_card(state=Card.State.ACTIVE)
    page = owner_client.get(f"/orders/{EMPLOYER}/").content.decode()
    assert card.number[:4] in page and "HMS-kort bygg og anlegg" in page
    assert "Fjordbygg AS avd. Voss" in page or "Voss" in page
    # The order link names the person by an opaque reference, never the identity number.
    reference = employee_reference_for(national_id=WORKER, workplace_orgnr=SUB_UNIT)
    assert f"/new/?employee={reference}" in page
    assert f"employee={WORKER}" not in page
    prefilled = owner_client.get(f"/orders/{EMPLOYER}/new/?employee={reference}").content.decode()
    assert f'value="{WORKER}:{SUB_UNIT}" selected' in prefilled
    owner_client.get(f"/orders/{EMPLOYER}/new/?employee=tampered")  # no 500, nothing chosen


# --- one order per sent form -----------------------------------------------------------------


def test_the_same_form_sent_twice_places_one_order_and_lands_on_it(owner_client):
    first = owner_client.post(f"/orders/{EMPLOYER}/new/", form())
    order = Order.objects.get()
    assert first["Location"] == f"/orders/{EMPLOYER}/orders/{order.pk}/"
    again = owner_client.post(f"/orders/{EMPLOYER}/new/", form())
    assert again["Location"] == first["Location"]
    assert Order.objects.count() == 1
    assert "allerede sendt" in owner_client.get(again["Location"]).content.decode()


def test_the_form_carries_a_fresh_token_each_time(owner_client):
    pages = [owner_client.get(f"/orders/{EMPLOYER}/new/").content.decode() for _ in range(2)]
    tokens = [page.split('name="submission_token" value="')[1].split('"')[0] for page in pages]
    assert len(tokens[0]) >= 32 and tokens[0] != tokens[1]


def test_another_persons_token_places_nothing_for_them(owner_client, client):
    owner_client.post(f"/orders/{EMPLOYER}/new/", form())
    order = Order.objects.get()
    other = UserFactory(username="per", national_id=None)
    client.force_login(other)
    response = client.post(f"/orders/{EMPLOYER}/new/", form())
    assert response.status_code == 404  # Per cannot act for Fjordbygg AS at all
    assert Order.objects.get() == order


# --- at the same moment (PostgreSQL: real concurrent transactions) ---------------------------


def _submit_held_open(*, token: str, release: threading.Event, done: threading.Event, result: dict):
    """Place an order and keep its transaction open until released (another request's)."""
    try:
        with transaction.atomic():
            result["order"] = _submit(token=token)
            done.set()
            release.wait(timeout=20)
    except Exception as error:  # pragma: no cover - reported to the test
        result["error"] = error
        done.set()
    finally:
        connection.close()


def _submit(*, token: str) -> Order:
    employer = organisation_get(orgnr=EMPLOYER)
    assert isinstance(employer, OrganisationFacts)
    (employee,) = [
        e for e in employees_list(main_orgnr=EMPLOYER) if e.employment.national_id == WORKER
    ]
    return services.order_submit(
        actor=User.objects.get(username="kari"),
        employer=employer,
        employee=employee,
        card_type=construction(),
        photo=ContentFile(jpeg(), name="photo.jpg"),
        id_document=SimpleUploadedFile("id.pdf", b"%PDF-1.4\n", content_type="application/pdf"),
        submission_token=token,
    )


def _race(*, first_token: str, second_token: str):
    release, done, result = threading.Event(), threading.Event(), {}
    holder = threading.Thread(
        target=_submit_held_open,
        kwargs={"token": first_token, "release": release, "done": done, "result": result},
    )
    holder.start()
    assert done.wait(timeout=20) and "error" not in result, result
    # The first order is placed but not committed: the second request's checks cannot see it,
    # and only the database stands between the two.
    second: dict = {}

    def release_soon():
        threading.Timer(0.5, release.set).start()

    release_soon()
    try:
        second["order"] = _submit(token=second_token)
    except services.AlreadyOrdered as refusal:
        second["refusal"] = refusal
    holder.join(timeout=20)
    return result["order"], second


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_orders_for_one_person_at_the_same_moment_end_in_one(postgres_required):
    ensure_card_catalogue()
    registry_dataset_load(dataset=small_dataset())
    UserFactory()
    first, second = _race(first_token="token-a-" + "x" * 30, second_token="token-b-" + "y" * 30)
    assert "refusal" in second
    assert OrderLine.objects.count() == 1
    assert OrderLine.objects.get().order == first


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_form_sent_twice_at_the_same_moment_places_one_order(postgres_required):
    ensure_card_catalogue()
    registry_dataset_load(dataset=small_dataset())
    UserFactory()
    token = "token-same-" + "z" * 30
    first, second = _race(first_token=token, second_token=token)
    assert second["order"].pk == first.pk
    assert Order.objects.count() == 1


# --- a live card made while an order line is being checked ---------------------------------


def test_a_line_whose_person_got_a_live_card_meanwhile_is_rejected_with_the_reason():
    ensure_card_catalogue()
    registry_dataset_load(dataset=small_dataset())
    line = OrderLineFactory()
    # Made after the line was placed (as an import of the previous producer's cards does),
    # so the order's own check did not see it; the database's one-live-card rule does.
    imported = live_card(state=Card.State.ACTIVE)

    checked = services.order_line_check(line_id=line.pk)

    assert checked.state == OrderLine.State.REJECTED
    assert checked.reason_codes == [ALREADY_HAS_LIVE_CARD]
    assert checked.card is None
    assert list(Card.objects.values_list("pk", flat=True)) == [imported.pk]
    assert OutboxMessage.objects.filter(
        task_name="orders.tell_employer_rejected", kwargs={"line_id": line.pk}
    ).exists()
    entry = AuditEntry.objects.get(action=AuditEntry.Action.LINE_REJECTED, subject_id=str(line.pk))
    assert entry.after["reason_codes"] == [ALREADY_HAS_LIVE_CARD]
    # The orderer's page explains it in words, not in a code.
    assert Reason(ALREADY_HAS_LIVE_CARD).text("nb").startswith("Personen har allerede")


def _import_held_open(*, release: threading.Event, done: threading.Event, result: dict):
    """Make the person's live card (an import) and keep its transaction open until released."""
    try:
        with transaction.atomic():
            # One INSERT, as an import makes it (a factory's later UPDATE of the row would
            # wait on the check's conflicting row in turn: a deadlock of the test's making).
            card = CardFactory.build(
                holder_national_id=WORKER,
                employer_orgnr=EMPLOYER,
                workplace_orgnr=SUB_UNIT,
                card_type=construction(),
                state=Card.State.ACTIVE,
            )
            card.save()
            result["card"] = card
            done.set()
            release.wait(timeout=20)
    except Exception as error:  # pragma: no cover - reported to the test
        result["error"] = error
        done.set()
    finally:
        connection.close()


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_import_committing_during_the_check_rejects_the_line_instead_of_failing(
    postgres_required,
):
    ensure_card_catalogue()
    registry_dataset_load(dataset=small_dataset())
    line = OrderLineFactory()
    release, done, result = threading.Event(), threading.Event(), {}
    importer = threading.Thread(
        target=_import_held_open, kwargs={"release": release, "done": done, "result": result}
    )
    importer.start()
    assert done.wait(timeout=20) and "error" not in result, result
    # The import's card is not committed: the check's own card waits on the one-live-card
    # index until the import commits, and then the database refuses it.
    threading.Timer(0.5, release.set).start()
    try:
        checked = services.order_line_check(line_id=line.pk)
    finally:
        release.set()
        importer.join(timeout=20)

    assert checked.state == OrderLine.State.REJECTED
    assert checked.reason_codes == [ALREADY_HAS_LIVE_CARD]
    assert list(Card.objects.values_list("pk", flat=True)) == [result["card"].pk]
