"""The sort keys' update trigger can be deferred for a transaction, as the insert trigger
already could (catalogs.sort_keys.DEFER_SORT_KEYS).

A re-pull's merge updates its changed products in one statement and then writes their sort
keys in one set-based UPDATE (catalogs.sort_keys.sort_keys_written_after), instead of one
trigger call per product. PostgreSQL only: SQLite's triggers are unchanged.
"""

from django.db import migrations

DEFER_SETTING = "catalog_health.defer_sort_keys"

TRIGGER = """
DROP TRIGGER IF EXISTS product_sort_key_update ON catalogs_product;
CREATE TRIGGER product_sort_key_update
    AFTER UPDATE OF title, price, last_changed_at ON catalogs_product FOR EACH ROW
    WHEN ((OLD.title IS DISTINCT FROM NEW.title OR OLD.price IS DISTINCT FROM NEW.price
           OR OLD.last_changed_at IS DISTINCT FROM NEW.last_changed_at)
          {deferrable})
    EXECUTE FUNCTION catalogs_product_sort_key_update();
"""
DEFERRABLE = f"AND current_setting('{DEFER_SETTING}', true) IS DISTINCT FROM 'on'"


def deferrable(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER.format(deferrable=DEFERRABLE))


def always(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER.format(deferrable=""))


class Migration(migrations.Migration):
    dependencies = [
        ("catalogs", "0020_catalog_country_iso_3166"),
    ]

    operations = [migrations.RunPython(deferrable, always)]
