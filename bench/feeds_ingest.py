"""Feed ingest: raw COPY floor vs our pipeline vs bulk_create(update_conflicts) (and
django-import-export on a slice when installed), plus a 1 %-changed re-pull, an identical
file and peak memory.

    .venv/bin/python bench/feeds_ingest.py --products 1000000

Each measured step runs in its own process so its peak RSS is its own. Our ingest fetches the
feed from a local HTTP server (127.0.0.1, allow-listed for the bench), skips the records it
has seen before, parses, validates, COPYs into staging, inserts new rows and updates changed
ones, and calls the review hook; phase durations come from the run itself. Targets (issue
#4), as ratios to the raw COPY into an unindexed (ordinary, logged) table: full ingest <= 4x,
1 % re-pull <= 2x, identical file <= 2 s, peak memory < 1 GB. The floor is measured three
times (before, between and after the ingests) and its median taken. The ratio to a COPY into
an UNLOGGED table (no WAL, a stricter floor) is printed too.

Each pull also prints the CPU it used, in its own process (every thread) and in the
database's backends, and the least time that much work could take with every core busy
throughout, as a ratio to the floor like the rest: a target below that ratio cannot be met
by overlapping the work better on this machine, only by doing less of it.

--index-bound adds a first pull into a second catalog with every index of catalogs_product
dropped but its primary key (recreated afterwards): the most that building the indexes
after the rows, as a table partitioned by catalog would allow, could save a first pull.

--link-mbps N adds a first pull served at N megabits per second (a feed server across a
network link), and the same download alone: a first pull parses the file as it arrives, so
it should take about the longer of the download and the local first pull, not their sum.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from common import ROOT, BackendCpu, checkpoint, machine, peak_rss_mb, setup_django

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _catalog(name: str):
    from django.db import connection

    from catalog_health.tenancy.models import Tenant
    from catalogs.models import Catalog

    tenant, _ = Tenant.objects.get_or_create(slug="bench-feeds", defaults={"name": "Bench feeds"})
    catalog, _ = Catalog.objects.get_or_create(
        tenant=tenant, name=name, defaults={"currency": "USD"}
    )
    return tenant, catalog, connection


def _reset(name: str) -> None:
    from catalogs.sort_keys import sort_key_partition

    _tenant, catalog, connection = _catalog(name)
    with connection.cursor() as cur:
        for table in (
            "ecr_productissue",
            "ecr_reviewbatch",
            "ecr_ratiosample",
            "ecr_ecrevent",
            "ecr_catalogecrstate",  # each first pull is a new catalog's: ECR on
        ):
            cur.execute(
                f"DELETE FROM {table} WHERE catalog_id = %s",
                [catalog.pk],
            )
        for table in ("feeds_feedrunchange", "feeds_feedrowerror"):
            cur.execute(
                f"DELETE FROM {table} WHERE run_id IN "
                "(SELECT id FROM feeds_feedrun WHERE catalog_id = %s)",
                [catalog.pk],
            )
        cur.execute("DELETE FROM feeds_feedrun WHERE catalog_id = %s", [catalog.pk])
        cur.execute("DELETE FROM feeds_productsource WHERE catalog_id = %s", [catalog.pk])
        cur.execute("DELETE FROM catalogs_product WHERE catalog_id = %s", [catalog.pk])
        # the catalog's sort key partition goes too: each first pull is a new catalog's,
        # which builds its partition in bulk (an emptied catalog refills its old one)
        cur.execute(f"DROP TABLE IF EXISTS {sort_key_partition(catalog.pk)}")
        cur.execute("VACUUM ANALYZE catalogs_product")
        cur.execute("VACUUM ANALYZE ecr_productissue")
        # every run deletes and re-inserts a million products: without this the indexes
        # grow sparser run after run (3-4 x their size after ten runs) and each run is
        # measured against a table in a worse state than the last (a first pull went from
        # 22 s to 32 s over ten runs); REINDEX gives every run the table a first run gets
        cur.execute("REINDEX TABLE catalogs_product")
        cur.execute("REINDEX TABLE ecr_productissue")


def _at_rest() -> None:
    """What autovacuum does to a catalog after its first pull (a re-pull comes hours
    later): its products and issues vacuumed and analyzed. The bench's server may run
    with autovacuum off (it is here); without this every re-pull query checks each index
    entry in the heap, as no production catalog at rest does."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE catalogs_product")
        cur.execute("VACUUM ANALYZE ecr_productissue")


