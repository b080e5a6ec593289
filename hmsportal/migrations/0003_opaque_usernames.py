"""Usernames made before the ID-porten login held the identity number ("id-<number>"); the
username shows in logs and the admin, so it becomes an opaque one."""

import secrets

from django.db import migrations


def opaque_usernames(apps, schema_editor):
    User = apps.get_model("hmsportal", "User")
    for user in User.objects.filter(username__startswith="id-").only("pk", "username"):
        user.username = f"person-{secrets.token_hex(8)}"
        user.save(update_fields=["username"])


class Migration(migrations.Migration):
    dependencies = [("hmsportal", "0002_user_contact_details")]

    operations = [migrations.RunPython(opaque_usernames, migrations.RunPython.noop)]
