"""Channel feed delivery: a catalog streamed as Google XML (through the public URL, as a
channel fetches it) against PostgreSQL writing the same columns with
`COPY (SELECT …) TO STDOUT`, the peak RSS of a gunicorn worker serving it over HTTP (the
process a channel's fetch really meets), and the latency of a 304.

.venv/bin/python bench/channel_feed.py --size small|medium|full
(small 20,000 products, medium 200,000, full 1,000,000; 1 % Impacted, labelled)
"""

from __future__ import annotations

import argparse
import time
import urllib.request

from common import checkpoint, gunicorn, machine, percentiles, setup_django

SIZES = {"small": 20_000, "medium": 200_000, "full": 1_000_000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each side")
    args = parser.parse_args()
    n = SIZES[args.size]
    setup_django()

    from django.db import connection, transaction
    from django.test import Client
    from django.utils import timezone

    from catalog_health.tenancy.models import Tenant
    from catalogs.models import Catalog
    from catalogs.sort_keys import sort_keys_defer, sort_keys_fill_new_partition
    from channels import selectors, services
    from channels.models import ChannelFeed
    from flagged.models import FlagState

    tenant, _ = Tenant.objects.get_or_create(slug="bench-channels", defaults={"name": "Bench"})
    catalog, _ = Catalog.objects.get_or_create(tenant=tenant, name=f"channel-feed-{n}")
    have = catalog.products.count()
    if have < n:
        with transaction.atomic(), connection.cursor() as cur:
            if not have:
                sort_keys_defer(cur)
            cur.execute(
                """
                INSERT INTO catalogs_product (tenant_id, catalog_id, sku, item_group_id, title,
                  description, link, image_link, additional_image_links, brand, gtin, mpn,
                  condition, availability, price, sale_price, currency, inventory_quantity,
                  product_type, google_product_category, custom_attributes, content_hash,
                  first_seen_at, last_changed_at, review_status, created_at, updated_at)
                SELECT %s, %s, 'CF-' || g, 'G' || (g / 4), 'Trail Runner & Co <' || g || '>',
                  'A shoe for trails, light and "quick", size ' || (g %% 12),
                  'https://shop.example.com/p/' || g, 'https://shop.example.com/i/' || g || '.jpg',
                  CASE WHEN g %% 3 = 0 THEN '["https://shop.example.com/i/x.jpg"]'::jsonb
                    ELSE '[]'::jsonb END,
                  'Kestrel', '', 'M' || g, 'new',
                  CASE WHEN g %% 10 = 0 THEN 'out_of_stock' ELSE 'in_stock' END,
                  (g %% 500) + 0.99, CASE WHEN g %% 7 = 0 THEN 4.99 END, 'USD', g %% 50,
                  'Shoes > Trail', '', '{}', '', now(), now(),
                  CASE WHEN g %% 20 = 0 THEN 'unavailable' ELSE 'available' END, now(), now()
                FROM generate_series(%s, %s) g
                """,
                [tenant.pk, catalog.pk, have + 1, n],
            )
            if not have:
                sort_keys_fill_new_partition(cur, tenant_id=tenant.pk, catalog_id=catalog.pk)
        now = timezone.now()
        ids = catalog.products.order_by("id").values_list("id", flat=True)[::100]
        FlagState.objects.bulk_create(
            [
                FlagState(
                    tenant=tenant,
                    product_id=pid,
                    status="impacted",
                    status_since=now,
                    updated_at=now,
                )
                for pid in ids
            ],
            batch_size=5000,
            ignore_conflicts=True,
        )
        with connection.cursor() as cur:
            cur.execute("ANALYZE catalogs_product")
            cur.execute("ANALYZE flagged_flagstate")
    # A catalog at rest, as autovacuum leaves it hours after its pull (this bench's server
    # may run without autovacuum): the feed's group bounds come from an index-only scan.
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE catalogs_product")
        cur.execute("VACUUM ANALYZE flagged_flagstate")
    feed = ChannelFeed.objects.filter(catalog=catalog, channel="google", format="xml").first()
    if feed is None:
        feed = services.feed_create(
            tenant=tenant,
            actor=None,
            catalog=catalog,
            channel="google",
            format="xml",
            flagged="label",
        )
    url = services.feed_path(feed)
    client = Client()
    from django.conf import settings

    settings.CHANNEL_FEED_RATE_LIMIT = (10_000, 60)

    # The floor: PostgreSQL writing the same rows and columns as text, no Python per row.
    sql, params = selectors._content_sql(feed, limit=None)
    with connection.cursor() as cur:
        copy_sql = cur.mogrify(sql, params)
    if isinstance(copy_sql, bytes):
        copy_sql = copy_sql.decode()

    def run_copy() -> tuple[float, int]:
        raw = connection.connection
        size = 0
        started = time.perf_counter()
        with raw.cursor() as cur, cur.copy(f"COPY ({copy_sql}) TO STDOUT") as copy:
            for block in copy:
                size += len(block)
        return time.perf_counter() - started, size

    def run_feed(**headers) -> tuple[float, int, int]:
        started = time.perf_counter()
        response = client.get(url, **headers)
        size = 0
        for chunk in response.streaming_content:
            size += len(chunk)
        response.close()
        return time.perf_counter() - started, size, response.status_code

    connection.ensure_connection()
    feed_times, copy_times = [], []
    for _ in range(args.repeat):  # interleaved, so drift hits both sides alike
        checkpoint()
        seconds, copy_bytes = run_copy()
        copy_times.append(seconds)
        checkpoint()
        seconds, feed_bytes, status = run_feed()
        assert status == 200
        feed_times.append(seconds)
    served_bytes, worker_before, worker_peak = _served_by_gunicorn(url)
    assert abs(served_bytes - feed_bytes) < 1000  # the same feed; its <link> names the host
    gz_seconds, gz_bytes, _ = run_feed(HTTP_ACCEPT_ENCODING="gzip")

    etag = client.get(url, HTTP_IF_NONE_MATCH='"x"')
    b"".join(etag.streaming_content)
    samples = []
    for _ in range(50):
        started = time.perf_counter()
        response = client.get(url, HTTP_IF_NONE_MATCH=etag["ETag"])
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 304
    p = percentiles(samples)
    feed_best, copy_best = min(feed_times), min(copy_times)
    left = selectors.feed_left_out(feed)
    print(
        f"channel feed google xml products={n} (in feed {left.included}): "
        f"stream {feed_best:.2f} s ({feed_bytes / 1e6:.1f} MB), "
        f"COPY floor {copy_best:.2f} s ({copy_bytes / 1e6:.1f} MB), "
        f"ratio {feed_best / copy_best:.2f}x (best of {args.repeat}; all {_list(feed_times)} "
        f"vs {_list(copy_times)}); "
        f"gzip {gz_seconds:.2f} s ({gz_bytes / 1e6:.1f} MB); "
        f"gunicorn worker peak RSS {worker_peak:.0f} MB serving it over HTTP "
        f"({worker_before:.0f} MB after a first request); "
        f"304 p50 {p['p50']:.1f} ms p95 {p['p95']:.1f} ms ({machine()})"
    )


def _served_by_gunicorn(path: str) -> tuple[int, float, float]:
    """The feed fetched over HTTP from a one-worker gunicorn: (bytes, the worker's resident
    memory after a first small request, its peak after the feed), from /proc."""
    with gunicorn(workers=1) as (base, server):
        with open(f"/proc/{server.pid}/task/{server.pid}/children") as f:
            worker = int(f.read().split()[0])
        before = _proc_mb(worker, "VmRSS")
        size = 0
        with urllib.request.urlopen(base + path, timeout=600) as response:
            while block := response.read(1 << 20):
                size += len(block)
        return size, before, _proc_mb(worker, "VmHWM")


def _proc_mb(pid: int, field: str) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise LookupError(field)


def _list(times: list[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in times)


if __name__ == "__main__":
    main()
