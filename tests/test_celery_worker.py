"""A real Celery worker process, on the real Redis broker, runs a task end to end."""

import time

import pytest

from catalog_health.tenancy.tasks import heartbeat

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_worker_runs_a_task_from_redis(celery_worker_process):
    heartbeat.delay()
    deadline = time.monotonic() + 30
    while "catalog_health.tasks.heartbeat" not in celery_worker_process() or (
        "succeeded" not in celery_worker_process()
    ):
        assert time.monotonic() < deadline, celery_worker_process()
        time.sleep(0.2)
