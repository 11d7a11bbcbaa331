import json
import logging

import pytest
from django.urls import reverse

from catalog_health.logging import ContextFilter, JsonFormatter, log_context


def _format(record_logger: str, message: str, **extra) -> dict:
    record = logging.LogRecord(record_logger, logging.INFO, __file__, 1, message, (), None)
    for key, value in extra.items():
        setattr(record, key, value)
    ContextFilter().filter(record)
    return json.loads(JsonFormatter().format(record))


def test_json_lines_carry_context_ids():
    token = log_context.set({"tenant_id": 7, "run_id": 42, "task_id": None})
    try:
        line = _format("feeds", "applied", rows=10)
    finally:
        log_context.reset(token)
    assert line["message"] == "applied"
    assert line["tenant_id"] == 7 and line["run_id"] == 42 and line["rows"] == 10
    assert "task_id" not in line  # None values are left out


@pytest.mark.django_db
def test_each_request_is_logged_with_user_and_tenant(client, member, tenant_a, caplog):
    user = member(tenant_a)
    client.force_login(user)
    with caplog.at_level(logging.INFO, logger="catalog_health.request"):
        client.get(reverse("catalogs:catalog_list", kwargs={"tenant_slug": tenant_a.slug}))
    record = next(r for r in caplog.records if r.name == "catalog_health.request")
    assert record.status == 200
    assert record.tenant_id == tenant_a.pk and record.user_id == user.pk
    assert record.duration_ms >= 0
