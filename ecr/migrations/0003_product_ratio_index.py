"""The availability ratio's index: active products per (tenant, catalog, review status).

Partial on ``removed_at IS NULL`` so the ratio query is an index-only scan (and B-tree
deduplication keeps it small: a handful of distinct keys per catalog). It indexes the
catalogs app's product table, so it lives here, with the one query that needs it.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ecr", "0002_seed_policy_lists"), ("catalogs", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS ecr_product_ratio_idx ON catalogs_product "
            "(tenant_id, catalog_id, review_status) WHERE removed_at IS NULL",
            "DROP INDEX IF EXISTS ecr_product_ratio_idx",
        )
    ]
