"""Load Enhetsregisteret's bulk files into the local copy now (the nightly task does the same)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.open_data import OpenDataError
from registry.unit_copy import UNIT_COPY_KINDS, unit_copy_load


class Command(BaseCommand):
    help = (
        "Download Enhetsregisteret's bulk files (/enheter/lastned, /underenheter/lastned) and "
        "load them into the local copy. A failed or truncated file keeps the previous rows."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--kind",
            choices=UNIT_COPY_KINDS,
            action="append",
            help="load only this file (may be given twice); both by default",
        )

    def handle(self, *args: Any, kind: list[str] | None, **options: Any) -> None:
        for file_kind in kind or UNIT_COPY_KINDS:
            try:
                load = unit_copy_load(kind=file_kind)
            except OpenDataError as error:
                raise CommandError(f"{file_kind}: not loaded ({error.reason})") from error
            self.stdout.write(f"{file_kind}: {load.entries} units loaded")
