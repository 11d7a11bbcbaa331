"""Fixtures of the reliability drills (`make drills`, pytest marker `drill`).

Drills start real processes (Celery workers and beats, private redis-servers, a throwaway
PostgreSQL cluster); the `procs` fixture stops every one of them, also when a drill fails.
They never touch the shared Redis or PostgreSQL server beyond the test database.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import connection

from feeds.models import FeedSettings
from feeds.tests.feedserver import FeedServer

from .procs import ProcessGroup, RedisServer


@pytest.fixture
def procs(transactional_db) -> Iterator[ProcessGroup]:
    # depends on the database fixture so that its processes stop BEFORE the test database is
    # flushed (a worker still holding locks would stall the flush)
    group = ProcessGroup()
    try:
        yield group
    finally:
        group.stop_all()


@pytest.fixture
def test_db_url(transactional_db) -> str:
    """The test database, for worker processes (they need committed data)."""
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def private_redis(procs) -> RedisServer:
    """A redis-server of this drill alone on a free port (the shared 6379 is never stopped)."""
    server = RedisServer(procs)
    server.start()
    return server


@contextlib.contextmanager
def broker(url: str) -> Iterator[None]:
    """Point this process's Celery app (what the web enqueues with) at ``url``."""
    from catalog_health.celery import app

    old = app.conf.broker_url

    def reset(to: str) -> None:
        with contextlib.suppress(Exception):
            if app._pool is not None:
                app._pool.force_close_all()
        app.conf.broker_url = to
        app._pool = None
        app.amqp._producer_pool = None

    reset(url)
    try:
        yield
    finally:
        reset(old)


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def drill_feed_settings(transactional_db) -> FeedSettings:
    """Feeds may be fetched from the drill's loopback feed server; no refresh rate limit."""
    fs = FeedSettings.load()
    fs.fetch_allow_list = "127.0.0.1/32"
    fs.manual_refresh_min_seconds = 0
    fs.save()
    return fs


def backend_pids_running(pattern: str) -> list[int]:
    """PostgreSQL backends of the test database (other than ours) running a query like
    ``pattern`` inside a transaction."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state = 'active' AND xact_start IS NOT NULL "
            "AND query ILIKE %s",
            [pattern],
        )
        return [r[0] for r in cur.fetchall()]


def backend_alive(pid: int) -> bool:
    with connection.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cur.fetchone() is not None
