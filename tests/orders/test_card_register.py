"""The employer's card register: search, filters, sorting, paging, exports, and a card's
history in plain words."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from cards.models import Card, CardCheck, CardTransition
from cards.numbers import display
from registry.datasets import registry_dataset_load
from registry.models import RegisterLookup
from tests.cards.factories import CardFactory, CardTypeFactory, valid_orgnr
from tests.datasets import EMPLOYER, SUB_UNIT, WORKER, small_dataset
from tests.hmsportal.factories import UserFactory

pytestmark = pytest.mark.django_db
REGISTER = f"/orders/{EMPLOYER}/cards/"


@pytest.fixture
def owner(client):
    registry_dataset_load(dataset=small_dataset())
    user = UserFactory()
    client.force_login(user)
    return user


def card(**fields) -> Card:
    return CardFactory(employer_orgnr=EMPLOYER, workplace_orgnr=EMPLOYER, **fields)


def numbers_listed(response) -> list[str]:
    """The card numbers in the register's table, in the order shown."""
    rows = response.context["rows"]
    return [row.card.number for row in rows]


def test_search_by_name_finds_first_and_last_names_in_any_case(client, owner) -> None:
    ola = card(holder_first_name="Ola", holder_last_name="Nordmann")
    kari = card(holder_first_name="Kari", holder_last_name="Olsen")
    card(holder_first_name="Per", holder_last_name="Hansen")

    assert set(numbers_listed(client.get(REGISTER, {"q": "ola"}))) == {ola.number}
    assert set(numbers_listed(client.get(REGISTER, {"q": "OLSEN"}))) == {kari.number}
    # Every word must match: first name and last name together.
    assert numbers_listed(client.get(REGISTER, {"q": "kari olsen"})) == [kari.number]
    assert numbers_listed(client.get(REGISTER, {"q": "kari nordmann"})) == []


def test_search_by_card_number_with_spaces_or_the_start_of_it(client, owner) -> None:
    wanted = card(number="123456789015")
    card(number="223456789014")

    assert numbers_listed(client.get(REGISTER, {"q": display(wanted.number)})) == [wanted.number]
    assert numbers_listed(client.get(REGISTER, {"q": "1234-5678"})) == [wanted.number]
    assert numbers_listed(client.get(REGISTER, {"q": " 1234 "})) == [wanted.number]


def test_the_status_filter_follows_the_status_of_today(client, owner) -> None:
    today = timezone.localdate()
    valid = card(state=Card.State.ACTIVE)
    invalid = card(state=Card.State.INVALID, reason_codes=["employment_ended"])
    not_started = card(state=Card.State.APPROVED, valid_from=today + datetime.timedelta(days=10))
    expired = card(
        state=Card.State.ACTIVE,
        issued_on=today - datetime.timedelta(days=800),
        valid_until=today - datetime.timedelta(days=1),
    )
    revoked = card(state=Card.State.REVOKED)

    def listed(status: str) -> set[str]:
        return set(numbers_listed(client.get(REGISTER, {"status": status})))

    assert listed("valid") == {valid.number}
    assert listed("invalid") == {invalid.number, not_started.number}
    assert listed("expired") == {expired.number}
    assert listed("revoked") == {revoked.number}
    assert len(listed("")) == 5


def test_the_card_type_unit_and_expiring_filters(client, owner) -> None:
    today = timezone.localdate()
    cleaning = CardTypeFactory(cleaning=True)
    cleaner = card(card_type=cleaning)
    at_voss = CardFactory(employer_orgnr=EMPLOYER, workplace_orgnr=SUB_UNIT)
    expiring = card(
        issued_on=today - datetime.timedelta(days=700),
        valid_until=today + datetime.timedelta(days=59),
    )
    # Expired cards and revoked ones are not "expiring": they cannot be renewed.
    card(
        state=Card.State.REVOKED,
        issued_on=today - datetime.timedelta(days=700),
        valid_until=today + datetime.timedelta(days=20),
    )
    card(
        issued_on=today - datetime.timedelta(days=600),
        valid_until=today + datetime.timedelta(days=61),
    )

    assert numbers_listed(client.get(REGISTER, {"card_type": "cleaning"})) == [cleaner.number]
    assert numbers_listed(client.get(REGISTER, {"unit": SUB_UNIT})) == [at_voss.number]
    assert numbers_listed(client.get(REGISTER, {"expiring": "on"})) == [expiring.number]
    # The unit list names the sub-unit.
    assert "Fjordbygg AS avd. Voss" in client.get(REGISTER).content.decode()


