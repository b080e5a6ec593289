"""Load a dataset (JSON, format in docs/registry-dataset.md) into the embedded registry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.datasets import DatasetError, registry_dataset_load


class Command(BaseCommand):
    help = (
        "Load organisations, persons, roles and employments from a JSON dataset into the "
        "embedded registry. Idempotent; --replace empties the embedded registry first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="the dataset, a JSON file")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="delete the embedded registry's rows before loading the file",
        )

    def handle(self, *args: Any, path: Path, replace: bool, **options: Any) -> None:
        try:
            with path.open(encoding="utf-8") as dataset_file:
                dataset = json.load(dataset_file)
        except OSError as error:
            raise CommandError(f"{path}: cannot read the file ({error.strerror})") from error
        except UnicodeDecodeError as error:
            raise CommandError(f"{path}: not UTF-8 text ({error.reason})") from error
        except json.JSONDecodeError as error:
            raise CommandError(
                f"{path}: not valid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
            ) from error
        try:
            summary = registry_dataset_load(dataset=dataset, replace=replace)
        except DatasetError as error:
            raise CommandError(f"{path}: {error} (nothing was loaded)") from error
        if replace:
            self.stdout.write("Replaced the embedded registry's rows.")
        for line in summary.lines():
            self.stdout.write(line)
        self.stdout.write(
            self.style.SUCCESS(f"Loaded {path}." if summary.changed else f"{path}: no changes.")
        )
