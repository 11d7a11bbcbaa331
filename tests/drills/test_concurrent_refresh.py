"""Drill: twenty concurrent Request Data Now calls on one source (ten from the page, ten from
the API), while two workers and two beat processes run and the source is also due for its
scheduled pull: exactly one run is created, one feeds.pull task executes, the feed is fetched
once, and every caller is shown that same run.
"""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from catalog_health.tenancy.services import api_token_create
from feeds.models import FeedRun, FeedSettings, ProductSource, RunStatus, Schedule

from .helpers import feed_csv, finished, make_shop
from .procs import django_env, wait_until

pytestmark = [pytest.mark.drill, pytest.mark.timeout(300)]

CALLERS = 20


def gated(data: bytes, gate: threading.Event):
    """A feed that is only sent once the drill opens the gate (keeps the run active)."""

    def handler(h):
        gate.wait(timeout=200)
        h.send_response(200)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    return handler


def test_twenty_concurrent_refreshes_make_one_run(
    procs, test_db_url, private_redis, feed_server, drill_feed_settings
):
    from .conftest import broker

    gate = threading.Event()
    feed_server.routes["/feed.csv"] = gated(feed_csv(500), gate)
    shop = make_shop(feed_url=feed_server.url("/feed.csv"), schedule=Schedule.HOURLY)
    # due for its scheduled pull too: the beats' dispatcher races the clicks
    ProductSource.objects.for_tenant(shop.tenant).filter(pk=shop.source.pk).update(
        next_pull_at=timezone.now() - timedelta(minutes=1)
    )
    fs = FeedSettings.load()
    fs.read_timeout_seconds = 240  # the gated feed waits for the beats
    fs.save()
    env = django_env(database_url=test_db_url, broker_url=private_redis.url)
    _, token = api_token_create(tenant=shop.tenant, user=shop.user, name="drill")
    page_url = reverse(
        "feeds:source_refresh",
        kwargs={"tenant_slug": shop.tenant.slug, "source_id": shop.source.pk},
    )
    api_url = f"/api/v1/sources/{shop.source.pk}/refresh/"

    with broker(private_redis.url):
        workers = [procs.worker(f"worker-{i}", env) for i in (1, 2)]
        beats = [procs.beat(f"beat-{i}", env) for i in (1, 2)]

        barrier = threading.Barrier(CALLERS, timeout=60)
        answers: list[tuple[str, int, int | None]] = []
        errors: list[BaseException] = []

        def call(i: int) -> None:
            try:
                if i % 2:
                    client = Client()
                    client.force_login(shop.user)
                    barrier.wait()
                    r = client.post(page_url)
                    m = re.search(r"/runs/(\d+)/", r.get("Location", ""))
                    answers.append(("page", r.status_code, int(m.group(1)) if m else None))
                else:
                    api = APIClient()
                    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
                    barrier.wait()
                    r = api.post(api_url, {}, format="json")
                    answers.append(("api", r.status_code, r.json().get("id")))
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=call, args=(i,)) for i in range(CALLERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors, errors
        assert len(answers) == CALLERS

        # both beats fire the dispatcher (every minute) while the run is still fetching
        for beat in beats:
            beat.wait_for_output("Sending due task feeds-dispatch-due", timeout=90)

        def dispatches_done() -> bool:
            logs = "".join(w.output() for w in workers)
            return len(re.findall(r"Task feeds\.dispatch_due\[[^\]]+\] succeeded", logs)) >= 2

        wait_until(dispatches_done, timeout=60, what="both dispatches to run")
        gate.set()

        runs = list(FeedRun.objects.for_tenant(shop.tenant).filter(source=shop.source))
        assert len(runs) == 1, [(r.pk, r.trigger, r.status) for r in runs]
        run = wait_until(lambda: finished(shop, runs[0].pk), timeout=120, what="the run")
        assert run.status == RunStatus.SUCCEEDED, (run.error_code, run.error_message)
        assert run.created == 500

    # every caller was shown the one run: redirect to its page or 202 with its id
    assert {a[2] for a in answers} == {run.pk}, answers
    assert {(a[0], a[1]) for a in answers} <= {("page", 302), ("api", 202)}, answers
    logs = "".join(w.output() for w in workers)
    assert len(re.findall(r"Task feeds\.pull\[[^\]]+\] received", logs)) == 1, logs[-4000:]
    assert len(feed_server.requests) == 1
    assert FeedRun.objects.for_tenant(shop.tenant).count() == 1
