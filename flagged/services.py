"""Writes and business rules of the flagged app: policies, scoring, digests."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from catalog_health.tenancy.models import Membership, Tenant
from catalog_health.tenancy.roles import Role
from catalogs.models import Order

from .models import (
    FlagCount,
    FlagState,
    FlagTransition,
    MetricPolicy,
    PolicyChange,
    TenantMetricPolicy,
)
from .scoring import DEFAULT_POLICIES, Metric, Policy
from .scoring_sql import (
    Tables,
    changes_sql,
    params,
    state_upsert_sql,
    transition_insert_sql,
)

logger = logging.getLogger(__name__)

POLICY_FIELDS = (
    "enabled",
    "window_days",
    "min_orders",
    "at_risk_threshold",
    "target",
    "fee_ratio_percent",
    "fee_amount",
    "how_to_fix",
)


SCORING_WORK_MEM = "256MB"


def resolved_days() -> int:
    """Days a Resolved product stays on the list unless flagged again."""
    return int(getattr(settings, "FLAGGED_RESOLVED_DAYS", 14))


# ---------------------------------------------------------------------- policies


def effective_policies(*, tenant: Tenant) -> dict[Metric, Policy]:
    """Per metric: the tenant's override, else the global default, else the built-in one."""
    policies = dict(DEFAULT_POLICIES)
    for row in MetricPolicy.objects.all():
        policies[Metric(row.metric)] = row.as_policy()
    for row in TenantMetricPolicy.objects.for_tenant(tenant):
        policies[Metric(row.metric)] = row.as_policy()
    return policies


def _policy_snapshot(policy) -> dict:
    return {
        f: str(v) if v is not None else None
        for f, v in model_to_dict(policy, POLICY_FIELDS).items()
    }


def policy_save(*, policy: MetricPolicy | TenantMetricPolicy, actor, previous: dict | None) -> None:
    """Save a global or tenant policy and record who changed what (admin calls this)."""
    with transaction.atomic():
        policy.full_clean()
        policy.save()
        after = _policy_snapshot(policy)
        changes = {
            f: [None if previous is None else previous.get(f), after[f]]
            for f in POLICY_FIELDS
            if previous is None or previous.get(f) != after[f]
        }
        PolicyChange.objects.create(
            tenant=getattr(policy, "tenant", None),
            metric=policy.metric,
            actor=actor if getattr(actor, "pk", None) else None,
            action="created" if previous is None else "changed",
            changes=changes,
        )


def policy_delete(*, policy: MetricPolicy | TenantMetricPolicy, actor) -> None:
    with transaction.atomic():
        PolicyChange.objects.create(
            tenant=getattr(policy, "tenant", None),
            metric=policy.metric,
            actor=actor if getattr(actor, "pk", None) else None,
            action="deleted",
            changes={f: [v, None] for f, v in _policy_snapshot(policy).items()},
        )
        policy.delete()


def policy_snapshot(policy) -> dict:
    return _policy_snapshot(policy)


# ----------------------------------------------------------------------- scoring


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
    values = params(tenant_id=tenant.pk, policies=policies, now=now, resolved_days=resolved_days())
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


def flags_score_request(*, tenant_id: int) -> bool:
    """Queue a scoring run after the current transaction commits.

    Returns False (and logs) when the broker is down: the hourly run catches up.
    """
    from .tasks import score_tenant

    def _send() -> None:
        try:
            score_tenant.delay(tenant_id=tenant_id)
        except Exception:  # the broker is down; the web must stay up
            logger.warning("could not queue flag scoring", extra={"tenant_id": tenant_id})

    transaction.on_commit(_send)
    return True


# ------------------------------------------------------------------------ digest


DIGEST_ROLES = (Role.OWNER, Role.ADMIN, Role.SELLER)


def digest_send(*, tenant: Tenant, now: datetime | None = None, hours: int = 24) -> int:
    """Email sellers the products that became Impacted or At risk in the last day."""
    from .selectors import digest_transitions

    now = now or timezone.now()
    rows = digest_transitions(tenant=tenant, since=now - timedelta(hours=hours), until=now)
    if not rows:
        return 0
    recipients = sorted(
        {
            m.user.email
            for m in Membership.objects.filter(tenant=tenant, role__in=DIGEST_ROLES).select_related(
                "user"
            )
            if m.user.email
        }
    )
    if not recipients:
        return 0
    impacted = [r for r in rows if r.to_status == "impacted"]
    at_risk = [r for r in rows if r.to_status == "at_risk"]
    lines = [f"Flagged products of {tenant.name} in the last {hours} hours:", ""]
    for title, group in (("Became Impacted", impacted), ("Became At risk", at_risk)):
        if group:
            lines.append(f"{title} ({len(group)}):")
            for r in group[:50]:
                lines.append(f"  - {r.sku} {r.title[:60]}: {'; '.join(r.reasons)}")
            if len(group) > 50:
                lines.append(f"  … and {len(group) - 50} more")
            lines.append("")
    base = getattr(settings, "SITE_URL", "").rstrip("/")
    lines.append(f"Open the Flagged products tab: {base}/t/{tenant.slug}/flagged/")
    send_mail(
        subject=(
            f"[Catalog Health] {len(impacted)} Impacted, {len(at_risk)} At risk — {tenant.name}"
        ),
        message="\n".join(lines),
        from_email=None,
        recipient_list=recipients,
    )
    return len(recipients)