# The product indexes a bound run dropped (--index-bound), recreated after it and, should it
# have died, at the start of the next bench run.
_DROPPED = "bench_dropped_product_index"


def _restore_product_indexes() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {_DROPPED} "
            "(name text PRIMARY KEY, definition text NOT NULL, is_constraint boolean NOT NULL)"
        )
        cur.execute(f"SELECT name, definition, is_constraint FROM {_DROPPED}")
        for index, definition, is_constraint in cur.fetchall():
            cur.execute("SELECT to_regclass(%s) IS NULL", [index])
            if cur.fetchone()[0]:
                cur.execute(definition)
                if is_constraint:
                    cur.execute(
                        f"ALTER TABLE catalogs_product ADD CONSTRAINT {index} "
                        f"UNIQUE USING INDEX {index}"
                    )
            cur.execute(f"DELETE FROM {_DROPPED} WHERE name = %s", [index])


def step_ingest_without_indexes(url: str, name: str, mode: str) -> dict:
    """step_ingest with every index of catalogs_product dropped but its primary key: what
    building them after the rows (a table partitioned by catalog) could save a first pull
    at most, before paying for the builds. The catalog's products are deleted and the
    indexes recreated afterwards (untimed)."""
    from django.db import connection

    _restore_product_indexes()
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {_DROPPED} "
            "SELECT i.indexname, i.indexdef, c.conname IS NOT NULL FROM pg_indexes i "
            "LEFT JOIN pg_constraint c "
            "ON c.conname = i.indexname AND c.conrelid = 'catalogs_product'::regclass "
            "WHERE i.tablename = 'catalogs_product' AND i.indexname <> 'catalogs_product_pkey'"
        )
        cur.execute(f"SELECT name, is_constraint FROM {_DROPPED}")
        for index, is_constraint in cur.fetchall():
            if is_constraint:
                cur.execute(f"ALTER TABLE catalogs_product DROP CONSTRAINT {index}")
            else:
                cur.execute(f"DROP INDEX {index}")
    try:
        return step_ingest(url, name, mode)
    finally:
        _reset(name)  # fewer rows to index again
        _restore_product_indexes()


class _Handler(SimpleHTTPRequestHandler):
    """Serves files with a strong ETag (file name + size + mtime) and honours If-None-Match."""

    def end_headers(self):
        path = Path(self.translate_path(self.path))
        if path.is_file():
            st = path.stat()
            self.send_header("ETag", f'"{path.name}-{st.st_size}-{int(st.st_mtime)}"')
        super().end_headers()

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_file():
            st = path.stat()
            if (
                self.headers.get("If-None-Match")
                == f'"{path.name}-{st.st_size}-{int(st.st_mtime)}"'
            ):
                self.send_response(304)
                self.end_headers()
                return None
        return super().send_head()

    bytes_per_second: float | None = None  # a link's speed (--link-mbps); None: no limit

    def copyfile(self, source, outputfile):
        # zero-copy, as a production file server (nginx) sends a feed: a Python copy loop
        # here would take a core from the client being measured on a 2-core machine
        outputfile.flush()
        if self.bytes_per_second is None:
            self.connection.sendfile(source)
            return
        start, sent, piece = time.monotonic(), 0, 1 << 20
        while n := self.connection.sendfile(source, sent, piece):
            sent += n
            time.sleep(max(0.0, start + sent / self.bytes_per_second - time.monotonic()))

    def log_message(self, *args):
        pass


def serve(directory: Path, mbps: float | None = None) -> tuple[ThreadingHTTPServer, int]:
    handler = _Handler
    if mbps:
        handler = type("_LinkHandler", (_Handler,), {"bytes_per_second": mbps * 1e6 / 8})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(directory)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, httpd.server_address[1]


# ---------------------------------------------------------------------------- steps (child)


