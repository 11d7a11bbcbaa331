"""Which product source a product's data came from (registered with catalogs.product_panels):
the product page tells the seller that an edit lasts until that source's next pull."""

from __future__ import annotations

from django.urls import reverse

from catalogs import product_panels

from .models import FeedRun


def product_source_of(*, tenant, product) -> product_panels.ProductSource | None:
    if not product.last_seen_run_id:
        return None
    run = (
        FeedRun.objects.for_tenant(tenant)
        .select_related("source")
        .filter(pk=product.last_seen_run_id)
        .first()
    )
    if run is None or run.source is None:
        return None
    return product_panels.ProductSource(
        name=run.source.name,
        url=reverse(
            "feeds:source_detail",
            kwargs={"tenant_slug": tenant.slug, "source_id": run.source_id},
        ),
    )
