"""The audit trail, append-only: on PostgreSQL a trigger refuses every UPDATE and DELETE of its
rows, whoever asks (the application's model refuses them too). SQLite has no such trigger; the
embedded setup relies on the model alone.

TRUNCATE is refused by a statement trigger of its own since 0007 (a row trigger never sees it);
PostgreSQLOnly lives in hmsportal.migration_operations so that both share it."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from hmsportal.migration_operations import PostgreSQLOnly

APPEND_ONLY = """
CREATE FUNCTION hmsportal_auditentry_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER hmsportal_auditentry_append_only
    BEFORE UPDATE OR DELETE ON hmsportal_auditentry
    FOR EACH ROW EXECUTE FUNCTION hmsportal_auditentry_refuse_change();
"""

APPEND_ONLY_REVERSE = """
DROP TRIGGER IF EXISTS hmsportal_auditentry_append_only ON hmsportal_auditentry;
DROP FUNCTION IF EXISTS hmsportal_auditentry_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("hmsportal", "0003_opaque_usernames"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "at",
                    models.DateTimeField(
                        db_index=True, default=django.utils.timezone.now, verbose_name="when"
                    ),
                ),
                (
                    "actor_name",
                    models.CharField(blank=True, max_length=200, verbose_name="who (name then)"),
                ),
                (
                    "organisation_orgnr",
                    models.CharField(
                        blank=True, db_index=True, max_length=9, verbose_name="organisation number"
                    ),
                ),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("order.placed", "Order placed"),
                            ("order_line.approved", "Approved after the register check"),
                            ("order_line.rejected", "Rejected after the register check"),
                            (
                                "order_line.awaiting_registration",
                                "Waiting for Aa-registeret after the register check",
                            ),
                            ("delegation.granted", "Access given"),
                            ("delegation.revoked", "Access removed"),
                            ("card.issued", "Card issued"),
                            ("card.state_changed", "Card changed state"),
                            ("card.revoked", "Card revoked"),
                            ("card.replaced", "Card replaced"),
                            ("card.imported", "Card imported from the previous producer"),
                            ("upload.link_issued", "Upload link sent to the employee"),
                            ("upload.files_received", "Files uploaded by the employee"),
                            ("upload.kept", "Uploaded file kept for the order form"),
                            ("contact.changed", "Contact details changed"),
                            ("contact.email_confirmed", "E-mail address confirmed"),
                            ("login.succeeded", "Logged in"),
                            ("login.failed", "Login failed"),
                        ],
                        db_index=True,
                        max_length=40,
                        verbose_name="what",
                    ),
                ),
                (
                    "subject_type",
                    models.CharField(blank=True, max_length=60, verbose_name="kind of record"),
                ),
                ("subject_id", models.CharField(blank=True, max_length=40, verbose_name="record")),
                (
                    "subject_label",
                    models.CharField(blank=True, max_length=200, verbose_name="record name"),
                ),
                ("before", models.JSONField(blank=True, default=dict, verbose_name="before")),
                ("after", models.JSONField(blank=True, default=dict, verbose_name="after")),
                (
                    "request_ip",
                    models.GenericIPAddressField(
                        blank=True, null=True, verbose_name="from address"
                    ),
                ),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="who",
                    ),
                ),
            ],
            options={
                "verbose_name": "audit entry",
                "verbose_name_plural": "audit trail",
                "ordering": ["-at", "-pk"],
                "indexes": [
                    models.Index(fields=["organisation_orgnr", "-at"], name="audit_org_at_idx"),
                    models.Index(fields=["subject_type", "subject_id"], name="audit_subject_idx"),
                ],
            },
        ),
        PostgreSQLOnly(APPEND_ONLY, reverse_sql=APPEND_ONLY_REVERSE),
    ]
