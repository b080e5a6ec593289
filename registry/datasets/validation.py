"""Validating a dataset: every entry checked, the first bad one named by its JSON path."""

from __future__ import annotations

import datetime
import difflib
import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import models

from registry.datasets.summary import DatasetError
from registry.identifiers import (
    IdentifierKind,
    InvalidIdentifier,
    NationalId,
    parse_national_id,
    validate_orgnr,
)
from registry.models import (
    CleaningApproval,
    Organisation,
    Person,
    Role,
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
