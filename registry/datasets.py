"""Load a dataset (a JSON document) into the embedded registry's tables.

The format is described in docs/registry-dataset.md. Loading is all or nothing: the whole
dataset is validated first, and the first bad entry is reported by its JSON path
(`organisations[3].orgnr: …`), so a typo never leaves a half-loaded registry behind.

Each organisation entry is a snapshot of that unit: its roles, its entries in
Renholdsregisteret and Bemanningsforetaksregisteret and the employments registered on it
replace what the tables held for it. Persons, and employments on units that the dataset does
not describe, are added or updated and never removed.

Rows are written with bulk operations and only when they differ, so that a 20,000-unit
dataset loads in seconds and loading the same file twice writes nothing. Validation here
covers everything full_clean() would (lengths, choices, identifiers, end >= start), with
better messages, so the rows are not cleaned one by one.
"""

from __future__ import annotations

import datetime
import difflib
import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import connection, models, transaction

from registry.identifiers import (
    IdentifierKind,
    InvalidIdentifier,
    NationalId,
    parse_national_id,
    validate_orgnr,
)
from registry.models import (
    CleaningApproval,
    Employment,
    Organisation,
    Person,
    Role,
    StaffingApproval,
)

# Well below SQLite's oldest limit of 999 parameters in one statement.
_CHUNK = 900
_INSERT_BATCH = 10000

_ORGANISATION_KEYS = (
    "orgnr",
    "parent_orgnr",
    "name",
    "form",
    "registered_on",
    "deleted_on",
    "bankrupt",
    "under_liquidation",
    "vat_registered",
    "cleaning_approved",
    "staffing_approved",
    "industry_code",
    "address",
    "roles",
)
_ORGANISATION_OPTIONAL_KEYS = ("under_forced_dissolution",)
_ADDRESS_KEYS = ("street", "postcode", "city")
_ROLE_KEYS = ("person", "role")
_PERSON_KEYS = (
    "id",
    "first_name",
    "last_name",
    "birth_date",
    "d_number_active",
    "permit_until",
)
_PERSON_OPTIONAL_KEYS = ("d_number_inactive_since", "eea_citizen")
_EMPLOYMENT_KEYS = ("orgnr", "person", "start", "end", "hired_out")
_SECTIONS = ("organisations", "persons", "employments")

# The model fields each dataset entry sets, in a fixed order so rows compare as tuples.
_ORGANISATION_FIELDS = (
    "parent_id",
    "name",
    "form",
    "registered_on",
    "deleted_on",
    "bankrupt",
    "under_liquidation",
    "under_forced_dissolution",
    "vat_registered",
    "industry_code",
    "street",
    "postcode",
    "city",
)
_PERSON_FIELDS = (
    "first_name",
    "last_name",
    "birth_date",
    "id_in_use",
    "id_inactive_since",
    "eea_citizen",
    "permit_until",
)
_EMPLOYMENT_FIELDS = ("end", "hired_out")
_CLEANING_FIELDS = ("name", "status")
_STAFFING_FIELDS = ("name", "approved", "status_text")

# Bemanningsforetaksregisteret's own status texts (REGISTERS.md).
_STAFFING_STATUS_TEXT = {True: "Godkjent", False: "Ikke godkjent"}
_CLEANING_STATUSES = frozenset(CleaningApproval.Status.values)
_ROLE_CODES = frozenset(Role.Code.values)

K = TypeVar("K")


class DatasetError(Exception):
    """A dataset entry that cannot be loaded; path is its JSON path (organisations[3].orgnr)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass
class TableCounts:
    """What a load did to one table."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)


@dataclass
class DatasetLoadSummary:
    """What registry_dataset_load did, table by table."""

    replaced: bool = False
    organisations: TableCounts = field(default_factory=TableCounts)
    persons: TableCounts = field(default_factory=TableCounts)
    roles: TableCounts = field(default_factory=TableCounts)
    employments: TableCounts = field(default_factory=TableCounts)
    cleaning_approvals: TableCounts = field(default_factory=TableCounts)
    staffing_approvals: TableCounts = field(default_factory=TableCounts)

    def tables(self) -> list[tuple[str, TableCounts]]:
        return [
            ("organisations", self.organisations),
            ("persons", self.persons),
            ("roles", self.roles),
            ("employments", self.employments),
            ("Renholdsregisteret entries", self.cleaning_approvals),
            ("Bemanningsforetaksregisteret entries", self.staffing_approvals),
        ]

    @property
    def changed(self) -> bool:
        return any(counts.changed for _, counts in self.tables())

    def lines(self) -> list[str]:
        return [
            f"{label}: {c.created} created, {c.updated} updated, {c.deleted} deleted, "
            f"{c.unchanged} unchanged"
            for label, c in self.tables()
        ]


