"""The employer's card register: the filter form (GET) and the exports of the filtered list.

The exports carry what the card itself shows (name, birth date, number, type, dates,
status) and never the holder's identity number: a spreadsheet travels further than the
portal's pages.
"""

from __future__ import annotations

import csv
import datetime
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import get_language, gettext_lazy, ngettext, pgettext_lazy
from django.utils.translation import gettext as _

from cards.models import Card, CardType
from cards.selectors import RegisterFilter, expiring_within_days
from registry.facts import OrganisationFacts
from registry.rules import ALREADY_HAS_LIVE_CARD, REASONS, Reason

PAGE_SIZE = 50
MAX_PAGE = 100_000
SEARCH_MAX_LENGTH = 100

STATUS_CHOICES = [
    ("", gettext_lazy("All")),
    ("valid", gettext_lazy("Valid")),
    ("invalid", gettext_lazy("Not valid")),
    ("expired", gettext_lazy("Expired")),
    ("revoked", gettext_lazy("Revoked")),
]
SORT_CHOICES = [
    ("name", gettext_lazy("Name (A–Z)")),
    ("-name", gettext_lazy("Name (Z–A)")),
    ("number", gettext_lazy("Card number (lowest first)")),
    ("-number", gettext_lazy("Card number (highest first)")),
    ("valid_until", gettext_lazy("Valid until (soonest first)")),
    ("-valid_until", gettext_lazy("Valid until (latest first)")),
    ("status", gettext_lazy("Status (valid first)")),
    ("-status", gettext_lazy("Status (revoked first)")),
]


def status_text(status: str) -> str:
    return str(dict(STATUS_CHOICES).get(status, status))


class _CardTypeField(forms.ModelChoiceField):
    def to_python(self, value: Any) -> Any:
        # A code with NUL in it is not on the list (Django's own message says "null character").
        if isinstance(value, str) and "\x00" in value:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return super().to_python(value)


