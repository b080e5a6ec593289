"""Fill the embedded registry with the demo dataset (or a large synthetic one)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from registry.datasets import registry_dataset_load
from registry.demo import demo_dataset, key_role_holders, synthetic_dataset

# The synthetic dataset has a key-role holder per unit: list only the first ones.
_LISTED_HOLDERS = 25


class Command(BaseCommand):
    help = (
        "Load the demo firms and people into the embedded registry (deterministic; running it "
        "again changes nothing). --size N loads N synthetic organisations instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--size",
            type=int,
            default=None,
            help="generate this many organisations (about five employees each) instead",
        )

    def handle(self, *args: Any, size: int | None, **options: Any) -> None:
        if size is not None and size < 1:
            raise CommandError("--size must be at least 1.")
        today = timezone.localdate()
        dataset = demo_dataset(today) if size is None else synthetic_dataset(today, size=size)
        summary = registry_dataset_load(dataset=dataset)
        self.stdout.write(
            f"Demo dataset: {len(dataset['organisations'])} organisations, "
            f"{len(dataset['persons'])} persons, {len(dataset['employments'])} employments."
        )
        for line in summary.lines():
            self.stdout.write(f"  {line}")
        holders = key_role_holders(dataset)
        self.stdout.write("")
        self.stdout.write(self.style.MIGRATE_HEADING("People who can act for the demo firms:"))
        for holder in holders[:_LISTED_HOLDERS]:
            units = "; ".join(
                f"{name} ({orgnr}, {code})" for name, orgnr, code in holder.organisations
            )
            self.stdout.write(f"  {holder.full_name} {holder.national_id}: {units}")
        if len(holders) > _LISTED_HOLDERS:
            self.stdout.write(f"  … and {len(holders) - _LISTED_HOLDERS} more.")
        self.stdout.write(self.style.SUCCESS("Done." if summary.changed else "Done: no changes."))
