"""The scoring run: one aggregate statement per tenant, then only what changed is written.

A module of its own (not services) so that the scoring task can import it while services
queues that task: services -> tasks -> scorer, never back.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from catalog_health.tenancy.models import Tenant
from catalogs.models import Order, Product

from .models import FlagCount, FlagState, FlagTransition
from .scoring import Metric, Policy
from .scoring_sql import (
    Tables,
    changes_sql,
    state_upsert_sql,
    transition_insert_sql,
)
from .selectors import effective_policies, scoring_params

logger = logging.getLogger(__name__)

SCORING_WORK_MEM = "256MB"


@dataclass(frozen=True)
class ScoringResult:
    tenant_id: int
    changed_states: int
    transitions: int
    seconds: float
    phases: dict[str, float] | None = None  # seconds per statement, for operators and bench


def _tables() -> Tables:
    return Tables(
        order=Order._meta.db_table,
        state=FlagState._meta.db_table,
        transition=FlagTransition._meta.db_table,
        product=Product._meta.db_table,
    )


def _policies_json(policies: dict[Metric, Policy]) -> str:
    return json.dumps(
        {
            m.value: {
                "enabled": p.enabled,
                "window_days": p.window_days,
                "min_orders": p.min_orders,
                "at_risk_threshold": str(p.at_risk_threshold),
                "target": str(p.target),
            }
            for m, p in policies.items()
        }
    )


def flags_score(*, tenant: Tenant, now: datetime | None = None) -> ScoringResult:
    """Score every product of a tenant: one aggregate query, then write only what changed.

    Idempotent: a second run with the same orders and the same ``now`` changes nothing.
    A transaction-level advisory lock makes concurrent runs for one tenant queue up.
    """
    started = time.perf_counter()
    now = now or timezone.now()
    policies = effective_policies(tenant=tenant)
    tables = _tables()
    temp = "flag_changes"
    values = scoring_params(tenant=tenant, policies=policies, now=now)
    values["policies"] = _policies_json(policies)
    vendor = connection.vendor
    phases: dict[str, float] = {}
    mark = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal mark
        now_ = time.perf_counter()
        phases[name] = now_ - mark
        mark = now_

    with transaction.atomic(), connection.cursor() as cur:
        if vendor == "postgresql":
            # Two runs for one tenant (beat + an upload) queue up instead of racing.
            cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [6_000_001, tenant.pk])
            # The GROUP BY keeps one hash entry per product: let it stay in memory.
            cur.execute(f"SET LOCAL work_mem = '{SCORING_WORK_MEM}'")
        cur.execute(f"DROP TABLE IF EXISTS {temp}")
        lap("setup")
        cur.execute(changes_sql(tables, policies, temp, vendor=vendor), values)
        lap("aggregate")
        cur.execute(transition_insert_sql(tables, temp, vendor=vendor), values)
        transitions = cur.rowcount
        lap("transitions")
        cur.execute(state_upsert_sql(tables, temp), values)
        changed = cur.rowcount
        lap("states")
        if changed:
            _counts_refresh(cur, tenant.pk)
            lap("counts")
        cur.execute(f"DROP TABLE {temp}")
    lap("commit")
    result = ScoringResult(tenant.pk, changed, transitions, time.perf_counter() - started, phases)
    logger.info(
        "flags scored",
        extra={"tenant_id": tenant.pk, "changed": changed, "transitions": transitions},
    )
    return result


def _counts_refresh(cur, tenant_id: int) -> None:
    table, states = FlagCount._meta.db_table, FlagState._meta.db_table
    cur.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant_id])  # noqa: S608
    cur.execute(
        f"INSERT INTO {table} (tenant_id, status, count) "  # noqa: S608
        f"SELECT tenant_id, status, count(*) FROM {states} WHERE tenant_id = %s "
        "GROUP BY tenant_id, status",
        [tenant_id],
    )


def flag_counts_refresh(*, tenant: Tenant) -> None:
    """Recount the tab's counters (scoring does it; loaders that write states directly too)."""
    with transaction.atomic(), connection.cursor() as cur:
        _counts_refresh(cur, tenant.pk)
