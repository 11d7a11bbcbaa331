"""Drill: the broker (a private redis-server on 6391, never the shared one) stops.

Every page still renders, /healthz says the broker is down, Request Data Now (page and API)
says the refresh could not be queued and changes nothing, and once Redis is back the same
worker reconnects and a new request completes.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from catalog_health.tenancy.roles import Role
from catalogs.models import ColumnMappingPreset, Product
from catalogs.order_uploads import order_upload_create
from catalogs.tests.export_samples import tiktok_csv, tiktok_row
from channels.tests.factories import ChannelFeedFactory
from feeds import periodic, services
from feeds.models import FeedRun, RunStatus
from feeds.tests.feedserver import body
from tests.urlwalk import tenant_routes

from .conftest import broker
from .helpers import catalog_snapshot, feed_csv, finished, make_shop
from .procs import RedisServer, django_env, wait_until

pytestmark = [pytest.mark.drill, pytest.mark.timeout(300)]

REDIS_PORT = 6391
MAIN_PAGES = [
    "catalogs:catalog_list",
    "catalogs:catalog_detail",
    "catalogs:product_detail",
    "catalogs:order_list",
    "feeds:source_list",
    "feeds:catalog_sources",
    "feeds:source_detail",
    "feeds:source_refresh",
    "feeds:run_detail",
    "ecr:diagnostics",
    "ecr:catalog_ecr",
    "ecr:catalog_diagnostics",
    "flagged:flagged_list",
    "api products",
]


def page_urls(shop, run_id: int) -> dict[str, str]:
    """Every GET page of the tenant the shop's objects can fill in, plus the global pages."""
    product = Product.objects.for_tenant(shop.tenant).filter(catalog=shop.catalog).first()
    values = {
        "tenant_slug": shop.tenant.slug,
        "catalog_id": shop.catalog.pk,
        "product_id": product.pk,
        "source_id": shop.source.pk,
        "run_id": run_id,
        "upload_id": order_upload_create(
            tenant=shop.tenant,
            catalog=shop.catalog,
            actor=shop.user,
            data=tiktok_csv(tiktok_row(seller_sku=product.sku)),
            filename="tiktok-orders.csv",
            kind="orders",
        ).pk,
        "preset_id": ColumnMappingPreset.objects.create(
            tenant=shop.tenant, kind="orders", name="Drill", header=["a"], columns={"order_id": "a"}
        ).pk,
        "feed_id": ChannelFeedFactory(catalog=shop.catalog).pk,
    }
    urls = {"home": reverse("home"), "tenant_list": reverse("tenant_list")}
    unknown = []
    for route in tenant_routes():
        if set(route.kwargs) <= values.keys():
            urls[route.name] = reverse(route.name, kwargs={k: values[k] for k in route.kwargs})
        else:
            unknown.append(route.route)
    assert not unknown, f"the drill cannot fill these URLs; teach page_urls(): {unknown}"
    urls["api products"] = f"/api/v1/products/?catalog={shop.catalog.pk}"
    urls["api runs"] = f"/api/v1/runs/{run_id}/"
    return urls


def walk(client: Client, urls: dict[str, str]) -> dict[str, int]:
    statuses = {}
    for name, url in urls.items():
        response = client.get(url, HTTP_X_TENANT="drill")
        statuses[name] = response.status_code
    return statuses


