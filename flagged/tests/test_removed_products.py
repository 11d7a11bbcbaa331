"""A product a feed removed from its catalog (``removed_at`` set) is not listed as needing
work on any surface: tab, counters, API, export, digest, details and product panel. Once it
comes back, its orders flag it again as usual."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog_health.tenancy.roles import Role
from catalogs.tests.factories import CatalogFactory, ProductFactory
from catalogs.tests.order_factories import OrderFactory
from flagged import selectors
from flagged.models import FlagState, FlagTransition
from flagged.panels import product_flag_panel
from flagged.scoring import FlagStatus
from flagged.services import digest_send, flags_score

from .factories import FlagStateFactory

pytestmark = pytest.mark.django_db


def overdue_product(catalog, sku, n=10):
    product = ProductFactory(catalog=catalog, sku=sku, title=f"Kettle {sku}")
    for _ in range(n):
        OrderFactory(product=product, ship_by=timezone.now() - timedelta(days=1), shipped_at=None)
    return product


def remove(product, at=None):
    product.removed_at = at or timezone.now()
    product.save(update_fields=["removed_at"])


def surfaces(client, api, tenant, catalog):
    """What each surface lists: the tab's skus, its counters (tenant and catalog), the API's
    skus and the export's skus."""
    tab = reverse("flagged:flagged_list", kwargs={"tenant_slug": tenant.slug})
    page = client.get(tab)
    per_catalog = client.get(tab, {"catalog": catalog.pk})
    export = client.get(reverse("flagged:flagged_export", kwargs={"tenant_slug": tenant.slug}))
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    listed = api.get("/api/v1/flagged-products/").json()["results"]
    return {
        "tab": sorted(r.product.sku for r in page.context["rows"]),
        "counters": page.context["counters"],
        "catalog_counters": per_catalog.context["counters"],
        "api": sorted(r["sku"] for r in listed),
        "export": sorted(r["sku"] for r in rows),
    }


def listing(skus, impacted):
    return {
        "tab": skus,
        "counters": {"impacted": impacted, "at_risk": 0, "resolved": 0},
        "catalog_counters": {"impacted": impacted, "at_risk": 0, "resolved": 0},
        "api": skus,
        "export": skus,
    }


def test_a_removed_product_leaves_every_surface_at_once(client, api_client_for, member, tenant_a):
    """Removed by a feed after it was flagged, before the next scoring run: it is gone from
    the tab, counters, API and export, and its API details are a 404."""
    catalog = CatalogFactory(tenant=tenant_a)
    kept = overdue_product(catalog, "KEEP-1")
    gone = overdue_product(catalog, "GONE-1")
    flags_score(tenant=tenant_a)
    seller = member(tenant_a, Role.SELLER)
    client.force_login(seller)
    api = api_client_for(seller, tenant_a)
    assert surfaces(client, api, tenant_a, catalog) == listing(["GONE-1", "KEEP-1"], 2)
    remove(gone)
    assert surfaces(client, api, tenant_a, catalog) == listing(["KEEP-1"], 1)
    assert api.get(f"/api/v1/flagged-products/{gone.pk}/").status_code == 404
    assert api.get(f"/api/v1/flagged-products/{kept.pk}/").status_code == 200


def test_scoring_unflags_a_removed_product_and_flags_it_again_when_back(
    client, api_client_for, member, tenant_a
):
    catalog = CatalogFactory(tenant=tenant_a)
    overdue_product(catalog, "KEEP-1")
    gone = overdue_product(catalog, "GONE-1")
    now = timezone.now()
    flags_score(tenant=tenant_a, now=now)
    remove(gone, at=now + timedelta(minutes=1))
    flags_score(tenant=tenant_a, now=now + timedelta(minutes=2))
    state = FlagState.objects.for_tenant(tenant_a).get(product=gone)
    # not "Resolved": the seller fixed nothing, the product left the catalog
    assert state.status == FlagStatus.NONE
    last = FlagTransition.objects.for_tenant(tenant_a).filter(product=gone).first()
    assert (last.from_status, last.to_status) == (FlagStatus.IMPACTED, FlagStatus.NONE)
    # a second run writes nothing
    again = flags_score(tenant=tenant_a, now=now + timedelta(minutes=3))
    assert (again.changed_states, again.transitions) == (0, 0)
    seller = member(tenant_a, Role.SELLER)
    client.force_login(seller)
    api = api_client_for(seller, tenant_a)
    assert surfaces(client, api, tenant_a, catalog) == listing(["KEEP-1"], 1)
    # the feed names it again: its orders flag it as usual
    gone.removed_at = None
    gone.save(update_fields=["removed_at"])
    flags_score(tenant=tenant_a, now=now + timedelta(minutes=4))
    assert FlagState.objects.for_tenant(tenant_a).get(product=gone).status == FlagStatus.IMPACTED
    assert surfaces(client, api, tenant_a, catalog) == listing(["GONE-1", "KEEP-1"], 2)


