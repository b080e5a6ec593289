"""load_registry: loading a JSON dataset into the embedded registry, through the command."""

from __future__ import annotations

import copy
import datetime
import json
import re
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from registry.datasets import DatasetError, registry_dataset_load
from registry.demo import synthetic_dataset
from registry.models import (
    CleaningApproval,
    Employment,
    Organisation,
    Person,
    Role,
    StaffingApproval,
)
from tests.registry.factories import make_national_id, make_orgnr

pytestmark = pytest.mark.django_db

MAIN = make_orgnr(9001)
SUB = make_orgnr(9002)
CLEANER = make_orgnr(9003)
STAFFING = make_orgnr(9004)
ELSEWHERE = make_orgnr(9005)
KARI = make_national_id(datetime.date(1980, 4, 12))
TOMAS = make_national_id(datetime.date(1991, 7, 3), d_number=True)
LIV = make_national_id(datetime.date(1975, 11, 30))
NEW_PERSON = make_national_id(datetime.date(1999, 1, 20))
MODELS = (Organisation, Person, Role, Employment, CleaningApproval, StaffingApproval)


def unit(orgnr: str, name: str, **changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "orgnr": orgnr,
        "parent_orgnr": None,
        "name": name,
        "form": "AS",
        "registered_on": "2004-03-15",
        "deleted_on": None,
        "bankrupt": False,
        "under_liquidation": False,
        "vat_registered": True,
        "cleaning_approved": None,
        "staffing_approved": None,
        "industry_code": "41.200",
        "address": {"street": "Torggata 5", "postcode": "0181", "city": "Oslo"},
        "roles": [],
    }
    entry.update(changes)
    return entry


def person(national_id: str, first_name: str, last_name: str, **changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": national_id,
        "first_name": first_name,
        "last_name": last_name,
        "birth_date": None,
        "d_number_active": True,
        "permit_until": None,
    }
    entry.update(changes)
    return entry


def employment(orgnr: str, national_id: str, start: str, **changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "orgnr": orgnr,
        "person": national_id,
        "start": start,
        "end": None,
        "hired_out": False,
    }
    entry.update(changes)
    return entry


def base_dataset() -> dict[str, Any]:
    return {
        "organisations": [
            unit(MAIN, "Nordbygg AS", roles=[{"person": KARI, "role": "DAGL"}]),
            unit(SUB, "Nordbygg AS avd. Bergen", parent_orgnr=MAIN, form="BEDR"),
            unit(
                CLEANER,
                "Glans Renhold AS",
                industry_code="81.210",
                cleaning_approved=True,
                roles=[{"person": LIV, "role": "DAGL"}, {"person": KARI, "role": "LEDE"}],
            ),
            unit(
                STAFFING,
                "Bemanning Nord AS",
                industry_code="78.200",
                staffing_approved=True,
                under_forced_dissolution=False,
                roles=[{"person": KARI, "role": "DAGL"}],
            ),
        ],
        "persons": [
            person(KARI, "Kari", "Nordmann"),
            person(TOMAS, "Tomas", "Kazlauskas", eea_citizen=True),
            person(LIV, "Liv", "Berg", eea_citizen=False, permit_until="2026-03-31"),
        ],
        "employments": [
            employment(SUB, KARI, "2019-08-01"),
            employment(SUB, TOMAS, "2023-05-01", end="2024-12-31"),
            employment(CLEANER, LIV, "2024-01-15"),
            employment(STAFFING, TOMAS, "2025-01-06", hired_out=True),
        ],
    }


