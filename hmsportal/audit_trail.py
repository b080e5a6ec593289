"""Reading the audit trail: the filtered entries (for an organisation, or all for staff) and
each entry in plain words in the reader's language.

An entry stores codes and raw values (states, reason codes, dates); the words are chosen when
the page is shown, so a Norwegian and an English reader each see their own language. Field
names and the labels of coded values come from the model the entry is about, where it has
them; the rest from the small tables below.
"""

from __future__ import annotations

import datetime
import decimal
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import QuerySet
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from cards.numbers import display
from hmsportal.models import AuditEntry
from registry.rules import REASONS, Reason

PAGE_SIZE = 50

SUBJECT_KINDS = {
    "orders.order": gettext_lazy("Order"),
    "orders.orderline": gettext_lazy("Order line"),
    "orders.delegation": gettext_lazy("Access for"),
    "cards.card": gettext_lazy("Card"),
    "hmsportal.user": gettext_lazy("Person"),
    "orders.uploadstash": gettext_lazy("Kept file"),
}

# An order's entry describes its line: its values are the line's fields.
FIELDS_FROM = {"orders.order": "orders.orderline"}

# Keys that are no field of the entry's model.
KEY_LABELS = {
    "line": gettext_lazy("order line"),
    "card": gettext_lazy("card"),
    "card_type": gettext_lazy("card type"),
    "reason": gettext_lazy("reason"),
    "link": gettext_lazy("upload link"),
    "email": gettext_lazy("e-mail address"),
    "expires_at": gettext_lazy("works until"),
    "method": gettext_lazy("how"),
    "kind": gettext_lazy("kind of file"),
    "file": gettext_lazy("file"),
    "content_type": gettext_lazy("file type"),
}

VALUE_LABELS = {
    # Why a card was revoked (cards.services.RevocationReason) or moved by the portal itself.
    "lost": gettext_lazy("lost"),
    "stolen": gettext_lazy("stolen"),
    "employment_ended": gettext_lazy("employment ended"),
    "returned": gettext_lazy("returned"),
    "withdrawn": gettext_lazy("withdrawn by the card office"),
    "renewed": gettext_lazy("renewed"),
    "delivered": gettext_lazy("delivered"),
    "valid-until passed": gettext_lazy("the valid-until date has passed"),
    "register check passed": gettext_lazy("approved after the register check"),
    "register check passed again": gettext_lazy("the registers are in order again"),
    # How someone logged in.
    "idporten": "ID-porten",
    "dev": gettext_lazy("development login"),
    "admin": gettext_lazy("the admin's login"),
    # Kept files.
    "photo": gettext_lazy("photo"),
    "id_document": gettext_lazy("copy of ID document"),
}
_CHECK_FAILED = "register check failed: "
# Keys whose values are card numbers: an order line's card, a replacement, the card renewed.
CARD_NUMBER_KEYS = frozenset({"card", "renews"})


