"""Diagnostics snapshots stored before their groups counted Pending products apart
(``pending`` beside ``n`` in each row) are dropped: the next view or feed run recomputes
them."""

from django.db import migrations


def drop_snapshots(apps, schema_editor):
    apps.get_model("ecr", "DiagnosticsSnapshot").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("ecr", "0011_narrow_more_seeded_policy_entries")]

    operations = [migrations.RunPython(drop_snapshots, migrations.RunPython.noop)]
