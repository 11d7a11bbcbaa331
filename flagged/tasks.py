"""Thin Celery wrappers: take ids, re-fetch the tenant, call one service.

They import the scoring run and the digest directly, not ``flagged.services``, which queues
``score_tenant``: services -> tasks -> scorer / digest, no cycle.
"""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from catalog_health.tenancy.models import Tenant

from .digest import digests_due_send
from .scorer import flags_score


# A lost database connection or a lock/statement timeout is worth two more tries a few
# seconds apart (scoring is idempotent and the next hourly run would be an hour away);
# anything else is a bug and fails at once.
@shared_task(
    name="flagged.score_tenant",
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    max_retries=2,
    retry_backoff=5,
    retry_backoff_max=60,
    retry_jitter=True,
)
def score_tenant(*, tenant_id: int) -> dict:
    """Score one tenant. Idempotent: a redelivered task writes nothing new."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return {"tenant_id": tenant_id, "skipped": "no such tenant"}
    result = flags_score(tenant=tenant)
    return {
        "tenant_id": tenant_id,
        "changed": result.changed_states,
        "transitions": result.transitions,
    }


@shared_task(name="flagged.score_all")
def score_all() -> int:
    """Hourly (beat): queue one scoring task per tenant."""
    ids = list(Tenant.objects.order_by("pk").values_list("pk", flat=True))
    for tenant_id in ids:
        score_tenant.delay(tenant_id=tenant_id)
    return len(ids)


@shared_task(name="flagged.send_digests")
def send_digests() -> int:
    """Hourly (beat): email each tenant's sellers their digest in the tenant's morning."""
    return digests_due_send()
