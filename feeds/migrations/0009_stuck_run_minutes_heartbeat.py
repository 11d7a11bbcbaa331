"""A running pull's worker now writes its heartbeat every 30 s whatever the run is doing, so a
run of a dead worker is known after minutes: stuck_run_minutes defaults to 3 (it was 30, the
longest a run could go without writing progress). A deployment still on the old default
moves to the new one; one that chose another value keeps it."""

import django.core.validators
from django.db import migrations, models

OLD_DEFAULT, NEW_DEFAULT = 30, 3


def to_new_default(apps, schema_editor):
    FeedSettings = apps.get_model("feeds", "FeedSettings")
    FeedSettings.objects.filter(stuck_run_minutes=OLD_DEFAULT).update(stuck_run_minutes=NEW_DEFAULT)


def to_old_default(apps, schema_editor):
    FeedSettings = apps.get_model("feeds", "FeedSettings")
    FeedSettings.objects.filter(stuck_run_minutes=NEW_DEFAULT).update(stuck_run_minutes=OLD_DEFAULT)


class Migration(migrations.Migration):
    dependencies = [
        ("feeds", "0008_feedrun_confirmed_at"),
    ]

    operations = [
        migrations.AlterField(
            model_name="feedsettings",
            name="stuck_run_minutes",
            field=models.PositiveIntegerField(
                default=3,
                help_text="a running run without a heartbeat for this long is marked failed "
                "(its worker writes one every 30 s while it runs); its tenant's next pull "
                "starts then",
                validators=[django.core.validators.MinValueValidator(2)],
            ),
        ),
        migrations.RunPython(to_new_default, to_old_default),
    ]
