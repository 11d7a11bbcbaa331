"""What each index of catalogs_product costs a first pull (issue #4's full-ingest target).

    .venv/bin/python bench/product_index_cost.py --products 1000000

A first pull of N new products ends in one INSERT of N rows into catalogs_product; PostgreSQL
adds an entry to every index of the table for every row, one backend on one core. This
script inserts the same N generated rows (sku ascending as most feeds list them, titles and
prices in random order) into a scratch copy of the table:

- with no index at all (the heap alone),
- with what identity needs: the primary key and the unique (tenant, catalog, sku) index,
- with that plus each other index of the real table, one at a time,
- with every index, and with every index plus the (tenant, catalog) foreign key, whose
  deferred per-row checks run at COMMIT;
- into the bare table, with every index then built from the rows in the same transaction
  (what a first pull could do if products were partitioned by catalog).

Index and constraint definitions are read from the live table (pg_indexes, pg_constraint),
so the figures follow the migrations. Each insert is its own transaction, COMMIT included.
The rows are generated once into an UNLOGGED source table; nothing of the product tables is
touched.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import checkpoint, machine, setup_django

SOURCE = "bench_idx_src"
SCRATCH = "bench_idx_product"
IDENTITY = ("catalogs_product_pkey", "product_tenant_catalog_sku_uniq")

# one row per product, every NOT NULL column of catalogs_product given a realistic value
GENERATE = """
SELECT g AS id, %(tenant)s::bigint AS tenant_id, %(catalog)s::bigint AS catalog_id,
       'SKU-' || lpad(g::text, 8, '0') AS sku, '' AS item_group_id,
       (ARRAY['Northwind','Acme Outdoor','Lumen','Fjord & Co','Papillon'])[1 + (h %% 5)]
         || ' ' || (ARRAY['Trail Runner','Linen Shirt','Chef Knife','Tent 2P','Hoodie'])
         [1 + (h / 5 %% 5)] || ' ' || (h %% 100000)::text AS title,
       repeat('durable lightweight breathable organic ', 6) AS description,
       'https://shop.example/p/' || g AS link, 'https://cdn.example/i/' || g || '.jpg'
         AS image_link, '[]'::jsonb AS additional_image_links, 'Northwind' AS brand,
       '' AS gtin, '' AS mpn, 'new' AS condition,
       (ARRAY['in_stock','in_stock','in_stock','in_stock','in_stock','in_stock','in_stock',
              'in_stock','out_of_stock','preorder'])[1 + (h %% 10)] AS availability,
       round((h %% 50000) / 100.0 + 1, 2)::numeric(14,2) AS price,
       NULL::numeric(14,2) AS sale_price, 'USD' AS currency, 5.99::numeric(14,2)
         AS shipping_fee, NULL::integer AS inventory_quantity, '' AS product_type,
       '' AS google_product_category, '{}'::jsonb AS custom_attributes,
       md5(g::text) AS content_hash, now() AS first_seen_at, now() AS last_changed_at,
       now() AS last_seen_at, NULL::bigint AS last_seen_run_id,
       NULL::timestamptz AS removed_at, 'pending' AS review_status,
       now() AS review_requested_at, NULL::timestamptz AS reviewed_at,
       now() AS created_at, now() AS updated_at, NULL::bigint AS feed_line_hash
