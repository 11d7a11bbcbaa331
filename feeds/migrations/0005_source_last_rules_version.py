"""Remember the reading rules a source's last good pull was read by. Existing sources get ""
(unknown), which differs from every version: their next pull reads the file once."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("feeds", "0004_feedrun_number"),
    ]

    operations = [
        migrations.AddField(
            model_name="productsource",
            name="last_rules_version",
            field=models.CharField(blank=True, editable=False, max_length=20),
        ),
    ]
