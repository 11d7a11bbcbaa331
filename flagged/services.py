"""Writes and business rules of the flagged app: policies, and queueing a scoring run.

The scoring run itself is ``flagged.scorer`` and the digest ``flagged.digest`` (the tasks
import those, and this module queues the tasks); their entry points are re-exported here.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.forms.models import model_to_dict

from .digest import digest_send
from .models import MetricPolicy, PolicyChange, TenantMetricPolicy
from .scorer import SCORING_WORK_MEM, ScoringResult, flag_counts_refresh, flags_score
from .selectors import effective_policies, resolved_days
from .tasks import score_tenant

__all__ = [
    "SCORING_WORK_MEM",
    "ScoringResult",
    "digest_send",
    "effective_policies",
    "flag_counts_refresh",
    "flags_score",
    "flags_score_request",
    "policy_delete",
    "policy_save",
    "policy_snapshot",
    "resolved_days",
]

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


# ---------------------------------------------------------------------- policies


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
            actor_username=actor.get_username() if getattr(actor, "pk", None) else "",
            action="created" if previous is None else "changed",
            changes=changes,
        )


def policy_delete(*, policy: MetricPolicy | TenantMetricPolicy, actor) -> None:
    with transaction.atomic():
        PolicyChange.objects.create(
            tenant=getattr(policy, "tenant", None),
            metric=policy.metric,
            actor=actor if getattr(actor, "pk", None) else None,
            actor_username=actor.get_username() if getattr(actor, "pk", None) else "",
            action="deleted",
            changes={f: [v, None] for f, v in _policy_snapshot(policy).items()},
        )
        policy.delete()


def policy_snapshot(policy) -> dict:
    return _policy_snapshot(policy)


# ----------------------------------------------------------------------- scoring


# ----------------------------------------------------------------------- scoring


def flags_score_request(*, tenant_id: int) -> bool:
    """Queue a scoring run of the tenant once the current transaction commits (at once
    outside a transaction, as every caller does today).

    Returns False (and logs) when the broker refused the task: the page or command stays up
    and the hourly run catches up. Inside a transaction the task is sent at commit, so the
    outcome is not known yet: True then means "will be sent", and a refusal is logged.
    """
    sent: list[bool] = []

    def _send() -> None:
        try:
            score_tenant.apply_async(kwargs={"tenant_id": tenant_id}, retry=False)
            sent.append(True)
        except Exception as exc:  # the broker is down: kombu/redis errors vary by transport
            logger.warning("could not queue flag scoring: %s", exc, extra={"tenant_id": tenant_id})
            sent.append(False)

    transaction.on_commit(_send)
    return sent[0] if sent else True