def test_pages_stay_up_and_refresh_says_not_queued_while_redis_is_down(
    procs, test_db_url, feed_server, drill_feed_settings
):
    redis = RedisServer(procs, port=REDIS_PORT)
    redis.start()
    feed_server.routes["/feed.csv"] = body(feed_csv(300, version=1))
    shop = make_shop(feed_url=feed_server.url("/feed.csv"))
    from catalog_health.tenancy.models import Membership

    Membership.objects.filter(tenant=shop.tenant, user=shop.user).update(role=Role.OWNER)
    env = django_env(database_url=test_db_url, broker_url=redis.url)
    client = Client()
    client.force_login(shop.user)
    refresh_page = reverse(
        "feeds:source_refresh",
        kwargs={"tenant_slug": shop.tenant.slug, "source_id": shop.source.pk},
    )
    refresh_api = f"/api/v1/sources/{shop.source.pk}/refresh/"

    with broker(redis.url):
        worker = procs.worker("worker", env)
        first, _ = services.feed_run_request(
            tenant=shop.tenant, source=shop.source, actor=shop.user
        )
        run = wait_until(lambda: finished(shop, first.pk), timeout=120, what="the first pull")
        assert run.status == RunStatus.SUCCEEDED, (run.error_code, run.error_message)
        before = catalog_snapshot(shop)
        urls = page_urls(shop, first.pk)
        up = walk(client, urls)
        not_ok = {name: up[name] for name in MAIN_PAGES if up.get(name) != 200}
        assert not not_ok, f"main pages must render (200) with Redis up: {not_ok}"
        assert client.get("/healthz").status_code == 200

        # --- Redis stops ------------------------------------------------------------------
        redis.stop()
        down = walk(client, urls)
        assert down == up, {k: (up[k], down[k]) for k in up if up[k] != down[k]}
        assert not [k for k, v in down.items() if v >= 500], down
        health = client.get("/healthz")
        assert health.status_code == 503
        assert health.json()["database"]["ok"] and not health.json()["broker"]["ok"]

        feed_server.routes["/feed.csv"] = body(feed_csv(300, version=2))
        response = client.post(refresh_page, follow=True)
        assert response.status_code == 200
        assert "could not be queued" in response.content.decode()
        api = client.post(refresh_api, {}, content_type="application/json", HTTP_X_TENANT="drill")
        assert api.status_code == 503 and "could not be queued" in api.json()["error_message"]
        failed = FeedRun.objects.for_tenant(shop.tenant).exclude(pk=first.pk)
        assert [(r.status, r.error_code) for r in failed] == [("failed", "queue")] * 2
        assert not FeedRun.objects.for_tenant(shop.tenant).active().exists()
        assert catalog_snapshot(shop) == before
        assert feed_server.requests and len(feed_server.requests) == 1  # no pull happened

        # --- Redis is back: the same worker reconnects, a new request completes ----------
        redis.start()
        wait_until(
            lambda: len(re.findall(r"Connected to redis", worker.output())) >= 2,
            timeout=90,
            what="the worker to reconnect to Redis",
            every=0.5,
        )
        assert worker.alive()
        response = client.post(refresh_page)
        assert response.status_code == 302
        again = FeedRun.objects.for_tenant(shop.tenant).order_by("-id").first()
        run = wait_until(lambda: finished(shop, again.pk), timeout=120, what="the retried pull")
        assert run.status == RunStatus.SUCCEEDED, (run.error_code, run.error_message)
        assert run.updated == 300
        assert catalog_snapshot(shop)[0] == before[0]
        assert walk(client, urls) == up
        assert client.get("/healthz").status_code == 200


def test_run_queued_before_a_redis_restart_is_not_lost(
    procs, test_db_url, feed_server, drill_feed_settings
):
    """Redis without persistence (as in docker-compose.yml) loses the queued message of a run
    requested just before it restarted. The periodic reaper hands such a run to the queue
    again, so it completes instead of blocking its source as "in progress" for hours."""
    redis = RedisServer(procs)
    redis.start()
    feed_server.routes["/feed.csv"] = body(feed_csv(100, version=1))
    shop = make_shop(feed_url=feed_server.url("/feed.csv"), slug="lost")
    env = django_env(database_url=test_db_url, broker_url=redis.url)
    with broker(redis.url):
        run, _ = services.feed_run_request(tenant=shop.tenant, source=shop.source, actor=shop.user)
        assert run.status == RunStatus.QUEUED  # its message waits in Redis; no worker yet
        redis.stop()
        redis.start()  # an empty Redis: the message is gone
        procs.worker("worker", env)
        again, created = services.feed_run_request(
            tenant=shop.tenant, source=shop.source, actor=shop.user
        )
        assert not created and again.pk == run.pk  # the source is "in progress"
        # the reaper's next passes (beat: every minute); not before stuck_run_minutes
        stuck = timedelta(minutes=drill_feed_settings.stuck_run_minutes)
        periodic.feed_reap_stale(now=run.queued_at + stuck - timedelta(seconds=1))
        assert FeedRun.objects.for_tenant(shop.tenant).get(pk=run.pk).status == RunStatus.QUEUED
        periodic.feed_reap_stale(now=run.queued_at + stuck + timedelta(seconds=1))
        done = wait_until(lambda: finished(shop, run.pk), timeout=120, what="the requeued run")
        assert done.status == RunStatus.SUCCEEDED, (done.error_code, done.error_message)
        assert done.created == 100
