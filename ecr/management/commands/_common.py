"""Shared argument handling of the ecr commands."""

from __future__ import annotations

from django.core.management.base import CommandError

from catalogs.models import Catalog


def catalogs_from(options) -> list[tuple]:
    """(tenant, catalog) pairs: the one of --catalog, or every catalog."""
    from ecr.services import all_catalogs

    if options.get("catalog") is None:
        return all_catalogs()
    catalog = Catalog.objects.select_related("tenant").filter(pk=options["catalog"]).first()
    if catalog is None:
        raise CommandError(f"No catalog with id {options['catalog']}.")
    return [(catalog.tenant, catalog)]
