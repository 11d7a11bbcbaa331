"""Drill: PostgreSQL restarts while a feed run is in progress.

A throwaway cluster (initdb into a temp dir, pg_ctl on a spare port; the shared cluster is
never touched) gets the project's migrations; a worker runs against it. The run is held in
its fetching phase by a gated feed server, the cluster is restarted (fast mode: every
connection dropped), then the feed is released. The run must end failed with a clear message
without waiting for the reaper, the catalog must be as it was, and a retry must succeed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest

from feeds.tests.feedserver import body

from .helpers import feed_csv
from .procs import BASE_DIR, PgCluster, django_env, wait_until

pytestmark = [pytest.mark.drill, pytest.mark.timeout(600)]

SETUP = """
import json
from catalog_health.tenancy.models import Tenant
from catalogs.models import Catalog
from django.contrib.auth import get_user_model
from feeds import services
from feeds.models import FeedSettings
fs = FeedSettings.load(); fs.fetch_allow_list = "127.0.0.1/32"; fs.manual_refresh_min_seconds = 0
fs.save()
t = Tenant.objects.create(slug="pg", name="PG drill", currency="USD")
c = Catalog.objects.create(tenant=t, name="Main", country="US", currency="USD")
u = get_user_model().objects.create_user(username="pg-drill", password="x")
s = services.source_create(tenant=t, catalog=c, actor=u, data={
    "name": "Main", "kind": "url", "url": URL, "schedule": "manual", "format": "csv"})
print(json.dumps({"tenant": t.pk, "source": s.pk, "user": u.pk}))
"""

REQUEST = """
import json
from catalog_health.tenancy.models import Tenant
from feeds import services
from feeds.models import ProductSource
t = Tenant.objects.get(pk=IDS["tenant"])
s = ProductSource.objects.for_tenant(t).get(pk=IDS["source"])
run, created = services.feed_run_request(tenant=t, source=s, actor=None)
print(json.dumps({"run": run.pk, "created": created}))
"""

STATE = """
import json
from catalog_health.tenancy.models import Tenant
from catalogs.models import Product
from feeds.models import FeedRun
t = Tenant.objects.get(pk=IDS["tenant"])
run = FeedRun.objects.for_tenant(t).get(pk=RUN)
titles = sorted(Product.objects.for_tenant(t).values_list("title", flat=True))
print(json.dumps({"status": run.status, "phase": run.phase, "code": run.error_code,
    "message": run.error_message, "products": len(titles), "titles": titles[:3],
    "stage": run.stage_table in __import__("django.db").db.connection.introspection.table_names()}))
"""


def script(env: dict[str, str], code: str, **values) -> dict:
    """Run ``code`` in a Django process of the drill cluster; return the JSON it prints."""
    prelude = "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items())
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", prelude + code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def gated(data: bytes, gate: threading.Event, asked: threading.Event):
    def handler(h):
        asked.set()
        gate.wait(timeout=120)
        h.send_response(200)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    return handler


@pytest.fixture
def cluster():
    pg = PgCluster()
    try:
        pg.init()
        pg.start()
        yield pg
    finally:
        pg.stop()


def test_postgres_restart_mid_run_fails_cleanly_and_retry_succeeds(
    procs, private_redis, feed_server, cluster
):
    subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(cluster.port),
            "-U",
            "postgres",
            "-qc",
            "CREATE DATABASE drill",
        ],
        check=True,
        timeout=60,
        capture_output=True,
    )
    env = django_env(database_url=cluster.url("drill"), broker_url=private_redis.url)
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert migrate.returncode == 0, migrate.stderr[-3000:]

    feed_server.routes["/feed.csv"] = body(feed_csv(200, version=1))
    ids = script(env, SETUP, URL=feed_server.url("/feed.csv"))
    procs.worker("worker", env)

    def state(run_id: int) -> dict:
        return script(env, STATE, IDS=ids, RUN=run_id)

    def ended(run_id: int) -> dict | None:
        s = state(run_id)
        return None if s["status"] in ("queued", "running") else s

    first = script(env, REQUEST, IDS=ids)["run"]
    s = wait_until(lambda: ended(first), timeout=120, what="the first pull", every=1)
    assert s["status"] == "succeeded", s
    assert s["products"] == 200 and s["titles"][0].endswith(" v1")

    # a second run, held in its fetching phase while the database restarts under it
    gate, asked = threading.Event(), threading.Event()
    feed_server.routes["/feed.csv"] = gated(feed_csv(200, version=2), gate, asked)
    second = script(env, REQUEST, IDS=ids)["run"]
    assert asked.wait(timeout=60), "the worker never fetched the feed"
    assert state(second)["status"] == "running"
    cluster.restart()
    gate.set()

    # no reaper involved: the worker itself marks the run failed once the database is back
    s = wait_until(lambda: ended(second), timeout=120, what="the run to end", every=1)
    assert s["status"] == "failed", s
    assert s["code"] == "database" and "request data again" in s["message"], s
    assert not s["stage"], "the staging table of the failed run is left behind"
    assert s["products"] == 200 and s["titles"][0].endswith(" v1"), "the catalog changed"

    # the retry succeeds
    feed_server.routes["/feed.csv"] = body(feed_csv(200, version=2))
    third = script(env, REQUEST, IDS=ids)
    assert third["created"], third
    s = wait_until(lambda: ended(third["run"]), timeout=120, what="the retry", every=1)
    assert s["status"] == "succeeded", s
    assert s["titles"][0].endswith(" v2")
