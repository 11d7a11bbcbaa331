"""The product page's Flagged products panel (registered with catalogs.product_panels)."""

from __future__ import annotations

from django.urls import reverse

from .models import FlagState
from .selectors import effective_policies, state_reasons


def product_flag_panel(*, tenant, product) -> dict | None:
    """Status, reasons and a View details link of a flagged product; None when never flagged
    or removed from its catalog (not scored)."""
    if not product.is_active:
        return None
    state = FlagState.objects.for_tenant(tenant).filter(product_id=product.pk).first()
    if state is None:
        return None
    return {
        "title": "Flagged products",
        "badge_template": "flagged/_status_badge.html",
        "status": state.status,
        "lines": state_reasons(state, effective_policies(tenant=tenant)),
        "note": "Impacted products get reduced visibility until every metric meets its target.",
        "link": reverse(
            "flagged:flagged_detail",
            kwargs={"tenant_slug": tenant.slug, "product_id": product.pk},
        ),
        "link_label": "View details",
    }