def test_the_reason_filter_finds_invalid_cards_by_why(client, owner) -> None:
    today = timezone.localdate()
    ended = card(state=Card.State.INVALID, reason_codes=["person_id_inactive", "employment_ended"])
    card(state=Card.State.INVALID, reason_codes=["employer_bankrupt"])
    not_started = card(valid_from=today + datetime.timedelta(days=5))
    # A revoked card keeps its old reasons, but it is not "invalid and why" any more.
    card(state=Card.State.REVOKED, reason_codes=["employment_ended"])

    response = client.get(REGISTER, {"reason": "employment_ended"})
    assert numbers_listed(response) == [ended.number]
    assert "Arbeidsforholdet er avsluttet." in response.content.decode()
    assert numbers_listed(client.get(REGISTER, {"reason": "employment_not_started"})) == [
        not_started.number
    ]


def test_sorting_by_each_whitelisted_key_is_stable(client, owner) -> None:
    today = timezone.localdate()
    b = card(
        holder_first_name="Ane",
        holder_last_name="Berg",
        number="300000000007",
        issued_on=today - datetime.timedelta(days=100),
        valid_until=today + datetime.timedelta(days=300),
    )
    a = card(
        holder_first_name="Bo",
        holder_last_name="Aas",
        number="200000000009",
        state=Card.State.REVOKED,
    )
    c = card(
        holder_first_name="Cia",
        holder_last_name="Berg",
        number="100000000001",
        state=Card.State.INVALID,
        reason_codes=["employment_ended"],
        valid_until=today + datetime.timedelta(days=10),
    )

    def order(sort: str) -> list[str]:
        return numbers_listed(client.get(REGISTER, {"sort": sort}))

    assert order("name") == [a.number, b.number, c.number]
    assert order("-name") == [c.number, b.number, a.number]
    assert order("number") == [c.number, a.number, b.number]
    assert order("-number") == [b.number, a.number, c.number]
    assert order("valid_until") == [c.number, b.number, a.number]
    assert order("-valid_until")[0] == a.number
    assert order("status") == [b.number, c.number, a.number]
    assert order("-status") == [a.number, c.number, b.number]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"sort": "evil"}, "Velg en sortering fra listen."),
        ({"sort": "holder_national_id"}, "Velg en sortering fra listen."),
        ({"page": "abc"}, "Sidetallet må være et helt tall, for eksempel 2."),
        ({"page": "0"}, "Sidetallet må være 1 eller mer."),
        ({"page": "9" * 30}, "Sidetallet er for stort."),
        ({"status": "'; drop table cards_card; --"}, "Velg en status fra listen."),
        ({"card_type": "nope"}, "Velg en korttype fra listen."),
        ({"unit": valid_orgnr()}, "Velg hovedenheten eller en av underenhetene."),
        ({"reason": "x"}, "Velg en grunn fra listen."),
        ({"q": "x" * 101}, "Søket kan ha høyst 100 tegn."),
        # NUL, which PostgreSQL refuses in a query, never reaches the database.
        ({"q": "Ola\x00"}, "Søket kan bare ha vanlige tegn."),
        ({"card_type": "cleaning\x00"}, "Velg en korttype fra listen."),
    ],
)
def test_bad_filter_values_get_a_clear_message_and_the_list_still_shows(
    client, owner, query, message
) -> None:
    shown = card()

    response = client.get(REGISTER, query)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert numbers_listed(response) == [shown.number]