FROM (SELECT g, abs(hashint8(g)) AS h FROM generate_series(1, %(n)s) g) s
"""


def _scratch_def(sql: str) -> str:
    """An index or constraint definition of catalogs_product, aimed at the scratch table."""
    sql = re.sub(r"\bON (public\.)?catalogs_product\b", f"ON {SCRATCH}", sql)
    return re.sub(r"INDEX (\w+) ON", lambda m: f"INDEX {m.group(1)}_b ON", sql)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=20_000)
    args = parser.parse_args()
    setup_django()
    from django.db import connection

    from catalog_health.tenancy.models import Tenant
    from catalogs.models import Catalog

    tenant, _ = Tenant.objects.get_or_create(slug="bench-index", defaults={"name": "Bench idx"})
    catalog, _ = Catalog.objects.get_or_create(tenant=tenant, name="index cost")
    n = args.products
    cur = connection.cursor()
    connection.set_autocommit(True)
    cur.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'catalogs_product' "
        "ORDER BY indexname"
    )
    indexes = dict(cur.fetchall())
    cur.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'catalogs_product'::regclass AND contype = 'f'"
    )
    foreign_keys = [row[0] for row in cur.fetchall()]
    cur.execute(f"DROP TABLE IF EXISTS {SOURCE}, {SCRATCH}")
    started = time.perf_counter()
    cur.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = 'catalogs_product' ORDER BY ordinal_position"
    )
    columns = ", ".join(row[0] for row in cur.fetchall())  # the table's own column order
    cur.execute(f"CREATE UNLOGGED TABLE {SOURCE} (LIKE catalogs_product)")
    cur.execute(
        f"INSERT INTO {SOURCE} SELECT {columns} FROM ({GENERATE}) generated",
        {"tenant": tenant.pk, "catalog": catalog.pk, "n": n},
    )
    print(f"generated {n} rows in {time.perf_counter() - started:.1f}s", flush=True)

    def scratch(index_names: list[str] = (), fks: list[str] = ()) -> None:
        """A new scratch table with these indexes and foreign keys, the WAL written out."""
        cur.execute(f"DROP TABLE IF EXISTS {SCRATCH}")
        cur.execute(f"CREATE TABLE {SCRATCH} (LIKE catalogs_product INCLUDING DEFAULTS)")
        for name in index_names:
            cur.execute(_scratch_def(indexes[name]))
        for i, fk in enumerate(fks):
            cur.execute(f"ALTER TABLE {SCRATCH} ADD CONSTRAINT {SCRATCH}_fk{i} {fk}")
        checkpoint()

    def insert(label: str, index_names: list[str], fks: list[str] = ()) -> float:
        scratch(index_names, fks)
        t0 = time.perf_counter()
        with connection.cursor() as c:
            c.execute("BEGIN")
            c.execute(f"INSERT INTO {SCRATCH} SELECT * FROM {SOURCE}")
            c.execute("COMMIT")
        seconds = time.perf_counter() - t0
        print(f"  {label:48s} {seconds:7.2f}s", flush=True)
        return seconds

    print(f"product_index_cost: INSERT of {n} new products, {machine()}")
    results = {"heap alone (no index)": insert("heap alone (no index)", [])}
    base = insert("primary key + unique (tenant, catalog, sku)", list(IDENTITY))
    results["identity"] = base
    others = [name for name in indexes if name not in IDENTITY]
    marginal = {}
    for name in others:
        marginal[name] = insert(f"  + {name}", [*IDENTITY, name]) - base
    every = insert("every index", list(indexes))
    with_fk = insert("every index + foreign key (checked at COMMIT)", list(indexes), foreign_keys)

    # the alternative a partition per catalog would allow: rows first, then every index built
    # by sorting them, in one transaction
    scratch()
    builds = {}
    t0 = time.perf_counter()
    with connection.cursor() as c:
        c.execute("BEGIN")
        c.execute(f"INSERT INTO {SCRATCH} SELECT * FROM {SOURCE}")
        heap = time.perf_counter() - t0
        for name in indexes:
            t1 = time.perf_counter()
            c.execute(_scratch_def(indexes[name]))
            builds[name] = time.perf_counter() - t1
        c.execute("COMMIT")
    bulk = time.perf_counter() - t0
    print(f"  {'rows first, then every index built':48s} {bulk:7.2f}s", flush=True)
    print("marginal cost per index over the identity indexes:")
    for name, extra in sorted(marginal.items(), key=lambda kv: -kv[1]):
        print(f"  {name:40s} {extra:+7.2f}s ({extra / n * 1e6:.1f} µs a row)")
    print(f"foreign key check at COMMIT: {with_fk - every:+.2f}s")
    print(f"every index: {every:.2f}s = {every / base:.1f} x the identity indexes alone")
    print(
        f"rows first, then the indexes: {bulk:.2f}s = {bulk / every:.2f} x every index "
        f"maintained row by row (rows {heap:.2f}s; "
        + ", ".join(f"{name} {t:.2f}s" for name, t in sorted(builds.items(), key=lambda kv: -kv[1]))
        + ")"
    )
    cur.execute(f"DROP TABLE IF EXISTS {SOURCE}, {SCRATCH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