def step_copy_floor(path: str, kind: str = "logged") -> dict:
    """Raw COPY of the file into an unindexed all-text table: the physical floor. ``logged``
    is the issue's definition (an ordinary table, like the products table: its rows are
    written to the WAL too); ``unlogged`` skips the WAL, a stricter floor."""
    from django.db import connection

    with open(path, encoding="utf-8") as fh:
        cols = fh.readline().strip().split(",")
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_copy_floor")
        cur.execute(
            f"CREATE {'UNLOGGED ' if kind == 'unlogged' else ''}TABLE bench_copy_floor ("
            + ", ".join(f'"{c}" text' for c in cols)
            + ")"
        )
        with BackendCpu(connection.settings_dict["NAME"]) as server:
            cpu0, t0 = time.process_time(), time.perf_counter()
            with (
                open(path, "rb") as fh,
                cur.cursor.copy(
                    "COPY bench_copy_floor FROM STDIN (FORMAT csv, HEADER true)"
                ) as copy,
            ):
                while block := fh.read(1 << 20):
                    copy.write(block)
            seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        cur.execute("DROP TABLE bench_copy_floor")
    return {"seconds": seconds, "cpu": {"process": cpu, "server": server.seconds()}}


def step_ingest(url: str, name: str, mode: str) -> dict:
    """Our pipeline end to end through a source (conditional fetch, hash skip, merge)."""
    from django.conf import settings
    from django.db import connection

    from feeds import services
    from feeds.models import FeedSettings, ProductSource, Trigger

    settings.FEEDS_FETCH_ALLOW_LIST = ["127.0.0.0/8"]
    fs = FeedSettings.load()
    fs.manual_refresh_min_seconds = 0
    fs.save()
    tenant, catalog, _ = _catalog(name)
    source, _ = ProductSource.objects.for_tenant(tenant).get_or_create(
        catalog=catalog,
        name="bench",
        defaults={"tenant": tenant, "url": url, "mode": mode, "schedule": "manual"},
    )
    if source.url != url:
        ProductSource.objects.for_tenant(tenant).filter(pk=source.pk).update(url=url)
        source.refresh_from_db()
    # The fast lane, every run: the generated feed's GTINs are 90 % invalid, so the first
    # pull's evaluation switches ECR off and a re-pull would leave its products Pending
    # for the standard queue (measured then by _until_reviewed) instead of reviewing them.
    from ecr.models import CatalogEcrState

    CatalogEcrState.objects.update_or_create(
        tenant=tenant, catalog=catalog, defaults={"enabled": True}
    )
    steps = _collect_steps()
    from feeds.tasks import preload_ingest

    preload_ingest()  # as a worker does when it starts: no run pays for the imports
    with BackendCpu(connection.settings_dict["NAME"]) as server:
        cpu0, t0 = time.process_time(), time.perf_counter()
        run, _ = services.feed_run_request(
            tenant=tenant, source=source, actor=None, trigger=Trigger.SCHEDULED
        )
        run = services.feed_run_execute(tenant_id=tenant.pk, run_id=run.pk)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    reviewed = _until_reviewed(tenant, catalog)
    return {
        "seconds": seconds,
        # from the request until every active product has its review status: the run's
        # own time when it reviewed them all, plus the review of any left Pending
        "until_reviewed": seconds + reviewed["seconds"],
        "left_pending": reviewed["pending"],
        "status": run.status,
        "error": run.error_message,
        "durations": run.durations,
        "steps": steps,
        # the whole machine's work for the run: the pulling process (every thread) and the
        # database's backends
        "cpu": {"process": cpu, "server": server.seconds()},
        "counts": {
            k: getattr(run, k)
            for k in ("received", "created", "updated", "unchanged", "removed", "rejected")
        },
    }


def step_download(url: str) -> dict:
    """The feed's download alone (fetched to a temp file, then removed)."""
    from feeds.fetching import fetch
    from feeds.outbound import FetchPolicy

    policy = FetchPolicy.with_allow_list(["127.0.0.0/8"], max_bytes=1 << 40, total_timeout=3600)
    t0 = time.perf_counter()
    result = fetch(url, policy=policy)
    seconds = time.perf_counter() - t0
    result.cleanup()
    return {"seconds": seconds, "bytes": result.size}


