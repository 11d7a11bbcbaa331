"""The removed products of a catalog: (tenant, catalog, id) WHERE removed_at IS NOT NULL.

ECR's issue counts per code (every feed run's evaluation) count the active products only:
they leave out the issues of the catalog's removed products, found here instead of by
looking up the product of each issue (2.3 s against 0.6 s at 900,000 issues). Partial on
the few removed rows, so a first pull, which removes nothing, never writes to it.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ecr", "0005_diagnostics_counts_version"), ("catalogs", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS ecr_product_removed_idx ON catalogs_product "
            "(tenant_id, catalog_id, id) WHERE removed_at IS NOT NULL",
            "DROP INDEX IF EXISTS ecr_product_removed_idx",
        )
    ]
