"""Each card's own record of register checks (issue 10, point 2): the check at ordering and
every later check that found something new, told on the card's pages in the reader's
language; a check that finds what the last one found moves only the card's checked_at."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from cards.models import Card, CardCheck
from cards.services import card_replace, cards_recheck_all
from cards.tasks import recheck_organisations_task
from hmsportal.models import User
from orders.services import order_line_check
from registry.datasets import registry_dataset_load
from registry.models import Organisation, Person
from tests.cards.factories import CardFactory, CardTypeFactory, valid_national_id
from tests.datasets import EMPLOYER, SUB_UNIT, WORKER, small_dataset
from tests.hmsportal.factories import UserFactory
from tests.orders.factories import OrderLineFactory

pytestmark = pytest.mark.django_db
OTHER_EMPLOYER = "923609016"  # not in the registers: its cards are not in order
COLLEAGUE = valid_national_id(datetime.date(1990, 5, 17))
IN_ORDER_NB = "Nattlig kontroll: alt i orden"
COLLEAGUE_NB = (
    "Nattlig kontroll: ikke i orden – D-nummeret er ikke lenger i bruk. "
    "D-nummeret må aktiveres igjen hos Skatteetaten."
)
OTHER_CARD_NB = "Virksomheten finnes ikke i Enhetsregisteret."


def _registers_with_colleague() -> None:
    """The small dataset, with a colleague of the worker at the same sub-unit."""
    dataset = small_dataset()
    (employment,) = [e for e in dataset["employments"] if e["person"] == WORKER]
    dataset["persons"].append(
        {
            "id": COLLEAGUE,
            "first_name": "Siri",
            "last_name": "Kollega",
            "birth_date": None,
            "d_number_active": True,
            "permit_until": None,
        }
    )
    dataset["employments"].append({**employment, "person": COLLEAGUE})
    registry_dataset_load(dataset=dataset)


def _card(national_id: str = WORKER, employer_orgnr: str = EMPLOYER, **fields) -> Card:
    return CardFactory(
        **{
            "state": Card.State.ACTIVE,
            "card_type": CardTypeFactory(),
            "holder_national_id": national_id,
            "holder_first_name": "Ola",
            "holder_last_name": "Snekker",
            "workplace_orgnr": SUB_UNIT if employer_orgnr == EMPLOYER else employer_orgnr,
            "employer_orgnr": employer_orgnr,
            **fields,
        }
    )


@pytest.fixture
def three_cards() -> dict[str, Card]:
    """The worker's card, the same person's card with another employer, and a colleague's
    card with the same employer, each checked once: each check is about its own card."""
    _registers_with_colleague()
    cards = {
        "own": _card(),
        "other_employer": _card(employer_orgnr=OTHER_EMPLOYER, employer_name="Annen AS"),
        "colleague": _card(COLLEAGUE, holder_first_name="Siri", holder_last_name="Kollega"),
    }
    Person.objects.filter(national_id=COLLEAGUE).update(
        id_in_use=False, id_inactive_since=timezone.localdate() - datetime.timedelta(days=90)
    )
    cards_recheck_all()
    return cards


def test_each_card_gets_a_row_of_its_own_first_check(three_cards) -> None:
    rows = {
        name: list(CardCheck.objects.filter(card=card).values_list("kind", "outcome"))
        for name, card in three_cards.items()
    }
    assert rows == {
        "own": [("nightly", "in_order")],
        "other_employer": [("nightly", "not_in_order")],
        "colleague": [("nightly", "not_in_order")],
    }
    colleague = CardCheck.objects.get(card=three_cards["colleague"])
    assert colleague.reason_codes == ["person_id_inactive"]
    # A construction card's check asks no cleaning register.
    assert colleague.registers == [
        "enhetsregisteret",
        "folkeregisteret",
        "aa_registeret",
        "bemanningsforetaksregisteret",
    ]


def test_the_employer_sees_the_checks_of_that_card_only(client, three_cards) -> None:
    client.force_login(UserFactory())
    own = client.get(f"/orders/{EMPLOYER}/cards/{three_cards['own'].number}/")
    html = own.content.decode()
    assert IN_ORDER_NB in html
    # Not the colleague's check (same employer), nor the worker's other card's.
    assert "D-nummeret" not in html and OTHER_CARD_NB not in html
    assert "(kontrollert i: Enhetsregisteret, Folkeregisteret, Aa-registeret" in html

    colleague = client.get(f"/orders/{EMPLOYER}/cards/{three_cards['colleague'].number}/")
    assert COLLEAGUE_NB in colleague.content.decode()
    assert IN_ORDER_NB not in colleague.content.decode()


def test_the_holder_sees_the_checks_of_that_card_only(client, three_cards) -> None:
    client.force_login(User.objects.create(username="ola", national_id=WORKER))
    html = client.get(f"/my-cards/{three_cards['own'].number}/").content.decode()
    assert IN_ORDER_NB in html
    assert OTHER_CARD_NB not in html and "D-nummeret" not in html

    other = client.get(f"/my-cards/{three_cards['other_employer'].number}/").content.decode()
    assert f"Nattlig kontroll: ikke i orden – {OTHER_CARD_NB}" in other
    assert IN_ORDER_NB not in other


def test_the_checks_are_told_in_english_to_an_english_reader(client, three_cards) -> None:
    client.force_login(UserFactory())
    client.cookies["django_language"] = "en"
    html = client.get(
        f"/orders/{EMPLOYER}/cards/{three_cards['colleague'].number}/"
    ).content.decode()
    assert (
        "Nightly check: not in order – The D-number is no longer active. "
        "The D-number must be reactivated with the Tax Administration."
    ) in html
    assert "(checked in: Enhetsregisteret" in html
    assert "Nattlig kontroll" not in html and "ikke i orden" not in html


def test_a_check_that_finds_nothing_new_writes_no_row_but_moves_checked_at(
    client, three_cards
) -> None:
    own = three_cards["own"]
    own.refresh_from_db()
    first_checked_at = own.checked_at
    rows_before = CardCheck.objects.count()

    summary = cards_recheck_all()

    own.refresh_from_db()
    assert summary.checked == 3 and summary.check_rows == 0
    assert CardCheck.objects.count() == rows_before
    assert own.checked_at > first_checked_at
    client.force_login(UserFactory())
    html = client.get(f"/orders/{EMPLOYER}/cards/{own.number}/").content.decode()
    assert "Sist kontrollert" in html and ": uendret" in html
    assert html.count(IN_ORDER_NB) == 1


def test_a_check_that_finds_a_change_writes_one_row_and_so_does_the_way_back(
    client, three_cards
) -> None:
    own = three_cards["own"]
    Organisation.objects.filter(orgnr=EMPLOYER).update(bankrupt=True)
    cards_recheck_all()
    cards_recheck_all()  # the same again: nothing new
    Organisation.objects.filter(orgnr=EMPLOYER).update(bankrupt=False)
    cards_recheck_all()

    rows = list(
        CardCheck.objects.filter(card=own)
        .order_by("at", "pk")
        .values_list("outcome", "reason_codes")
    )
    assert rows == [
        ("in_order", []),
        ("not_in_order", ["employer_bankrupt"]),
        ("in_order", []),
    ]
    client.force_login(UserFactory())
    html = client.get(f"/orders/{EMPLOYER}/cards/{own.number}/").content.decode()
    assert (
        "Nattlig kontroll: ikke i orden – Virksomheten er konkurs. "
        "Kortet kan ikke være gyldig mens virksomheten er konkurs."
    ) in html
    assert html.count(IN_ORDER_NB) == 2
    # The newest comes first, and the last check found what the newest row says.
    assert "uendret" not in html


def test_a_check_after_a_change_at_the_employer_is_an_extra_check(three_cards) -> None:
    Organisation.objects.filter(orgnr=EMPLOYER).update(under_liquidation=True)
    recheck_organisations_task(orgnrs=[EMPLOYER])
    newest = CardCheck.objects.filter(card=three_cards["own"]).first()
    assert newest is not None
    assert (newest.kind, newest.reason_codes) == ("extra", ["employer_under_liquidation"])


def test_the_check_at_ordering_is_the_cards_first_row(client) -> None:
    registry_dataset_load(dataset=small_dataset())
    line = order_line_check(line_id=OrderLineFactory().pk)
    card = line.card
    assert card is not None
    (check,) = CardCheck.objects.filter(card=card)
    assert (check.kind, check.outcome, check.reason_codes) == ("order", "in_order", [])
    assert check.at == card.checked_at

    cards_recheck_all()
    assert CardCheck.objects.filter(card=card).count() == 1
    client.force_login(User.objects.create(username="ola", national_id=WORKER))
    html = client.get(f"/my-cards/{card.number}/").content.decode()
    assert "Registerkontroll ved bestilling: alt i orden" in html
    assert ": uendret" in html


def test_a_replacement_starts_without_a_check_of_its_own(three_cards) -> None:
    own = three_cards["own"]
    own.refresh_from_db()
    replacement = card_replace(card=own, actor=None)
    assert not CardCheck.objects.filter(card=replacement).exists()
    # The registers' last word on the same person, employer and card type.
    assert replacement.checked_at == own.checked_at

    cards_recheck_all()
    assert CardCheck.objects.filter(card=replacement).count() == 1
