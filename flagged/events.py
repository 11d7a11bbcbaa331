"""flagged's receivers of catalogs' events (connected in FlaggedConfig.ready())."""

from __future__ import annotations

from catalogs import events

from .services import flags_score_request


def _rescore(sender, *, tenant, catalog, **kwargs) -> None:
    """Orders or impressions changed: rescore the tenant once the change commits."""
    flags_score_request(tenant_id=tenant.pk)


def connect() -> None:
    events.orders_changed.connect(_rescore, dispatch_uid="flagged.rescore.orders")
    events.impressions_changed.connect(_rescore, dispatch_uid="flagged.rescore.impressions")