# --- Reading the JSON ------------------------------------------------------------------


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


@functools.cache
def _max_length(model: type[models.Model], field_name: str) -> int:
    model_field = model._meta.get_field(field_name)
    assert isinstance(model_field, models.CharField)  # noqa: S101 - only CharFields are asked
    assert model_field.max_length is not None  # noqa: S101
    return model_field.max_length


class _Identifiers:
    """Parses each distinct identifier once: a person's number recurs in roles and employments,
    and parsing dominates the validation of a large dataset."""

    def __init__(self) -> None:
        self._orgnrs: dict[str, str | None] = {}
        self._national_ids: dict[str, NationalId | str] = {}

    def orgnr(self, value: str) -> str | None:
        """The compact number, or None when invalid."""
        if value not in self._orgnrs:
            try:
                self._orgnrs[value] = validate_orgnr(value)
            except InvalidIdentifier:
                self._orgnrs[value] = None
        return self._orgnrs[value]

    def national_id(self, value: str) -> NationalId | str:
        """The parsed number, or why it is invalid."""
        if value not in self._national_ids:
            try:
                self._national_ids[value] = parse_national_id(value)
            except InvalidIdentifier as error:
                self._national_ids[value] = str(error)
        return self._national_ids[value]


class _Entry:
    """One JSON object of the dataset, read with its path so every error can name it."""

    def __init__(
        self,
        raw: object,
        path: str,
        ids: _Identifiers,
        required: Sequence[str],
        optional: Sequence[str] = (),
    ) -> None:
        if not isinstance(raw, dict):
            raise DatasetError(path, f"expected an object, got {_json_type(raw)}")
        known = (*required, *optional)
        for key in raw:
            if key not in known:
                # Typos must not pass silently: a misspelt optional key would load its default.
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f'did you mean "{close[0]}"?' if close else "expected " + ", ".join(known)
                raise DatasetError(f"{path}.{key}", f"unknown key ({hint})")
        for key in required:
            if key not in raw:
                raise DatasetError(f"{path}.{key}", "missing (the key is required)")
        self.raw: dict[str, Any] = raw
        self.path = path
        self.ids = ids

    def at(self, key: str) -> str:
        return f"{self.path}.{key}"

    def text(self, key: str, *, max_length: int, required: bool = True) -> str:
        value = self.raw.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str):
            raise DatasetError(self.at(key), f"expected a string, got {_json_type(value)}")
        value = value.strip()
        if required and not value:
            raise DatasetError(self.at(key), "must not be empty")
        if len(value) > max_length:
            raise DatasetError(self.at(key), f"is longer than {max_length} characters")
        return value

    def flag(self, key: str, *, default: bool | None = None) -> bool:
        if key not in self.raw and default is not None:
            return default
        value = self.raw[key]
        if not isinstance(value, bool):
            raise DatasetError(self.at(key), f"expected true or false, got {_json_type(value)}")
        return value

    def optional_flag(self, key: str) -> bool | None:
        value = self.raw.get(key)
        if value is not None and not isinstance(value, bool):
            raise DatasetError(
                self.at(key), f"expected true, false or null, got {_json_type(value)}"
            )
        return value

    def day(self, key: str, *, required: bool = False) -> datetime.date | None:
        value = self.raw.get(key)
        if value is None:
            if required:
                raise DatasetError(self.at(key), "a date is required")
            return None
        if not isinstance(value, str):
            raise DatasetError(
                self.at(key), f"expected an ISO 8601 date or null, got {_json_type(value)}"
            )
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            raise DatasetError(
                self.at(key), f"{value} is not an ISO 8601 date (YYYY-MM-DD)"
            ) from None

    def orgnr(self, key: str, *, required: bool = True) -> str | None:
        value = self.raw.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str):
            raise DatasetError(
                self.at(key),
                f"expected an organisation number as a string, got {_json_type(value)}",
            )
        orgnr = self.ids.orgnr(value)
        if orgnr is None:
            raise DatasetError(self.at(key), f"{value} is not a valid organisation number")
        return orgnr

    def national_id(self, key: str) -> tuple[str, IdentifierKind, datetime.date | None]:
        value = self.raw.get(key)
        if not isinstance(value, str):
            raise DatasetError(
                self.at(key),
                f"expected a fødselsnummer or D-number as a string, got {_json_type(value)}",
            )
        parsed = self.ids.national_id(value)
        if isinstance(parsed, str):
            raise DatasetError(
                self.at(key), f"{value} is not a valid fødselsnummer or D-number ({parsed})"
            )
        return parsed.value, parsed.kind, parsed.birth_date

    def items(self, key: str) -> list[object]:
        value = self.raw.get(key)
        if not isinstance(value, list):
            raise DatasetError(self.at(key), f"expected a list, got {_json_type(value)}")
        return value


