"""A bulk order row's problems are stored as codes with params and put into words when shown,
in the reader's language (orders/bulk_problems.py). Rows checked before keep their messages,
which were stored as text in the uploader's language, as legacy_messages: text cannot be
turned back into codes reliably, so it is shown as it was."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0011_bulk_upload"),
    ]

    operations = [
        migrations.RenameField(
            model_name="bulkuploadrow",
            old_name="messages",
            new_name="legacy_messages",
        ),
        migrations.AlterField(
            model_name="bulkuploadrow",
            name="legacy_messages",
            field=models.JSONField(blank=True, default=list, verbose_name="messages (as text)"),
        ),
        migrations.AddField(
            model_name="bulkuploadrow",
            name="problems",
            field=models.JSONField(blank=True, default=list, verbose_name="problems"),
        ),
    ]