def test_paging_keeps_the_filter_and_a_page_past_the_end_shows_the_last(client, owner) -> None:
    cards = CardFactory.create_batch(
        55, employer_orgnr=EMPLOYER, workplace_orgnr=EMPLOYER, state=Card.State.ACTIVE
    )
    first = client.get(REGISTER, {"status": "valid", "sort": "number"})
    body = first.content.decode()
    assert len(numbers_listed(first)) == 50
    assert "55 kort" in body
    assert "Side 1 av 2" in body
    assert "?status=valid&amp;sort=number&amp;page=2" in body

    second = client.get(REGISTER, {"status": "valid", "sort": "number", "page": "2"})
    everything = sorted(c.number for c in cards)
    assert numbers_listed(second) == everything[50:]
    assert numbers_listed(client.get(REGISTER, {"page": "7"})) == numbers_listed(
        client.get(REGISTER, {"page": "2"})
    )


def _queries(client, query: dict[str, str]) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(REGISTER, query)
    assert response.status_code == 200
    return len(captured)


def test_the_number_of_queries_does_not_grow_with_the_number_of_cards(client, owner) -> None:
    cleaning = CardTypeFactory(cleaning=True)
    CardFactory.create_batch(5, employer_orgnr=EMPLOYER, workplace_orgnr=SUB_UNIT)
    query = {"status": "valid", "sort": "valid_until"}
    client.get(REGISTER, query)  # warm caches (sessions, the registry's answers)
    few = _queries(client, query)
    CardFactory.create_batch(25, employer_orgnr=EMPLOYER, workplace_orgnr=SUB_UNIT)
    CardFactory.create_batch(
        20, employer_orgnr=EMPLOYER, workplace_orgnr=EMPLOYER, card_type=cleaning
    )
    many = _queries(client, query)
    assert many == few