# --- Validated records -----------------------------------------------------------------


@dataclass(frozen=True)
class _Unit:
    orgnr: str
    values: dict[str, Any]  # Organisation field values by attname, as in _ORGANISATION_FIELDS
    cleaning_status: str | None
    staffing_approved: bool | None
    roles: frozenset[tuple[str, str]]  # (national id, role code)


@dataclass(frozen=True)
class _ValidDataset:
    units: dict[str, _Unit]
    persons: dict[str, dict[str, Any]]  # Person field values by national id
    employments: dict[tuple[str, str, datetime.date], dict[str, Any]]


@dataclass(frozen=True)
class _Known:
    """What the dataset can refer to besides itself: rows already in the tables."""

    # orgnr -> parent orgnr (None for a main unit) of units in the tables, not in the file.
    units: dict[str, str | None]
    person_ids: set[str]
    # Units in the file that have sub-units in the tables which the file does not re-parent.
    sub_units_in_tables: dict[str, list[str]]


def _valid_orgnr(ids: _Identifiers, value: object) -> str | None:
    return ids.orgnr(value) if isinstance(value, str) else None


def _valid_national_id(ids: _Identifiers, value: object) -> str | None:
    parsed = ids.national_id(value) if isinstance(value, str) else None
    return parsed.value if isinstance(parsed, NationalId) else None


def _section(dataset: Mapping[str, Any], name: str) -> list[object]:
    value = dataset.get(name, [])
    if not isinstance(value, list):
        raise DatasetError(name, f"expected a list, got {_json_type(value)}")
    return value


def _prescan(
    dataset: Mapping[str, Any], ids: _Identifiers
) -> tuple[dict[str, object], set[str], set[str], set[str]]:
    """A forgiving first look: what the file defines and refers to (for reference checks).

    Returns the file's units (orgnr -> raw parent_orgnr), its person ids, and the orgnrs and
    person ids it refers to. Malformed values are skipped here and reported in document order
    by the strict pass.
    """

    def entries(name: str) -> list[object]:
        section = dataset.get(name)
        return section if isinstance(section, list) else []

    units: dict[str, object] = {}
    person_ids: set[str] = set()
    referenced_orgnrs: set[str] = set()
    referenced_persons: set[str] = set()
    for raw in entries("organisations"):
        if not isinstance(raw, dict):
            continue
        orgnr = _valid_orgnr(ids, raw.get("orgnr"))
        if orgnr is not None:
            units.setdefault(orgnr, raw.get("parent_orgnr"))
        if (parent := _valid_orgnr(ids, raw.get("parent_orgnr"))) is not None:
            referenced_orgnrs.add(parent)
        roles = raw.get("roles")
        for role in roles if isinstance(roles, list) else ():
            person = _valid_national_id(ids, role.get("person")) if isinstance(role, dict) else None
            if person is not None:
                referenced_persons.add(person)
    for raw in entries("persons"):
        if isinstance(raw, dict) and (national_id := _valid_national_id(ids, raw.get("id"))):
            person_ids.add(national_id)
    for raw in entries("employments"):
        if not isinstance(raw, dict):
            continue
        if (orgnr := _valid_orgnr(ids, raw.get("orgnr"))) is not None:
            referenced_orgnrs.add(orgnr)
        if (person := _valid_national_id(ids, raw.get("person"))) is not None:
            referenced_persons.add(person)
    return units, person_ids, referenced_orgnrs - set(units), referenced_persons - person_ids


