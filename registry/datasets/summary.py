"""What a dataset load reports: per-table counts, and the error naming the bad entry."""

from __future__ import annotations

from dataclasses import dataclass, field


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
