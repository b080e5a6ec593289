"""The card's life: the state machine, revocation, replacement, delivery and re-checks."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from cards import services
from cards.models import Card, CardTransition
from cards.numbers import NumberForm, classify
from cards.services import (
    TransitionNotAllowed,
    card_replace,
    card_revoke,
    card_transition,
    cards_activate_delivered,
    cards_recheck_all,
)
from registry.datasets import registry_dataset_load
from registry.models import Employment, Organisation, Person, RegisterLookup
from tests.cards.factories import CardFactory, CardTypeFactory, valid_national_id
from tests.datasets import EMPLOYER, SUB_UNIT, WORKER, small_dataset

pytestmark = pytest.mark.django_db


def test_every_transition_is_recorded_with_who_and_why(admin_user) -> None:
    card = CardFactory()
    card_transition(
        card=card, to_state=Card.State.IN_PRODUCTION, actor=admin_user, reason="batch 1"
    )
    card_transition(card=card, to_state=Card.State.SHIPPED, actor=admin_user, reason="posted")
    card_transition(card=card, to_state=Card.State.ACTIVE, actor=None, reason="delivered")
    steps = list(
        CardTransition.objects.filter(card=card).values_list("from_state", "to_state", "reason")
    )
    assert steps == [
        ("approved", "in_production", "batch 1"),
        ("in_production", "shipped", "posted"),
        ("shipped", "active", "delivered"),
    ]
    assert CardTransition.objects.filter(card=card, actor=admin_user).count() == 2


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (Card.State.APPROVED, Card.State.ACTIVE),
        (Card.State.ACTIVE, Card.State.APPROVED),
        (Card.State.REVOKED, Card.State.ACTIVE),
        (Card.State.EXPIRED, Card.State.ACTIVE),
        (Card.State.SHIPPED, Card.State.IN_PRODUCTION),
    ],
)
def test_transitions_outside_the_state_machine_are_refused(start, target) -> None:
    card = CardFactory(state=start)
    with pytest.raises(TransitionNotAllowed):
        card_transition(card=card, to_state=target, actor=None, reason="")
    card.refresh_from_db()
    assert card.state == start
    assert not CardTransition.objects.filter(card=card).exists()


def test_a_revoked_card_is_revoked_on_the_status_check() -> None:
    card = CardFactory(state=Card.State.ACTIVE)
    card = card_revoke(card=card, reason="stolen", actor=None)
    assert card.state == Card.State.REVOKED
    assert card.status_on(timezone.localdate()) == "revoked"
    with pytest.raises(ValueError, match="unknown revocation reason"):
        card_revoke(card=CardFactory(state=Card.State.ACTIVE), reason="bored", actor=None)


def test_a_replacement_gets_a_new_number_and_the_old_card_is_revoked_at_once() -> None:
    old = CardFactory(state=Card.State.ACTIVE, with_photo=True)
    new = card_replace(card=old, actor=None, reason="lost")
    old.refresh_from_db()
    assert old.state == Card.State.REVOKED
    assert new.number != old.number
    assert classify(new.number) is NumberForm.OURS
    assert new.replaces == old
    assert new.valid_until == old.valid_until
    assert new.holder_national_id == old.holder_national_id
    assert new.photo.storage.read_bytes(new.photo.name) == old.photo.storage.read_bytes(
        old.photo.name
    )
    with pytest.raises(TransitionNotAllowed):
        card_replace(card=old, actor=None)


def test_shipped_cards_become_active_after_delivery_time() -> None:
    card = CardFactory(state=Card.State.IN_PRODUCTION)
    card_transition(card=card, to_state=Card.State.SHIPPED, actor=None, reason="posted")
    assert cards_activate_delivered(shipped_before=timezone.now() - datetime.timedelta(days=1)) == 0
    assert (
        cards_activate_delivered(shipped_before=timezone.now() + datetime.timedelta(seconds=1)) == 1
    )
    card.refresh_from_db()
    assert card.state == Card.State.ACTIVE


def _dataset_with_workers(national_ids: list[str]) -> dict:
    """The small dataset with these people employed at its sub-unit as well."""
    dataset = small_dataset()
    (worker_employment,) = [e for e in dataset["employments"] if e["person"] == WORKER]
    for national_id in national_ids:
        dataset["persons"].append(
            {
                "id": national_id,
                "first_name": "Test",
                "last_name": "Arbeider",
                "birth_date": None,
                "d_number_active": True,
                "permit_until": None,
            }
        )
        dataset["employments"].append({**worker_employment, "person": national_id})
    return dataset


def _card_for_worker(state: str = Card.State.ACTIVE, **fields) -> Card:
    return CardFactory(
        state=state,
        card_type=CardTypeFactory(),
        holder_national_id=WORKER,
        workplace_orgnr=SUB_UNIT,
        employer_orgnr=EMPLOYER,
        **fields,
    )


def test_recheck_follows_the_registers_both_ways() -> None:
    registry_dataset_load(dataset=small_dataset())
    card = _card_for_worker()

    summary = cards_recheck_all()
    card.refresh_from_db()
    assert (summary.checked, summary.became_invalid) == (1, 0)
    assert card.state == Card.State.ACTIVE and card.checked_at is not None

    Organisation.objects.filter(orgnr=EMPLOYER).update(bankrupt=True)
    summary = cards_recheck_all()
    card.refresh_from_db()
    assert summary.became_invalid == 1
    assert card.state == Card.State.INVALID
    assert card.reason_codes == ["employer_bankrupt"]
    assert card.status_on(timezone.localdate()) == "invalid"

    Organisation.objects.filter(orgnr=EMPLOYER).update(bankrupt=False)
    summary = cards_recheck_all()
    card.refresh_from_db()
    assert summary.became_valid == 1
    # It returns to where it was in its life before it became invalid.
    assert card.state == Card.State.ACTIVE
    assert card.reason_codes == []
    assert list(card.transitions.values_list("to_state", flat=True)) == ["invalid", "active"]


def test_an_inactive_d_number_invalidates_only_after_the_grace_period() -> None:
    registry_dataset_load(dataset=small_dataset())
    card = _card_for_worker()
    Person.objects.filter(national_id=WORKER).update(
        id_in_use=False, id_inactive_since=timezone.localdate() - datetime.timedelta(days=10)
    )
    cards_recheck_all()
    card.refresh_from_db()
    assert card.state == Card.State.ACTIVE
    cards_recheck_all(on=timezone.localdate() + datetime.timedelta(days=25))
    card.refresh_from_db()
    assert card.state == Card.State.INVALID
    assert card.reason_codes == ["person_id_inactive"]


def test_recheck_expires_cards_past_valid_until() -> None:
    registry_dataset_load(dataset=small_dataset())
    today = timezone.localdate()
    card = _card_for_worker(
        issued_on=today - datetime.timedelta(days=800),
        valid_until=today - datetime.timedelta(days=1),
    )
    summary = cards_recheck_all()
    card.refresh_from_db()
    assert summary.expired == 1
    assert card.state == Card.State.EXPIRED


def test_recheck_looks_up_each_organisation_and_person_once(django_assert_max_num_queries) -> None:
    """The number of queries does not grow with the number of cards."""
    # One live card per person, employer and type: many cards are many people's, each one
    # employed in the registry so that every card stays valid in both runs.
    people = [
        valid_national_id(datetime.date(1980, 1, 1) + datetime.timedelta(days=i)) for i in range(43)
    ]
    registry_dataset_load(dataset=_dataset_with_workers(people))

    def card_for(national_id: str) -> Card:
        return CardFactory(
            state=Card.State.ACTIVE,
            holder_national_id=national_id,
            workplace_orgnr=SUB_UNIT,
            employer_orgnr=EMPLOYER,
        )

    for national_id in people[:3]:
        card_for(national_id)
    with django_assert_max_num_queries(20) as few:
        cards_recheck_all()
    few_queries = len(few.captured_queries)
    for national_id in people[3:]:
        card_for(national_id)
    with django_assert_max_num_queries(20) as many:
        summary = cards_recheck_all()
    assert summary.checked == 43
    assert len(many.captured_queries) == few_queries


def test_a_card_revoked_during_the_register_lookups_stays_revoked(monkeypatch) -> None:
    """The registers are asked outside the transaction; a revocation meanwhile wins."""
    registry_dataset_load(dataset=small_dataset())
    Organisation.objects.filter(orgnr=EMPLOYER).update(bankrupt=True)
    card = _card_for_worker()
    real_check = services.register_check_many

    def check_while_the_employer_revokes(**kwargs):
        verdicts = real_check(**kwargs)
        card_revoke(card=Card.objects.get(pk=card.pk), reason="lost", actor=None)
        return verdicts

    monkeypatch.setattr(services, "register_check_many", check_while_the_employer_revokes)
    summary = cards_recheck_all()
    card.refresh_from_db()
    assert card.state == Card.State.REVOKED
    assert summary.became_invalid == 0
    assert list(card.transitions.values_list("to_state", flat=True)) == ["revoked"]


def test_a_card_for_a_new_hire_is_made_now_and_valid_once_the_employment_starts() -> None:
    registry_dataset_load(dataset=small_dataset())
    today = timezone.localdate()
    start = today + datetime.timedelta(days=10)
    Employment.objects.filter(person_id=WORKER).update(start=start)
    card = _card_for_worker(state=Card.State.APPROVED)

    cards_recheck_all()
    card.refresh_from_db()
    # It stays in the print queue, so it can be in the worker's hands on the first day...
    assert card.state == Card.State.APPROVED
    assert card.valid_from == start
    # ...but nobody can use it before then.
    assert card.status_on(today) == "invalid"
    assert card.reason_codes_on(today) == ["employment_not_started"]
    assert card.status_on(start - datetime.timedelta(days=1)) == "invalid"
    # On the first day it is valid without waiting for a re-check.
    assert card.status_on(start) == "valid"
    assert card.reason_codes_on(start) == []


def test_a_moved_start_date_moves_valid_from_and_a_started_one_clears_it() -> None:
    registry_dataset_load(dataset=small_dataset())
    today = timezone.localdate()
    Employment.objects.filter(person_id=WORKER).update(start=today + datetime.timedelta(days=10))
    card = _card_for_worker()
    cards_recheck_all()
    Employment.objects.filter(person_id=WORKER).update(start=today + datetime.timedelta(days=20))
    cards_recheck_all()
    card.refresh_from_db()
    assert card.valid_from == today + datetime.timedelta(days=20)
    assert card.state == Card.State.ACTIVE

    Employment.objects.filter(person_id=WORKER).update(start=today - datetime.timedelta(days=1))
    cards_recheck_all()
    card.refresh_from_db()
    assert card.valid_from is None
    assert card.status_on(today) == "valid"


def test_an_invalid_card_whose_only_problem_is_the_start_returns_to_production() -> None:
    registry_dataset_load(dataset=small_dataset())
    today = timezone.localdate()
    card = _card_for_worker(state=Card.State.APPROVED)
    Organisation.objects.filter(orgnr=EMPLOYER).update(bankrupt=True)
    cards_recheck_all()
    card.refresh_from_db()
    assert card.state == Card.State.INVALID

    Organisation.objects.filter(orgnr=EMPLOYER).update(bankrupt=False)
    Employment.objects.filter(person_id=WORKER).update(start=today + datetime.timedelta(days=5))
    summary = cards_recheck_all()
    card.refresh_from_db()
    assert summary.became_valid == 1
    assert card.state == Card.State.APPROVED
    assert card.valid_from == today + datetime.timedelta(days=5)
    assert card.reason_codes == []
    assert card.reason_codes_on(today) == ["employment_not_started"]


def test_a_start_beyond_30_days_makes_the_card_invalid() -> None:
    registry_dataset_load(dataset=small_dataset())
    today = timezone.localdate()
    card = _card_for_worker()
    Employment.objects.filter(person_id=WORKER).update(start=today + datetime.timedelta(days=45))
    cards_recheck_all()
    card.refresh_from_db()
    assert card.state == Card.State.INVALID
    assert card.reason_codes == ["employment_starts_later"]


def test_each_organisation_and_person_is_looked_up_once_per_run() -> None:
    registry_dataset_load(dataset=small_dataset())
    # The worker's two cards (one per type: one live card per person, employer and type) end
    # up in the first and the last of four batches, with other people's cards between.
    _card_for_worker()
    for _ in range(5):
        CardFactory(state=Card.State.ACTIVE, workplace_orgnr=SUB_UNIT, employer_orgnr=EMPLOYER)
    CardFactory(
        state=Card.State.ACTIVE,
        card_type=CardTypeFactory(cleaning=True),
        holder_national_id=WORKER,
        workplace_orgnr=SUB_UNIT,
        employer_orgnr=EMPLOYER,
    )
    cards_recheck_all(batch_size=2)  # four batches
    keys = list(RegisterLookup.objects.values_list("register", "key"))
    assert len(keys) == len(set(keys))
    assert ("folkeregisteret", WORKER) in keys
    assert ("enhetsregisteret", SUB_UNIT) in keys and ("enhetsregisteret", EMPLOYER) in keys