def _chunks(values: Iterable[K]) -> Iterator[list[K]]:
    batch: list[K] = []
    for value in values:
        batch.append(value)
        if len(batch) == _CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _known_rows(file_units: Mapping[str, object], orgnrs: set[str], person_ids: set[str]) -> _Known:
    units: dict[str, str | None] = {}
    for chunk in _chunks(sorted(orgnrs)):
        units.update(Organisation.objects.filter(orgnr__in=chunk).values_list("orgnr", "parent_id"))
    known_persons: set[str] = set()
    for chunk in _chunks(sorted(person_ids)):
        known_persons.update(
            Person.objects.filter(national_id__in=chunk).values_list("national_id", flat=True)
        )
    # A unit that the file makes a sub-unit must not keep sub-units of its own in the tables.
    becoming_sub_units = [orgnr for orgnr, parent in file_units.items() if parent is not None]
    sub_units_in_tables: dict[str, list[str]] = {}
    for chunk in _chunks(becoming_sub_units):
        for child, parent in Organisation.objects.filter(parent_id__in=chunk).values_list(
            "orgnr", "parent_id"
        ):
            if child not in file_units and parent is not None:
                sub_units_in_tables.setdefault(parent, []).append(child)
    return _Known(units=units, person_ids=known_persons, sub_units_in_tables=sub_units_in_tables)


def _validate(dataset: object, *, replace: bool) -> _ValidDataset:
    if not isinstance(dataset, dict):
        raise DatasetError("(root)", f"expected an object, got {_json_type(dataset)}")
    for key in dataset:
        if key not in _SECTIONS:
            close = difflib.get_close_matches(str(key), _SECTIONS, n=1)
            hint = f'did you mean "{close[0]}"?' if close else "expected " + ", ".join(_SECTIONS)
            raise DatasetError(str(key), f"unknown key ({hint})")
    ids = _Identifiers()
    file_units, file_person_ids, referenced_orgnrs, referenced_persons = _prescan(dataset, ids)
    if replace:
        # The tables are emptied first: only the file itself can be referred to.
        known = _Known(units={}, person_ids=set(), sub_units_in_tables={})
    else:
        known = _known_rows(file_units, referenced_orgnrs, referenced_persons)

    units: dict[str, _Unit] = {}
    first_seen: dict[str, str] = {}
    for index, raw in enumerate(_section(dataset, "organisations")):
        unit = _validate_unit(
            raw, f"organisations[{index}]", ids, file_units, file_person_ids, known, first_seen
        )
        units[unit.orgnr] = unit

    persons: dict[str, dict[str, Any]] = {}
    first_seen = {}
    for index, raw in enumerate(_section(dataset, "persons")):
        national_id, values = _validate_person(raw, f"persons[{index}]", ids, first_seen)
        persons[national_id] = values

    employments: dict[tuple[str, str, datetime.date], dict[str, Any]] = {}
    first_seen_employment: dict[tuple[str, str, datetime.date], str] = {}
    for index, raw in enumerate(_section(dataset, "employments")):
        path = f"employments[{index}]"
        key, values = _validate_employment(raw, path, ids, file_units, file_person_ids, known)
        if key in first_seen_employment:
            raise DatasetError(
                path,
                f"the same employment (orgnr, person, start) is already at "
                f"{first_seen_employment[key]}",
            )
        first_seen_employment[key] = path
        employments[key] = values
    return _ValidDataset(units=units, persons=persons, employments=employments)


