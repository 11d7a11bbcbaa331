"""Shared fixtures: two tenants, users per role, page and API clients, a real Celery worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import hypothesis
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from catalog_health.tenancy.models import Membership, Tenant
from catalog_health.tenancy.roles import Role
from catalog_health.tenancy.services import api_token_create

BASE_DIR = Path(__file__).resolve().parent

# Tests assert behaviour, never wall-clock time: no per-example deadline (on a busy 2-core
# machine an example of a few ms can take 250 ms, and hypothesis would call that a failure).
hypothesis.settings.register_profile("catalog_health", deadline=None)
hypothesis.settings.load_profile("catalog_health")


@pytest.fixture
def fresh_cache(settings):
    """A cache namespace of the test's own: counters (rate limits, throttles) start at zero
    without flushing the Redis database, which the broker and a running demo may share."""
    import uuid

    default = settings.CACHES["default"]
    settings.CACHES = {**settings.CACHES, "default": {**default, "KEY_PREFIX": uuid.uuid4().hex}}


@pytest.fixture
def tenant_a(db) -> Tenant:
    return Tenant.objects.create(slug="tenant-a", name="Tenant A", currency="USD")


@pytest.fixture
def tenant_b(db) -> Tenant:
    return Tenant.objects.create(slug="tenant-b", name="Tenant B", currency="EUR")


@pytest.fixture
def user_factory(db):
    counter = iter(range(1, 10_000))

    def make(username: str | None = None, **extra):
        name = username or f"user{next(counter)}"
        return get_user_model().objects.create_user(
            username=name, password="pw-" + name, email=f"{name}@example.com", **extra
        )

    return make


@pytest.fixture
def member(user_factory):
    """member(tenant, role) -> a user with that role in that tenant."""

    def make(tenant: Tenant, role: str = Role.OWNER, username: str | None = None):
        user = user_factory(username or f"{role}-{tenant.slug}")
        Membership.objects.create(tenant=tenant, user=user, role=role)
        return user

    return make


@pytest.fixture
def client_for(client):
    """client_for(user) -> the test client logged in as user."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def api_client_for(db):
    """api_client_for(user, tenant) -> an APIClient authenticated with a token for that tenant."""

    def make(user, tenant: Tenant) -> APIClient:
        _, key = api_token_create(tenant=tenant, user=user, name="test")
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return api

    return make


@pytest.fixture
def celery_worker_process(transactional_db):
    """A real `celery worker` process on the Redis broker and the test database.

    Tests using it must commit their data (transactional_db), since the worker is another
    process with its own connection. Yields a function that returns the worker's output so far.
    """
    db = settings.DATABASES["default"]
    db_url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "catalog_health.settings.test",
        "DATABASE_URL": db_url,
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_WORKER_LOGGING": "1",
    }
    log_path = Path(tempfile.gettempdir()) / f"celery-worker-{os.getpid()}.log"
    log = open(log_path, "w+")  # noqa: SIM115 -- closed in teardown
    # Start from an empty queue so leftovers of earlier runs do not run against this database.
    from catalog_health.celery import app

    app.control.purge()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "catalog_health",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def output() -> str:
        log.flush()
        return log_path.read_text()

    deadline = time.monotonic() + 30
    while "ready." not in output():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("Celery worker did not start:\n" + output())
        time.sleep(0.2)
    output.process = proc
    yield output
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture
def dead_broker():
    """The Celery app pointed at a port where nothing listens, then restored."""
    from catalog_health.celery import app

    def drop_pools() -> None:
        # The app caches its connection and producer pools, bound to the broker they were
        # made for (an earlier test may have published to the real one): drop them, as
        # Celery does after a fork, so the next send connects to the current URL.
        app._pool = None
        app.amqp._producer_pool = None

    old = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    drop_pools()
    try:
        yield
    finally:
        app.conf.broker_url = old
        drop_pools()


@pytest.fixture
def on_sqlite(tmp_path):
    """Runs a script in ``manage.py shell`` against a fresh SQLite database (the embedded
    default, `make demo`), migrated first; returns the JSON the script prints after
    ``RESULT ``. ``stdin``: text the script reads."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "catalog_health.settings.local",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "memory://",
        "LOG_LEVEL": "ERROR",
    }
    manage = [sys.executable, "manage.py"]
    migrated = subprocess.run([*manage, "migrate", "-v0"], cwd=BASE_DIR, env=env, timeout=300)
    assert migrated.returncode == 0

    def run(script: str, stdin: str | None = None):
        done = subprocess.run(
            [*manage, "shell", "-c", script],
            cwd=BASE_DIR,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.split("RESULT ", 1)[1])

    return run
