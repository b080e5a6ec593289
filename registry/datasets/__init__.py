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

from registry.datasets.loading import registry_dataset_load
from registry.datasets.summary import DatasetError, DatasetLoadSummary, TableCounts

__all__ = ["DatasetError", "DatasetLoadSummary", "TableCounts", "registry_dataset_load"]
