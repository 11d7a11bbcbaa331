"""Load test: a mix of Flagged products, product list, Diagnostics and API reads, served by
gunicorn with several workers on loopback, measured with wrk.

    .venv/bin/python bench/load_mix.py --products 1000000 --duration 60

Builds (set-based, reused when present) one tenant with N products and 10 order lines per
product over 60 days, reviews the catalog (ECR fast lane, so Diagnostics has issues) and scores
it (so the Flagged products tab has Impacted / At risk products). Then starts gunicorn on
127.0.0.1, checks every path answers 200, warms up, and runs wrk with a fixed number of
connections for a fixed duration (bounded: it stops by itself). Target (issue #7): p95 under
200 ms for the mix. Needs Debian's wrk (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from common import gunicorn, machine, setup_django

HERE = Path(__file__).resolve().parent


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes have used so far (0 for a vanished one)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def _children(ppid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == ppid:
                        out.append(int(entry))
            except OSError:
                pass
    return out


def _backends() -> list[int]:
    """PostgreSQL backends of the bench database other than this process's own: the
    gunicorn workers' persistent connections once they have served a request."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
        return [r[0] for r in cur.fetchall()]


def prepare(products: int, orders: int, tenant_slug: str | None = None):
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection
    from flagged_score import fill

    from catalog_health.tenancy.models import Membership, Tenant
    from catalog_health.tenancy.services import api_token_create
    from catalogs.models import Catalog, Order, Product, ReviewStatus
    from ecr.models import EcrTrigger, ProductIssue
    from ecr.selectors import diagnostics_version
    from ecr.services import ecr_evaluate, ecr_state_get, review_after_feed_run
    from flagged.models import FlagState, FlagTransition
    from flagged.services import flags_score

    if tenant_slug:  # reuse data another benchmark built (e.g. flagged_score's 1M products)
        tenant = Tenant.objects.get(slug=tenant_slug)
        catalog = Catalog.objects.for_tenant(tenant).order_by("id").first()
    else:
        # One tenant per data size: a rerun reuses it, another size never deletes reviewed data.
        tenant, _ = Tenant.objects.get_or_create(
            slug=f"bench-load-{products}-{orders}", defaults={"name": "Bench load"}
        )
        catalog, _ = Catalog.objects.get_or_create(tenant=tenant, name="Load catalog")
        fill(tenant, catalog, products, orders)
    pending = catalog.products.filter(review_status=ReviewStatus.PENDING).exists()
    if pending:
        started = time.perf_counter()
        review_after_feed_run(tenant=tenant, catalog=catalog)
        print(f"reviewed the catalog in {time.perf_counter() - started:.1f} s")
    ecr = ecr_state_get(tenant=tenant, catalog=catalog)
    if ecr.counts_version != diagnostics_version(tenant=tenant, catalog=catalog):
        # Data reviewed before the ECR state kept its counts' version (or changed since):
        # evaluate once, as the periodic ECR check (every 15 min) does in production.
        ecr_evaluate(tenant=tenant, catalog=catalog, trigger=EcrTrigger.PERIODIC)
        print("evaluated the catalog's ECR state (its stored counts were not current)")
    if not FlagState.objects.for_tenant(tenant).exists():
        started = time.perf_counter()
        flags_score(tenant=tenant)
        print(f"scored the tenant in {time.perf_counter() - started:.1f} s")
    # Autovacuum is off on the bench machine's PostgreSQL: without this, the dead tuples of
    # the review's 1M-row status UPDATE and of the scoring runs (and missing statistics)
    # made the Flagged tab 3x slower. Production's autovacuum does the same on its own.
    started = time.perf_counter()
    with connection.cursor() as cur:
        for model in (Product, ProductIssue, FlagState, FlagTransition, Order):
            cur.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")
    print(
        f"vacuumed and analysed the tables the mix reads in {time.perf_counter() - started:.1f} s"
    )
    user, _ = get_user_model().objects.get_or_create(username="bench-load-user")
    Membership.objects.get_or_create(tenant=tenant, user=user, defaults={"role": "owner"})
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session["active_tenant"] = tenant.slug
    session.create()
    _, key = api_token_create(tenant=tenant, user=user, name="load test")
    flagged = FlagState.objects.for_tenant(tenant).values_list("product_id", flat=True)[:3]
    t, c = tenant.slug, catalog.pk
    paths = [
        ("page", f"/t/{t}/flagged/"),
        ("page", f"/t/{t}/flagged/?status=impacted"),
        ("page", f"/t/{t}/flagged/?status=at_risk&sort=-since"),
        *[("page", f"/t/{t}/flagged/{pid}/") for pid in flagged[:1]],
        ("page", f"/t/{t}/catalogs/{c}/"),
        ("page", f"/t/{t}/catalogs/{c}/?sort=-price&size=100"),
        ("page", f"/t/{t}/catalogs/{c}/?q=Bench+product+12"),
        ("page", f"/t/{t}/diagnostics/"),
        ("page", f"/t/{t}/catalogs/{c}/diagnostics/"),
        ("api", f"/api/v1/products/?catalog={c}&page_size=100"),
        ("api", "/api/v1/flagged-products/?page_size=50"),
        ("api", f"/api/v1/ecr/catalogs/{c}/"),
    ]
    return session.session_key, key, paths


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--orders", type=int, help="order lines (default: 10 per product)")
    parser.add_argument("--duration", type=int, default=20, help="seconds of load")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--tenant", help="use this existing tenant's data instead of filling")
    parser.add_argument(
        "--skip", action="append", default=[], help="leave out paths containing this text"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    setup_django()
    session, token, paths = prepare(args.products, args.orders or 10 * args.products, args.tenant)

    paths = [(k, p) for k, p in paths if not any(text in p for text in args.skip)]
    # Connections kept for the whole run (the default 60 s would reconnect mid-run, once per
    # worker: negligible cost, but the CPU of a closed backend could not be read).
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "catalog_health.settings.test",
        "CONN_MAX_AGE": str(args.duration + 300),
    }
    with gunicorn(workers=args.workers, env=env, options=("--timeout", "60")) as (base, server):
        # Every path must answer 200 before it is measured, and warm each worker up; the
        # best of these sequential requests is each path's unloaded latency.
        best: dict[str, float] = {}
        for kind, path in paths * args.workers:
            headers = (
                {"Authorization": f"Token {token}"}
                if kind == "api"
                else {"Cookie": f"sessionid={session}"}
            )
            request = urllib.request.Request(base + path, headers=headers)
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
                if response.status != 200:
                    raise SystemExit(f"{path} answered {response.status}")
            took = (time.perf_counter() - started) * 1000
            best[path] = min(best.get(path, took), took)
        for path, ms in best.items():
            print(f"  unloaded {ms:7.1f} ms  {path}")
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write("\n".join(f"{k} {p}" for k, p in paths) + "\n")
            paths_file = f.name
        # CPU the server side (gunicorn workers and their PostgreSQL backends) spends per
        # request: unlike latency, it does not depend on what else the shared cores run.
        workers, backends = _children(server.pid), _backends()
        cpu_before = (_cpu_seconds(workers), _cpu_seconds(backends))
        result = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{args.connections}",
                f"-d{args.duration}s",
                "--timeout",
                "10s",
                "-s",
                str(HERE / "load_mix.lua"),
                base,
            ],
            env={
                **os.environ,
                "LOAD_PATHS": paths_file,
                "LOAD_SESSION": session,
                "LOAD_TOKEN": token,
            },
            capture_output=True,
            text=True,
            timeout=args.duration + 60,
        )
        cpu = (_cpu_seconds(workers) - cpu_before[0], _cpu_seconds(backends) - cpu_before[1])
        os.unlink(paths_file)
    line = next((x for x in result.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        print(result.stdout, result.stderr, file=sys.stderr)
        return 1
    stats = json.loads(line[len("RESULT ") :])
    print(
        f"load mix: {len(paths)} paths, products={args.products}, gunicorn workers="
        f"{args.workers}, wrk connections={args.connections}, {args.duration} s: "
        f"{stats['requests'] / stats['seconds']:.1f} req/s, p50 {stats['p50_ms']:.0f} ms, "
        f"p95 {stats['p95_ms']:.0f} ms, p99 {stats['p99_ms']:.0f} ms, max "
        f"{stats['max_ms']:.0f} ms, errors {stats['errors']} ({machine()})"
    )
    per = 1000 / max(stats["requests"], 1)
    print(
        f"server CPU per request: {(cpu[0] + cpu[1]) * per:.1f} ms (gunicorn workers "
        f"{cpu[0] * per:.1f} ms + PostgreSQL {cpu[1] * per:.1f} ms over {len(backends)} "
        f"backends); capacity of {os.cpu_count()} cores at that cost: "
        f"{os.cpu_count() / max(cpu[0] + cpu[1], 1e-9) * stats['requests']:.0f} req/s"
    )
    return 1 if stats["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
