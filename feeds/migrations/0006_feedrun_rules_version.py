"""Remember on each run the reading rules its records were read by, so that a held run
confirmed after an upgrade records those on its source, not the ones running at its
confirmation. Existing runs get "" (unknown): a run held before this migration and confirmed
after it leaves its source's next pull reading the file once."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("feeds", "0005_source_last_rules_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="feedrun",
            name="rules_version",
            field=models.CharField(blank=True, editable=False, max_length=20),
        ),
    ]
