"""Drill: a Celery worker is paused (SIGSTOP) mid-fetch past the stuck-run limit.

The reaper fails its run, a newer run of the same source succeeds on another worker, then
the paused worker resumes (SIGCONT) and finishes its download of an older feed that would
remove 100 products. It must apply nothing: the catalog equals the newer run's result and
the paused run stays failed (worker_lost), never 'succeeded'.
"""

from __future__ import annotations

import os
import signal
import threading
from datetime import timedelta

import pytest

from feeds import periodic, services
from feeds.models import Phase, RunStatus
from feeds.tests.feedserver import body

from .conftest import broker
from .helpers import catalog_snapshot, feed_csv, finished, make_shop, run_of
from .procs import django_env, wait_until

pytestmark = [pytest.mark.drill, pytest.mark.timeout(420)]


def gated(data: bytes, reached: threading.Event, release: threading.Event):
    """Half the body, then nothing until ``release`` (the rest then follows)."""

    def handler(h):
        h.send_response(200)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data[: len(data) // 2])
        h.wfile.flush()
        reached.set()
        release.wait(300)
        h.wfile.write(data[len(data) // 2 :])
        h.wfile.flush()

    return handler


def pulls_ended(log: str) -> int:
    """feeds.pull tasks a worker has finished (the service catches every error)."""
    return sum(
        1 for line in log.splitlines() if "Task feeds.pull[" in line and "succeeded in" in line
    )


def test_a_revived_worker_cannot_apply(
    procs, test_db_url, private_redis, feed_server, drill_feed_settings
):
    # the paused worker's socket must still be readable when it wakes up: the fence, not a
    # read timeout, is what stops it
    drill_feed_settings.read_timeout_seconds = 300
    drill_feed_settings.total_timeout_seconds = 600
    drill_feed_settings.save()
    feed_server.routes["/feed.csv"] = body(feed_csv(1000, version=1))
    shop = make_shop(feed_url=feed_server.url("/feed.csv"), slug="fence")
    env = django_env(database_url=test_db_url, broker_url=private_redis.url)
    reached, release = threading.Event(), threading.Event()

    with broker(private_redis.url):
        paused = procs.worker("worker-paused", env)
        first, _ = services.feed_run_request(
            tenant=shop.tenant, source=shop.source, actor=shop.user
        )
        run = wait_until(lambda: finished(shop, first.pk), timeout=120, what="the first pull")
        assert run.status == RunStatus.SUCCEEDED, run.error_message

        # an older feed (100 products fewer) that stalls halfway
        feed_server.routes["/feed.csv"] = gated(feed_csv(900, version=2), reached, release)
        stalled, _ = services.feed_run_request(
            tenant=shop.tenant, source=shop.source, actor=shop.user
        )
        assert reached.wait(60), "the worker never started the download"
        wait_until(
            lambda: (
                (r := run_of(shop, stalled.pk)).phase == Phase.FETCHING and r.bytes_downloaded > 0
            ),
            timeout=30,
            what="the stalled run's first bytes",
        )
        os.killpg(paused.pid, signal.SIGSTOP)
        try:
            # the reaper, past stuck_run_minutes without a heartbeat
            beat = run_of(shop, stalled.pk).heartbeat_at
            stuck = timedelta(minutes=drill_feed_settings.stuck_run_minutes, seconds=1)
            assert periodic.feed_reap_stale(now=beat + stuck) == 1
            reaped = run_of(shop, stalled.pk)
            assert (reaped.status, reaped.error_code) == (RunStatus.FAILED, "worker_lost")

            # a newer run of the same source succeeds on another worker
            feed_server.routes["/feed.csv"] = body(feed_csv(1000, version=3))
            procs.worker("worker-fresh", env)
            newer, created = services.feed_run_request(
                tenant=shop.tenant, source=shop.source, actor=shop.user
            )
            assert created
            run = wait_until(lambda: finished(shop, newer.pk), timeout=120, what="the newer run")
            assert run.status == RunStatus.SUCCEEDED, run.error_message
            after_newer = catalog_snapshot(shop)
            assert after_newer[0] == 1000
        finally:
            release.set()  # the rest of the older feed waits in the socket
            os.killpg(paused.pid, signal.SIGCONT)

        # the paused worker's second task (the stalled run) comes to its end
        wait_until(
            lambda: pulls_ended(paused.output()) >= 2,
            timeout=120,
            what="the resumed worker to end the stalled run",
            every=0.2,
        )
        old = run_of(shop, stalled.pk)
        assert catalog_snapshot(shop) == after_newer
        assert (old.status, old.error_code) == (RunStatus.FAILED, "worker_lost")
        assert "no longer owns its source" in paused.output()
