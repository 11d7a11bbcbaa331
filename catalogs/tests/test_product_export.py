"""The product list's Download CSV: every product the list's filters match (not one page),
in SKU order, cells safe from spreadsheet formulas, another tenant's catalog a 404."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog_health.tenancy.roles import Role
from catalogs.models import ReviewStatus
from catalogs.tests.factories import CatalogFactory, ProductFactory

pytestmark = pytest.mark.django_db


def export_url(catalog, **query):
    url = reverse(
        "catalogs:product_export",
        kwargs={"tenant_slug": catalog.tenant.slug, "catalog_id": catalog.pk},
    )
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def rows_of(response) -> list[dict]:
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def catalog(tenant_a):
    return CatalogFactory(tenant=tenant_a, name="Shoes")


def test_every_matching_product_in_sku_order(client, member, tenant_a, catalog):
    client.force_login(member(tenant_a, Role.VIEWER))
    for n in (3, 1, 2):
        ProductFactory(catalog=catalog, sku=f"S-{n}", review_status=ReviewStatus.AVAILABLE)
    ProductFactory(catalog=catalog, sku="S-9", review_status=ReviewStatus.UNAVAILABLE)
    gone = ProductFactory(catalog=catalog, sku="S-0")
    gone.removed_at = gone.created_at
    gone.save()
    response = client.get(export_url(catalog, review_status="available", size=1))
    assert 'filename="products-shoes-' in response["Content-Disposition"]
    rows = rows_of(response)
    assert [r["id"] for r in rows] == ["S-1", "S-2", "S-3"]  # all, not a page of one
    first = rows[0]
    assert first["review_status"] == "Available"
    assert first["price"] == "49.99" and first["currency"] == "USD"
    assert first["link"] == "https://shop.example.com/p/S-1"


def test_search_and_availability_filter_like_the_list(client, member, tenant_a, catalog):
    client.force_login(member(tenant_a, Role.VIEWER))
    ProductFactory(catalog=catalog, sku="RUN-1", title="Trail runner", availability="in_stock")
    ProductFactory(catalog=catalog, sku="RUN-2", title="Road runner", availability="out_of_stock")
    ProductFactory(catalog=catalog, sku="HAT-1", title="Sun hat", availability="out_of_stock")
    assert [r["id"] for r in rows_of(client.get(export_url(catalog, q="RUN")))] == [
        "RUN-1",
        "RUN-2",
    ]
    rows = rows_of(client.get(export_url(catalog, availability="out_of_stock")))
    assert [r["id"] for r in rows] == ["HAT-1", "RUN-2"]


def test_cells_are_safe_from_formulas(client, member, tenant_a, catalog):
    client.force_login(member(tenant_a, Role.VIEWER))
    ProductFactory(
        catalog=catalog, sku="X-1", title='=HYPERLINK("http://evil")', price=Decimal("5")
    )
    [row] = rows_of(client.get(export_url(catalog)))
    assert row["title"].startswith("'=")
    assert row["price"] == "5.00"


def test_queries_do_not_grow_with_the_products(client, member, tenant_a, catalog):
    client.force_login(member(tenant_a, Role.VIEWER))
    ProductFactory.create_batch(3, catalog=catalog)
    rows_of(client.get(export_url(catalog)))  # the session's first write is not the export's
    with CaptureQueriesContext(connection) as few:
        rows_of(client.get(export_url(catalog)))
    ProductFactory.create_batch(30, catalog=catalog)
    with CaptureQueriesContext(connection) as many:
        assert len(rows_of(client.get(export_url(catalog)))) == 33
    assert len(many.captured_queries) == len(few.captured_queries), [
        q["sql"][:120] for q in many.captured_queries
    ]


def test_another_tenants_catalog_is_a_404(client, member, tenant_a, tenant_b):
    client.force_login(member(tenant_a, Role.OWNER))
    other = CatalogFactory(tenant=tenant_b)
    assert client.get(export_url(other)).status_code == 404


def test_the_product_list_links_the_download_with_its_filters(client, member, tenant_a, catalog):
    client.force_login(member(tenant_a, Role.VIEWER))
    ProductFactory(catalog=catalog)
    page = client.get(
        reverse(
            "catalogs:catalog_detail",
            kwargs={"tenant_slug": tenant_a.slug, "catalog_id": catalog.pk},
        )
        + "?review_status=unavailable&sort=sku&size=50"
    ).content.decode()
    assert export_url(catalog) + "?review_status=unavailable" in page.replace("&amp;", "&")


def test_file_is_named_on_the_tenants_clock(client, member, tenant_a, catalog):
    # 14 hours ahead of UTC: the hour, and for most of the day the date, differ from UTC's
    tenant_a.time_zone = "Pacific/Kiritimati"
    tenant_a.save()
    client.force_login(member(tenant_a, Role.VIEWER))
    local = ZoneInfo("Pacific/Kiritimati")
    before = timezone.now()
    response = client.get(export_url(catalog))
    after = timezone.now()
    stamps = {t.astimezone(local).strftime("%Y%m%d-%H%M") for t in (before, after)}
    names = {f'attachment; filename="products-shoes-{s}.csv"' for s in stamps}
    assert response["Content-Disposition"] in names
