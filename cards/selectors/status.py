"""The public status check's reads: a card by its number, in one SQL statement.

The status check is the portal's hottest path. The ORM query (select_related + only) cost
three times as much CPU to compile as to run, and a RawQuerySet still maps its columns to
fields on every call (bench/README.md), so each statement, the mapping of its columns and
the converters the ORM would apply to them are worked out once per process.

Two reads share one statement's shape: the status page gets a Card (its words come from
cards.standing, which takes cards), the API the facts it answers with and no model instance
(building a Card and its CardType was a tenth of the API's CPU per lookup, bench/README.md).
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, NamedTuple

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import DEFERRED, DateTimeField, Field, Model

from cards.models import Card, CardStatusRules, CardTransition, CardType
from cards.numbers import has_card_number_shape, normalise
from cards.standing import KNOWN_REVOCATION

# What the public status check shows: what the card itself shows, never the identity number
# or the birth date (DOMAIN.md, "The status check").
_PAGE_FIELDS = frozenset(
    {
        "id",
        "number",
        "state",
        "holder_first_name",
        "holder_last_name",
        "photo",
        "employer_orgnr",
        "employer_name",
        "valid_until",
        "valid_from",
        "reason_codes",
        "checked_at",
        "card_type_id",
    }
)


@dataclass(slots=True)
class CardStatusFacts(CardStatusRules):
    """What the status API answers for a card: what the card shows and what decides its
    status, by Card's own rules. The fields up to card_type_code are the card's own, in the
    statement's order."""

    number: str
    state: str
    holder_first_name: str
    holder_last_name: str
    employer_orgnr: str
    employer_name: str
    valid_until: datetime.date
    valid_from: datetime.date | None
    reason_codes: list[str] | None
    checked_at: datetime.datetime | None
    card_type_code: str
    # When and why a revoked card was revoked (None for any other card, or if not recorded).
    revoked_at: datetime.datetime | None
    revocation_reason: str | None


_FACTS_FIELDS = [field.name for field in fields(CardStatusFacts)]
_FACTS_CARD_FIELDS = _FACTS_FIELDS[: _FACTS_FIELDS.index("card_type_code")]


class _Statement(NamedTuple):
    # The card's fields, then its type's columns, then the revocation's time and reason.
    sql: str
    # (column, the converters the ORM would apply to it), for the columns that have any.
    converted: list[tuple[int, list[Any]]]


def _statement(card_fields: list[Field[Any, Any]], type_columns: Sequence[str]) -> _Statement:
    """SELECT the card's fields, its type's columns and, for a revoked card, when and why it
    was revoked, by the card's number.

    A card is revoked once (the partial unique index cards_one_revocation_per_card), so a
    plain join finds its revocation; for any other card the join's condition on the card's
    state is false before a transition is read. Subqueries with ORDER BY … LIMIT 1 cost
    PostgreSQL a fifth more CPU per lookup, even never run (bench/README.md).
    """
    quote = connection.ops.quote_name
    card_table = quote(Card._meta.db_table)
    type_table = quote(CardType._meta.db_table)
    transition_table = quote(CardTransition._meta.db_table)

    def column_of(model: type[Model], name: str) -> str:
        field = model._meta.get_field(name)
        assert isinstance(field, Field)  # noqa: S101 (concrete columns only)
        return quote(field.column)

    def card(name: str) -> str:
        return f"{card_table}.{column_of(Card, name)}"

    def transition(name: str) -> str:
        return f"t.{column_of(CardTransition, name)}"

    at_field = CardTransition._meta.get_field("at")
    assert isinstance(at_field, Field)  # noqa: S101
    columns = [_selected(f"{card_table}.{quote(field.column)}", field) for field in card_fields]
    columns += [f"{type_table}.{column_of(CardType, name)}" for name in type_columns]
    columns += [_selected(transition("at"), at_field), transition("reason")]
    # A fixed code of the model's, not input: it can be written into the text as a literal.
    revoked = Card.State.REVOKED.value
    assert revoked.isalpha()  # noqa: S101
    # Only quoted names from the models go into the text; the number is a parameter.
    sql = (
        f"SELECT {', '.join(columns)} FROM {card_table} "  # noqa: S608
        f"INNER JOIN {type_table} ON {type_table}.{column_of(CardType, 'id')} = "
        f"{card('card_type')} "
        f"LEFT JOIN {transition_table} t ON {transition('card')} = {card('id')} "
        f"AND {transition('to_state')} = '{revoked}' AND {card('state')} = '{revoked}' "
        f"WHERE {card('number')} = %s"
    )
    converted = []
    tables: list[tuple[Field[Any, Any] | None, str]] = [
        (field, Card._meta.db_table) for field in card_fields
    ]
    tables += [(None, "")] * len(type_columns)
    tables += [(at_field, CardTransition._meta.db_table), (None, "")]
    for index, (field, table) in enumerate(tables):
        if field is None:
            continue
        column = field.get_col(table)
        # As the SQL compiler does: the backend's converters, then the field's.
        found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if _read_as_utc(field):
            found = [_aware_in_utc, *found]
        if found:
            converted.append((index, [(converter, column) for converter in found]))
    return _Statement(sql=sql, converted=converted)