def _collect_steps() -> dict:
    """The steps inside the run's phases (feeds.ingest and ecr log them at DEBUG with
    extra={"steps": {name: seconds}}), summed into the returned dict as they come."""
    import logging

    steps: dict[str, float] = {}

    class _Handler(logging.Handler):
        def emit(self, record):
            for k, v in getattr(record, "steps", {}).items():
                steps[k] = round(steps.get(k, 0) + v, 3)

    for name in ("feeds.ingest.steps", "ecr.steps"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        logger.addHandler(_Handler())
    return steps


def _until_reviewed(tenant, catalog) -> dict:
    """Pending products left after a run (ECR off, or a review that failed) are reviewed
    here, timed: the bench measures until every product has its review status."""
    from catalogs.models import Product, ReviewStatus
    from ecr.models import EcrTrigger, ReviewLane
    from ecr.services import products_review

    t0 = time.perf_counter()
    pending = (
        Product.objects.for_tenant(tenant)
        .active()
        .filter(catalog=catalog, review_status=ReviewStatus.PENDING)
        .count()
    )
    if pending:
        products_review(
            tenant=tenant, catalog=catalog, lane=ReviewLane.FAST, trigger=EcrTrigger.REVIEW
        )
    return {"seconds": time.perf_counter() - t0 if pending else 0.0, "pending": pending}


def step_bulk_create(path: str, name: str, batch: int = 5000) -> dict:
    """What a Django developer would write: csv.DictReader + bulk_create(update_conflicts)."""
    import csv
    from decimal import Decimal

    from catalogs.models import Product

    tenant, catalog, _ = _catalog(name)
    fields = [
        "title",
        "description",
        "link",
        "image_link",
        "price",
        "currency",
        "availability",
        "brand",
        "gtin",
        "condition",
        "google_product_category",
        "product_type",
        "item_group_id",
    ]
    t0 = time.perf_counter()
    n = 0
    with open(path, encoding="utf-8", newline="") as fh:
        objs = []
        for row in csv.DictReader(fh):
            amount, cur = row["price"].split(" ")
            objs.append(
                Product(
                    tenant=tenant,
                    catalog=catalog,
                    sku=row["id"],
                    title=row["title"],
                    description=row["description"],
                    link=row["link"],
                    image_link=row["image_link"],
                    price=Decimal(amount),
                    currency=cur,
                    availability=row["availability"].replace(" ", "_"),
                    brand=row["brand"],
                    gtin=row["gtin"],
                    condition=row["condition"],
                    google_product_category=row["google_product_category"],
                    product_type=row["product_type"],
                    item_group_id=row["item_group_id"],
                )
            )
            if len(objs) >= batch:
                Product.objects.bulk_create(
                    objs,
                    update_conflicts=True,
                    unique_fields=["tenant", "catalog", "sku"],
                    update_fields=fields,
                )
                n += len(objs)
                objs = []
        if objs:
            Product.objects.bulk_create(
                objs,
                update_conflicts=True,
                unique_fields=["tenant", "catalog", "sku"],
                update_fields=fields,
            )
            n += len(objs)
    return {"seconds": time.perf_counter() - t0, "rows": n}


def step_import_export(path: str, name: str, rows: int) -> dict:
    """django-import-export's ModelResource on a slice (rows/s, extrapolated by the caller)."""
    try:
        import tablib
        from import_export import fields as ie_fields
        from import_export import resources
    except ImportError:
        return {"skipped": "django-import-export is not installed"}
    from catalogs.models import Product

    tenant, catalog, _ = _catalog(name)
    with open(path, encoding="utf-8") as fh:
        lines = [next(fh) for _ in range(rows + 1)]
    data = tablib.Dataset().load("".join(lines), format="csv")
    data.append_col([tenant.pk] * len(data), header="tenant")
    data.append_col([catalog.pk] * len(data), header="catalog")
    data.append_col([p.split(" ")[0] for p in data["price"]], header="amount")

    class ProductResource(resources.ModelResource):
        sku = ie_fields.Field(attribute="sku", column_name="id")
        price = ie_fields.Field(attribute="price", column_name="amount")

        class Meta:
            model = Product
            import_id_fields = ("tenant", "catalog", "sku")
            fields = (
                "tenant",
                "catalog",
                "sku",
                "title",
                "description",
                "link",
                "image_link",
                "price",
                "brand",
                "gtin",
                "condition",
            )
            skip_unchanged = True
            use_transactions = True

    t0 = time.perf_counter()
    result = ProductResource().import_data(data, dry_run=False, raise_errors=True)
    seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "rows": len(data),
        "rows_per_s": len(data) / seconds,
        "errors": result.has_errors(),
    }


