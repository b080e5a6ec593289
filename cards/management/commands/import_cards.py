"""Import the cards the previous producer issued from its CSV export (docs/import-cards.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cards.imports import DEFAULT_ISSUER_NAME, CardImportError, cards_import
from registry.facts import RegisterUnavailable

# Enough card numbers to start following up; the counts are always complete.
_NUMBERS_SHOWN = 50


def _numbers(numbers: list[str]) -> str:
    shown = ", ".join(numbers[:_NUMBERS_SHOWN])
    return shown + (
        f", … ({len(numbers) - _NUMBERS_SHOWN} more)" if len(numbers) > _NUMBERS_SHOWN else ""
    )


class Command(BaseCommand):
    help = (
        "Import cards issued by the previous producer from a CSV file (columns card_number, "
        "card_type, holder_id, employer_orgnr, issued_on, valid_until). All or nothing: a "
        "file with any problem imports no card, and every problem is listed by line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="the CSV file (UTF-8, comma or semicolon)")
        parser.add_argument(
            "--issuer",
            default=DEFAULT_ISSUER_NAME,
            help=f'issuer name stored on the cards (default "{DEFAULT_ISSUER_NAME}")',
        )
        parser.add_argument(
            "--skip-existing",
            action="store_true",
            help=(
                "skip rows whose number was already imported for the same holder (for a "
                "producer's cumulative export) instead of reporting them as problems"
            ),
        )

    def handle(
        self, *args: Any, path: Path, issuer: str, skip_existing: bool, **options: Any
    ) -> None:
        issuer = issuer.strip()
        if not issuer:
            raise CommandError(_("--issuer must not be empty."))
        try:
            with path.open("rb") as csv_file:
                summary = cards_import(
                    rows=csv_file, issuer_name=issuer, skip_existing=skip_existing
                )
        except OSError as error:
            raise CommandError(
                _("%(path)s: cannot read the file (%(reason)s).")
                % {"path": path, "reason": error.strerror}
            ) from error
        except CardImportError as error:
            count = len(error.problems)
            heading = ngettext(
                "%(path)s: nothing was imported; %(count)d problem:",
                "%(path)s: nothing was imported; %(count)d problems:",
                count,
            ) % {"path": path, "count": count}
            raise CommandError(f"{heading}\n{error}") from error
        except RegisterUnavailable as error:
            raise CommandError(
                _(
                    "%(path)s: nothing was imported; a register did not answer (%(error)s). "
                    "Try again later."
                )
                % {"path": path, "error": error}
            ) from error
        except IntegrityError as error:
            # Another import of the same numbers committed while this one ran.
            raise CommandError(
                _("%(path)s: nothing was imported (%(error)s).") % {"path": path, "error": error}
            ) from error

        self.stdout.write(
            _("Imported %(imported)d cards (%(expired)d already expired).")
            % {"imported": summary.imported, "expired": summary.expired}
        )
        if summary.skipped_existing:
            self.stdout.write(
                _("Skipped %(count)d cards imported before.") % {"count": summary.skipped_existing}
            )
        if summary.holders_not_found:
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "Warning: %(count)d holders were not found in Folkeregisteret; their "
                        "cards were imported with empty names, and the next re-check marks them "
                        "invalid (person_not_found) unless the register finds them: %(numbers)s"
                    )
                    % {
                        "count": len(summary.holders_not_found),
                        "numbers": _numbers(summary.holders_not_found),
                    }
                )
            )
        if summary.employers_not_found:
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "Warning: %(count)d employers were not found in Enhetsregisteret; their "
                        "cards were imported without an employer name, and the next re-check "
                        "marks them invalid (employer_not_found): %(numbers)s"
                    )
                    % {
                        "count": len(summary.employers_not_found),
                        "numbers": _numbers(summary.employers_not_found),
                    }
                )
            )
        self.stdout.write(self.style.SUCCESS(_("Imported %(path)s.") % {"path": path}))
