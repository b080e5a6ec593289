"""Writing a validated dataset: bulk operations, and only rows that differ."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import connection, models, transaction

from registry.datasets.summary import DatasetLoadSummary, TableCounts
from registry.datasets.validation import (
    _CLEANING_FIELDS,
    _EMPLOYMENT_FIELDS,
    _INSERT_BATCH,
    _ORGANISATION_FIELDS,
    _PERSON_FIELDS,
    _STAFFING_FIELDS,
    _STAFFING_STATUS_TEXT,
    _chunks,
    _Unit,
    _validate,
)
from registry.models import (
    CleaningApproval,
    Employment,
    Organisation,
    Person,
    Role,
    StaffingApproval,
)

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
