"""Import of the cards the previous producer issued (a CSV export; docs/import-cards.md).

When the producer changes, cards already issued stay valid and checkable (DOMAIN.md,
"Producers and blackout windows"): they must be in hmsportal so that the status check finds
them and the nightly re-check covers them like any other card. They keep their 10-digit
numbers (cards.numbers, NumberForm.LEGACY) and come without photos: the previous producer
destroys those rather than hand them over.

The whole file is read and validated before anything is written, so a file with errors
imports nothing and every problem is reported at once, by the line it is on in the file.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, NamedTuple, cast

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cards.models import Card, CardTransition, CardType
from cards.numbers import LEGACY_NUMBER_LENGTH, normalise
from hmsportal.audit import audit_entry, audit_record_many
from hmsportal.models import AuditEntry, User
from hmsportal.outbox import outbox_record
from registry.clients import population_register
from registry.facts import OrganisationFacts, PersonFacts
from registry.identifiers import InvalidIdentifier, NationalId, parse_national_id, validate_orgnr
from registry.rules import MAX_VALIDITY_YEARS, add_years
from registry.selectors import organisations_get

COLUMNS = ("card_number", "card_type", "holder_id", "employer_orgnr", "issued_on", "valid_until")
DEFAULT_ISSUER_NAME = "Tidligere produsent"
IMPORT_REASON = "imported from previous producer"
# Rows per register lookup and per bulk insert: one Folkeregisteret and (at most) two
# Enhetsregisteret calls per chunk keeps 100,000 rows to a few hundred round trips.
CHUNK_SIZE = 1000
# Existing numbers are looked up this many at a time (well under SQLite's variable limit).
_EXISTING_QUERY_SIZE = 2000
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class ImportProblem(NamedTuple):
    """A problem with the file: the physical line it is on (the header is line 1) and why."""

    line: int
    message: str

    def __str__(self) -> str:
        return _("line %(line)d: %(message)s") % {"line": self.line, "message": self.message}


class CardImportError(Exception):
    """The file cannot be imported; nothing was written. `problems` lists every problem."""

    def __init__(self, problems: Sequence[ImportProblem]) -> None:
        self.problems = sorted(problems, key=lambda problem: problem.line)
        super().__init__("\n".join(str(problem) for problem in self.problems))


@dataclass
class ImportSummary:
    """What an import did, and what the operator should follow up."""

    imported: int = 0
    expired: int = 0  # of the imported cards, those already past valid-until
    skipped_existing: int = 0
    # Card numbers imported with empty names because Folkeregisteret does not know the holder.
    holders_not_found: list[str] = field(default_factory=list)
    # Card numbers imported with an empty employer name: Enhetsregisteret does not know it.
    employers_not_found: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _ValidRow:
    line: int
    number: str
    card_type: CardType
    holder: NationalId
    orgnr: str
    issued_on: datetime.date
    valid_until: datetime.date


# --- Reading the file ---------------------------------------------------------------------


def _read_text(source: IO[str] | IO[bytes]) -> str:
    content = source.read()
    if isinstance(content, bytes):
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError as error:
            line = content.count(b"\n", 0, error.start) + 1
            raise CardImportError(
                [ImportProblem(line, _("The file is not UTF-8 text (save it as CSV UTF-8)."))]
            ) from error
    else:
        text = content
    # A byte order mark is how Excel marks its "CSV UTF-8" files; it is not part of the header.
    return text.removeprefix("\ufeff")


def _delimiter(header_line: str) -> str:
    # Norwegian Excel writes semicolons (the comma is the decimal separator). Sniffing from the
    # header alone is reliable because no expected column name contains either character;
    # csv.Sniffer guesses from data rows, where dates and names can mislead it.
    return ";" if header_line.count(";") > header_line.count(",") else ","


def _file_rows(text: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header cells, and each row's cells with the physical line the row starts on."""
    header_line = text.splitlines()[0] if text else ""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(header_line))
    header = next(reader, [])

    def rows() -> Iterator[tuple[int, list[str]]]:
        while True:
            # line_num counts the lines read so far; a quoted cell may span several lines,
            # and the row is reported at the line it starts on.
            line = reader.line_num + 1
            cells = next(reader, None)
            if cells is None:
                return
            yield line, cells

    return header, rows()


