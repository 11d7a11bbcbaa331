"""View mixins of catalogs that the apps built on it share."""

from __future__ import annotations

from django.http import Http404

from . import selectors
from .models import Catalog


class CatalogFromUrlMixin:
    """``get_catalog()``: the catalog named by the URL's ``catalog_id``, read through the
    tenant scope, so another tenant's id is the same 404 as a missing one. Mixed into a
    tenant view (it reads ``request.tenant``)."""

    def get_catalog(self) -> Catalog:
        if not hasattr(self, "_catalog"):
            try:
                self._catalog = selectors.catalog_get(
                    tenant=self.request.tenant, catalog_id=self.kwargs["catalog_id"]
                )
            except Catalog.DoesNotExist as exc:
                raise Http404("No such catalog.") from exc
        return self._catalog
