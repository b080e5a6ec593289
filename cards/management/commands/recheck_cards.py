"""Re-check every live card against the registers now (what the nightly task does)."""

from __future__ import annotations

import datetime
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from cards.services import cards_recheck_all


class Command(BaseCommand):
    help = "Re-check every active or invalid card against the registers and print a summary."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument(
            "--on",
            type=datetime.date.fromisoformat,
            default=None,
            help="Check as of this date (YYYY-MM-DD); default today in Europe/Oslo.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        summary = cards_recheck_all(on=options["on"], batch_size=options["batch_size"])
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"cards checked: {summary.checked}\n"
            f"became invalid: {summary.became_invalid}\n"
            f"became valid again: {summary.became_valid}\n"
            f"expired: {summary.expired}\n"
            f"ended, employment over in Aa-registeret: {summary.ended}\n"
            f"register check rows written (changes only): {summary.check_rows}\n"
            f"failed lookups: {summary.failed_lookups}"
            + (
                f" ({', '.join(sorted(summary.failed_registers))})"
                if summary.failed_registers
                else ""
            )
            + f"\ntook: {seconds:.1f} s"
        )
