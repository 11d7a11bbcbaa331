"""ecr's receivers of catalogs' events (connected in EcrConfig.ready())."""

from __future__ import annotations

from catalogs import events
from catalogs.models import Product

from .services import review_after_product_edit


def _rereview(sender, *, tenant, catalog, product_ids, actor=None, **kwargs) -> None:
    """A seller edited products: re-review each once the edit commits."""
    for product in Product.objects.for_tenant(tenant).filter(catalog=catalog, pk__in=product_ids):
        review_after_product_edit(tenant=tenant, product=product, actor=actor)


def connect() -> None:
    events.products_edited.connect(_rereview, dispatch_uid="ecr.rereview")
