"""A held run's confirmation gets its own field: confirmed_by was also the flag the worker
read, so a run whose confirming user was deleted before it applied (SET_NULL), or one
confirmed with no signed-in user, was held again or never applied. Runs confirmed before
this migration (confirmed_by set) are confirmed; when is not known, so they get the time of
the migration."""

from django.db import migrations, models
from django.db.models.functions import Now


def confirmed_runs_stay_confirmed(apps, schema_editor):
    FeedRun = apps.get_model("feeds", "FeedRun")
    FeedRun.objects.filter(confirmed_by__isnull=False).update(confirmed_at=Now())


class Migration(migrations.Migration):
    dependencies = [
        ("feeds", "0007_run_details_retention"),
    ]

    operations = [
        migrations.AddField(
            model_name="feedrun",
            name="confirmed_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(confirmed_runs_stay_confirmed, migrations.RunPython.noop),
    ]