def _mapping_rows(
    rows: Iterable[Mapping[str, str]],
) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """Rows given as mappings (column → value) are numbered as if they followed a header."""
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        return [], iter(())
    header = list(first.keys())

    def cells() -> Iterator[tuple[int, list[str]]]:
        yield 2, [first.get(column) or "" for column in header]
        for line, row in enumerate(iterator, start=3):
            yield line, [row.get(column) or "" for column in header]

    return header, cells()


def _header_problems(header: list[str]) -> list[ImportProblem]:
    problems: list[ImportProblem] = []
    seen: set[str] = set()
    for name in header:
        if name in seen:
            problems.append(
                ImportProblem(
                    1, _('The column "%(name)s" appears more than once.') % {"name": name}
                )
            )
        seen.add(name)
    missing = [name for name in COLUMNS if name not in seen]
    unknown = [name for name in header if name not in COLUMNS]
    if missing:
        problems.append(
            ImportProblem(1, _("Missing columns: %(names)s.") % {"names": ", ".join(missing)})
        )
    if unknown:
        problems.append(
            ImportProblem(
                1,
                _("Unknown columns: %(names)s (the columns are %(expected)s).")
                % {
                    "names": ", ".join(f'"{name}"' for name in unknown),
                    "expected": ", ".join(COLUMNS),
                },
            )
        )
    return problems


# --- Validating the rows ------------------------------------------------------------------


def _date_cell(column: str, value: str, problems: list[str]) -> datetime.date | None:
    if not value:
        problems.append(_("%(column)s is empty.") % {"column": column})
        return None
    if not _ISO_DATE.fullmatch(value):
        problems.append(
            _('%(column)s "%(value)s" is not a date in the form YYYY-MM-DD.')
            % {"column": column, "value": value}
        )
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        problems.append(
            _('%(column)s "%(value)s" is not a valid date.') % {"column": column, "value": value}
        )
        return None


def _number_cell(value: str, problems: list[str]) -> str | None:
    number = normalise(value)
    if not number:
        problems.append(_("card_number is empty."))
        return None
    if not (number.isascii() and number.isdigit()) or len(number) != LEGACY_NUMBER_LENGTH:
        message = _(
            'card_number "%(value)s" is not the previous producer\'s number: it must have '
            "exactly %(length)d digits."
        ) % {"value": value, "length": LEGACY_NUMBER_LENGTH}
        if number.isascii() and number.isdigit() and len(number) < LEGACY_NUMBER_LENGTH:
            # Spreadsheets read the numbers as numbers and drop their leading zeros.
            message += " " + _("A spreadsheet may have dropped leading zeros.")
        problems.append(message)
        return None
    return number


def _validate_row(
    line: int, cells: Mapping[str, str], card_types: Mapping[str, CardType], today: datetime.date
) -> tuple[str | None, _ValidRow | None, list[str]]:
    """The card number if well-formed, and the row's values or every problem with it."""
    problems: list[str] = []
    number = _number_cell(cells["card_number"], problems)

    type_code = cells["card_type"].lower()
    card_type = card_types.get(type_code)
    if card_type is None:
        problems.append(
            _('card_type "%(value)s" is not a card type (known: %(known)s).')
            % {"value": cells["card_type"], "known": ", ".join(sorted(card_types))}
            if type_code
            else _("card_type is empty.")
        )

    holder: NationalId | None = None
    if not cells["holder_id"]:
        problems.append(_("holder_id is empty."))
    else:
        try:
            holder = parse_national_id(cells["holder_id"])
        except InvalidIdentifier as error:
            problems.append(
                _('holder_id "%(value)s" is not a fødselsnummer or D-number: %(error)s')
                % {"value": cells["holder_id"], "error": error}
            )

    orgnr: str | None = None
    if not cells["employer_orgnr"]:
        problems.append(_("employer_orgnr is empty."))
    else:
        try:
            orgnr = validate_orgnr(cells["employer_orgnr"])
        except InvalidIdentifier as error:
            problems.append(
                _('employer_orgnr "%(value)s" is not an organisation number: %(error)s')
                % {"value": cells["employer_orgnr"], "error": error}
            )

    issued_on = _date_cell("issued_on", cells["issued_on"], problems)
    valid_until = _date_cell("valid_until", cells["valid_until"], problems)
    if issued_on is not None and issued_on > today:
        problems.append(_("issued_on %(date)s is in the future.") % {"date": issued_on.isoformat()})
    if issued_on is not None and valid_until is not None:
        if valid_until < issued_on:
            problems.append(_("valid_until is before issued_on."))
        elif valid_until > add_years(issued_on, MAX_VALIDITY_YEARS):
            # DOMAIN.md rule 1: valid-until is at most two years after issue.
            problems.append(
                _("valid_until is more than %(years)d years after issued_on.")
                % {"years": MAX_VALIDITY_YEARS}
            )

    if (
        problems
        or number is None
        or card_type is None
        or holder is None
        or orgnr is None
        or issued_on is None
        or valid_until is None
    ):
        return number, None, problems
    row = _ValidRow(
        line=line,
        number=number,
        card_type=card_type,
        holder=holder,
        orgnr=orgnr,
        issued_on=issued_on,
        valid_until=valid_until,
    )
    return number, row, []


