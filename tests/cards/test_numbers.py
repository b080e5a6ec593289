"""Card numbers: random, fixed length, a check digit, unique even when two collide."""

from __future__ import annotations

import itertools

import pytest

from cards import services
from cards.models import CardType
from cards.numbers import CARD_NUMBER_LENGTH, NumberForm, card_number_new, classify, display
from cards.services import Holder, card_issue
from tests.cards.factories import CardFactory

pytestmark = pytest.mark.django_db


def test_new_numbers_are_random_twelve_digits_with_a_valid_check_digit() -> None:
    numbers = [card_number_new() for _ in range(2000)]
    assert len(set(numbers)) == len(numbers)
    assert all(len(n) == CARD_NUMBER_LENGTH and classify(n) is NumberForm.OURS for n in numbers)
    # Not sequential: neighbours in issue order are far apart.
    gaps = sorted(abs(int(a) - int(b)) for a, b in itertools.pairwise(numbers))
    assert gaps[len(gaps) // 2] > 10**8


@pytest.mark.parametrize(
    ("typed", "form"),
    [
        ("4467 9130 1190", NumberForm.OURS),
        ("4467-9130-1191", NumberForm.MISTYPED),
        ("1300000001", NumberForm.LEGACY),
        ("12345", NumberForm.MALFORMED),
        ("abcd efgh ijkl", NumberForm.MALFORMED),
        ("４４６７９１３０１１９０", NumberForm.MALFORMED),  # full-width digits
    ],
)
def test_a_mistyped_number_is_told_apart_from_a_malformed_one(typed, form) -> None:
    assert classify(typed) is form


def test_display_groups_digits_by_four() -> None:
    assert display("446791301190") == "4467 9130 1190"


def test_a_colliding_number_is_replaced_by_a_fresh_one(monkeypatch) -> None:
    taken = CardFactory().number
    fresh = card_number_new()
    draws = iter([taken, taken, fresh])
    monkeypatch.setattr(services, "card_number_new", lambda: next(draws))
    card = card_issue(
        card_type=CardType.objects.get(code="construction"),
        holder=Holder(
            national_id="15108695088", first_name="Ola", last_name="Snekker", birth_date=None
        ),
        workplace_orgnr="914778271",
        employer_orgnr="914778271",
        employer_name="Fjordbygg AS",
        valid_until=CardFactory.build().valid_until,
        photo=b"",
        actor=None,
    )
    assert card.number == fresh
