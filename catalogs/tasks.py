"""Thin Celery wrappers that call one service."""

from __future__ import annotations

from celery import shared_task

from . import order_uploads, sort_keys


@shared_task(name="catalogs.drop_orphan_sort_key_partitions")
def drop_orphan_sort_key_partitions() -> int:
    """Daily (beat): drop the empty sort key partitions of deleted catalogs."""
    return sort_keys.sort_keys_drop_orphan_partitions()


@shared_task(name="catalogs.import_order_upload", acks_late=True)
def import_order_upload(*, tenant_id: int, upload_id: int) -> None:
    """Import one previewed order export in the background (a second delivery does nothing)."""
    order_uploads.order_upload_run(tenant_id=tenant_id, upload_id=upload_id)


@shared_task(name="catalogs.reap_order_uploads")
def reap_order_uploads() -> dict:
    """Every 5 minutes (beat): fail imports whose worker died, so they can be retried, and
    drop the files of uploads previewed but never imported."""
    return order_uploads.order_uploads_reap()