def _validate_unit(
    raw: object,
    path: str,
    ids: _Identifiers,
    file_units: Mapping[str, object],
    file_person_ids: set[str],
    known: _Known,
    first_seen: dict[str, str],
) -> _Unit:
    entry = _Entry(raw, path, ids, _ORGANISATION_KEYS, _ORGANISATION_OPTIONAL_KEYS)
    orgnr = entry.orgnr("orgnr")
    assert orgnr is not None  # noqa: S101 - required=True never answers None
    if orgnr in first_seen:
        raise DatasetError(entry.at("orgnr"), f"{orgnr} is already defined at {first_seen[orgnr]}")
    first_seen[orgnr] = path

    parent = entry.orgnr("parent_orgnr", required=False)
    if parent is not None:
        _check_parent(entry, orgnr, parent, file_units, known)

    registered_on = entry.day("registered_on")
    deleted_on = entry.day("deleted_on")
    if registered_on and deleted_on and deleted_on < registered_on:
        raise DatasetError(
            entry.at("deleted_on"), "a unit cannot be deleted before it is registered"
        )

    address = entry.raw["address"]
    street = postcode = city = ""
    if address is not None:
        address_entry = _Entry(address, entry.at("address"), ids, _ADDRESS_KEYS)
        street = address_entry.text(
            "street", max_length=_max_length(Organisation, "street"), required=False
        )
        postcode = address_entry.text(
            "postcode", max_length=_max_length(Organisation, "postcode"), required=False
        )
        city = address_entry.text(
            "city", max_length=_max_length(Organisation, "city"), required=False
        )

    values: dict[str, Any] = {
        "parent_id": parent,
        "name": entry.text("name", max_length=_max_length(Organisation, "name")),
        "form": entry.text("form", max_length=_max_length(Organisation, "form")),
        "registered_on": registered_on,
        "deleted_on": deleted_on,
        "bankrupt": entry.flag("bankrupt"),
        "under_liquidation": entry.flag("under_liquidation"),
        "under_forced_dissolution": entry.flag("under_forced_dissolution", default=False),
        "vat_registered": entry.flag("vat_registered"),
        "industry_code": entry.text(
            "industry_code", max_length=_max_length(Organisation, "industry_code"), required=False
        ),
        "street": street,
        "postcode": postcode,
        "city": city,
    }

    cleaning_status = _cleaning_status(entry)
    if cleaning_status is not None and parent is not None:
        # Renholdsregisteret lists main units; sub-units follow their main unit (REGISTERS.md).
        raise DatasetError(
            entry.at("cleaning_approved"),
            "a sub-unit follows its main unit in Renholdsregisteret; set it on the main unit",
        )
    staffing_approved = entry.optional_flag("staffing_approved")

    roles: set[tuple[str, str]] = set()
    raw_roles = entry.items("roles")
    if raw_roles and parent is not None:
        # Enhetsregisteret holds roles on main units only; acting for a main unit covers its
        # sub-units (DOMAIN.md, "Who orders").
        raise DatasetError(
            f"{entry.at('roles')}[0]",
            "a sub-unit has no roles of its own in Enhetsregisteret; put them on the main unit",
        )
    for role_index, raw_role in enumerate(raw_roles):
        role_path = f"{entry.at('roles')}[{role_index}]"
        role_entry = _Entry(raw_role, role_path, ids, _ROLE_KEYS)
        person, _, _ = role_entry.national_id("person")
        if person not in file_person_ids and person not in known.person_ids:
            raise DatasetError(
                role_entry.at("person"), f"{person} is neither in persons nor already loaded"
            )
        code = role_entry.raw["role"]
        if not isinstance(code, str) or code not in _ROLE_CODES:
            raise DatasetError(
                role_entry.at("role"),
                f"{code} is not a role code (expected one of {', '.join(Role.Code.values)})",
            )
        if (person, code) in roles:
            raise DatasetError(role_path, f"{person} already holds {code} in this unit")
        roles.add((person, code))

    return _Unit(
        orgnr=orgnr,
        values=values,
        cleaning_status=cleaning_status,
        staffing_approved=staffing_approved,
        roles=frozenset(roles),
    )


def _check_parent(
    entry: _Entry, orgnr: str, parent: str, file_units: Mapping[str, object], known: _Known
) -> None:
    path = entry.at("parent_orgnr")
    if parent == orgnr:
        raise DatasetError(path, "a unit cannot be its own main unit")
    if parent in file_units:
        if file_units[parent] is not None:
            raise DatasetError(
                path, f"{parent} is itself a sub-unit; the parent must be a main unit"
            )
    elif parent in known.units:
        if known.units[parent] is not None:
            raise DatasetError(
                path, f"{parent} is itself a sub-unit; the parent must be a main unit"
            )
    else:
        raise DatasetError(path, f"{parent} is neither in organisations nor already loaded")
    if orgnr in known.sub_units_in_tables:
        children = ", ".join(sorted(known.sub_units_in_tables[orgnr])[:5])
        raise DatasetError(
            path, f"{orgnr} has sub-units of its own ({children}) and cannot become a sub-unit"
        )