def _existing_cards(numbers: Sequence[str]) -> dict[str, tuple[bool, str]]:
    """Cards already in hmsportal with these numbers: number → (imported, holder's id)."""
    found: dict[str, tuple[bool, str]] = {}
    for start in range(0, len(numbers), _EXISTING_QUERY_SIZE):
        chunk = numbers[start : start + _EXISTING_QUERY_SIZE]
        for number, imported, national_id in Card.objects.filter(number__in=chunk).values_list(
            "number", "imported", "holder_national_id"
        ):
            found[number] = (imported, national_id)
    return found


def _validated_rows(
    header: list[str],
    rows: Iterator[tuple[int, list[str]]],
    *,
    skip_existing: bool,
    summary: ImportSummary,
) -> list[_ValidRow]:
    """Every row checked; raises CardImportError listing all problems if any row has one."""
    # A trailing separator on the header (some exports end every line with one) adds nameless
    # columns; they are ignored, and so are empty cells under them.
    while header and not header[-1]:
        header.pop()
    problems = _header_problems(header)
    if problems:
        raise CardImportError(problems)

    card_types = {card_type.code: card_type for card_type in CardType.objects.all()}
    today = timezone.localdate()
    valid: dict[int, _ValidRow] = {}
    # Each well-formed number and the line it is first on, also for rows with other
    # problems: a collision is reported along with them, not after they are fixed.
    first_line_of: dict[str, int] = {}
    for line, raw_cells in rows:
        cells = [cell.strip() for cell in raw_cells]
        if not any(cells):
            continue  # blank lines, and the ";;;;;" rows spreadsheets leave at the end
        if len(cells) != len(header) and (len(cells) < len(header) or any(cells[len(header) :])):
            problems.append(
                ImportProblem(
                    line,
                    _(
                        "The row has %(found)d fields, the header has %(expected)d (check the "
                        "separator and quotes)."
                    )
                    % {"found": len(cells), "expected": len(header)},
                )
            )
            continue
        number, row, row_problems = _validate_row(
            line, dict(zip(header, cells, strict=False)), card_types, today
        )
        problems.extend(ImportProblem(line, message) for message in row_problems)
        if number is None:
            continue
        if number in first_line_of:
            problems.append(
                ImportProblem(
                    line,
                    _('card_number "%(number)s" is also on line %(other)d.')
                    % {"number": number, "other": first_line_of[number]},
                )
            )
            continue
        first_line_of[number] = line
        if row is not None:
            valid[line] = row

    existing = _existing_cards(list(first_line_of))
    for number, (imported, national_id) in existing.items():
        line = first_line_of[number]
        row = valid.pop(line, None)
        if skip_existing and row is not None and imported and national_id == row.holder.value:
            # The same card from an earlier import (a producer's cumulative export).
            summary.skipped_existing += 1
            continue
        problems.append(
            ImportProblem(
                line,
                _(
                    'card_number "%(number)s" already belongs to another card in hmsportal '
                    "(not an imported card of the same holder)."
                )
                % {"number": number}
                if skip_existing and row is not None
                else _('card_number "%(number)s" already belongs to a card in hmsportal.')
                % {"number": number},
            )
        )
    problems.extend(_second_live_cards(list(valid.values()), today=today))
    if problems:
        raise CardImportError(problems)
    if not valid and not summary.skipped_existing:
        raise CardImportError([ImportProblem(1, _("The file has no card rows."))])
    return sorted(valid.values(), key=lambda row: row.line)


