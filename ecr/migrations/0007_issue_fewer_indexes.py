"""Two indexes fewer on ecr_productissue, which a first pull fills with an issue for most
of its products: each index costs the database ~0.5 s a million issues as they are
written (bench/feeds_ingest.py; 900k issues COPYed in 4.0 s with five indexes, 2.95 s with
three). Its reads go by (tenant, catalog, code) (issue_catalog_code_idx) or by product
(the product foreign key's index: product ids are unique, so the tenant is a filter on
the rows it finds); nothing reads a catalog's issues without its tenant but a catalog's
deletion, which scans them once."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalogs", "0001_initial"),
        ("ecr", "0006_product_removed_index"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="productissue",
            name="issue_product_idx",
        ),
        migrations.AlterField(
            model_name="productissue",
            name="catalog",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="catalogs.catalog",
            ),
        ),
    ]
