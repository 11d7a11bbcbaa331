"""Number feed runs per tenant: Run #1, #2, … of each tenant, in creation order."""

import django.db.models.deletion
from django.db import migrations, models


def backfill(apps, schema_editor):
    FeedRun = apps.get_model("feeds", "FeedRun")
    FeedRunCounter = apps.get_model("feeds", "FeedRunCounter")
    qn = schema_editor.connection.ops.quote_name
    runs = qn(FeedRun._meta.db_table)
    counters = qn(FeedRunCounter._meta.db_table)
    with schema_editor.connection.cursor() as cur:
        # creation order is id order (ids are handed out at insert)
        cur.execute(
            f"UPDATE {runs} SET number = numbered.n FROM ("  # noqa: S608 (table names)
            f"SELECT id, row_number() OVER (PARTITION BY tenant_id ORDER BY id) AS n "
            f"FROM {runs}) AS numbered WHERE {runs}.id = numbered.id"
        )
        cur.execute(
            f"INSERT INTO {counters} (tenant_id, last) "  # noqa: S608
            f"SELECT tenant_id, MAX(number) FROM {runs} GROUP BY tenant_id"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("feeds", "0003_run_safety"),
        ("tenancy", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="FeedRunCounter",
            fields=[
                (
                    "tenant",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="tenancy.tenant",
                    ),
                ),
                ("last", models.PositiveIntegerField(default=0)),
            ],
        ),
        migrations.AddField(
            model_name="feedrun",
            name="number",
            field=models.PositiveIntegerField(editable=False, null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="feedrun",
            name="number",
            field=models.PositiveIntegerField(editable=False),
        ),
        migrations.AddConstraint(
            model_name="feedrun",
            constraint=models.UniqueConstraint(
                fields=("tenant", "number"), name="feedrun_tenant_number_uniq"
            ),
        ),
    ]
