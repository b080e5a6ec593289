"""`manage.py import_cards`: the previous producer's cards, from real CSV files on disk."""

from __future__ import annotations

import datetime
import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

import cards.imports
from cards.imports import CardImportError, cards_import
from cards.models import Card, CardTransition
from cards.numbers import NumberForm, classify
from cards.services import cards_recheck_all
from hmsportal.models import AuditEntry, User
from registry.identifiers import orgnr_with_check_digit, parse_national_id
from registry.models import Employment, Organisation, Person
from registry.rules import add_years
from tests.cards.factories import CardFactory, valid_national_id

pytestmark = pytest.mark.django_db

HEADER = "card_number,card_type,holder_id,employer_orgnr,issued_on,valid_until"
TODAY = timezone.localdate()
ISSUED = TODAY - datetime.timedelta(days=100)
UNTIL = add_years(ISSUED, 2)
BORN = datetime.date(1970, 1, 1)


def orgnr(prefix: str) -> str:
    """A valid organisation number starting with the eight given digits."""
    for last in "0123456789":
        candidate = orgnr_with_check_digit(prefix[:7] + last)
        if candidate is not None:
            return candidate
    raise AssertionError(prefix)


MAIN = orgnr("92360901")
SUB = orgnr("97312345")
BANKRUPT = orgnr("91122233")
UNKNOWN_EMPLOYER = orgnr("98877766")


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Messages are translated (LANGUAGE_CODE is nb); the assertions read the English ones."""
    with translation.override("en"):
        yield


@pytest.fixture
def registry_rows() -> dict[str, Person]:
    """Two employers in the embedded registry, a sub-unit, and employed holders."""
    main = Organisation.objects.create(
        orgnr=MAIN, name="Bygg og Betong AS", form="AS", vat_registered=True
    )
    Organisation.objects.create(orgnr=SUB, parent=main, name="Bygg og Betong Bergen", form="BEDR")
    bankrupt = Organisation.objects.create(
        orgnr=BANKRUPT, name="Konkurs Entreprenør AS", form="AS", vat_registered=True, bankrupt=True
    )
    kari = Person.objects.create(
        national_id=valid_national_id(datetime.date(1984, 3, 17)),
        first_name="Kari",
        last_name="Nordmann",
        birth_date=datetime.date(1984, 3, 17),
    )
    ola = Person.objects.create(
        national_id=valid_national_id(datetime.date(1979, 11, 2)),
        first_name="Ola",
        last_name="Hansen",
        birth_date=datetime.date(1979, 11, 2),
    )
    per = Person.objects.create(
        national_id=valid_national_id(datetime.date(1990, 6, 30)),
        first_name="Per",
        last_name="Berg",
        birth_date=datetime.date(1990, 6, 30),
    )
    start = datetime.date(2020, 1, 1)
    Employment.objects.create(organisation=main, person=kari, start=start)
    Employment.objects.create(organisation=main, person=ola, start=start)
    Employment.objects.create(organisation=bankrupt, person=per, start=start)
    return {"kari": kari, "ola": ola, "per": per}


def write_csv(
    tmp_path: Path,
    rows: list[str],
    *,
    header: str = HEADER,
    bom: bool = False,
    newline: str = "\n",
    name: str = "cards.csv",
) -> Path:
    path = tmp_path / name
    text = newline.join([header, *rows]) + newline
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


def row(
    number: str,
    holder_id: str,
    employer: str = MAIN,
    *,
    card_type: str = "construction",
    issued: datetime.date = ISSUED,
    until: datetime.date = UNTIL,
    sep: str = ",",
) -> str:
    return sep.join([number, card_type, holder_id, employer, issued.isoformat(), until.isoformat()])


def run(path: Path, *args: str) -> str:
    out = io.StringIO()
    call_command("import_cards", str(path), *args, stdout=out)
    return out.getvalue()


def import_problems(path: Path, *args: str) -> str:
    with pytest.raises(CommandError) as raised:
        run(path, *args)
    return str(raised.value)


# --- Good files ---------------------------------------------------------------------------


def test_a_good_file_imports_every_card_with_its_number_and_register_names(tmp_path, registry_rows):
    kari, ola = registry_rows["kari"], registry_rows["ola"]
    path = write_csv(
        tmp_path,
        [
            row("1000000001", kari.national_id),
            row("0012345678", ola.national_id, card_type="construction"),
        ],
    )

    output = run(path)

    assert "Imported 2 cards (0 already expired)." in output
    assert "Warning" not in output
    card = Card.objects.get(number="1000000001")
    assert card.imported is True
    assert card.state == Card.State.ACTIVE
    assert card.card_type.code == "construction"
    assert (card.holder_first_name, card.holder_last_name) == ("Kari", "Nordmann")
    assert card.holder_birth_date == datetime.date(1984, 3, 17)
    assert card.holder_national_id == kari.national_id
    assert (card.employer_orgnr, card.workplace_orgnr) == (MAIN, MAIN)
    assert card.employer_name == "Bygg og Betong AS"
    assert card.issuer_name == "Tidligere produsent"
    assert (card.issued_on, card.valid_until) == (ISSUED, UNTIL)
    assert card.checked_at is None
    assert card.design is None
    assert not card.photo
    # A leading zero survives: numbers are text, not integers.
    assert Card.objects.get(number="0012345678").holder_last_name == "Hansen"
    transitions = list(CardTransition.objects.filter(card=card))
    assert [(t.from_state, t.to_state, t.reason) for t in transitions] == [
        ("", Card.State.ACTIVE, "imported from previous producer")
    ]


def test_imported_numbers_are_recognised_as_the_previous_producers(tmp_path, registry_rows):
    path = write_csv(tmp_path, [row("4455667788", registry_rows["kari"].national_id)])
    run(path)
    number = Card.objects.get(imported=True).number
    assert number == "4455667788"
    assert classify(number) is NumberForm.LEGACY


def test_semicolons_a_byte_order_mark_crlf_and_extra_whitespace_are_read(tmp_path, registry_rows):
    kari, ola = registry_rows["kari"], registry_rows["ola"]
    header = " card_number ; card_type;holder_id;employer_orgnr ;issued_on;valid_until"
    padded = f" 2000000002 ; Construction ;  {kari.national_id} ; {MAIN};{ISSUED};{UNTIL} "
    path = write_csv(
        tmp_path,
        [padded, row("2000000003", ola.national_id, sep=";"), ";;;;;"],
        header=header,
        bom=True,
        newline="\r\n",
    )

    output = run(path)

    assert "Imported 2 cards" in output
    card = Card.objects.get(number="2000000002")
    assert card.holder_national_id == kari.national_id
    assert card.employer_orgnr == MAIN
    assert Card.objects.filter(number="2000000003", imported=True).exists()


def test_a_sub_unit_employer_becomes_the_workplace_and_its_main_unit_the_employer(
    tmp_path, registry_rows
):
    path = write_csv(tmp_path, [row("3000000003", registry_rows["kari"].national_id, SUB)])
    run(path)
    card = Card.objects.get(number="3000000003")
    assert card.workplace_orgnr == SUB
    assert card.employer_orgnr == MAIN
    assert card.employer_name == "Bygg og Betong AS"


def test_a_card_past_its_valid_until_is_imported_as_expired(tmp_path, registry_rows):
    issued = TODAY - datetime.timedelta(days=700)
    until = TODAY - datetime.timedelta(days=1)
    path = write_csv(
        tmp_path,
        [
            row("5000000005", registry_rows["kari"].national_id, issued=issued, until=until),
            row("5000000006", registry_rows["ola"].national_id, issued=issued, until=TODAY),
        ],
    )

    output = run(path)

    assert "Imported 2 cards (1 already expired)." in output
    expired = Card.objects.get(number="5000000005")
    assert expired.state == Card.State.EXPIRED
    assert expired.transitions.get().to_state == Card.State.EXPIRED
    # Valid through its last day.
    assert Card.objects.get(number="5000000006").state == Card.State.ACTIVE


def test_a_holder_unknown_to_folkeregisteret_is_imported_without_names_and_counted(
    tmp_path, registry_rows
):
    stranger = valid_national_id(datetime.date(1971, 8, 9))
    kari = registry_rows["kari"].national_id
    path = write_csv(
        tmp_path, [row("6000000006", stranger), row("6000000007", kari, UNKNOWN_EMPLOYER)]
    )

    output = run(path)

    card = Card.objects.get(number="6000000006")
    assert (card.holder_first_name, card.holder_last_name) == ("", "")
    assert (
        card.holder_birth_date
        == datetime.date(1971, 8, 9)
        == parse_national_id(stranger).birth_date
    )
    assert card.state == Card.State.ACTIVE
    assert "1 holders were not found in Folkeregisteret" in output
    assert "6000000006" in output
    no_employer = Card.objects.get(number="6000000007")
    assert no_employer.employer_name == ""
    assert (no_employer.employer_orgnr, no_employer.workplace_orgnr) == (
        UNKNOWN_EMPLOYER,
        UNKNOWN_EMPLOYER,
    )
    assert "1 employers were not found in Enhetsregisteret" in output


def test_the_issuer_option_names_the_issuer(tmp_path, registry_rows):
    path = write_csv(tmp_path, [row("7000000007", registry_rows["kari"].national_id)])
    run(path, "--issuer", "IDEMIA Norge")
    assert Card.objects.get(number="7000000007").issuer_name == "IDEMIA Norge"


def test_a_quoted_cell_spanning_lines_keeps_later_line_numbers_physical(tmp_path, registry_rows):
    kari = registry_rows["kari"]
    path = write_csv(
        tmp_path,
        [
            f'"1100000001",construction,{kari.national_id},{MAIN},{ISSUED},"{UNTIL}\n"',
            row("12345", kari.national_id),
        ],
    )
    message = import_problems(path)
    # The first row spans lines 2 and 3, so the bad one is on line 4.
    assert "line 4: card_number" in message
    assert "line 2" not in message


# --- Bad files ----------------------------------------------------------------------------


def test_a_file_with_bad_rows_lists_every_problem_by_line_and_imports_nothing(
    tmp_path, registry_rows
):
    kari = registry_rows["kari"].national_id
    before = Card.objects.count()
    path = write_csv(
        tmp_path,
        [
            row("8000000001", kari),  # line 2: good
            row("123456789012", kari),  # line 3: one of our 12-digit numbers
            row("800000002", kari, card_type="carwash"),  # line 4: two problems
            row("8000000003", "12345678901"),  # line 5
            row("8000000004", kari, "123456789"),  # line 6
            row("8000000005", kari, until=ISSUED - datetime.timedelta(days=1)),  # line 7
            row("8000000006", kari, until=add_years(ISSUED, 2) + datetime.timedelta(days=1)),
            f"8000000007,construction,{kari},{MAIN},01.03.2024,2024-02-30",  # line 9
            "8000000008,construction",  # line 10
            "",  # line 11: blank, ignored
            f",,{kari},{MAIN},{ISSUED},{UNTIL}",  # line 12
            row("8000000009", kari, issued=TODAY + datetime.timedelta(days=1)),  # line 13
        ],
    )

    message = import_problems(path)

    assert "nothing was imported; 13 problems" in message
    lines = [line for line in message.splitlines() if line.startswith("line ")]
    assert [line.split(":")[0] for line in lines] == [
        "line 3",
        "line 4",
        "line 4",
        "line 5",
        "line 6",
        "line 7",
        "line 8",
        "line 9",
        "line 9",
        "line 10",
        "line 12",
        "line 12",
        "line 13",
    ]
    assert 'line 3: card_number "123456789012"' in message
    assert "exactly 10 digits" in message
    assert 'line 4: card_number "800000002"' in message
    assert "leading zeros" in message
    assert 'line 4: card_type "carwash" is not a card type' in message
    assert 'line 5: holder_id "12345678901"' in message
    assert 'line 6: employer_orgnr "123456789"' in message
    assert "line 7: valid_until is before issued_on." in message
    assert "line 8: valid_until is more than 2 years after issued_on." in message
    assert 'line 9: issued_on "01.03.2024" is not a date in the form YYYY-MM-DD.' in message
    assert 'line 9: valid_until "2024-02-30" is not a valid date.' in message
    assert "line 10: The row has 2 fields, the header has 6" in message
    assert "line 12: card_number is empty." in message
    assert "line 12: card_type is empty." in message
    assert f"line 13: issued_on {TODAY + datetime.timedelta(days=1)} is in the future." in message
    assert Card.objects.count() == before
    assert not CardTransition.objects.exists()


def test_a_number_twice_in_the_file_is_reported_on_the_second_line(tmp_path, registry_rows):
    kari, ola = registry_rows["kari"].national_id, registry_rows["ola"].national_id
    path = write_csv(
        tmp_path,
        [
            row("9000000009", kari),
            row("9000000010", ola),
            row("9000 000 009", ola),
            row("9000000010", kari, until=ISSUED - datetime.timedelta(days=1)),
        ],
    )
    message = import_problems(path)
    assert 'line 4: card_number "9000000009" is also on line 2.' in message
    # A row with another problem still has its number checked, so both are reported at once.
    assert 'line 5: card_number "9000000010" is also on line 3.' in message
    assert "line 5: valid_until is before issued_on." in message
    assert "3 problems:" in message
    assert not Card.objects.exists()


def test_a_number_that_exists_is_reported_and_nothing_is_imported(tmp_path, registry_rows):
    CardFactory(number="9100000001")
    CardFactory(number="9100000003")
    kari = registry_rows["kari"].national_id
    path = write_csv(
        tmp_path,
        [
            row("9100000002", kari),
            row("9100000001", kari),
            row("9100000003", kari, card_type="carwash"),
        ],
    )
    message = import_problems(path)
    assert 'line 3: card_number "9100000001" already belongs to a card in hmsportal.' in message
    assert 'line 4: card_number "9100000003" already belongs to a card in hmsportal.' in message
    assert 'line 4: card_type "carwash"' in message
    assert Card.objects.count() == 2


def test_importing_the_same_file_twice_reports_every_number_as_existing(tmp_path, registry_rows):
    kari, ola = registry_rows["kari"].national_id, registry_rows["ola"].national_id
    path = write_csv(tmp_path, [row("9200000001", kari), row("9200000002", ola)])
    run(path)
    message = import_problems(path)
    assert 'line 2: card_number "9200000001" already belongs' in message
    assert 'line 3: card_number "9200000002" already belongs' in message
    assert Card.objects.count() == 2


def test_skip_existing_imports_only_the_new_rows_of_a_cumulative_export(tmp_path, registry_rows):
    kari, ola = registry_rows["kari"].national_id, registry_rows["ola"].national_id
    run(write_csv(tmp_path, [row("9300000001", kari)], name="first.csv"))
    second = write_csv(
        tmp_path, [row("9300000001", kari), row("9300000002", ola)], name="second.csv"
    )

    output = run(second, "--skip-existing")

    assert "Imported 1 cards" in output
    assert "Skipped 1 cards imported before." in output
    assert Card.objects.count() == 2
    assert CardTransition.objects.filter(card__number="9300000001").count() == 1


def test_skip_existing_still_refuses_a_number_held_by_another_holders_card(tmp_path, registry_rows):
    kari, ola = registry_rows["kari"].national_id, registry_rows["ola"].national_id
    run(write_csv(tmp_path, [row("9400000001", kari)], name="first.csv"))
    second = write_csv(tmp_path, [row("9400000001", ola)], name="second.csv")
    message = import_problems(second, "--skip-existing")
    assert 'line 2: card_number "9400000001" already belongs to another card' in message


def test_missing_and_unknown_columns_are_named(tmp_path, registry_rows):
    path = write_csv(
        tmp_path,
        [f"9500000001,construction,{registry_rows['kari'].national_id},{MAIN},{ISSUED}"],
        header="card_number,card_type,holder_id,employer,issued_on",
    )
    message = import_problems(path)
    assert "line 1: Missing columns: employer_orgnr, valid_until." in message
    assert 'line 1: Unknown columns: "employer"' in message
    assert not Card.objects.exists()


def test_columns_in_another_order_are_read_by_name(tmp_path, registry_rows):
    kari = registry_rows["kari"].national_id
    path = write_csv(
        tmp_path,
        [f"{UNTIL},{ISSUED},{MAIN},{kari},construction,9600000001"],
        header="valid_until,issued_on,employer_orgnr,holder_id,card_type,card_number",
    )
    run(path)
    card = Card.objects.get(number="9600000001")
    assert (card.valid_until, card.holder_national_id) == (UNTIL, kari)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "line 1: The file is empty"),
        (b"\xef\xbb\xbf\r\n", "line 1: The file is empty"),
        (HEADER.encode() + b"\n", "line 1: The file has no card rows."),
    ],
)
def test_an_empty_file_is_refused(tmp_path, content, expected):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    assert expected in import_problems(path)


def test_a_file_that_is_not_utf8_names_the_line(tmp_path, registry_rows):
    path = tmp_path / "latin1.csv"
    text = "\n".join([HEADER, row("9700000001", registry_rows["kari"].national_id), "Bjørn"])
    path.write_bytes(text.encode("latin-1"))
    assert "line 3: The file is not UTF-8 text" in import_problems(path)


def test_a_missing_file_is_a_command_error(tmp_path):
    assert "cannot read the file" in import_problems(tmp_path / "nowhere.csv")


# --- The service --------------------------------------------------------------------------


def test_the_service_takes_rows_as_mappings_numbered_as_if_after_a_header(registry_rows):
    kari = registry_rows["kari"].national_id
    good = {
        "card_number": "9800000001",
        "card_type": "cleaning",
        "holder_id": kari,
        "employer_orgnr": MAIN,
        "issued_on": ISSUED.isoformat(),
        "valid_until": UNTIL.isoformat(),
    }
    with pytest.raises(CardImportError) as raised:
        cards_import(rows=[good, {**good, "card_number": "98"}])
    assert [(p.line, p.message.split(" ")[0]) for p in raised.value.problems] == [
        (3, "card_number")
    ]

    operator = User.objects.create_user(username="operator")
    summary = cards_import(rows=[good], issuer_name="IDEMIA", actor=operator)
    assert summary.imported == 1
    card = Card.objects.get(number="9800000001")
    assert (card.card_type.code, card.issuer_name) == ("cleaning", "IDEMIA")
    assert card.transitions.get().actor == operator
    # The audit trail records the import per card, with the identity number masked.
    imported = AuditEntry.objects.get(action=AuditEntry.Action.CARD_IMPORTED)
    assert (imported.actor, imported.subject_label) == (operator, "9800000001")
    assert imported.organisation_orgnr == MAIN and kari not in str(imported.after)


def test_register_lookups_are_made_once_per_chunk(tmp_path, monkeypatch, registry_rows):
    """250 rows in chunks of 100: three Folkeregisteret calls, and Enhetsregisteret is asked
    about each unit once for the whole file (the sub-unit's main unit in a second call)."""
    holders = [registry_rows["kari"].national_id, registry_rows["ola"].national_id]
    person_calls: list[int] = []
    organisation_calls: list[set[str]] = []
    real_population_register = cards.imports.population_register
    real_organisations_get = cards.imports.organisations_get

    class CountingPopulationRegister:
        def persons(self, national_ids):
            national_ids = list(national_ids)
            person_calls.append(len(national_ids))
            return real_population_register().persons(national_ids)

    def counting_organisations_get(*, orgnrs):
        organisation_calls.append(set(orgnrs))
        return real_organisations_get(orgnrs=orgnrs)

    monkeypatch.setattr(cards.imports, "population_register", CountingPopulationRegister)
    monkeypatch.setattr(cards.imports, "organisations_get", counting_organisations_get)
    # One live card per person, employer and type: 250 cards are 250 people's.
    holders = [
        *holders,
        *(valid_national_id(BORN + datetime.timedelta(days=i)) for i in range(248)),
    ]
    rows = [row(f"{1_000_000_000 + i}", holders[i], SUB if i == 150 else MAIN) for i in range(250)]
    path = write_csv(tmp_path, rows)

    with path.open("rb") as csv_file:
        summary = cards_import(rows=csv_file, chunk_size=100)

    assert summary.imported == 250
    assert person_calls == [100, 100, 50]
    assert organisation_calls == [{MAIN}, {SUB}]
    assert CardTransition.objects.count() == 250


@pytest.fixture
def folkeregisteret_down(settings) -> Iterator[list[str]]:
    """A real HTTP server on 127.0.0.1 standing in for Folkeregisteret, answering 503."""
    asked: list[str] = []

    class Unavailable(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Unavailable)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.REGISTRY_BACKEND = "http"
    settings.FOLKEREGISTERET_URL = f"http://127.0.0.1:{server.server_address[1]}"
    settings.REGISTER_RETRIES = 0
    settings.REGISTER_CACHE_SECONDS = 0
    try:
        yield asked
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_register_that_does_not_answer_imports_nothing(tmp_path, folkeregisteret_down):
    holders = [valid_national_id(datetime.date(1984, 3, day)) for day in (17, 18)]
    path = write_csv(tmp_path, [row("1400000001", holders[0]), row("1400000002", holders[1])])
    message = import_problems(path)
    assert "nothing was imported; a register did not answer" in message
    assert folkeregisteret_down  # the register was really asked
    assert not Card.objects.exists()
    assert not CardTransition.objects.exists()


# --- Imported cards are cards like any other ----------------------------------------------


def test_the_re_check_treats_imported_cards_like_any_other(tmp_path, registry_rows):
    path = write_csv(
        tmp_path,
        [
            row("1200000001", registry_rows["kari"].national_id),
            row("1200000002", registry_rows["per"].national_id, BANKRUPT),
        ],
    )
    run(path)

    summary = cards_recheck_all()

    assert summary.checked == 2
    good = Card.objects.get(number="1200000001")
    assert good.state == Card.State.ACTIVE
    assert good.checked_at is not None
    assert good.reason_codes == []
    bankrupt = Card.objects.get(number="1200000002")
    assert bankrupt.state == Card.State.INVALID
    assert bankrupt.reason_codes == ["employer_bankrupt"]
    assert bankrupt.transitions.last().reason == "register check failed: employer_bankrupt"


def test_imported_cards_are_checked_as_soon_as_the_import_commits(
    tmp_path, registry_rows, django_capture_on_commit_callbacks
):
    path = write_csv(tmp_path, [row("1200000002", registry_rows["per"].national_id, BANKRUPT)])
    with django_capture_on_commit_callbacks(execute=True):
        run(path)
    card = Card.objects.get(number="1200000002")
    assert card.state == Card.State.INVALID
    assert card.reason_codes == ["employer_bankrupt"]


def test_the_status_page_and_api_find_an_imported_number(tmp_path, client, registry_rows):
    run(write_csv(tmp_path, [row("1300000001", registry_rows["kari"].national_id)]))

    page = client.get("/status/1300000001/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-status="valid"' in html
    assert "Kari Nordmann" in html
    assert "Bygg og Betong AS" in html

    api = client.get("/api/v1/cards/1300000001")
    assert api.status_code == 200
    payload = json.loads(api.content)
    assert payload["card_number"] == "1300000001"
    assert payload["status"] == "valid"
    assert payload["holder_name"] == "Kari Nordmann"
    assert payload["employer_orgnr"] == MAIN
    assert payload["checked_at"] is None


# --- One live card per person, employer and card type --------------------------------------


def test_two_unexpired_cards_of_a_type_for_one_holder_are_refused(tmp_path, registry_rows):
    kari = registry_rows["kari"].national_id
    expired = TODAY - datetime.timedelta(days=1)
    path = write_csv(
        tmp_path,
        [
            row("1500000001", kari),
            row("1500000002", kari, issued=expired - datetime.timedelta(days=700), until=expired),
            row("1500000003", kari),
            row("1500000004", kari, card_type="cleaning"),
        ],
    )
    message = import_problems(path)
    assert "line 4: The holder already has an unexpired card of this type" in message
    assert "on line 2" in message
    assert "line 3" not in message and "line 5" not in message  # expired / other type: fine
    assert not Card.objects.exists()


def test_a_holder_with_a_live_card_in_hmsportal_gets_no_second_one(tmp_path, registry_rows):
    kari = registry_rows["kari"].national_id
    CardFactory(holder_national_id=kari, employer_orgnr=MAIN, workplace_orgnr=MAIN)
    path = write_csv(tmp_path, [row("1500000011", kari)])
    message = import_problems(path)
    assert "already has a live card of this type with this employer in hmsportal" in message
    assert Card.objects.count() == 1
