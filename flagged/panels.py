"""The product page's Flagged products panel (registered with catalogs.product_panels)."""

from __future__ import annotations

from django.urls import reverse

from .models import FlagState
from .scoring import FlagStatus
from .selectors import effective_policies, state_reasons

# A fix (shipping, stock, a lower fee) moves the status only as the orders that count leave the
# window, and only at the next scoring: the seller should not expect it at once.
WHEN_IT_SHOWS = (
    " Orders that count against a metric keep counting until they leave its window (an "
    "overdue one stops once shipped); the status is updated at the next scoring: hourly, and "
    "right after orders are uploaded or marked shipped."
)
STATUS_NOTES = {
    FlagStatus.IMPACTED: "Impacted: the product gets reduced visibility until every metric "
    "meets its target." + WHEN_IT_SHOWS,
    FlagStatus.AT_RISK: "At risk: close to a target; visibility is not reduced yet."
    + WHEN_IT_SHOWS,
    FlagStatus.RESOLVED: "Resolved: every metric meets its target again; visibility is no "
    "longer reduced.",
    FlagStatus.NONE: "Not flagged: no metric misses or is close to its target.",
}


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
        "note": STATUS_NOTES.get(FlagStatus(state.status), STATUS_NOTES[FlagStatus.NONE]),
        "link": reverse(
            "flagged:flagged_detail",
            kwargs={"tenant_slug": tenant.slug, "product_id": product.pk},
        ),
        "link_label": "View details",
    }
