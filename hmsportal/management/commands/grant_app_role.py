"""Give the database role the web app and the workers run as what they need, and no more.

Run by the tables' owner (the role `migrate` runs as) after every migrate. The app role owns
nothing, so it can neither drop nor disable the audit trail's triggers, and on the audit trail
it may only read and add (issue 10 point 7: append-only).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from psycopg import sql

from hmsportal.models import AuditEntry

# What the application does with its tables: no TRUNCATE, REFERENCES or TRIGGER.
TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
APPEND_ONLY_PRIVILEGES = "SELECT, INSERT"
# nextval() for serial ids; setval() (UPDATE) is left to the owner.
SEQUENCE_PRIVILEGES = "USAGE, SELECT"


class Command(BaseCommand):
    help = (
        "Grant the database role the web app and the Celery workers run as what they need on "
        "every table and sequence of the schema, but only SELECT and INSERT on the audit trail. "
        "Run it as the tables' owner after every migrate."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("role", help="The app's database role (it must exist, own nothing).")
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, help="The database to grant in."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[options["database"]]
        if connection.vendor != "postgresql":
            raise CommandError("grant_app_role needs PostgreSQL; the embedded SQLite has no roles.")
        role = options["role"]
        audit_table = AuditEntry._meta.db_table
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(
                "SELECT rolsuper, pg_has_role(%s, tableowner, 'MEMBER'), current_schema() "
                "FROM pg_roles, pg_tables "
                "WHERE rolname = %s AND tablename = %s AND schemaname = current_schema()",
                [role, role, audit_table],
            )
            found = cursor.fetchone()
            if found is None:
                raise CommandError(
                    f"There is no role {role!r} (or no {audit_table}: run migrate first). "
                    f"Create the role first, e.g. CREATE ROLE {role} LOGIN PASSWORD '…'."
                )
            superuser, owner, schema = found
            if superuser:
                raise CommandError(f"{role!r} is a superuser: no grant or trigger binds it.")
            if owner:
                raise CommandError(
                    f"{role!r} owns the tables (or is a member of their owner), so it could drop "
                    "the audit trail's triggers. Run the app as a role of its own."
                )
            names = {
                "role": sql.Identifier(role),
                "schema": sql.Identifier(schema),
                "audit": sql.Identifier(schema, audit_table),
            }
            # All at once, in one transaction: running it again (after a migrate added tables)
            # leaves exactly these privileges, whatever was granted by hand before.
            for statement in (
                "GRANT USAGE ON SCHEMA {schema} TO {role}",
                "REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}",
                "REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {role}",
                f"GRANT {TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA {{schema}} TO {{role}}",
                f"GRANT {SEQUENCE_PRIVILEGES} ON ALL SEQUENCES IN SCHEMA {{schema}} TO {{role}}",
                "REVOKE ALL ON {audit} FROM {role}",
                f"GRANT {APPEND_ONLY_PRIVILEGES} ON {{audit}} TO {{role}}",
            ):
                cursor.execute(sql.SQL(statement).format(**names).as_string(connection.connection))
            cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = %s", [schema])
            (tables,) = cursor.fetchone()
        self.stdout.write(
            f"{role}: {TABLE_PRIVILEGES} on {tables - 1} tables, {APPEND_ONLY_PRIVILEGES} on "
            f"{audit_table}, {SEQUENCE_PRIVILEGES} on the sequences of schema {schema}."
        )
