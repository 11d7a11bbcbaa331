"""What happened in a catalog, for the apps built on catalogs to react to.

catalogs sits below feeds, ecr and flagged and imports none of them: it sends these
signals where the change is made, and the apps connect their receivers in their
``AppConfig.ready()`` (ecr re-reviews an edited product, flagged rescores a tenant whose
orders or impressions changed). Receivers defer their work to ``transaction.on_commit``,
so nothing they do can undo or run before the change that was sent.

Every signal carries ``tenant`` and ``catalog`` (keyword arguments; the sender is None);
``catalog`` is None when the change spans catalogs (orders marked shipped from the tenant's
order list).
"""

from __future__ import annotations

from django.dispatch import Signal

# A seller edited products (product_ids, actor): they are Pending review again.
products_edited = Signal()
# Order lines were written (import, upload, API bulk, marked shipped).
orders_changed = Signal()
# Daily impressions were written.
impressions_changed = Signal()


def sales_data_changed(*, tenant, catalog, kind: str) -> None:
    """Send orders_changed or impressions_changed (``kind`` "orders"/"order" or
    "impressions"/"impression")."""
    signal = impressions_changed if kind.startswith("impression") else orders_changed
    signal.send(sender=None, tenant=tenant, catalog=catalog)