def write(tmp_path: Path, dataset: object, name: str = "registry.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(dataset, ensure_ascii=False), encoding="utf-8")
    return path


def load(path: Path, *args: str) -> str:
    out = StringIO()
    call_command("load_registry", str(path), *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the six tables, primary keys included."""
    return {
        model.__name__: list(model._default_manager.order_by("pk").values_list())
        for model in MODELS
    }


def counts() -> dict[str, int]:
    return {model.__name__: model._default_manager.count() for model in MODELS}


# --- Loading ----------------------------------------------------------------------------


def test_load_creates_every_kind_of_row(tmp_path: Path) -> None:
    output = load(write(tmp_path, base_dataset()))

    assert counts() == {
        "Organisation": 4,
        "Person": 3,
        "Role": 4,
        "Employment": 4,
        "CleaningApproval": 1,
        "StaffingApproval": 1,
    }
    sub_unit = Organisation.objects.get(orgnr=SUB)
    assert sub_unit.parent_id == MAIN
    assert sub_unit.form == "BEDR"
    assert sub_unit.registered_on == datetime.date(2004, 3, 15)
    assert (sub_unit.street, sub_unit.postcode, sub_unit.city) == ("Torggata 5", "0181", "Oslo")
    assert not sub_unit.under_forced_dissolution

    kari = Person.objects.get(national_id=KARI)
    assert kari.birth_date == datetime.date(1980, 4, 12)  # derived from the number
    assert kari.id_in_use and kari.eea_citizen
    tomas = Person.objects.get(national_id=TOMAS)
    assert tomas.birth_date == datetime.date(1991, 7, 3)  # a D-number's date, day - 40
    liv = Person.objects.get(national_id=LIV)
    assert not liv.eea_citizen
    assert liv.permit_until == datetime.date(2026, 3, 31)

    assert set(Role.objects.values_list("organisation_id", "person_id", "code")) == {
        (MAIN, KARI, "DAGL"),
        (CLEANER, LIV, "DAGL"),
        (CLEANER, KARI, "LEDE"),
        (STAFFING, KARI, "DAGL"),
    }
    ended = Employment.objects.get(person_id=TOMAS, organisation_id=SUB)
    assert ended.end == datetime.date(2024, 12, 31)
    assert Employment.objects.get(person_id=TOMAS, organisation_id=STAFFING).hired_out

    cleaning = CleaningApproval.objects.get(orgnr=CLEANER)
    assert cleaning.status == CleaningApproval.Status.APPROVED_WITH_EMPLOYEES
    assert cleaning.name == "Glans Renhold AS"
    staffing = StaffingApproval.objects.get(orgnr=STAFFING)
    assert staffing.approved
    assert staffing.status_text == "Godkjent"

    assert "organisations: 4 created" in output
    assert "employments: 4 created" in output


def test_loading_the_same_file_again_changes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, base_dataset())
    load(path)
    before = snapshot()

    output = load(path)

    assert snapshot() == before
    assert "no changes" in output
    assert "organisations: 0 created, 0 updated, 0 deleted, 4 unchanged" in output


def test_identifiers_with_spaces_are_stored_compact(tmp_path: Path) -> None:
    dataset = base_dataset()
    dataset["organisations"][0]["orgnr"] = f"{MAIN[:3]} {MAIN[3:6]} {MAIN[6:]}"
    dataset["persons"][0]["id"] = f"{KARI[:6]} {KARI[6:]}"
    load(write(tmp_path, dataset))
    assert Organisation.objects.filter(orgnr=MAIN).exists()
    assert Person.objects.filter(national_id=KARI).exists()


def test_changed_fields_are_updated(tmp_path: Path) -> None:
    load(write(tmp_path, base_dataset()))
    kept_employment = Employment.objects.get(person_id=KARI).pk

    dataset = base_dataset()
    main, _, cleaner, staffing = dataset["organisations"]
    main.update(name="Nordbygg Entreprenør AS", bankrupt=True, under_forced_dissolution=True)
    main["roles"] = [{"person": LIV, "role": "DAGL"}]  # Kari hands over to Liv
    cleaner["cleaning_approved"] = "application_pending"
    staffing["staffing_approved"] = None  # no longer listed in the register
    dataset["persons"][2]["permit_until"] = "2027-06-30"
    dataset["employments"][2]["end"] = "2025-09-30"
    del dataset["employments"][1]  # Tomas's old employment on the sub-unit is gone
    output = load(write(tmp_path, dataset, "changed.json"))

    main_unit = Organisation.objects.get(orgnr=MAIN)
    assert main_unit.name == "Nordbygg Entreprenør AS"
    assert main_unit.bankrupt and main_unit.under_forced_dissolution
    assert set(Role.objects.filter(organisation_id=MAIN).values_list("person_id", "code")) == {
        (LIV, "DAGL")
    }
    assert CleaningApproval.objects.get(orgnr=CLEANER).status == "application_pending"
    assert not StaffingApproval.objects.filter(orgnr=STAFFING).exists()
    assert Person.objects.get(national_id=LIV).permit_until == datetime.date(2027, 6, 30)
    assert Employment.objects.get(person_id=LIV).end == datetime.date(2025, 9, 30)
    assert not Employment.objects.filter(person_id=TOMAS, organisation_id=SUB).exists()
    assert Employment.objects.get(person_id=KARI).pk == kept_employment  # updated in place
    assert counts()["Employment"] == 3
    assert "organisations: 0 created, 1 updated, 0 deleted, 3 unchanged" in output
    assert "roles: 1 created, 0 updated, 1 deleted, 3 unchanged" in output
    assert "employments: 0 created, 1 updated, 1 deleted, 2 unchanged" in output


def test_units_and_persons_missing_from_a_later_file_stay(tmp_path: Path) -> None:
    load(write(tmp_path, base_dataset()))
    before = counts()

    # Only persons and employments, for units loaded earlier: added, nothing removed.
    later = {
        "persons": [person(NEW_PERSON, "Nora", "Lie")],
        "employments": [employment(SUB, NEW_PERSON, "2025-08-01")],
    }
    load(write(tmp_path, later, "later.json"))

    after = counts()
    assert after["Person"] == before["Person"] + 1
    assert after["Employment"] == before["Employment"] + 1
    assert after["Organisation"] == before["Organisation"]
    assert Employment.objects.filter(person_id=KARI, organisation_id=SUB).exists()
    assert Employment.objects.filter(person_id=NEW_PERSON, organisation_id=SUB).exists()


def test_references_to_rows_loaded_earlier_are_allowed(tmp_path: Path) -> None:
    load(write(tmp_path, base_dataset()))
    # A new sub-unit of a main unit loaded earlier, with a role for a person loaded earlier.
    later = {
        "organisations": [
            unit(ELSEWHERE, "Nordbygg AS avd. Tromsø", parent_orgnr=MAIN, form="BEDR")
        ],
        "employments": [employment(ELSEWHERE, TOMAS, "2025-03-01")],
    }
    load(write(tmp_path, later, "later.json"))
    assert Organisation.objects.get(orgnr=ELSEWHERE).parent_id == MAIN
    assert Employment.objects.filter(organisation_id=ELSEWHERE, person_id=TOMAS).exists()


def test_unit_with_sub_units_in_the_tables_cannot_become_a_sub_unit(tmp_path: Path) -> None:
    load(write(tmp_path, base_dataset()))
    before = snapshot()
    later = {"organisations": [unit(MAIN, "Nordbygg AS", parent_orgnr=CLEANER, form="BEDR")]}
    with pytest.raises(
        CommandError, match=rf"organisations\[0\]\.parent_orgnr: {MAIN} has sub-units"
    ):
        load(write(tmp_path, later, "later.json"))
    assert snapshot() == before


def test_replace_deletes_the_embedded_registry_first(tmp_path: Path) -> None:
    load(write(tmp_path, base_dataset()))

    replacement = {
        "organisations": [
            unit(ELSEWHERE, "Ny Start AS", roles=[{"person": NEW_PERSON, "role": "DAGL"}])
        ],
        "persons": [person(NEW_PERSON, "Nora", "Lie")],
        "employments": [employment(ELSEWHERE, NEW_PERSON, "2025-02-01")],
    }
    output = load(write(tmp_path, replacement, "replacement.json"), "--replace")

    assert list(Organisation.objects.values_list("orgnr", flat=True)) == [ELSEWHERE]
    assert list(Person.objects.values_list("national_id", flat=True)) == [NEW_PERSON]
    assert Role.objects.count() == 1
    assert Employment.objects.count() == 1
    assert CleaningApproval.objects.count() == 0
    assert StaffingApproval.objects.count() == 0
    assert "Replaced" in output
    assert "organisations: 1 created, 0 updated, 4 deleted, 0 unchanged" in output


def test_replace_with_the_same_file_gives_the_same_rows(tmp_path: Path) -> None:
    path = write(tmp_path, base_dataset())
    load(path)
    before = snapshot()
    load(path, "--replace")
    after = snapshot()
    # Same rows; only the employments' and roles' surrogate keys are new.
    for name in ("Organisation", "Person", "CleaningApproval", "StaffingApproval"):
        assert after[name] == before[name]
    assert [row[1:] for row in after["Employment"]] == [row[1:] for row in before["Employment"]]


def test_replace_cannot_refer_to_rows_it_deletes(tmp_path: Path) -> None:
    load(write(tmp_path, base_dataset()))
    before = snapshot()
    later = {"employments": [employment(SUB, KARI, "2025-08-01")]}
    with pytest.raises(CommandError, match=r"employments\[0\]\.orgnr: .* neither in organisations"):
        load(write(tmp_path, later, "later.json"), "--replace")
    assert snapshot() == before


def test_the_example_in_the_documentation_loads(tmp_path: Path) -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "registry-dataset.md"
    example = re.search(r"## Example\s+```json\n(.*?)```", docs.read_text(encoding="utf-8"), re.S)
    assert example is not None
    dataset = json.loads(example.group(1))
    load(write(tmp_path, dataset))
    assert counts()["Organisation"] == 2
    assert Organisation.objects.get(parent__isnull=False).parent_id == "990421668"
    inactive = Person.objects.get(id_in_use=False)
    assert inactive.id_inactive_since == datetime.date(2026, 1, 5)


def test_large_dataset_loads_with_a_bounded_number_of_queries(
    django_assert_max_num_queries: Callable[..., Any],
) -> None:
    dataset = synthetic_dataset(datetime.date(2025, 6, 2), size=400)
    assert len(dataset["persons"]) > 1500
    # Bulk statements: the number of queries does not grow with the number of rows.
    with django_assert_max_num_queries(40):
        summary = registry_dataset_load(dataset=dataset)
    assert summary.persons.created == len(dataset["persons"])
    assert Employment.objects.count() == len(dataset["employments"])
    with django_assert_max_num_queries(40):
        again = registry_dataset_load(dataset=dataset)
    assert not again.changed


# --- Bad input: the path of the first bad entry, and nothing loaded ---------------------

Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: object) -> Mutation:
    """Set a value at a dotted path like organisations.1.orgnr."""

    def mutate(dataset: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = dataset
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value

    return mutate


def _delete(path: str) -> Mutation:
    def mutate(dataset: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = dataset
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        del target[last]

    return mutate


def _append(section: str, entry: dict[str, Any]) -> Mutation:
    def mutate(dataset: dict[str, Any]) -> None:
        dataset[section].append(entry)

    return mutate


BAD_INPUTS: list[tuple[str, Mutation, str]] = [
    (
        "invalid orgnr",
        _set("organisations.1.orgnr", "912345679"),
        "organisations[1].orgnr: 912345679 is not a valid organisation number",
    ),
    (
        "orgnr as a number",
        _set("organisations.0.orgnr", 974760673),
        "organisations[0].orgnr: expected an organisation number as a string, got a number",
    ),
    (
        "typo in a key",
        lambda d: d["organisations"][0].update(under_forced_dissolutoin=True),
        "organisations[0].under_forced_dissolutoin: unknown key "
        '(did you mean "under_forced_dissolution"?)',
    ),
    (
        "unknown top-level key",
        lambda d: d.update(organizations=[]),
        'organizations: unknown key (did you mean "organisations"?)',
    ),
    ("missing key", _delete("persons.0.permit_until"), "persons[0].permit_until: missing"),
    ("section not a list", _set("persons", {}), "persons: expected a list, got an object"),
    ("entry not an object", _set("persons.1", "Tomas"), "persons[1]: expected an object"),
    (
        "parent is a sub-unit",
        _append("organisations", unit(ELSEWHERE, "Avd. Tromsø", parent_orgnr=SUB, form="BEDR")),
        f"organisations[4].parent_orgnr: {SUB} is itself a sub-unit",
    ),
    (
        "parent unknown",
        _set("organisations.1.parent_orgnr", ELSEWHERE),
        f"organisations[1].parent_orgnr: {ELSEWHERE} is neither in organisations nor already "
        "loaded",
    ),
    (
        "own parent",
        _set("organisations.0.parent_orgnr", MAIN),
        "organisations[0].parent_orgnr: a unit cannot be its own main unit",
    ),
    (
        "duplicate orgnr",
        _set("organisations.3.orgnr", CLEANER),
        f"organisations[3].orgnr: {CLEANER} is already defined at organisations[2]",
    ),
    (
        "role for an unknown person",
        _set("organisations.0.roles.0.person", NEW_PERSON),
        f"organisations[0].roles[0].person: {NEW_PERSON} is neither in persons nor already loaded",
    ),
    (
        "unknown role code",
        _set("organisations.0.roles.0.role", "CEO"),
        "organisations[0].roles[0].role: CEO is not a role code",
    ),
    (
        "same role twice",
        lambda d: d["organisations"][0]["roles"].append({"person": KARI, "role": "DAGL"}),
        f"organisations[0].roles[1]: {KARI} already holds DAGL in this unit",
    ),
    (
        "roles on a sub-unit",
        _set("organisations.1.roles", [{"person": KARI, "role": "DAGL"}]),
        "organisations[1].roles[0]: a sub-unit has no roles of its own",
    ),
    (
        "unknown cleaning status",
        _set("organisations.2.cleaning_approved", "maybe"),
        "organisations[2].cleaning_approved: maybe is not true, false, null or one of",
    ),
    (
        "cleaning status on a sub-unit",
        _set("organisations.1.cleaning_approved", True),
        "organisations[1].cleaning_approved: a sub-unit follows its main unit",
    ),
    (
        "staffing as a string",
        _set("organisations.3.staffing_approved", "yes"),
        "organisations[3].staffing_approved: expected true, false or null, got a string",
    ),
    (
        "boolean as a string",
        _set("organisations.0.bankrupt", "false"),
        "organisations[0].bankrupt: expected true or false, got a string",
    ),
    (
        "date not ISO",
        _set("organisations.0.registered_on", "15.03.2004"),
        "organisations[0].registered_on: 15.03.2004 is not an ISO 8601 date",
    ),
    (
        "deleted before registered",
        _set("organisations.0.deleted_on", "2001-01-01"),
        "organisations[0].deleted_on: a unit cannot be deleted before it is registered",
    ),
    ("empty name", _set("organisations.0.name", "  "), "organisations[0].name: must not be empty"),
    (
        "name too long",
        _set("organisations.0.name", "N" * 301),
        "organisations[0].name: is longer than 300 characters",
    ),
    (
        "address with a typo",
        _set(
            "organisations.0.address", {"street": "Torggata 5", "postcode": "0181", "town": "Oslo"}
        ),
        "organisations[0].address.town: unknown key (expected street, postcode, city)",
    ),
    (
        "invalid national id",
        _set("persons.0.id", "15108695077"),
        "persons[0].id: 15108695077 is not a valid fødselsnummer or D-number",
    ),
    (
        "inactive fødselsnummer",
        _set("persons.0.d_number_active", False),
        f"persons[0].d_number_active: {KARI} is a fødselsnummer, which is always in use",
    ),
    (
        "inactive-since on an active D-number",
        _set("persons.1.d_number_inactive_since", "2025-01-01"),
        "persons[1].d_number_inactive_since: only meaningful when d_number_active is false",
    ),
    (
        "birth date contradicting the number",
        _set("persons.0.birth_date", "1980-04-13"),
        "persons[0].birth_date: 1980-04-13 does not match the date in the identity number",
    ),
    (
        "duplicate person",
        _set("persons.2.id", KARI),
        f"persons[2].id: {KARI} is already defined at persons[0]",
    ),
    (
        "employment at an unknown unit",
        _set("employments.0.orgnr", ELSEWHERE),
        f"employments[0].orgnr: {ELSEWHERE} is neither in organisations nor already loaded",
    ),
    (
        "employment of an unknown person",
        _set("employments.0.person", NEW_PERSON),
        f"employments[0].person: {NEW_PERSON} is neither in persons nor already loaded",
    ),
    (
        "employment without a start",
        _set("employments.0.start", None),
        "employments[0].start: a date is required",
    ),
    (
        "end before start",
        _set("employments.1.end", "2023-04-30"),
        "employments[1].end: 2023-04-30 is before the start (2023-05-01)",
    ),
    (
        "duplicate employment",
        _append("employments", employment(SUB, KARI, "2019-08-01", hired_out=True)),
        "employments[4]: the same employment (orgnr, person, start) is already at employments[0]",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "message"), [case[1:] for case in BAD_INPUTS], ids=[case[0] for case in BAD_INPUTS]
)
def test_bad_input_names_the_json_path_and_loads_nothing(
    tmp_path: Path, mutate: Mutation, message: str
) -> None:
    load(write(tmp_path, base_dataset()))
    before = snapshot()

    dataset = base_dataset()
    dataset["organisations"][0]["name"] = "A valid change that must not be loaded"
    dataset["persons"].append(person(make_national_id(datetime.date(2001, 2, 3)), "Ny", "Person"))
    mutate(dataset)
    with pytest.raises(CommandError) as raised:
        load(write(tmp_path, dataset, "bad.json"))

    assert message in str(raised.value)
    assert "nothing was loaded" in str(raised.value)
    assert snapshot() == before


def test_bad_input_into_an_empty_registry_loads_nothing(tmp_path: Path) -> None:
    dataset = base_dataset()
    dataset["employments"][3]["end"] = "2020-01-01"
    with pytest.raises(CommandError, match=r"employments\[3\]\.end"):
        load(write(tmp_path, dataset))
    assert counts() == dict.fromkeys(counts(), 0)


def test_only_the_first_bad_entry_is_reported(tmp_path: Path) -> None:
    dataset = base_dataset()
    dataset["employments"][0]["orgnr"] = "912345679"
    dataset["organisations"][2]["bankrupt"] = "no"
    dataset["persons"][1]["id"] = "123"
    with pytest.raises(CommandError) as raised:
        load(write(tmp_path, dataset))
    message = str(raised.value)
    assert "organisations[2].bankrupt" in message
    assert "persons[1]" not in message
    assert "employments[0]" not in message


def test_dataset_error_carries_path_and_message() -> None:
    dataset = copy.deepcopy(base_dataset())
    dataset["persons"][0]["first_name"] = ""
    with pytest.raises(DatasetError) as raised:
        registry_dataset_load(dataset=dataset)
    assert raised.value.path == "persons[0].first_name"
    assert raised.value.message == "must not be empty"
    assert str(raised.value) == "persons[0].first_name: must not be empty"


def test_dataset_that_is_not_an_object_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"\(root\): expected an object, got a list"):
        load(write(tmp_path, [base_dataset()]))


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "organisations": [,]\n}', encoding="utf-8")
    with pytest.raises(CommandError, match="not valid JSON at line 2, column"):
        load(path)
    assert counts()["Organisation"] == 0


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot read the file"):
        load(tmp_path / "missing.json")
