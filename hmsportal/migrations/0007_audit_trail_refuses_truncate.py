"""The audit trail refuses TRUNCATE too (issue 10 point 7: append-only). 0004's row trigger
never fires for TRUNCATE, which empties a table without touching its rows one by one, so a
statement trigger refuses it, through the same function (it names the operation refused).

Only the table's owner can step around a trigger (ALTER TABLE … DISABLE TRIGGER), which is
why the web app and the workers run as a role that owns nothing (manage.py grant_app_role).
The test suite, connected as the owner, disables this trigger for its own flush between
transactional tests, inside the flush's transaction (tests/conftest.py).
"""

from django.db import migrations

from hmsportal.migration_operations import PostgreSQLOnly

REFUSE_TRUNCATE = """
CREATE TRIGGER hmsportal_auditentry_no_truncate
    BEFORE TRUNCATE ON hmsportal_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION hmsportal_auditentry_refuse_change();
"""

REFUSE_TRUNCATE_REVERSE = """
DROP TRIGGER IF EXISTS hmsportal_auditentry_no_truncate ON hmsportal_auditentry;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("hmsportal", "0006_audit_delegation_flagging"),
    ]

    operations = [
        PostgreSQLOnly(REFUSE_TRUNCATE, reverse_sql=REFUSE_TRUNCATE_REVERSE),
    ]
