"""Product list page: latency and query count at depth, for a catalog of N products, sorted
and filtered as sellers do (one product in ten out of stock, one in a thousand discontinued:
the availability index holds only the rarer values).

.venv/bin/python bench/product_list.py --products 200000
"""

from __future__ import annotations

import argparse
import html
import re
import time

from common import machine, percentiles, setup_django

NEXT = re.compile(r'rel="next" href="[^"]*cursor=([^"&]+)"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--pages", type=int, default=40, help="pages walked with the cursor")
    args = parser.parse_args()
    setup_django()

    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from catalog_health.tenancy.models import Membership, Tenant
    from catalogs.models import Catalog
    from catalogs.sort_keys import sort_keys_defer, sort_keys_fill_new_partition

    tenant, _ = Tenant.objects.get_or_create(slug="bench-list", defaults={"name": "Bench list"})
    catalog, _ = Catalog.objects.get_or_create(tenant=tenant, name=f"list-{args.products}-mixed")
    have = catalog.products.count()
    if have < args.products:
        with transaction.atomic(), connection.cursor() as cur:
            if not have:  # as a first pull does: the sort keys in a partition built in bulk
                sort_keys_defer(cur)
            # Set-based fill: one INSERT … SELECT generate_series.
            cur.execute(
                """
                INSERT INTO catalogs_product (tenant_id, catalog_id, sku, item_group_id, title,
                  description, link, image_link, additional_image_links, brand, gtin, mpn,
                  condition, availability, price, currency, inventory_quantity, product_type,
                  google_product_category, custom_attributes, content_hash, first_seen_at,
                  last_changed_at, review_status, created_at, updated_at)
                SELECT %s, %s, 'B-' || g, '', 'Bench product ' || g, '', '', '', '[]', 'Brand',
                  '', '', 'new', CASE WHEN g %% 1000 = 0 THEN 'discontinued'
                  WHEN g %% 10 = 0 THEN 'out_of_stock' ELSE 'in_stock' END, (g %% 500) + 0.99,
                  'USD', g %% 50, '', '', '{}', '',
                  now(), now(), 'available', now(), now()
                FROM generate_series(%s, %s) g
                """,
                [tenant.pk, catalog.pk, have + 1, args.products],
            )
            if not have:
                sort_keys_fill_new_partition(cur, tenant_id=tenant.pk, catalog_id=catalog.pk)
        with connection.cursor() as cur:
            cur.execute("ANALYZE catalogs_product")
    user, _ = get_user_model().objects.get_or_create(username="bench-list-user")
    Membership.objects.get_or_create(tenant=tenant, user=user, defaults={"role": "viewer"})
    client = Client()
    client.force_login(user)
    url = f"/t/{tenant.slug}/catalogs/{catalog.pk}/"
    walks: list[tuple] = [
        ("sku", ""),
        ("-price", ""),
        ("title", "in_stock"),
        ("sku", "out_of_stock"),
        ("-price", "discontinued"),
    ]
    walks += [(sort, "", "deep") for sort in ("sku", "title", "price", "-price", "changed")]
    for sort, availability, *deep in walks:
        samples, queries = [], set()
        # "deep": the walk starts nine tenths of the way into the catalog
        cursor = _cursor_at(catalog, sort, int(args.products * 0.9)) if deep else None
        for _ in range(args.pages):
            params = {"sort": sort, "size": 100, **({"cursor": cursor} if cursor else {})}
            if availability:
                params["availability"] = availability
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                response = client.get(url, params)
                samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
            queries.add(len(ctx))
            match = NEXT.search(response.content.decode())
            cursor = html.unescape(match.group(1)) if match else None
            if not cursor:
                break
        p = percentiles(samples)
        print(
            f"product list sort={sort} availability={availability or 'any'}"
            f"{' from 90 % deep' if deep else ''} "
            f"products={args.products} pages={len(samples)}: "
            f"p50 {p['p50']:.1f} ms, p95 {p['p95']:.1f} ms, queries/page {sorted(queries)} "
            f"({machine()})"
        )


def _cursor_at(catalog, sort: str, offset: int) -> str:
    """The cursor of the product at ``offset`` in the list's order (found by OFFSET, not
    timed), as the page before would have given it."""
    from catalog_health.pagination import encode_cursor
    from catalogs import selectors

    qs, field = selectors.product_sorted(
        selectors.product_search(tenant=catalog.tenant, catalog=catalog, filters={}),
        catalog=catalog,
        sort=sort,
    )
    descending = field.startswith("-")
    name = field.lstrip("-")
    value, pk = qs.order_by(field, "-id" if descending else "id").values_list(name, "id")[offset]
    return encode_cursor(value, pk)


if __name__ == "__main__":
    main()