def child(argv: list[str]) -> None:
    setup_django(migrate=False)
    step, *rest = argv
    fn = {
        "copy": step_copy_floor,
        "ingest": step_ingest,
        "ingest_without_indexes": step_ingest_without_indexes,
        "download": step_download,
        "bulk": step_bulk_create,
        "ie": step_import_export,
        "reset": lambda name: (_restore_product_indexes(), _reset(name), {})[2],
        "at_rest": lambda: (_at_rest(), {})[1],
    }[step]
    if step in ("bulk", "ie") and len(rest) == 3:
        rest[2] = int(rest[2])
    if step not in ("reset", "at_rest"):
        checkpoint()
    out = fn(*rest)
    out["peak_rss_mb"] = peak_rss_mb()
    sys.stdout.write("RESULT " + json.dumps(out) + "\n")


def _cpu_line(r: dict, floor: dict) -> str:
    """The CPU a step used, and the least wall time it could take on this machine: its
    CPU-seconds spread over every core, as a ratio to the floor like its time."""
    cores = os.cpu_count() or 1
    total = r["cpu"]["process"] + r["cpu"]["server"]
    floor_cpu = floor["cpu"]["process"] + floor["cpu"]["server"]
    return (
        f"CPU {r['cpu']['process']:.1f} s in the pulling process + {r['cpu']['server']:.1f} s "
        f"in PostgreSQL's backends = {total:.1f} s ({total / r['seconds'] / cores:.0%} of "
        f"{cores} cores over the run); with every core busy throughout it could take no less "
        f"than {total / cores:.2f}s = {total / cores / floor['seconds']:.1f}x COPY (the "
        f"floor's COPY used {floor_cpu:.1f} CPU-s)"
    )


