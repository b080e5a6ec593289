"""Resume the night's re-check after a crash: send the unfinished chunks of open runs again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from cards.rechecks import CHUNK_LEASE
from cards.tasks import recheck_runs_resume


class Command(BaseCommand):
    help = (
        "Send the unfinished chunks of open re-check runs to the workers again. Chunks done "
        "are skipped, and a chunk cut short checks only the cards its run has not checked."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--now",
            action="store_true",
            help=(
                "Send every unfinished chunk now, also those a worker took less than "
                f"{int(CHUNK_LEASE.total_seconds() // 60)} minutes ago (use it when every "
                "worker is known to have stopped); by default only overdue chunks are sent."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Called in this process: the chunks go to the broker from here, not after a beat.
        sent = recheck_runs_resume(stale_seconds=0 if options["now"] else None)
        self.stdout.write(f"chunks sent: {sent}")