def _second_live_cards(rows: list[_ValidRow], *, today: datetime.date) -> list[ImportProblem]:
    """Unexpired rows that would give a person a second live card of a type with an employer
    (in the file, or beside a live card in hmsportal): one card per person, employer and type.
    """
    problems: list[ImportProblem] = []
    live = [row for row in sorted(rows, key=lambda row: row.line) if row.valid_until >= today]
    first_line_of: dict[tuple[str, str, int], int] = {}
    for row in live:
        key = (row.holder.value, row.orgnr, row.card_type.pk)
        if key in first_line_of:
            problems.append(
                ImportProblem(
                    row.line,
                    _(
                        "The holder already has an unexpired card of this type with this "
                        "employer on line %(other)d. A person can hold one card per employer "
                        "and card type."
                    )
                    % {"other": first_line_of[key]},
                )
            )
        else:
            first_line_of[key] = row.line
    holders = {row.holder.value for row in live}
    in_portal: set[tuple[str, str, int]] = set()
    for start in range(0, len(holders), _EXISTING_QUERY_SIZE):
        chunk = sorted(holders)[start : start + _EXISTING_QUERY_SIZE]
        for holder, employer, workplace, card_type_id in Card.objects.filter(
            holder_national_id__in=chunk, state__in=Card.CHECKED_STATES
        ).values_list("holder_national_id", "employer_orgnr", "workplace_orgnr", "card_type_id"):
            in_portal.add((holder, employer, card_type_id))
            in_portal.add((holder, workplace, card_type_id))
    for row in live:
        if (row.holder.value, row.orgnr, row.card_type.pk) in in_portal:
            problems.append(
                ImportProblem(
                    row.line,
                    _(
                        "The holder already has a live card of this type with this employer in "
                        "hmsportal. A person can hold one card per employer and card type."
                    ),
                )
            )
    return problems


# --- Writing the cards --------------------------------------------------------------------


class _EmployerLookup:
    """Enhetsregisteret names by unit, asked once per unit for the whole import."""

    def __init__(self) -> None:
        self.units: dict[str, OrganisationFacts | None] = {}

    def _ask(self, orgnrs: set[str]) -> None:
        wanted = orgnrs - self.units.keys()
        if wanted:
            found = organisations_get(orgnrs=wanted)
            for orgnr in wanted:
                self.units[orgnr] = found.get(orgnr)

    def prefetch(self, orgnrs: set[str]) -> None:
        self._ask(orgnrs)
        # Sub-units name their main unit, whose name and number the card carries.
        self._ask({u.parent_orgnr for u in self.units.values() if u and u.parent_orgnr})

    def employer_of(self, orgnr: str) -> tuple[str, str, OrganisationFacts | None]:
        """(workplace orgnr, employer orgnr, the employer's main unit if known)."""
        unit = self.units.get(orgnr)
        if unit is not None and unit.parent_orgnr:
            return orgnr, unit.parent_orgnr, self.units.get(unit.parent_orgnr)
        return orgnr, orgnr, unit


def _card_for(
    row: _ValidRow,
    *,
    person: PersonFacts | None,
    employers: _EmployerLookup,
    issuer_name: str,
    today: datetime.date,
    summary: ImportSummary,
) -> Card:
    workplace_orgnr, employer_orgnr, employer = employers.employer_of(row.orgnr)
    if employer is None:
        summary.employers_not_found.append(row.number)
    if person is None:
        summary.holders_not_found.append(row.number)
    state = Card.State.EXPIRED if row.valid_until < today else Card.State.ACTIVE
    return Card(
        number=row.number,
        card_type=row.card_type,
        state=state,
        holder_national_id=row.holder.value,
        holder_first_name=person.first_name if person else "",
        holder_last_name=person.last_name if person else "",
        holder_birth_date=(person.birth_date if person else None) or row.holder.birth_date,
        workplace_orgnr=workplace_orgnr,
        employer_orgnr=employer_orgnr,
        employer_name=employer.name if employer else "",
        issuer_name=issuer_name,
        design=None,
        issued_on=row.issued_on,
        valid_until=row.valid_until,
        # Never checked by hmsportal: the next re-check takes them like any other card.
        checked_at=None,
        imported=True,
    )