def run_child(*args: str) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"step {args[0]} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--ie-rows", type=int, default=20_000, help="django-import-export slice")
    parser.add_argument("--skip-bulk", action="store_true")
    parser.add_argument("--skip-ie", action="store_true", help="skip django-import-export")
    parser.add_argument(
        "--index-bound",
        action="store_true",
        help="also a first pull into another catalog with the product indexes dropped but "
        "the primary key: the most that building them after the rows could save",
    )
    parser.add_argument(
        "--link-mbps",
        type=float,
        help="also a first pull, and the download alone, served at this many megabits/s",
    )
    parser.add_argument(
        "--no-vacuum",
        action="store_true",
        help="re-pull the first pull's catalog as it is, not vacuumed first (see _at_rest)",
    )
    parser.add_argument(
        "--invalid-gtin-percent",
        type=float,
        default=2.0,
        help="products whose GTIN has a wrong check digit, an issue review writes (gen_feed)",
    )
    args = parser.parse_args()
    setup_django()  # migrate once in the parent
    from gen_feed import write_feed

    n = args.products
    work = ROOT / "var" / "bench" / f"feeds-{n}"
    work.mkdir(parents=True, exist_ok=True)
    bad = args.invalid_gtin_percent
    base, changed = work / f"feed-gtin{bad:g}.csv", work / f"feed-gtin{bad:g}-1pct.csv"
    if not base.exists():
        write_feed(base, n, invalid_gtin_percent=bad)
    if not changed.exists():
        write_feed(changed, n, change_percent=1, invalid_gtin_percent=bad)
    size_mb = base.stat().st_size / 1e6
    served = work / "served"
    served.mkdir(exist_ok=True)
    target = served / "feed.csv"
    httpd, port = serve(served)
    url = f"http://127.0.0.1:{port}/feed.csv"
    name = f"feeds-{n}"
    results: dict = {}
    try:
        run_child("reset", name)
        floors = [run_child("copy", base, "logged")]
        results["copy_unlogged"] = run_child("copy", base, "unlogged")
        target.unlink(missing_ok=True)
        target.symlink_to(base)
        results["ingest_full"] = run_child("ingest", url, name, "replace")
        floors.append(run_child("copy", base, "logged"))
        if args.index_bound:
            run_child("reset", name + "-bound")
            results["ingest_no_indexes"] = run_child(
                "ingest_without_indexes", url, name + "-bound", "replace"
            )
        if args.link_mbps:
            link, link_port = serve(served, mbps=args.link_mbps)
            link_url = f"http://127.0.0.1:{link_port}/feed.csv"
            try:
                run_child("reset", name + "-link")
                results["ingest_over_link"] = run_child(
                    "ingest", link_url, name + "-link", "replace"
                )
                run_child("reset", name + "-link")  # fewer rows for the re-pull's vacuum
                results["download_over_link"] = run_child("download", link_url)
            finally:
                link.shutdown()
        target.unlink()
        target.symlink_to(changed)
        if not args.no_vacuum:
            run_child("at_rest")
        results["repull_1pct"] = run_child("ingest", url, name, "replace")
        results["identical_304"] = run_child("ingest", url, name, "replace")
        target.unlink()
        target.symlink_to(changed.resolve())
        os.utime(changed)  # new ETag, same bytes: download + whole-file hash says "unchanged"
        results["identical_hash"] = run_child("ingest", url, name, "replace")
        floors.append(run_child("copy", base, "logged"))
        # the floor of this machine moves by up to ±30 % from one minute to the next (a
        # shared VM): measured before, between and after the ingests, the median is the
        # denominator of every ratio
        median = sorted(floors, key=lambda r: r["seconds"])[1]
        results = {"copy_floor": median, **results}
        if not args.skip_bulk:
            run_child("reset", name + "-bulk")
            results["bulk_create"] = run_child("bulk", base, name + "-bulk", 5000)
        if not args.skip_ie:
            run_child("reset", name + "-ie")
            results["import_export"] = run_child("ie", base, name + "-ie", min(args.ie_rows, n))
    finally:
        httpd.shutdown()
    floor = results["copy_floor"]["seconds"]
    strict = results["copy_unlogged"]["seconds"]
    print(
        f"feeds_ingest: {n} products, {size_mb:.0f} MB CSV ({bad:g} % of the GTINs invalid), "
        f"{machine()}"
    )
    print(
        "  floor (raw COPY into an ordinary table) before, between, after the ingests: "
        + ", ".join(f"{r['seconds']:.2f}s" for r in floors)
        + f"; the median {floor:.2f}s is the denominator"
    )
    for key, r in results.items():
        if "seconds" not in r:
            print(f"  {key:16s} {r}")
            continue
        extra = ""
        if "durations" in r:
            extra = " phases " + ", ".join(f"{k} {v:.2f}s" for k, v in r["durations"].items())
            extra += f" status {r['status']} {r['counts']}"
            if r.get("steps"):
                extra += f"\n  {'':16s} steps " + ", ".join(
                    f"{k} {v:.2f}s" for k, v in r["steps"].items()
                )
            if r.get("cpu"):
                extra += f"\n  {'':16s} " + _cpu_line(r, results["copy_floor"])
            if r.get("error"):
                extra += f" error: {r['error']}"
            review = r["durations"].get("reviewing", 0)
            if review:  # after the commit: the review batch recorded, ECR evaluated
                extra += (
                    f"\n  {'':16s} {r['seconds'] - review:8.2f}s  "
                    f"{(r['seconds'] - review) / floor:5.1f}x COPY  to the review hand-off "
                    f"(without the {review:.2f}s reviewing phase)"
                )
            extra += (
                f"\n  {'':16s} {r['until_reviewed']:8.2f}s  "
                f"{r['until_reviewed'] / floor:5.1f}x COPY  until every product has its "
                f"review status ({r['left_pending']} left Pending by the run)"
            )
            extra += f"; {(r['seconds'] - review) / strict:.1f}x the unlogged COPY"
        if key == "ingest_no_indexes":
            extra += (
                f"\n  {'':16s} (catalogs_product without its indexes but the primary key: "
                "the bound for building them after the rows, before the builds)"
            )
        if key == "ingest_over_link":
            local, alone = results["ingest_full"]["seconds"], results["download_over_link"]
            extra += (
                f"\n  {'':16s} (served at {args.link_mbps:g} Mbit/s; its download alone takes "
                f"{alone['seconds']:.2f}s and the local first pull {local:.2f}s: "
                f"{r['seconds'] / max(alone['seconds'], local):.2f}x the longer, "
                f"{r['seconds'] / (alone['seconds'] + local):.2f}x their sum)"
            )
        if "rows_per_s" in r:
            extra = f" {r['rows_per_s']:.0f} rows/s -> {n / r['rows_per_s']:.0f}s extrapolated"
        print(
            f"  {key:16s} {r['seconds']:8.2f}s  {r['seconds'] / floor:5.1f}x COPY  "
            f"peak {r['peak_rss_mb']:.0f} MB{extra}"
        )
    ok = all(
        results[k]["status"] == "succeeded"
        for k in ("ingest_full", "ingest_no_indexes", "ingest_over_link")
        if k in results
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