def _as_stored(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Change:
    """One value of an entry: what it is, what it was and what it became."""

    label: str
    before: str
    after: str


@dataclass(frozen=True)
class AuditRow:
    """An entry as a reader sees it."""

    entry: AuditEntry
    who: str
    what: str
    subject: str
    changes: list[Change]


def audit_entries(
    *,
    organisation_orgnr: str | None,
    action: str = "",
    actor: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet[AuditEntry]:
    """The trail, newest first: one organisation's (None: everyone's, for staff), filtered.

    Dates are whole days in the portal's time zone (Europe/Oslo).
    """
    entries = AuditEntry.objects.all()
    if organisation_orgnr is not None:
        entries = entries.filter(organisation_orgnr=organisation_orgnr)
    if action:
        entries = entries.filter(action=action)
    if actor:
        entries = entries.filter(actor_name__icontains=actor)
    if date_from:
        entries = entries.filter(at__gte=_start_of(date_from))
    if date_to:
        entries = entries.filter(at__lt=_start_of(date_to + datetime.timedelta(days=1)))
    return entries.order_by("-at", "-pk")


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def audit_rows(entries: list[AuditEntry]) -> list[AuditRow]:
    """The entries in plain words, in the active language."""
    card_types = _card_type_names()
    return [
        AuditRow(
            entry=entry,
            who=_who(entry),
            what=str(entry.get_action_display()),
            subject=_subject(entry),
            changes=_changes(entry, card_types),
        )
        for entry in entries
    ]


def _who(entry: AuditEntry) -> str:
    if entry.actor_name:
        return entry.actor_name
    if entry.action == AuditEntry.Action.UPLOAD_FILES_RECEIVED:
        return _("The employee, by the upload link")
    if entry.action == AuditEntry.Action.LOGIN_FAILED:
        return _("Unknown")
    return _("The portal, automatically")


def _subject(entry: AuditEntry) -> str:
    kind = SUBJECT_KINDS.get(entry.subject_type)
    if entry.action == AuditEntry.Action.LOGIN_FAILED:
        return (
            _("User name: %(name)s") % {"name": entry.subject_label} if entry.subject_label else ""
        )
    label = entry.subject_label
    if entry.subject_type == "cards.card":
        label = _card_number(label)
    return f"{kind} {label}".strip() if kind else label


def _card_number(value: Any) -> Any:
    """A card number grouped as printed (1234 5678 9012), as on every other page."""
    return display(value) if isinstance(value, str) and value.isdigit() else value


def _card_type_names() -> dict[str, str]:
    """Card types by code, named in the active language (one query for the whole page)."""
    card_type = apps.get_model("cards", "CardType")
    language = get_language()
    return {kind.code: kind.name(language) for kind in card_type.objects.all()}


def _model(entry: AuditEntry) -> type[models.Model] | None:
    subject_type = FIELDS_FROM.get(entry.subject_type, entry.subject_type)
    try:
        return apps.get_model(subject_type) if subject_type else None
    except (LookupError, ValueError):
        return None


def _field(model: type[models.Model] | None, key: str) -> models.Field[Any, Any] | None:
    if model is None:
        return None
    try:
        field = model._meta.get_field(key)
    except FieldDoesNotExist:
        return None
    return field if isinstance(field, models.Field) else None


def _changes(entry: AuditEntry, card_types: dict[str, str]) -> list[Change]:
    before = entry.before if isinstance(entry.before, dict) else {}
    after = entry.after if isinstance(entry.after, dict) else {}
    model = _model(entry)
    keys = [*after, *(key for key in before if key not in after)]
    changes = []
    for key in keys:
        if key in before and key in after and before[key] == after[key]:
            continue
        field = _field(model, key)
        number = _card_number if key in CARD_NUMBER_KEYS else _as_stored
        label = str(KEY_LABELS.get(key) or (field.verbose_name if field else key))
        changes.append(
            Change(
                label=label[:1].upper() + label[1:],
                before=_value(number(before.get(key)), field, card_types) if key in before else "",
                after=_value(number(after.get(key)), field, card_types) if key in after else "",
            )
        )
    return changes


def _value(value: Any, field: models.Field[Any, Any] | None, card_types: dict[str, str]) -> str:
    if value is None or value == "" or value == []:
        return "–"
    if isinstance(value, str) and value in card_types and (field is None or field.is_relation):
        return card_types[value]
    if isinstance(value, list):
        if field is not None and field.name == "reason_codes":
            return "; ".join(
                Reason(code).text() if code in REASONS else str(code) for code in value
            )
        return ", ".join(_value(item, None, card_types) for item in value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.FileField):
        # The stored name is generated (a random name or the card number) and means nothing
        # to a reader; that a file was attached does.
        return _("attached")
    if isinstance(field, models.DecimalField):
        try:
            amount = decimal.Decimal(str(value))
        except decimal.InvalidOperation:
            return str(value)
        return formats.number_format(amount, field.decimal_places, force_grouping=True)
    if isinstance(value, str):
        return _text(value)
    return str(value)


def _text(value: str) -> str:
    if value in VALUE_LABELS:
        return str(VALUE_LABELS[value])
    if value.startswith(_CHECK_FAILED):
        codes = [code.strip() for code in value[len(_CHECK_FAILED) :].split(",") if code.strip()]
        texts = [Reason(code).text() if code in REASONS else code for code in codes]
        return _("the register check failed: %(reasons)s") % {"reasons": "; ".join(texts)}
    if len(value) >= 19 and value[4] == "-" and "T" in value:
        moment = parse_datetime(value)
        if moment is not None:
            return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")
    if len(value) == 10 and value[4] == "-":
        day = parse_date(value)
        if day is not None:
            return formats.date_format(day, "SHORT_DATE_FORMAT")
    return value