class CardRegisterForm(forms.Form):
    """What the employer searches, filters and sorts the card register by (all optional)."""

    q = forms.CharField(
        label=gettext_lazy("Search by name or card number"),
        required=False,
        max_length=SEARCH_MAX_LENGTH,
        error_messages={
            "max_length": gettext_lazy("The search can be at most %(limit_value)d characters."),
            "null_characters_not_allowed": gettext_lazy(
                "The search can only have ordinary characters."
            ),
        },
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=STATUS_CHOICES,
        error_messages={"invalid_choice": gettext_lazy("Choose a status from the list.")},
    )
    card_type = _CardTypeField(
        label=gettext_lazy("Card type"),
        required=False,
        queryset=CardType.objects.all(),
        to_field_name="code",
        empty_label=pgettext_lazy("card type", "All"),
        error_messages={"invalid_choice": gettext_lazy("Choose a card type from the list.")},
    )
    unit = forms.ChoiceField(
        label=gettext_lazy("Unit"),
        required=False,
        error_messages={
            "invalid_choice": gettext_lazy("Choose the main unit or one of its sub-units.")
        },
    )
    # Labelled in __init__: the label names the configured number of days.
    expiring = forms.BooleanField(required=False)
    reason = forms.ChoiceField(
        label=gettext_lazy("Why the card is not valid"),
        required=False,
        error_messages={"invalid_choice": gettext_lazy("Choose a reason from the list.")},
    )
    sort = forms.ChoiceField(
        label=gettext_lazy("Sort by"),
        required=False,
        choices=SORT_CHOICES,
        error_messages={"invalid_choice": gettext_lazy("Choose a sorting from the list.")},
    )
    page = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_PAGE,
        widget=forms.HiddenInput,
        error_messages={
            "invalid": gettext_lazy("The page number must be a whole number, such as 2."),
            "min_value": gettext_lazy("The page number must be 1 or more."),
            "max_value": gettext_lazy("The page number is too large."),
        },
    )

    def __init__(
        self, *args: Any, employer: OrganisationFacts, sub_units: list[OrganisationFacts], **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        unit_field: Any = self.fields["unit"]
        unit_field.choices = [
            ("", pgettext_lazy("unit", "All")),
            (employer.orgnr, f"{employer.name} ({employer.orgnr})"),
            *[(unit.orgnr, f"{unit.name} ({unit.orgnr})") for unit in sub_units],
        ]
        reason_field: Any = self.fields["reason"]
        reason_field.choices = [
            ("", pgettext_lazy("reason", "Any")),
            *sorted(
                # A card is never invalid for the portal's own rule (it refuses an order).
                ((code, Reason(code).text()) for code in REASONS if code != ALREADY_HAS_LIVE_CARD),
                key=lambda choice: choice[1],
            ),
        ]
        days = expiring_within_days()
        self.fields["expiring"].label = ngettext(
            "Only cards that expire within %(days)s day",
            "Only cards that expire within %(days)s days",
            days,
        ) % {"days": days}
        card_type_field: Any = self.fields["card_type"]
        card_type_field.label_from_instance = lambda card_type: card_type.name(get_language())

        for name, field in self.fields.items():
            if isinstance(field.widget, forms.Select):
                field.widget.attrs["class"] = "form-select"
            elif isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs["class"] = "form-check-input"
            elif name != "page":
                field.widget.attrs.update({"class": "form-control", "autocomplete": "off"})

    def register_filter(self) -> RegisterFilter:
        """The filter from the valid fields; a field with an error counts as not given."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return RegisterFilter(
            search=data.get("q") or "",
            status=data.get("status") or "",
            card_type=data.get("card_type"),
            workplace_orgnr=data.get("unit") or "",
            expiring=bool(data.get("expiring")),
            reason=data.get("reason") or "",
            sort=data.get("sort") or "name",
        )

    def page_number(self) -> int:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return int(data.get("page") or 1)


@dataclass(frozen=True)
class RegisterRow:
    """One card in the register with its status today and why it is not valid."""

    card: Card
    status: str
    status_text: str
    reasons: list[str]
    unit_name: str


def register_rows(
    cards: Iterable[Card], *, today: datetime.date, unit_names: dict[str, str]
) -> list[RegisterRow]:
    rows = []
    for card in cards:
        status = card.status_on(today)
        rows.append(
            RegisterRow(
                card=card,
                status=status,
                status_text=status_text(status),
                reasons=[
                    Reason(code).text() if code in REASONS else code
                    for code in card.reason_codes_on(today)
                ],
                unit_name=unit_names.get(card.workplace_orgnr, card.workplace_orgnr),
            )
        )
    return rows


# --- Exports ------------------------------------------------------------------------------

EXPORT_FIELDS = (
    "holder_first_name",
    "holder_last_name",
    "holder_birth_date",
    "number",
    "card_type__name_nb",
    "card_type__name_en",
    "workplace_orgnr",
    "issued_on",
    "valid_from",
    "valid_until",
    "state",
    "reason_codes",
)


def _headings() -> list[str]:
    return [
        _("First name"),
        _("Last name"),
        _("Date of birth"),
        _("Card number"),
        _("Card type"),
        _("Unit"),
        _("Issued"),
        _("Valid until"),
        _("Status"),
        _("Why the card is not valid"),
    ]


def export_rows(
    cards: QuerySet[Card],
    *,
    unit_names: dict[str, str],
    language: str | None,
    today: datetime.date,
) -> Iterator[list[Any]]:
    """The filtered cards as rows of plain values, read in chunks (never all at once)."""
    english = (language or "").startswith("en")
    for (
        first_name,
        last_name,
        birth_date,
        number,
        type_nb,
        type_en,
        workplace,
        issued_on,
        valid_from,
        valid_until,
        state,
        codes,
    ) in cards.values_list(*EXPORT_FIELDS).iterator(chunk_size=2000):
        card = Card(state=state, valid_until=valid_until, valid_from=valid_from, reason_codes=codes)
        reasons = card.reason_codes_on(today)
        yield [
            first_name,
            last_name,
            birth_date,
            number,
            type_en if english else type_nb,
            unit_names.get(workplace, workplace),
            issued_on,
            valid_until,
            status_text(card.status_on(today)),
            " ".join(Reason(code).text(language) if code in REASONS else code for code in reasons),
        ]


def spreadsheet_safe(value: Any) -> Any:
    """A name such as "=HYPERLINK(…)" stays text in Excel (CSV/formula injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


# Excel on a Norwegian computer splits CSV on semicolons (the comma is the decimal sign) and
# reads UTF-8 only after a byte order mark; without it "Ødegård" comes out as "Ã˜degÃ¥rd".
CSV_DELIMITER = ";"
UTF8_BOM = "\ufeff"


def csv_chunks(rows: Iterable[list[Any]]) -> Iterator[str]:
    """The CSV text line by line (for a StreamingHttpResponse), with a BOM first."""
    writer = csv.writer(_Echo(), delimiter=CSV_DELIMITER)
    yield UTF8_BOM + writer.writerow(_headings())
    for row in rows:
        yield writer.writerow(
            [
                value.strftime("%d.%m.%Y")
                if isinstance(value, datetime.date)
                else spreadsheet_safe(value if value is not None else "")
                for value in row
            ]
        )


def xlsx_file(rows: Iterable[list[Any]]) -> Any:
    """The rows as an XLSX workbook in a temporary file (openpyxl's write-only mode keeps
    memory flat: rows go to disk as they come); the caller streams and closes it."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("Cards")[:31])
    sheet.append(_headings())
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, datetime.date):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "DD.MM.YYYY"
                cells.append(cell)
            else:
                # Text stays text: openpyxl would otherwise store "=…" as a formula.
                cell = WriteOnlyCell(sheet, value=value)
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"
                cells.append(cell)
        sheet.append(cells)
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    workbook.save(spool)
    spool.seek(0)
    return spool