def _read_as_utc(field: Field[Any, Any]) -> bool:
    # PostgreSQL's timestamptz only: SQLite keeps times as text, which the ORM's own
    # converters parse (they are in the statement's converters already).
    return (
        isinstance(field, DateTimeField) and settings.USE_TZ and connection.vendor == "postgresql"
    )


def _selected(column: str, field: Field[Any, Any]) -> str:
    """The column as the statement selects it: a time as UTC wall-clock time.

    Django registers its own loader for timestamptz columns, which keeps psycopg from using
    its C one: setting it up and loading a value cost 47 k instructions, and reading the times
    this way saves 36 k per lookup, about 2 % of the API's CPU (bench/README.md). The same
    instant read as a timestamp in UTC goes through psycopg's C loader, and _aware_in_utc
    makes it aware in UTC again: the instant the ORM reads.
    """
    return f"{column} AT TIME ZONE 'UTC'" if _read_as_utc(field) else column


def _aware_in_utc(
    value: datetime.datetime | None, expression: object, database: BaseDatabaseWrapper
) -> datetime.datetime | None:
    return value if value is None else value.replace(tzinfo=datetime.UTC)


def _fetch(statement: _Statement, number: str) -> tuple[list[Any], BaseDatabaseWrapper] | None:
    """The statement's row for the number, converted as the ORM would, or None."""
    normalised = normalise(number)
    # Only digits of a card number's length can be a card's: spare the database, and keep
    # characters such as NUL, which PostgreSQL rejects, out of the query. The check digit is
    # the views' to check, once: the page's form before it asks, the API only when no card
    # has the number (a mistyped number gets its own answer).
    if not has_card_number_shape(normalised):
        return None
    # The connection once: every attribute of django.db.connection is a context-local lookup.
    database = connections[DEFAULT_DB_ALIAS]
    with database.cursor() as cursor:
        cursor.execute(statement.sql, [normalised])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for column, converters in statement.converted:
        value = values[column]
        for converter, expression in converters:
            value = converter(value, expression, database)
        values[column] = value
    return values, database


# --- The status page: a Card ----------------------------------------------------------------


class _PageStatement(NamedTuple):
    statement: _Statement
    # Where each of the card's columns goes among all the model's fields: Model.from_db given
    # a value (or DEFERRED) for every field goes straight to the model's constructor.
    card_positions: list[int]
    card_model_fields: list[str]
    # Where the card type's id, code and names go among its model's fields.
    type_positions: list[int]
    type_model_fields: list[str]


_PAGE_TYPE_COLUMNS = ("code", "name_nb", "name_en")


@functools.cache
def _page_statement() -> _PageStatement:
    shown = [field for field in Card._meta.concrete_fields if field.attname in _PAGE_FIELDS]
    all_card_fields = [f.attname for f in Card._meta.concrete_fields]
    type_fields = [f.attname for f in CardType._meta.concrete_fields]
    return _PageStatement(
        statement=_statement(shown, _PAGE_TYPE_COLUMNS),
        card_positions=[all_card_fields.index(f.attname) for f in shown],
        card_model_fields=all_card_fields,
        type_positions=[type_fields.index(name) for name in ("id", *_PAGE_TYPE_COLUMNS)],
        type_model_fields=type_fields,
    )


def card_for_status(*, number: str) -> Card | None:
    """The card with this number (typed with spaces or dashes or not) for the status page,
    with its card type and, if revoked, its revocation (cards.standing.KNOWN_REVOCATION)."""
    query = _page_statement()
    fetched = _fetch(query.statement, number)
    if fetched is None:
        return None
    row, database = fetched
    card_columns = len(query.card_positions)
    values: list[Any] = [DEFERRED] * len(query.card_model_fields)
    for position, value in zip(query.card_positions, row, strict=False):
        values[position] = value
    card = Card.from_db(database.alias, query.card_model_fields, values)
    type_code, type_name_nb, type_name_en, revoked_at, revoked_reason = row[card_columns:]
    type_values: list[Any] = [DEFERRED] * len(query.type_model_fields)
    for position, value in zip(
        query.type_positions,
        (card.card_type_id, type_code, type_name_nb, type_name_en),
        strict=True,
    ):
        type_values[position] = value
    card_type = CardType.from_db(database.alias, query.type_model_fields, type_values)
    Card.card_type.field.set_cached_value(card, card_type)
    if card.state == Card.State.REVOKED:
        revocation = None
        if revoked_at is not None:
            revocation = CardTransition(
                card_id=card.pk, to_state=Card.State.REVOKED, at=revoked_at, reason=revoked_reason
            )
        setattr(card, KNOWN_REVOCATION, revocation)
    return card


# --- The API: the facts it answers with -----------------------------------------------------


@functools.cache
def _facts_statement() -> _Statement:
    # Only what the page may show too (the facts' test holds the identity columns out).
    assert set(_FACTS_CARD_FIELDS) <= _PAGE_FIELDS  # noqa: S101
    by_name = {field.attname: field for field in Card._meta.concrete_fields}
    return _statement([by_name[name] for name in _FACTS_CARD_FIELDS], ("code",))


def card_status_facts(*, number: str) -> CardStatusFacts | None:
    """What the status API answers for the card with this number, or None."""
    fetched = _fetch(_facts_statement(), number)
    if fetched is None:
        return None
    return CardStatusFacts(*fetched[0])