@pytest.mark.parametrize("status", [FlagStatus.AT_RISK, FlagStatus.RESOLVED])
def test_scoring_takes_any_listed_removed_product_off_the_list(tenant_a, status):
    product = ProductFactory(catalog__tenant=tenant_a)
    FlagStateFactory(product=product, status=status, status_since=timezone.now())
    remove(product)
    flags_score(tenant=tenant_a)
    assert FlagState.objects.for_tenant(tenant_a).get().status == FlagStatus.NONE
    assert selectors.flag_counters(tenant=tenant_a) == {"impacted": 0, "at_risk": 0, "resolved": 0}


def test_a_product_removed_before_any_scoring_is_never_flagged(tenant_a):
    catalog = CatalogFactory(tenant=tenant_a)
    remove(overdue_product(catalog, "GONE-1"))
    result = flags_score(tenant=tenant_a)
    assert (result.changed_states, result.transitions) == (0, 0)
    assert not FlagState.objects.for_tenant(tenant_a).exists()


def test_digest_leaves_out_a_product_removed_since_it_was_flagged(member, tenant_a):
    member(tenant_a, Role.SELLER)
    catalog = CatalogFactory(tenant=tenant_a)
    overdue_product(catalog, "KEEP-1")
    gone = overdue_product(catalog, "GONE-1")
    now = timezone.now()
    flags_score(tenant=tenant_a, now=now)
    remove(gone, at=now + timedelta(minutes=5))
    assert digest_send(tenant=tenant_a, now=now + timedelta(hours=1)) == 1
    msg = mail.outbox[-1]
    assert "1 Impacted, 0 At risk" in msg.subject
    assert "KEEP-1" in msg.body and "GONE-1" not in msg.body


def test_details_and_panel_of_a_removed_product_do_not_call_it_impacted(client, member, tenant_a):
    catalog = CatalogFactory(tenant=tenant_a)
    gone = overdue_product(catalog, "GONE-1")
    flags_score(tenant=tenant_a)
    remove(gone)
    client.force_login(member(tenant_a, Role.SELLER))
    url = reverse(
        "flagged:flagged_detail", kwargs={"tenant_slug": tenant_a.slug, "product_id": gone.pk}
    )
    response = client.get(url)
    assert response.status_code == 200  # its history stays readable
    assert response.context["status_label"] == "Removed from the catalog"
    assert all(not m["flagged"] for m in response.context["metrics"])
    html = response.content.decode()
    assert "Review overdue orders" not in html
    # nor what shipping its overdue orders would do to its standing: it has none
    assert response.context["late_shipping"] is None
    assert 'id="late-shipping"' not in html and "would be Impacted" not in html
    assert product_flag_panel(tenant=tenant_a, product=gone) is None


def test_tab_pages_keep_their_query_count_with_removed_products(client, member, tenant_a):
    catalog = CatalogFactory(tenant=tenant_a)
    for i in range(8):
        overdue_product(catalog, f"P-{i}", n=10)
    flags_score(tenant=tenant_a)
    client.force_login(member(tenant_a, Role.SELLER))
    tab = reverse("flagged:flagged_list", kwargs={"tenant_slug": tenant_a.slug})
    client.get(tab)
    counts = {}
    for removed in (0, 3):
        for product in catalog.products.order_by("pk")[:removed]:
            remove(product)
        for size in (25, 50):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(tab, {"size": size})
            assert len(response.context["rows"]) == 8 - removed
            counts[(removed, size)] = len(queries)
    assert len(set(counts.values())) == 1, counts
