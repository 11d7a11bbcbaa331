"""Thin Celery wrappers that call one service."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="catalogs.drop_orphan_sort_key_partitions")
def drop_orphan_sort_key_partitions() -> int:
    """Daily (beat): drop the empty sort key partitions of deleted catalogs."""
    return services.sort_keys_drop_orphan_partitions()
