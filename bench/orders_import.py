"""Order export import: a TikTok Shop order CSV through import_orders' service vs a raw COPY
of the same file, same data, same run.

    .venv/bin/python bench/orders_import.py --size small|medium|full   (20k / 200k / 1M lines)

Writes a TikTok-format CSV (31 columns, US dates, ids ending with a tab, BRL comma
decimals) to bench/data/ (reused), fills one catalog with products, then measures:

* floor: COPY of the file as it is into an ordinary table of 31 text columns (as the
  feeds benchmark's floor);
* import: orders_import_file from scratch (read in chunks, typed, staged by COPY, one merge);
* re-import of the same file (idempotent: writes nothing);
* the process's peak RSS.

Target (issue #20): import <= 3 x floor; memory bounded by the chunk size, not the file.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from common import ROOT, checkpoint, machine, peak_rss_mb, setup_django

SIZES = {"small": 20_000, "medium": 200_000, "full": 1_000_000}
PRODUCTS = 5_000


def write_file(path: Path, lines: int) -> None:
    import sys

    sys.path.insert(0, str(ROOT))
    from catalogs.tests.export_samples import TIKTOK_HEADER, tiktok_row

    rng = random.Random(20)
    with path.open("w", encoding="utf-8") as out:
        out.write("\ufeff" + TIKTOK_HEADER + "\n")
        for i in range(lines):
            # an order's lines share its times; orders' times differ, as in real exports
            order = i // 2
            day, hour, minute, second = 1 + order % 27, 1 + order % 12, order % 60, order // 60 % 60
            shipped = rng.random() < 0.7
            cancelled = not shipped and rng.random() < 0.2
            out.write(
                tiktok_row(
                    order_id=str(576461413040000000 + i // 2),
                    seller_sku=f"SKU-{rng.randrange(PRODUCTS):05d}",
                    sku_id=str(1729384756100000 + i),
                    quantity=str(1 + i % 3),
                    price=f"BRL {10 + i % 90},{i % 100:02d}",
                    created=f"03/{day:02d}/2026 {hour}:{minute:02d}:{second:02d} PM",
                    paid=f"03/{day:02d}/2026 {hour}:{minute:02d}:{second:02d} PM",
                    shipped=f"03/{day + 1:02d}/2026 10:{minute:02d}:{second:02d} AM"
                    if shipped
                    else "",
                    status="Shipped" if shipped else ("Cancelled" if cancelled else "To ship"),
                    cancelled=f"03/{day:02d}/2026 11:{minute:02d}:{second:02d} PM"
                    if cancelled
                    else "",
                    cancel_by="Seller" if cancelled else "",
                    reason="Out of stock" if cancelled else "",
                    tracking=f"BR{i:09d}" if shipped else "",
                )
                + "\n"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=list(SIZES), default="small")
    parser.add_argument("--lines", type=int, help="overrides --size")
    args = parser.parse_args()
    lines = args.lines or SIZES[args.size]
    setup_django()
    from django.db import connection

    from catalog_health.tenancy.models import Tenant
    from catalogs import order_files
    from catalogs.models import Catalog, Order, Product

    data_dir = ROOT / "bench" / "data"
    data_dir.mkdir(exist_ok=True)
    # v2: times distinct per order (v1 repeated 324 times per column)
    path = data_dir / f"tiktok_orders_v2_{lines}.csv"
    if not path.exists():
        write_file(path, lines)
    tenant, _ = Tenant.objects.get_or_create(slug="bench-orders", defaults={"name": "Bench orders"})
    catalog, _ = Catalog.objects.get_or_create(tenant=tenant, name="Orders", currency="BRL")
    if Product.objects.for_tenant(tenant).filter(catalog=catalog).count() != PRODUCTS:
        Product.objects.for_tenant(tenant).filter(catalog=catalog).delete()
        Product.objects.bulk_create(
            Product(tenant=tenant, catalog=catalog, sku=f"SKU-{i:05d}") for i in range(PRODUCTS)
        )
    Order.objects.for_tenant(tenant).delete()
    with connection.cursor() as cur:
        # from scratch: an empty table, not one of dead rows every scan steps over
        cur.execute("VACUUM catalogs_order")
    checkpoint()

    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_orders_floor")
        cur.execute(
            "CREATE TABLE bench_orders_floor (" + ", ".join(f"c{i} text" for i in range(31)) + ")"
        )
        started = time.perf_counter()
        with (
            cur.cursor.copy("COPY bench_orders_floor FROM STDIN (FORMAT csv, HEADER true)") as copy,
            path.open("rb") as f,
        ):
            while block := f.read(1 << 20):
                copy.write(block)
        floor = time.perf_counter() - started
        cur.execute("DROP TABLE bench_orders_floor")
    checkpoint()

    rss_before = peak_rss_mb()
    started = time.perf_counter()
    result = order_files.orders_import_file(tenant=tenant, catalog=catalog, data=path, actor=None)
    first = time.perf_counter() - started
    rss_import = peak_rss_mb()
    checkpoint()
    started = time.perf_counter()
    again = order_files.orders_import_file(tenant=tenant, catalog=catalog, data=path, actor=None)
    second = time.perf_counter() - started
    size_mb = path.stat().st_size / 1e6
    print(f"orders_import: {lines} lines ({size_mb:.0f} MB), {machine()}")
    print(f"  floor (raw COPY of the file)   {floor:7.2f} s")
    print(
        f"  import from scratch            {first:7.2f} s  = {first / floor:.1f} x floor"
        f"  ({result.written} written, {result.refused} refused"
        f"{', indexes rebuilt' if result.bulk else ''})"
    )
    print(
        f"  re-import (unchanged)          {second:7.2f} s  "
        f"({again.written} written, {again.unchanged} unchanged)"
    )
    print("  phases: " + ", ".join(f"{k} {v:.2f} s" for k, v in result.timings.items()))
    print("  re-import phases: " + ", ".join(f"{k} {v:.2f} s" for k, v in again.timings.items()))
    print(f"  peak RSS {rss_import:.0f} MB (before import {rss_before:.0f} MB)")
    assert result.written == Order.objects.for_tenant(tenant).count()
    assert again.written == 0


if __name__ == "__main__":
    main()