def _csv_rows(response) -> list[list[str]]:
    content = b"".join(response.streaming_content)
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, so Excel reads "Ø" right
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def test_the_csv_export_holds_exactly_the_filtered_cards_and_no_identity_numbers(
    client, owner
) -> None:
    valid = [
        card(holder_first_name="Øystein", holder_last_name="Ødegård", state=Card.State.ACTIVE),
        card(holder_first_name="=HYPERLINK(1)", holder_last_name="Aas", state=Card.State.ACTIVE),
    ]
    hidden = card(state=Card.State.REVOKED)

    response = client.get(f"{REGISTER}export.csv", {"status": "valid", "sort": "name"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = _csv_rows(response)
    assert rows[0][:4] == ["Fornavn", "Etternavn", "Fødselsdato", "Kortnummer"]
    assert sorted(row[3] for row in rows[1:]) == sorted(c.number for c in valid)
    assert hidden.number not in {row[3] for row in rows}
    flat = ";".join(";".join(row) for row in rows)
    for one in [*valid, hidden]:
        assert one.holder_national_id not in flat
    assert "Ødegård" in flat
    # A name that looks like a formula stays text in Excel.
    assert "'=HYPERLINK(1)" in flat


def test_the_xlsx_export_holds_exactly_the_filtered_cards_and_no_identity_numbers(
    client, owner
) -> None:
    cleaning = CardTypeFactory(cleaning=True)
    wanted = [card(card_type=cleaning), card(card_type=cleaning)]
    other = card()

    response = client.get(f"{REGISTER}export.xlsx", {"card_type": "cleaning"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = [list(row) for row in workbook.active.iter_rows(values_only=True)]
    assert rows[0][3] == "Kortnummer"
    assert sorted(row[3] for row in rows[1:]) == sorted(c.number for c in wanted)
    assert all(row[4] == cleaning.name_nb for row in rows[1:])
    cells = {str(value) for row in rows for value in row}
    for one in [*wanted, other]:
        assert one.holder_national_id not in cells
    assert other.number not in cells
    # Dates are dates, so Excel can sort and filter them.
    assert isinstance(rows[1][2], datetime.datetime)


def test_an_export_with_a_bad_filter_shows_the_register_with_the_message(client, owner) -> None:
    card()
    response = client.get(f"{REGISTER}export.csv", {"sort": "evil"})
    assert response.status_code == 400
    assert "Velg en sortering fra listen." in response.content.decode()


def test_another_employers_cards_never_show_and_its_export_is_404(client, owner) -> None:
    mine = card()
    other_orgnr = valid_orgnr()
    theirs = CardFactory(employer_orgnr=other_orgnr, workplace_orgnr=other_orgnr)

    listed = client.get(REGISTER)
    assert numbers_listed(listed) == [mine.number]
    assert numbers_listed(client.get(REGISTER, {"q": theirs.number})) == []
    csv_rows = _csv_rows(client.get(f"{REGISTER}export.csv"))
    assert theirs.number not in {row[3] for row in csv_rows}
    assert client.get(f"/orders/{other_orgnr}/cards/").status_code == 404
    assert client.get(f"/orders/{other_orgnr}/cards/export.csv").status_code == 404
    assert client.get(f"/orders/{other_orgnr}/cards/export.xlsx").status_code == 404
    assert client.get(f"{REGISTER}{theirs.number}/").status_code == 404


def test_the_register_stacks_on_a_phone(client, owner) -> None:
    card()
    body = client.get(REGISTER).content.decode()
    assert 'class="table align-middle table-stack"' in body
    assert 'data-label="Kortnummer"' in body


def _card_with_a_life(owner) -> Card:
    one = card(holder_national_id=WORKER, state=Card.State.REVOKED)
    steps = [
        ("", Card.State.APPROVED, "register check passed", None),
        (Card.State.APPROVED, Card.State.INVALID, "register check failed: employment_ended", None),
        (Card.State.INVALID, Card.State.APPROVED, "register check passed again", None),
        (Card.State.APPROVED, Card.State.REVOKED, "stolen", owner),
    ]
    for from_state, to_state, reason, actor in steps:
        CardTransition.objects.create(
            card=one, from_state=from_state, to_state=to_state, reason=reason, actor=actor
        )
    return one


def test_the_card_page_tells_the_history_in_plain_norwegian(client, owner) -> None:
    one = _card_with_a_life(owner)

    body = client.get(f"{REGISTER}{one.number}/").content.decode()

    assert "Registrene ble sjekket og kortet ble godkjent." in body
    assert "Kortet sluttet å være gyldig. Arbeidsforholdet er avsluttet." in body
    assert "Registrene var i orden igjen, og kortet ble gyldig igjen." in body
    assert "Du meldte kortet stjålet. Det ble sperret med en gang." in body
    assert "→" not in body and "register check failed" not in body


def test_the_card_page_tells_the_history_in_plain_english(client, owner) -> None:
    one = _card_with_a_life(owner)
    client.cookies["django_language"] = "en"

    body = client.get(f"{REGISTER}{one.number}/").content.decode()

    assert "The registers were checked and the card was approved." in body
    assert "The card stopped being valid. The employment has ended." in body
    assert "The registers were in order again, and the card became valid again." in body
    assert "You reported the card stolen. It was blocked at once." in body


def test_the_card_page_shows_the_register_checks_of_that_card_only(client, owner) -> None:
    one = card(holder_national_id=WORKER)
    colleague = card(holder_national_id="01017512419")
    CardCheck.objects.create(
        card=one, at=timezone.now(), kind="order", outcome="in_order", registers=[]
    )
    CardCheck.objects.create(
        card=colleague,
        at=timezone.now(),
        kind="nightly",
        outcome="not_in_order",
        reason_codes=["employment_not_found"],
    )
    # A lookup about the holder (made for any of their cards) is not a check of this card.
    RegisterLookup.objects.create(
        register=RegisterLookup.Register.EMPLOYMENT,
        key=WORKER,
        outcome=RegisterLookup.Outcome.FOUND,
    )

    response = client.get(f"{REGISTER}{one.number}/")

    assert [check.text for check in response.context["checks"]] == [
        "Registerkontroll ved bestilling: alt i orden"
    ]
    html = response.content.decode()
    assert "Registerkontroll ved bestilling: alt i orden" in html
    assert "Aa-registeret viser ikke noe arbeidsforhold" not in html
