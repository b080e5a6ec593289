"""Issue an API key to a site-registration system (the key is shown once, never stored)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cards.api_keys import api_client_create


class Command(BaseCommand):
    help = "Create an API client for the card status API and print its key once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Who the key is for, e.g. the site system's vendor.")
        parser.add_argument(
            "--per-minute", type=int, default=600, help="Lookups a minute the key may make."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not 1 <= options["per_minute"] <= 100_000:
            raise CommandError("--per-minute must be between 1 and 100000.")
        client, key = api_client_create(
            name=options["name"], lookups_per_minute=options["per_minute"]
        )
        self.stdout.write(
            f"API client #{client.pk} {client.name!r}, {client.lookups_per_minute} lookups a minute.\n"
            f"Key (shown only now; send it as 'Authorization: Bearer <key>'):\n{key}"
        )
