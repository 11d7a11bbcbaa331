"""Review of a whole catalog after a full ingest (ECR fast lane) and the ECR ratio query.

    .venv/bin/python bench/ecr_review.py --products 1000000

Builds (set-based, not timed) a catalog of N Pending products of which about 12 % carry an
error and 8 % a warning, then times `review_after_feed_run` (stream all products, run every
rule, COPY the issues, set statuses, evaluate ECR) and the availability-ratio query.
Targets (issue #5): review < 60 s and ratio query < 50 ms at 1,000,000 products.

    .venv/bin/python bench/ecr_review.py --products 100000 --rules-only

times the rules alone (CPU seconds of the engine over blocks of 10,000 products with the
same mix, built in memory; no database). Target (issue #18): >= 150,000 products/s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from common import BackendCpu, machine, peak_rss_mb, setup_django


def _product(g: int) -> dict:
    """Product ``g`` of the catalog the SQL below builds, as a mapping."""
    k = g % 50
    title = {
        5: f"REPLICA designer handbag {g}",
        6: f"TRAIL RUNNER SHOE MODEL {g}",
        7: f"Trail runner {g} 🔥",
        8: f"Trail runner {g}!!!",
        9: f"Linen shirt model {g} ✨ NEW!!",
    }.get(k, f"Trail runner shoe model {g}, blue, size {g % 12 + 36}")
    description = ("This insole cures cancer and more. " if k == 10 else "") + (
        "A light trail running shoe with a grippy sole, breathable mesh upper and a "
        "cushioned midsole for long days on rough ground. Machine washable, "
        f"recycled packaging, two-year warranty. Model {g}."
    )
    image = "" if k == 12 else f"https://cdn.example.com/i/{g}" + ("" if k == 13 else ".jpg")
    return {
        "sku": f"SKU-{g}",
        "item_group_id": f"G{g // 4}" if g % 4 == 0 else "",
        "title": title,
        "description": description,
        "link": ("ftp://shop.example.com/p/" if k == 11 else "https://shop.example.com/products/")
        + str(g),
        "image_link": image,
        "additional_image_links": [],
        "brand": "Kestrel",
        "gtin": "4006381333932" if k == 14 else "4006381333931",
        "mpn": f"KES-{g}",
        "condition": "new",
        "availability": "in_stock",
        "price": "0.00" if k == 15 else f"{g % 500 + 9.99:.2f}",
        "sale_price": f"{g % 500 + 4.99:.2f}" if g % 10 == 0 else None,
        "currency": "USD",
        "shipping_fee": "4.99",
        "inventory_quantity": g % 50,
        "custom_attributes": {"size": "42"} if g % 4 == 1 else {},
    }


def seeded_terms(rules) -> list:
    """The policy lists a new installation starts with (the seeding migration's)."""
    import importlib

    seed = importlib.import_module("ecr.migrations.0002_seed_policy_lists")
    terms = [
        rules.PolicyTermSpec(t, rules.PROHIBITED, cat)
        for cat, ts in seed.PROHIBITED.items()
        for t in ts
    ]
    terms += [
        rules.PolicyTermSpec(t, rules.RESTRICTED, cat, sev)
        for cat, ts in seed.RESTRICTED.items()
        for t, sev in ts
    ]
    terms += [
        rules.PolicyTermSpec(t, rules.DENIED_CLAIM, cat)
        for cat, ts in seed.DENIED_CLAIMS.items()
        for t in ts
    ]
    return terms


def rules_only(n: int, block_size: int = 10_000) -> None:
    """CPU time of the rules alone over blocks of ``block_size`` products."""
    import sys

    from common import ROOT

    sys.path.insert(0, str(ROOT))
    from ecr import rules

    ctx = rules.ReviewContext(currency="USD", terms=seeded_terms(rules))
    blocks = [
        rules.block_from_products([_product(g) for g in range(s + 1, min(n, s + block_size) + 1)])
        for s in range(0, n, block_size)
    ]
    cpu0, t0 = time.process_time(), time.perf_counter()
    unavailable = issues = 0
    for block in blocks:
        r = rules.review_block(block, ctx)
        unavailable += int(r.unavailable.sum())
        issues += r.issues.num_rows
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}")
    print(
        f"rules alone: {n:,} products in blocks of {block_size:,}: {cpu:.2f} CPU-s, "
        f"{wall:.2f} s wall = {n / cpu:,.0f} products/CPU-s "
        f"({unavailable:,} Unavailable, {issues:,} issues; {len(ctx.terms)} policy terms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--ratio-runs", type=int, default=20)
    parser.add_argument(
        "--rules-only", action="store_true", help="time the rules alone (no database)"
    )
    args = parser.parse_args()
    if args.rules_only:
        rules_only(args.products)
        return
    setup_django()

    from django.db import connection

    from catalog_health.tenancy.models import Tenant
    from catalogs.models import Catalog
    from ecr import selectors, services

    tenant, _ = Tenant.objects.get_or_create(slug="bench-ecr", defaults={"name": "Bench ECR"})
    name = f"ecr-{args.products}"
    with connection.cursor() as cur:
        # Start clean (set-based, not through the ORM's cascade collector).
        for table in (
            "ecr_productissue",
            "ecr_ratiosample",
            "ecr_reviewbatch",
            "ecr_ecrevent",
            "ecr_catalogecrstate",
        ):
            cur.execute(
                f"DELETE FROM {table} WHERE catalog_id IN "
                "(SELECT id FROM catalogs_catalog WHERE tenant_id = %s AND name = %s)",
                [tenant.pk, name],
            )
        cur.execute(
            "DELETE FROM catalogs_product WHERE catalog_id IN "
            "(SELECT id FROM catalogs_catalog WHERE tenant_id = %s AND name = %s)",
            [tenant.pk, name],
        )
    catalog, _ = Catalog.objects.get_or_create(
        tenant=tenant, name=name, defaults={"currency": "USD"}
    )
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        # ~12 % errors (missing image, price 0, bad GTIN, ftp link, prohibited term, claim),
        # ~8 % warnings (all caps, emoji, punctuation), the rest clean; 40-word descriptions.
        cur.execute(
            """
            INSERT INTO catalogs_product (tenant_id, catalog_id, sku, item_group_id, title,
              description, link, image_link, additional_image_links, brand, gtin, mpn,
              condition, availability, price, sale_price, currency, shipping_fee,
              inventory_quantity, product_type, google_product_category, custom_attributes,
              content_hash, first_seen_at, last_changed_at, review_status, review_requested_at,
              created_at, updated_at)
            SELECT %(t)s, %(c)s, 'SKU-' || g,
              CASE WHEN g %% 4 = 0 THEN 'G' || (g / 4) ELSE '' END,
              CASE g %% 50
                WHEN 5 THEN 'REPLICA designer handbag ' || g
                WHEN 6 THEN 'TRAIL RUNNER SHOE MODEL ' || g
                WHEN 7 THEN 'Trail runner ' || g || ' 🔥'
                WHEN 8 THEN 'Trail runner ' || g || '!!!'
                WHEN 9 THEN 'Linen shirt model ' || g || ' ✨ NEW!!'
                ELSE 'Trail runner shoe model ' || g || ', blue, size ' || (g %% 12 + 36) END,
              CASE WHEN g %% 50 = 10 THEN 'This insole cures cancer and more. '
                   ELSE '' END ||
              'A light trail running shoe with a grippy sole, breathable mesh upper and a '
              || 'cushioned midsole for long days on rough ground. Machine washable, '
              || 'recycled packaging, two-year warranty. Model ' || g || '.',
              CASE WHEN g %% 50 = 11 THEN 'ftp://shop.example.com/p/' || g
                   ELSE 'https://shop.example.com/products/' || g END,
              CASE WHEN g %% 50 = 12 THEN ''
                   WHEN g %% 50 = 13 THEN 'https://cdn.example.com/i/' || g
                   ELSE 'https://cdn.example.com/i/' || g || '.jpg' END,
              '[]', 'Kestrel', CASE WHEN g %% 50 = 14 THEN '4006381333932'
                                    ELSE '4006381333931' END,
              'KES-' || g, 'new', 'in_stock',
              CASE WHEN g %% 50 = 15 THEN 0 ELSE (g %% 500) + 9.99 END,
              CASE WHEN g %% 10 = 0 THEN (g %% 500) + 4.99 END,
              'USD', 4.99, g %% 50, 'Apparel > Shoes', '187',
              CASE WHEN g %% 4 = 1 THEN '{"size": "42"}'::jsonb ELSE '{}'::jsonb END,
              '', now(), now(), 'pending', now(), now(), now()
            FROM generate_series(1, %(n)s) g
            """,
            {"t": tenant.pk, "c": catalog.pk, "n": args.products},
        )
        cur.execute("VACUUM ANALYZE catalogs_product")
    ingest = time.perf_counter() - t0

    load_before = os.getloadavg()[0]
    with BackendCpu(connection.settings_dict["NAME"]) as monitor:
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        out = services.review_after_feed_run(tenant=tenant, catalog=catalog)
        review = time.perf_counter() - t0
        python_cpu = time.process_time() - cpu0
    load_after = os.getloadavg()[0]

    with connection.cursor() as cur:
        # what autovacuum does after the update and the issues' COPY
        cur.execute("VACUUM ANALYZE catalogs_product")
        cur.execute("VACUUM ANALYZE ecr_productissue")
    samples = []
    for _ in range(args.ratio_runs):
        t1 = time.perf_counter()
        counts = selectors.review_counts(tenant=tenant, catalog=catalog)
        samples.append((time.perf_counter() - t1) * 1000)
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        selectors.review_counts(tenant=tenant, catalog=catalog)
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + captured.captured_queries[-1]["sql"])
        explain = "\n".join(r[0] for r in cur.fetchall())

    print(
        f"machine: {machine()}; load average before/after review {load_before:.1f}/{load_after:.1f}"
    )
    print(f"products: {args.products:,} (ingest, not timed as review: {ingest:.1f} s)")
    print(
        f"review_after_feed_run: {review:.1f} s  ({args.products / review:,.0f} products/s; "
        f"{out.available:,} Available, {out.unavailable:,} Unavailable; "
        f"ECR {'enabled' if out.ecr_enabled else 'disabled'}, ratio {out.ratio:.3f})"
    )
    print(
        f"  CPU used: Python {python_cpu:.1f} s + PostgreSQL backends {monitor.seconds():.1f} s "
        f"(~{(python_cpu + monitor.seconds()) / 2:.1f} s of wall time on 2 idle cores)"
    )
    print(
        f"ratio query: median {statistics.median(samples):.1f} ms, max {max(samples):.1f} ms "
        f"over {args.ratio_runs} runs (active {counts.active:,})"
    )
    rereview = _rules_rereview(tenant, catalog)
    print(
        f"re-review after a rules change (a denied claim added): {rereview['seconds']:.1f} s "
        f"({rereview['reviewed'] / rereview['seconds']:,.0f} products/s; "
        f"{rereview['became_unavailable']:,} became Unavailable)"
    )
    print(f"peak RSS: {peak_rss_mb():.0f} MB")
    print("plan:\n" + explain)


def _rules_rereview(tenant, catalog) -> dict:
    """Time ecr.services.rules_rereview over the reviewed catalog after a denied claim that
    ~2 % of the titles make was added (the change is stamped here, not queued to a broker)."""
    from django.utils import timezone

    from catalogs.models import Product, ReviewStatus
    from ecr import services
    from ecr.models import DeniedClaim, ReviewSettings

    def unavailable() -> int:
        return (
            Product.objects.for_tenant(tenant)
            .filter(catalog=catalog, review_status=ReviewStatus.UNAVAILABLE)
            .count()
        )

    claim, _ = DeniedClaim.objects.get_or_create(
        phrase="linen shirt", defaults={"category": "bench"}
    )
    before = unavailable()
    ReviewSettings.objects.update(rules_changed_at=timezone.now())
    t0 = time.perf_counter()
    try:
        reviewed = services.rules_rereview(tenant=tenant, catalog=catalog)
        seconds = time.perf_counter() - t0
    finally:
        claim.delete()
        ReviewSettings.objects.update(rules_changed_at=None)
    return {"seconds": seconds, "reviewed": reviewed, "became_unavailable": unavailable() - before}


if __name__ == "__main__":
    main()
