"""A failed bulk upload's reason is stored as a code with params, like its rows' problems
(0012), and worded in the reader's language. Uploads that failed before keep their reason as
text, in the uploader's language, as legacy_failure."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0012_bulk_row_problem_codes"),
    ]

    operations = [
        migrations.RenameField(
            model_name="bulkupload",
            old_name="failure",
            new_name="legacy_failure",
        ),
        migrations.AlterField(
            model_name="bulkupload",
            name="legacy_failure",
            field=models.TextField(
                blank=True, verbose_name="why it could not be checked (as text)"
            ),
        ),
        migrations.AddField(
            model_name="bulkupload",
            name="failure_problem",
            field=models.JSONField(
                blank=True, default=None, null=True, verbose_name="why it could not be checked"
            ),
        ),
    ]
