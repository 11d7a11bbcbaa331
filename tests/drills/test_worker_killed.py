"""Drill: a Celery worker is killed with SIGKILL while it applies a large feed.

The catalog must be exactly as it was, the reaper must end the run failed within its bound
(stuck_run_minutes after the last heartbeat; beat runs it every minute), its staging table
must be gone, and the next pull must succeed.
"""

from __future__ import annotations

import os
import signal
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest

from catalogs.models import Product
from feeds import periodic, services
from feeds.models import Phase, RunStatus
from feeds.tests.feedserver import body

from .conftest import backend_alive, backend_pids_running, broker
from .helpers import catalog_snapshot, feed_csv, finished, make_shop, run_of, stage_table_exists
from .procs import django_env, wait_until

pytestmark = [pytest.mark.drill, pytest.mark.timeout(420)]

# Big enough that the apply transaction lasts well over the 10 ms polling step on 2 cores.
PRODUCTS = int(os.environ.get("DRILL_PRODUCTS", "20000"))


def test_worker_killed_mid_apply(
    procs, test_db_url, private_redis, feed_server, drill_feed_settings
):
    feed_server.routes["/feed.csv"] = body(feed_csv(PRODUCTS, version=1))
    shop = make_shop(feed_url=feed_server.url("/feed.csv"))
    env = django_env(database_url=test_db_url, broker_url=private_redis.url)

    with broker(private_redis.url):
        worker = procs.worker("worker-1", env)
        # 1. a first good pull: the catalog the drill must protect
        first, _ = services.feed_run_request(
            tenant=shop.tenant, source=shop.source, actor=shop.user
        )
        run = wait_until(
            lambda: finished(shop, first.pk), timeout=180, what="the first pull", every=0.2
        )
        assert run.status == RunStatus.SUCCEEDED, (run.error_code, run.error_message, run.durations)
        before = catalog_snapshot(shop)
        assert before[0] == PRODUCTS

        # 2. a changed feed (every product updated): kill the worker inside the apply
        feed_server.routes["/feed.csv"] = body(feed_csv(PRODUCTS, version=2))
        second, _ = services.feed_run_request(
            tenant=shop.tenant, source=shop.source, actor=shop.user
        )
        wait_until(
            lambda: run_of(shop, second.pk).phase == Phase.APPLYING or finished(shop, second.pk),
            timeout=180,
            what="the second run to reach the applying phase",
            every=0.02,
        )
        # the merge into the product table (every product changed: its UPDATE), inside the
        # apply transaction, in the worker's backend
        table = Product._meta.db_table
        pids = wait_until(
            lambda: (
                backend_pids_running(f'%UPDATE "{table}" SET%')
                or backend_pids_running(f'%INSERT INTO "{table}"%')
                or finished(shop, second.pk)
            ),
            timeout=60,
            what="the merge statement",
            every=0.01,
        )
        assert isinstance(pids, list), (
            f"the run finished before the drill could kill it; raise DRILL_PRODUCTS ({PRODUCTS})"
        )
        # its download is still on disk (a SIGKILL runs no clean-up): the reaper removes it
        downloads = list(Path(tempfile.gettempdir()).glob(f"feed-{second.pk}-*.bin"))
        assert downloads
        os.killpg(worker.pid, signal.SIGKILL)
        worker.popen.wait(timeout=15)
        assert run_of(shop, second.pk).phase == Phase.APPLYING
        # PostgreSQL rolls the transaction back once the dead client's backend notices
        wait_until(
            lambda: not any(backend_alive(p) for p in pids),
            timeout=120,
            what="the killed worker's database session to end",
            every=0.2,
        )

        # 3. nothing of the killed run reached the catalog
        assert catalog_snapshot(shop) == before
        killed = run_of(shop, second.pk)
        assert killed.status == RunStatus.RUNNING  # nobody has said otherwise yet

        # 4. the reaper: not before stuck_run_minutes without a heartbeat, then failed
        stuck = timedelta(minutes=drill_feed_settings.stuck_run_minutes)
        assert periodic.feed_reap_stale(now=killed.heartbeat_at + stuck - timedelta(seconds=1)) == 0
        assert periodic.feed_reap_stale(now=killed.heartbeat_at + stuck + timedelta(seconds=1)) == 1
        killed.refresh_from_db()
        assert killed.status == RunStatus.FAILED and killed.error_code == "worker_lost"
        assert "catalog was not changed" in killed.error_message
        assert not stage_table_exists(killed)
        assert not any(p.exists() for p in downloads)
        assert catalog_snapshot(shop) == before

        # 5. the next pull, on a fresh worker, succeeds and applies the changed feed
        procs.worker("worker-2", env)
        third, created = services.feed_run_request(
            tenant=shop.tenant, source=shop.source, actor=shop.user
        )
        assert created
        run = wait_until(
            lambda: finished(shop, third.pk), timeout=240, what="the next pull", every=0.2
        )
        assert run.status == RunStatus.SUCCEEDED, (run.error_code, run.error_message, run.durations)
        assert run.updated == PRODUCTS
        after = catalog_snapshot(shop)
        assert after[0] == PRODUCTS and after != before