def _cleaning_status(entry: _Entry) -> str | None:
    value = entry.raw["cleaning_approved"]
    if value is None:
        return None
    if value is True:
        return CleaningApproval.Status.APPROVED_WITH_EMPLOYEES.value
    if value is False:
        return CleaningApproval.Status.NOT_APPROVED.value
    if isinstance(value, str) and value in _CLEANING_STATUSES:
        return value
    raise DatasetError(
        entry.at("cleaning_approved"),
        f"{value} is not true, false, null or one of {', '.join(CleaningApproval.Status.values)}",
    )


def _validate_person(
    raw: object, path: str, ids: _Identifiers, first_seen: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    entry = _Entry(raw, path, ids, _PERSON_KEYS, _PERSON_OPTIONAL_KEYS)
    national_id, kind, encoded_birth_date = entry.national_id("id")
    if national_id in first_seen:
        raise DatasetError(
            entry.at("id"), f"{national_id} is already defined at {first_seen[national_id]}"
        )
    first_seen[national_id] = path

    birth_date = entry.day("birth_date")
    if birth_date is None:
        birth_date = encoded_birth_date
    elif encoded_birth_date is not None and birth_date != encoded_birth_date:
        raise DatasetError(
            entry.at("birth_date"),
            f"{birth_date} does not match the date in the identity number ({encoded_birth_date})",
        )

    active = entry.flag("d_number_active")
    if not active and kind is IdentifierKind.FODSELSNUMMER:
        raise DatasetError(
            entry.at("d_number_active"),
            f"{national_id} is a fødselsnummer, which is always in use; only a D-number can be "
            "inactive",
        )
    inactive_since = entry.day("d_number_inactive_since")
    if inactive_since is not None and active:
        raise DatasetError(
            entry.at("d_number_inactive_since"), "only meaningful when d_number_active is false"
        )

    return national_id, {
        "first_name": entry.text("first_name", max_length=_max_length(Person, "first_name")),
        "last_name": entry.text("last_name", max_length=_max_length(Person, "last_name")),
        "birth_date": birth_date,
        "id_in_use": active,
        "id_inactive_since": inactive_since,
        "eea_citizen": entry.flag("eea_citizen", default=True),
        "permit_until": entry.day("permit_until"),
    }


def _validate_employment(
    raw: object,
    path: str,
    ids: _Identifiers,
    file_units: Mapping[str, object],
    file_person_ids: set[str],
    known: _Known,
) -> tuple[tuple[str, str, datetime.date], dict[str, Any]]:
    entry = _Entry(raw, path, ids, _EMPLOYMENT_KEYS)
    orgnr = entry.orgnr("orgnr")
    assert orgnr is not None  # noqa: S101 - required=True never answers None
    if orgnr not in file_units and orgnr not in known.units:
        raise DatasetError(
            entry.at("orgnr"), f"{orgnr} is neither in organisations nor already loaded"
        )
    person, _, _ = entry.national_id("person")
    if person not in file_person_ids and person not in known.person_ids:
        raise DatasetError(entry.at("person"), f"{person} is neither in persons nor already loaded")
    start = entry.day("start", required=True)
    assert start is not None  # noqa: S101 - required=True never answers None
    end = entry.day("end")
    if end is not None and end < start:
        raise DatasetError(entry.at("end"), f"{end} is before the start ({start})")
    return (orgnr, person, start), {"end": end, "hired_out": entry.flag("hired_out")}


# --- Writing ---------------------------------------------------------------------------


def _existing_values(
    model: type[models.Model], key_field: str, keys: Iterable[str], value_fields: Sequence[str]
) -> dict[str, tuple[Any, ...]]:
    found: dict[str, tuple[Any, ...]] = {}
    for chunk in _chunks(sorted(set(keys))):
        for row in model._default_manager.filter(**{f"{key_field}__in": chunk}).values_list(
            key_field, *value_fields
        ):
            found[row[0]] = tuple(row[1:])
    return found


def _column(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    model_field = model._meta.get_field(name)
    assert isinstance(model_field, models.Field)  # noqa: S101 - only concrete fields are written
    return model_field


def _insert(model: type[models.Model], rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT the rows with executemany.

    bulk_create compiles every value of every row into the SQL text, which makes it about ten
    times slower for 100,000 rows; the values are still prepared by the model fields.
    """
    if not rows:
        return
    names = list(rows[0])
    model_fields = [_column(model, name) for name in names]
    # Fields the dataset does not set (added to the model later) get their defaults, as
    # bulk_create would give them.
    defaults = [
        model_field
        for model_field in model._meta.concrete_fields
        if not model_field.auto_created and model_field.attname not in names
    ]
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(model_field.get_attname_column()[1]) for model_field in [*model_fields, *defaults]
    )
    placeholders = ", ".join(["%s"] * (len(model_fields) + len(defaults)))
    # Table and column names come from the model, never from the dataset.
    statement = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608
    default_values = [
        model_field.get_db_prep_save(model_field.get_default(), connection)
        for model_field in defaults
    ]
    params = [
        [
            *(
                model_field.get_db_prep_save(row[name], connection)
                for model_field, name in zip(model_fields, names, strict=True)
            ),
            *default_values,
        ]
        for row in rows
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(params), _INSERT_BATCH):
            cursor.executemany(statement, params[start : start + _INSERT_BATCH])


def _upsert_by_key(
    model: type[models.Model],
    key_field: str,
    rows: Mapping[str, Mapping[str, Any]],
    value_fields: Sequence[str],
    counts: TableCounts,
) -> None:
    """Create the rows that are missing and update the ones that differ."""
    existing = _existing_values(model, key_field, rows.keys(), value_fields)
    creates: list[dict[str, Any]] = []
    updates: list[models.Model] = []
    for key, values in rows.items():
        current = existing.get(key)
        if current is None:
            creates.append({key_field: key, **values})
        elif current != tuple(values[name] for name in value_fields):
            updates.append(model(**{key_field: key}, **values))
        else:
            counts.unchanged += 1
    _insert(model, creates)
    if updates:
        # bulk_update wants field names, not attnames (parent, not parent_id).
        names = [model._meta.get_field(name).name for name in value_fields]
        model._default_manager.bulk_update(updates, names, batch_size=500)
    counts.created += len(creates)
    counts.updated += len(updates)


def _delete_ids(model: type[models.Model], ids: Sequence[int]) -> int:
    deleted = 0
    for chunk in _chunks(ids):
        deleted += model._default_manager.filter(pk__in=chunk).delete()[0]
    return deleted


def _sync_roles(units: Mapping[str, _Unit], counts: TableCounts) -> None:
    """Each unit's roles become exactly those in the dataset."""
    wanted = {(orgnr, person, code) for orgnr, unit in units.items() for person, code in unit.roles}
    stale: list[int] = []
    present: set[tuple[str, str, str]] = set()
    for chunk in _chunks(sorted(units)):
        for pk, orgnr, person, code in Role.objects.filter(organisation_id__in=chunk).values_list(
            "pk", "organisation_id", "person_id", "code"
        ):
            if (orgnr, person, code) in wanted:
                present.add((orgnr, person, code))
            else:
                stale.append(pk)
    counts.deleted += _delete_ids(Role, stale)
    creates = [
        {"organisation_id": orgnr, "person_id": person, "code": code}
        for orgnr, person, code in sorted(wanted - present)
    ]
    _insert(Role, creates)
    counts.created += len(creates)
    counts.unchanged += len(present)


def _sync_employments(
    units: Mapping[str, _Unit],
    employments: Mapping[tuple[str, str, datetime.date], Mapping[str, Any]],
    counts: TableCounts,
) -> None:
    """Upsert the employments; a unit in the dataset keeps only the employments it lists."""
    scope = set(units) | {orgnr for orgnr, _, _ in employments}
    stale: list[int] = []
    updates: list[Employment] = []
    present: set[tuple[str, str, datetime.date]] = set()
    for chunk in _chunks(sorted(scope)):
        rows = Employment.objects.filter(organisation_id__in=chunk).values_list(
            "pk", "organisation_id", "person_id", "start", *_EMPLOYMENT_FIELDS
        )
        for pk, orgnr, person, start, *current in rows:
            key = (orgnr, person, start)
            values = employments.get(key)
            if values is None:
                if orgnr in units:
                    stale.append(pk)
                continue
            present.add(key)
            if tuple(current) != tuple(values[name] for name in _EMPLOYMENT_FIELDS):
                updates.append(Employment(pk=pk, **values))
            else:
                counts.unchanged += 1
    counts.deleted += _delete_ids(Employment, stale)
    Employment.objects.bulk_update(updates, list(_EMPLOYMENT_FIELDS), batch_size=500)
    creates = [
        {"organisation_id": orgnr, "person_id": person, "start": start, **values}
        for (orgnr, person, start), values in employments.items()
        if (orgnr, person, start) not in present
    ]
    _insert(Employment, creates)
    counts.created += len(creates)
    counts.updated += len(updates)


def _sync_register_entries(
    model: type[models.Model],
    rows: Mapping[str, Mapping[str, Any] | None],
    value_fields: Sequence[str],
    counts: TableCounts,
) -> None:
    """Set each unit's entry in an approval register; None means the unit is not listed."""
    listed = {orgnr: values for orgnr, values in rows.items() if values is not None}
    unlisted = [orgnr for orgnr, values in rows.items() if values is None]
    for chunk in _chunks(unlisted):
        counts.deleted += model._default_manager.filter(orgnr__in=chunk).delete()[0]
    _upsert_by_key(model, "orgnr", listed, value_fields, counts)


def _delete_all(summary: DatasetLoadSummary) -> None:
    # Plain DELETEs: the ORM's delete() would first fetch every row to emulate ON DELETE,
    # and nothing outside these tables refers to them (cards and orders keep numbers, not
    # foreign keys). Referencing tables go first; the unit table's self-reference is checked
    # at the end of the statement.
    tables = (
        (Employment, summary.employments),
        (Role, summary.roles),
        (Organisation, summary.organisations),
        (Person, summary.persons),
        (CleaningApproval, summary.cleaning_approvals),
        (StaffingApproval, summary.staffing_approvals),
    )
    with connection.cursor() as cursor:
        for model, counts in tables:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608
            counts.deleted += cursor.rowcount


@transaction.atomic
def registry_dataset_load(*, dataset: dict[str, Any], replace: bool = False) -> DatasetLoadSummary:
    """Validate a dataset and upsert it into the embedded registry (all or nothing).

    With replace, the embedded registry's rows (including the Renholdsregisteret and
    Bemanningsforetaksregisteret entries) are deleted first. Raises DatasetError naming the
    first bad entry; nothing is written then.
    """
    valid = _validate(dataset, replace=replace)
    summary = DatasetLoadSummary(replaced=replace)
    if replace:
        _delete_all(summary)

    _upsert_by_key(Person, "national_id", valid.persons, _PERSON_FIELDS, summary.persons)
    # Main units before their sub-units, for databases that check foreign keys at once.
    units_in_order = sorted(
        valid.units.values(), key=lambda unit: unit.values["parent_id"] is not None
    )
    _upsert_by_key(
        Organisation,
        "orgnr",
        {unit.orgnr: unit.values for unit in units_in_order},
        _ORGANISATION_FIELDS,
        summary.organisations,
    )
    _sync_roles(valid.units, summary.roles)
    _sync_employments(valid.units, valid.employments, summary.employments)
    _sync_register_entries(
        CleaningApproval,
        {
            orgnr: None
            if unit.cleaning_status is None
            else {"name": unit.values["name"], "status": unit.cleaning_status}
            for orgnr, unit in valid.units.items()
        },
        _CLEANING_FIELDS,
        summary.cleaning_approvals,
    )
    _sync_register_entries(
        StaffingApproval,
        {
            orgnr: None
            if unit.staffing_approved is None
            else {
                "name": unit.values["name"],
                "approved": unit.staffing_approved,
                "status_text": _STAFFING_STATUS_TEXT[unit.staffing_approved],
            }
            for orgnr, unit in valid.units.items()
        },
        _STAFFING_FIELDS,
        summary.staffing_approvals,
    )
    return summary
