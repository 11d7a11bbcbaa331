"""The bookkeeping times of a product default to now() in the database.

A first pull (feeds.services._ProductWriter) COPYs new products straight into the table and
leaves these six columns out: parsing six timestamps per row cost ~7 s of PostgreSQL time at
a million products. Django still sets them on every ORM insert (auto_now_add), so the model
state is unchanged; PostgreSQL only (the embedded SQLite default never takes that path).
"""

from django.db import migrations

COLUMNS = (
    "first_seen_at",
    "last_changed_at",
    "last_seen_at",
    "review_requested_at",
    "created_at",
    "updated_at",
)


def set_defaults(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        alters = ", ".join(f"ALTER COLUMN {c} SET DEFAULT now()" for c in COLUMNS)
        schema_editor.execute(f"ALTER TABLE catalogs_product {alters}")


def drop_defaults(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        alters = ", ".join(f"ALTER COLUMN {c} DROP DEFAULT" for c in COLUMNS)
        schema_editor.execute(f"ALTER TABLE catalogs_product {alters}")


class Migration(migrations.Migration):
    dependencies = [("catalogs", "0006_product_feed_line_hash")]

    operations = [migrations.RunPython(set_defaults, drop_defaults, elidable=False)]