def _write_chunk(
    rows: Sequence[_ValidRow],
    *,
    employers: _EmployerLookup,
    issuer_name: str,
    actor: User | None,
    today: datetime.date,
    summary: ImportSummary,
) -> None:
    persons = population_register().persons([row.holder.value for row in rows])
    employers.prefetch({row.orgnr for row in rows})
    cards = [
        _card_for(
            row,
            person=persons.get(row.holder.value),
            employers=employers,
            issuer_name=issuer_name,
            today=today,
            summary=summary,
        )
        for row in rows
    ]
    # Every value was validated above; full_clean per card would add a uniqueness query each.
    try:
        with transaction.atomic():
            Card.objects.bulk_create(cards, batch_size=len(cards))
    except IntegrityError as error:
        # Two rows for one person through a unit and its sub-unit: found only once the
        # sub-unit's main unit is known.
        raise CardImportError(
            [
                ImportProblem(
                    rows[0].line,
                    _(
                        "Two cards in the file would give a person a second live card of a type "
                        "with the same employer (through a unit and its sub-unit). A person can "
                        "hold one card per employer and card type."
                    ),
                )
            ]
        ) from error
    if any(card.pk is None for card in cards):  # databases that return no ids from bulk inserts
        ids = dict(
            Card.objects.filter(number__in=[card.number for card in cards]).values_list(
                "number", "pk"
            )
        )
        for card in cards:
            card.pk = ids[card.number]
    CardTransition.objects.bulk_create(
        [
            CardTransition(
                card=card, from_state="", to_state=card.state, actor=actor, reason=IMPORT_REASON
            )
            for card in cards
        ],
        batch_size=len(cards),
    )
    audit_record_many(
        audit_entry(
            actor=actor,
            action=AuditEntry.Action.CARD_IMPORTED,
            subject=card,
            organisation_orgnr=card.employer_orgnr,
            after={"state": card.state, "valid_until": card.valid_until},
        )
        for card in cards
    )
    summary.imported += len(cards)
    summary.expired += sum(card.state == Card.State.EXPIRED for card in cards)


@transaction.atomic
def cards_import(
    *,
    rows: Iterable[Mapping[str, str]] | IO[str] | IO[bytes],
    actor: User | None = None,
    issuer_name: str = DEFAULT_ISSUER_NAME,
    skip_existing: bool = False,
    chunk_size: int = CHUNK_SIZE,
) -> ImportSummary:
    """Import the previous producer's cards from a CSV file (or rows of column → value).

    All or nothing: raises CardImportError listing every problem, and RegisterUnavailable when
    Folkeregisteret or Enhetsregisteret does not answer; either way nothing is imported.
    With skip_existing, a number already imported for the same holder is skipped (counted in
    the summary) instead of being reported as a problem.
    """
    summary = ImportSummary()
    if hasattr(rows, "read"):
        text = _read_text(cast("IO[str] | IO[bytes]", rows))
        if not text.strip():
            raise CardImportError(
                [
                    ImportProblem(
                        1,
                        _("The file is empty: it needs a header row (%(columns)s) and card rows.")
                        % {"columns": ", ".join(COLUMNS)},
                    )
                ]
            )
        header, cells = _file_rows(text)
        header = [name.strip() for name in header]
    else:
        header, cells = _mapping_rows(cast("Iterable[Mapping[str, str]]", rows))
        if not header:
            raise CardImportError([ImportProblem(1, _("The file has no card rows."))])

    to_import = _validated_rows(header, cells, skip_existing=skip_existing, summary=summary)

    employers = _EmployerLookup()
    today = timezone.localdate()
    for start in range(0, len(to_import), chunk_size):
        _write_chunk(
            to_import[start : start + chunk_size],
            employers=employers,
            issuer_name=issuer_name,
            actor=actor,
            today=today,
            summary=summary,
        )
    # The previous producer's cards are checkable at once: check them against the registers
    # as soon as they are committed, not at the next nightly run.
    orgnrs = sorted({row.orgnr for row in to_import})
    if orgnrs:
        outbox_record(task="cards.recheck_organisations", kwargs={"orgnrs": orgnrs})
    return summary
