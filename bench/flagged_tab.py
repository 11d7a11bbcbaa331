"""Flagged products tab under load: p95 latency from a running server on loopback, and the
number of SQL queries per page at any depth.

    .venv/bin/python bench/flagged_tab.py --flagged 50000

Fills one tenant with N flagged products (Impacted / At risk / Resolved, the 14 complete days
of impressions the trend column compares), starts gunicorn on 127.0.0.1 (2 workers), and sends a
bounded number of requests from a few concurrent clients: first pages with each status tab,
reason filter and sort, searches, and pages deep in the keyset walk. Target (issue #6):
p95 under 150 ms with 50,000 flagged products, and a fixed number of queries per page.
"""

from __future__ import annotations

import argparse
import html
import random
import re
import threading
import time
import urllib.request

from common import gunicorn, machine, percentiles, setup_django

NEXT = re.compile(r'rel="next" href="[^"]*cursor=([^"&]+)"')


def fill(tenant, catalog, n: int) -> None:
    from django.db import connection

    from catalogs.models import Product
    from flagged.models import FlagState

    if FlagState.objects.for_tenant(tenant).count() == n:
        print(f"reusing {n} flagged products")
        return
    with connection.cursor() as cur:
        for table in ("flagged_flagstate", "catalogs_dailyimpression", "catalogs_product"):
            cur.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant.pk])
    started = time.perf_counter()
    template = Product(tenant=tenant, catalog=catalog, sku="x", title="x", price=20)
    fields = [f for f in Product._meta.concrete_fields if not f.primary_key]
    columns, values, params = [], [], []
    for f in fields:
        columns.append(f.column)
        if f.name == "sku":
            values.append("'T-' || lpad(g::text, 7, '0')")
        elif f.name == "title":
            values.append(
                "'Trail runner ' || g || ' – ' || (ARRAY['Black','Navy','Olive'])[1 + g %% 3]"
            )
        elif f.name == "image_link":
            values.append("'/static/img/none.png'")
        elif f.name in ("first_seen_at", "last_changed_at", "created_at", "updated_at"):
            values.append("now()")
        else:
            values.append("%s")
            params.append(f.get_db_prep_save(f.pre_save(template, add=True), connection))
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO catalogs_product ({', '.join(columns)}) "
            f"SELECT {', '.join(values)} FROM generate_series(1, %s) g",
            [*params, n],
        )
        cur.execute(
            """
            INSERT INTO flagged_flagstate (tenant_id, product_id, status, status_since,
              worst_level, updated_at, oos_num, oos_den, oos_level, overdue_num, overdue_den,
              overdue_level, late_num, late_den, late_level, fee_num, fee_den, fee_level,
              tracking_num, tracking_den, tracking_level)
            SELECT %(t)s, p.id,
                   CASE WHEN p.id %% 10 < 6 THEN 'impacted' WHEN p.id %% 10 < 9 THEN 'at_risk'
                        ELSE 'resolved' END,
                   now() - (p.id %% 5000) * interval '5 minutes',
                   CASE WHEN p.id %% 10 < 6 THEN 2 WHEN p.id %% 10 < 9 THEN 1 ELSE 0 END, now(),
                   0, 40, 0,
                   CASE WHEN p.id %% 10 < 6 THEN 5 ELSE 0 END, 40,
                   CASE WHEN p.id %% 10 < 6 THEN 2 ELSE 0 END,
                   CASE WHEN p.id %% 10 BETWEEN 6 AND 8 THEN 1 WHEN p.id %% 3 = 0 THEN 4 ELSE 0 END,
                   36,
                   CASE WHEN p.id %% 10 BETWEEN 6 AND 8 THEN 1 WHEN p.id %% 3 = 0 THEN 2 ELSE 0 END,
                   0, 40, 0, 36, 36, 0
            FROM catalogs_product p WHERE p.tenant_id = %(t)s
            """,
            {"t": tenant.pk},
        )
        cur.execute(
            """
            INSERT INTO catalogs_dailyimpression (tenant_id, catalog_id, product_id, sku, date,
              impressions, clicks)
            SELECT %(t)s, p.catalog_id, p.id, p.sku, current_date - d,
                   500 + (p.id * 7 + d * 13) %% 300, 10
            FROM catalogs_product p CROSS JOIN generate_series(1, 14) d
            WHERE p.tenant_id = %(t)s
            """,
            {"t": tenant.pk},
        )
        for table in ("catalogs_product", "flagged_flagstate", "catalogs_dailyimpression"):
            cur.execute(f"ANALYZE {table}")

    print(f"filled {n} flagged products in {time.perf_counter() - started:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--flagged", type=int, default=5_000)
    parser.add_argument("--requests", type=int, default=400, help="total requests sent")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    setup_django()

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from catalog_health.tenancy.models import Membership, Tenant
    from catalogs.models import Catalog

    tenant, _ = Tenant.objects.get_or_create(slug="bench-tab", defaults={"name": "Bench tab"})
    catalog, _ = Catalog.objects.for_tenant(tenant).get_or_create(tenant=tenant, name="tab")
    fill(tenant, catalog, args.flagged)
    from flagged.services import flag_counts_refresh

    flag_counts_refresh(tenant=tenant)  # states written directly: recount as scoring would
    with connection.cursor() as cur:  # other benches in this database leave dead rows behind
        for table in ("flagged_flagstate", "catalogs_product", "catalogs_dailyimpression"):
            cur.execute(f"VACUUM ANALYZE {table}")
    user, _ = get_user_model().objects.get_or_create(username="bench-tab-user")
    Membership.objects.get_or_create(tenant=tenant, user=user, defaults={"role": "seller"})
    url = f"/t/{tenant.slug}/flagged/"

    # Queries per page, in-process: first page and pages deep in the walk, several filters.
    client = Client()
    client.force_login(user)
    counts: dict[str, int] = {}
    cursors: list[str] = []
    cursor = None
    for depth in range(12):
        params = {"size": 50, **({"cursor": cursor} if cursor else {})}
        with CaptureQueriesContext(connection) as ctx:
            body = client.get(url, params).content.decode()
        counts[f"page {depth + 1}"] = len(ctx)
        match = NEXT.search(body)
        cursor = html.unescape(match.group(1)) if match else None
        if cursor:
            cursors.append(cursor)
        if not cursor:
            break
    for extra in (
        {"status": "impacted"},
        {"reason": "late_dispatch_rate"},
        {"q": "T-00123"},
        {"sort": "severity", "size": 200},
    ):
        with CaptureQueriesContext(connection) as ctx:
            client.get(url, extra)
        counts[str(extra)] = len(ctx)

    # A real server on loopback.
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    with gunicorn(workers=2) as (base, _server):
        cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"
        rng = random.Random(6)
        variants = [
            "?size=50",
            "?status=impacted",
            "?status=at_risk",
            "?status=resolved",
            "?reason=late_dispatch_rate",
            "?reason=overdue_unshipped_rate&status=impacted",
            "?q=T-0001",
            "?q=runner+42",
            "?sort=sku",
            "?sort=severity",
            "?sort=since",
        ] + [f"?size=50&cursor={c}" for c in cursors]
        plan = [rng.choice(variants) for _ in range(args.requests)]
        samples: list[float] = []
        errors = []
        lock = threading.Lock()

        def worker(items: list[str]) -> None:
            for q in items:
                req = urllib.request.Request(base + url + q, headers={"Cookie": cookie})
                started = time.perf_counter()
                try:
                    with urllib.request.urlopen(req, timeout=10) as resp:
                        resp.read()
                        ok = resp.status == 200
                except OSError as exc:
                    ok = False
                    errors.append(str(exc))
                took = (time.perf_counter() - started) * 1000
                with lock:
                    samples.append(took)
                    if not ok:
                        errors.append(q)

        for q in variants:  # warm-up, not measured
            worker_req = urllib.request.Request(base + url + q, headers={"Cookie": cookie})
            urllib.request.urlopen(worker_req, timeout=10).read()
        chunks = [plan[i :: args.concurrency] for i in range(args.concurrency)]
        threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        wall = time.perf_counter() - started
    p = percentiles(samples)
    print(
        f"flagged tab: {args.flagged} flagged products, {len(samples)} requests, "
        f"{args.concurrency} concurrent clients, gunicorn 2 workers on loopback\n"
        f"  p50 {p['p50']:.1f} ms, p95 {p['p95']:.1f} ms, p99 {p['p99']:.1f} ms, "
        f"max {p['max']:.1f} ms, {len(samples) / wall:.0f} req/s, errors {len(errors)}\n"
        f"  queries per page: {sorted(set(counts.values()))} ({counts})\n"
        f"  target p95 < 150 ms: {'MET' if p['p95'] < 150 and not errors else 'NOT MET'} "
        f"({machine()})"
    )


if __name__ == "__main__":
    main()
