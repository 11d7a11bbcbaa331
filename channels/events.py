"""channels' receivers (connected in ChannelsConfig.ready()): deletions of what a feed's
content is made of, which leave no change time behind for its version to read."""

from __future__ import annotations

from django.db.models.signals import post_delete

from catalogs.models import Product
from flagged.models import FlagState

from .services import feeds_note_deletion


def _product_deleted(sender, *, instance, using, **kwargs) -> None:
    feeds_note_deletion(tenant_id=instance.tenant_id, catalog_id=instance.catalog_id, using=using)


def _flag_state_deleted(sender, *, instance, using, **kwargs) -> None:
    # a flag state names no catalog: every feed of the tenant that reads flags
    feeds_note_deletion(tenant_id=instance.tenant_id, catalog_id=None, using=using)


def connect() -> None:
    post_delete.connect(_product_deleted, sender=Product, dispatch_uid="channels.product_deleted")
    post_delete.connect(
        _flag_state_deleted, sender=FlagState, dispatch_uid="channels.flag_state_deleted"
    )
