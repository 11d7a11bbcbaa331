"""The product list's title, price and last-changed sorts move to a side table
(ProductSortKey).

Their indexes on catalogs_product were maintained row by row by every write (title and
price fed in random order) and made up the largest part of a first pull's time. The side table is kept in step by triggers; on
PostgreSQL it is partitioned by catalog, so that a catalog's first pull can build its
partition's indexes in bulk (catalogs.sort_keys.sort_keys_fill_new_partition).
"""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "catalogs_productsortkey"
DEFER_SETTING = "catalog_health.defer_sort_keys"

POSTGRESQL_TABLE = f"""
DROP TABLE {TABLE};
CREATE TABLE {TABLE} (
    tenant_id bigint NOT NULL,
    product_id bigint NOT NULL,
    catalog_id bigint NOT NULL,
    title varchar(500) NOT NULL,
    price numeric(14, 2) NULL,
    last_changed_at timestamp with time zone NOT NULL,
    CONSTRAINT {TABLE}_pkey PRIMARY KEY (product_id, catalog_id)
) PARTITION BY LIST (catalog_id);
CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT;
CREATE INDEX product_sort_default_title_idx ON {TABLE}_default
    (tenant_id, catalog_id, title, product_id);
CREATE INDEX product_sort_default_price_idx ON {TABLE}_default
    (tenant_id, catalog_id, price, product_id);
CREATE INDEX product_sort_default_changed_idx ON {TABLE}_default
    (tenant_id, catalog_id, last_changed_at, product_id);
"""
# A catalog's own partition holds one tenant's one catalog: its sort indexes need no
# (tenant, catalog) prefix, which made their bulk build twice as slow for price (every
# comparison went through the two equal columns first). The default partition, shared by
# the catalogs without a partition, has its own (tenant, catalog, ...) indexes besides.
# (CreateModel's three indexes are created at the end of the migration, on the partitioned
# table: after the backfill, and on every partition.)

# Row triggers for inserts and updates (a first pull, which fills its partition in bulk,
# turns the insert trigger off for its own transaction with SET LOCAL {DEFER_SETTING}); a
# statement trigger for deletes, one set-based DELETE however many products go.
POSTGRESQL_TRIGGERS = f"""
CREATE FUNCTION catalogs_product_sort_key_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {TABLE} (tenant_id, product_id, catalog_id, title, price, last_changed_at)
    VALUES (NEW.tenant_id, NEW.id, NEW.catalog_id, NEW.title, NEW.price, NEW.last_changed_at);
    RETURN NULL;
END $$;
CREATE TRIGGER product_sort_key_insert AFTER INSERT ON catalogs_product FOR EACH ROW
    WHEN (current_setting('{DEFER_SETTING}', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION catalogs_product_sort_key_insert();

CREATE FUNCTION catalogs_product_sort_key_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE {TABLE}
    SET title = NEW.title, price = NEW.price, last_changed_at = NEW.last_changed_at
    WHERE product_id = OLD.id AND catalog_id = OLD.catalog_id;
    RETURN NULL;
END $$;
CREATE TRIGGER product_sort_key_update
    AFTER UPDATE OF title, price, last_changed_at ON catalogs_product FOR EACH ROW
    WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.price IS DISTINCT FROM NEW.price
          OR OLD.last_changed_at IS DISTINCT FROM NEW.last_changed_at)
    EXECUTE FUNCTION catalogs_product_sort_key_update();

CREATE FUNCTION catalogs_product_sort_key_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {TABLE}
    WHERE product_id = OLD.id AND catalog_id = OLD.catalog_id;
    INSERT INTO {TABLE} (tenant_id, product_id, catalog_id, title, price, last_changed_at)
    VALUES (NEW.tenant_id, NEW.id, NEW.catalog_id, NEW.title, NEW.price, NEW.last_changed_at);
    RETURN NULL;
END $$;
CREATE TRIGGER product_sort_key_move AFTER UPDATE OF id, tenant_id, catalog_id
    ON catalogs_product FOR EACH ROW
    WHEN (OLD.id <> NEW.id OR OLD.tenant_id <> NEW.tenant_id
          OR OLD.catalog_id <> NEW.catalog_id)
    EXECUTE FUNCTION catalogs_product_sort_key_move();

CREATE FUNCTION catalogs_product_sort_key_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {TABLE} k USING deleted_products d
    WHERE k.product_id = d.id AND k.catalog_id = d.catalog_id;
    RETURN NULL;
END $$;
CREATE TRIGGER product_sort_key_delete AFTER DELETE ON catalogs_product
    REFERENCING OLD TABLE AS deleted_products FOR EACH STATEMENT
    EXECUTE FUNCTION catalogs_product_sort_key_delete();
"""

POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS product_sort_key_insert ON catalogs_product;
DROP TRIGGER IF EXISTS product_sort_key_update ON catalogs_product;
DROP TRIGGER IF EXISTS product_sort_key_move ON catalogs_product;
DROP TRIGGER IF EXISTS product_sort_key_delete ON catalogs_product;
DROP FUNCTION IF EXISTS catalogs_product_sort_key_insert();
DROP FUNCTION IF EXISTS catalogs_product_sort_key_update();
DROP FUNCTION IF EXISTS catalogs_product_sort_key_move();
DROP FUNCTION IF EXISTS catalogs_product_sort_key_delete();
"""

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER product_sort_key_insert AFTER INSERT ON catalogs_product BEGIN
        INSERT INTO {TABLE} (tenant_id, product_id, catalog_id, title, price, last_changed_at)
        VALUES (NEW.tenant_id, NEW.id, NEW.catalog_id, NEW.title, NEW.price, NEW.last_changed_at); END""",
    f"""CREATE TRIGGER product_sort_key_update AFTER UPDATE OF id, tenant_id, catalog_id,
        title, price, last_changed_at ON catalogs_product BEGIN
        DELETE FROM {TABLE} WHERE product_id = OLD.id;
        INSERT INTO {TABLE} (tenant_id, product_id, catalog_id, title, price, last_changed_at)
        VALUES (NEW.tenant_id, NEW.id, NEW.catalog_id, NEW.title, NEW.price, NEW.last_changed_at); END""",
    f"""CREATE TRIGGER product_sort_key_delete AFTER DELETE ON catalogs_product BEGIN
        DELETE FROM {TABLE} WHERE product_id = OLD.id; END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS product_sort_key_insert",
    "DROP TRIGGER IF EXISTS product_sort_key_update",
    "DROP TRIGGER IF EXISTS product_sort_key_delete",
]

BACKFILL = (
    f"INSERT INTO {TABLE} (tenant_id, product_id, catalog_id, title, price, last_changed_at) "
    "SELECT tenant_id, id, catalog_id, title, price, last_changed_at FROM catalogs_product"
)


def create_side_table(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_TABLE)
        # the catalogs that already have products get a partition each
        with schema_editor.connection.cursor() as cur:
            cur.execute("SELECT DISTINCT catalog_id FROM catalogs_product ORDER BY 1")
            catalog_ids = [row[0] for row in cur.fetchall()]
        for catalog_id in catalog_ids:
            schema_editor.execute(
                f"CREATE TABLE {TABLE}_c{int(catalog_id)} PARTITION OF {TABLE} "
                f"FOR VALUES IN ({int(catalog_id)})"
            )
        schema_editor.execute(BACKFILL)
        schema_editor.execute(POSTGRESQL_TRIGGERS)
    else:
        schema_editor.execute(BACKFILL)
        for statement in SQLITE_TRIGGERS:
            schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_DROP)
    else:
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("catalogs", "0008_product_availability_index_rare_only"),
        ("tenancy", "0001_initial"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="product", name="product_title_idx"),
        migrations.RemoveIndex(model_name="product", name="product_price_idx"),
        migrations.RemoveIndex(model_name="product", name="product_changed_idx"),
        migrations.CreateModel(
            name="ProductSortKey",
            fields=[
                (
                    "product",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="sort_key",
                        serialize=False,
                        to="catalogs.product",
                    ),
                ),
                ("title", models.CharField(blank=True, max_length=500)),
                (
                    "price",
                    models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True),
                ),
                ("last_changed_at", models.DateTimeField()),
                (
                    "catalog",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="catalogs.catalog",
                    ),
                ),
                (
                    "tenant",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="tenancy.tenant",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["title", "product"], name="product_sort_title_idx"),
                    models.Index(fields=["price", "product"], name="product_sort_price_idx"),
                    models.Index(
                        fields=["last_changed_at", "product"], name="product_sort_changed_idx"
                    ),
                ],
            },
        ),
        migrations.RunPython(create_side_table, drop_triggers),
    ]
