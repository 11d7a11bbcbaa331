"""Drill: three slow sources of one tenant (silent, 1 byte per 5 s, 1 KB/s) against a worker
with two slots. Another tenant's good pull must start within seconds, not wait for a slot
until a slow download times out; the slow tenant's pulls wait their turn (one at a time by
default) and a download ended by the total deadline says so.
"""

from __future__ import annotations

import sys
import time

import pytest

from feeds import services
from feeds.models import FeedRun, RunStatus
from feeds.tests.feedserver import body, silent, trickle

from .conftest import broker
from .helpers import feed_csv, finished, make_shop, run_of
from .procs import django_env, wait_until

pytestmark = [pytest.mark.drill, pytest.mark.timeout(300)]


def test_slow_sources_do_not_starve_another_tenant(
    procs, test_db_url, private_redis, feed_server, drill_feed_settings
):
    drill_feed_settings.read_timeout_seconds = 60
    drill_feed_settings.total_timeout_seconds = 20  # short, to see the deadline's message
    drill_feed_settings.save()
    feed_server.routes["/silent.csv"] = silent(120)
    feed_server.routes["/drip.csv"] = trickle(5, n=1000)
    feed_server.routes["/kbps.csv"] = trickle(0.001, n=1_000_000)  # about 1 KB/s at best
    feed_server.routes["/good.csv"] = body(feed_csv(20))
    slow = make_shop(feed_url=feed_server.url("/silent.csv"), slug="slow")
    slow_sources = [slow.source]
    for name in ("drip", "kbps"):
        slow_sources.append(
            services.source_create(
                tenant=slow.tenant,
                catalog=slow.catalog,
                actor=slow.user,
                data={
                    "name": name,
                    "kind": "url",
                    "url": feed_server.url(f"/{name}.csv"),
                    "schedule": "manual",
                    "format": "csv",
                },
            )
        )
    good = make_shop(feed_url=feed_server.url("/good.csv"), slug="good")
    env = django_env(database_url=test_db_url, broker_url=private_redis.url)

    with broker(private_redis.url):
        worker = procs.start(
            "worker-2-slots",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "catalog_health",
                "worker",
                "--pool=prefork",
                "--concurrency=2",
                "--loglevel=INFO",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "-n",
                "slots@%h",
            ],
            env=env,
        )
        worker.wait_for_output("ready.", timeout=60)
        slow_runs = [
            services.feed_run_request(tenant=slow.tenant, source=s, actor=slow.user)[0]
            for s in slow_sources
        ]
        wait_until(
            lambda: any(run_of(slow, r.pk).status == RunStatus.RUNNING for r in slow_runs),
            timeout=30,
            what="a slow pull to start",
        )
        time.sleep(2)  # every slow run has had the chance to take a slot
        running = FeedRun.objects.for_tenant(slow.tenant).filter(status=RunStatus.RUNNING)
        assert running.count() == 1  # the tenant's limit: one pull at a time

        run, _ = services.feed_run_request(tenant=good.tenant, source=good.source, actor=good.user)
        started = wait_until(
            lambda: run_of(good, run.pk).started_at,
            timeout=10,
            what="the other tenant's pull to start",
            every=0.1,
        )
        assert started
        done = wait_until(lambda: finished(good, run.pk), timeout=30, what="the good pull")
        assert done.status == RunStatus.SUCCEEDED, done.error_message
        # the slow tenant's pulls are still being worked through, one at a time
        assert any(not finished(slow, r.pk) for r in slow_runs)

        # the first slow pull ends on the total deadline, and says so
        first_done = wait_until(
            lambda: next((f for r in slow_runs if (f := finished(slow, r.pk))), None),
            timeout=60,
            what="a slow pull to end",
        )
        assert first_done.status == RunStatus.FAILED
        assert "time limit" in first_done.error_message
        assert "read timeout" not in first_done.error_message
