"""Queueing and running the scoring task against the real broker and PostgreSQL."""

from __future__ import annotations

import psycopg
import pytest
from celery.signals import task_prerun
from django.db import OperationalError, connection

from flagged.services import flags_score_request
from flagged.tasks import score_tenant


@pytest.mark.django_db(transaction=True)
def test_score_request_says_false_when_the_broker_is_down(dead_broker, caplog):
    assert flags_score_request(tenant_id=1) is False
    assert "could not queue flag scoring" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_score_request_says_true_when_queued():
    assert flags_score_request(tenant_id=1) is True


def test_score_request_inside_a_transaction_sends_at_commit(
    db, dead_broker, django_capture_on_commit_callbacks, caplog
):
    """Inside a transaction nothing is sent before commit; the refusal is logged then."""
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert flags_score_request(tenant_id=1) is True
        assert "could not queue" not in caplog.text
    assert len(callbacks) == 1
    assert "could not queue flag scoring" in caplog.text


@pytest.mark.django_db
def test_score_task_retries_a_database_error_twice_then_fails(tenant_a):
    """The lock of a scoring run already going for the tenant is held elsewhere and this
    connection gives up waiting after 100 ms: an OperationalError, retried twice (eagerly
    here; a worker waits a few seconds between tries), then the task fails."""
    attempts = []

    def count(task=None, **_):
        if task is not None and task.name == score_tenant.name:
            attempts.append(1)

    task_prerun.connect(count)
    dsn = connection.get_connection_params()
    holder = psycopg.connect(
        **{k: v for k, v in dsn.items() if k in ("dbname", "user", "host", "port", "password")},
        autocommit=True,
    )
    try:
        holder.execute("SELECT pg_advisory_lock(%s, %s)", [6_000_001, tenant_a.pk])
        with connection.cursor() as cur:
            cur.execute("SET lock_timeout = '100ms'")
        result = score_tenant.apply(kwargs={"tenant_id": tenant_a.pk})
    finally:
        task_prerun.disconnect(count)
        holder.close()
    assert result.state == "FAILURE" and isinstance(result.result, OperationalError)
    assert len(attempts) == 3
