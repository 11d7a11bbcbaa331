"""Constraints the database itself enforces on catalogs and products."""

import pytest
from django.db import IntegrityError, connection, transaction

from catalogs.models import Product
from catalogs.tests.factories import CatalogFactory


@pytest.mark.django_db
def test_a_product_cannot_belong_to_another_tenants_catalog(tenant_a, tenant_b):
    """One foreign key (tenant_id, catalog_id) -> catalog (tenant_id, id): the database
    itself refuses a product whose tenant is not its catalog's."""
    theirs = CatalogFactory(tenant=tenant_b)
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        Product.objects.create(tenant=tenant_b, catalog=theirs, sku="ok")
        with pytest.raises(IntegrityError), transaction.atomic():
            Product.objects.create(tenant=tenant_a, catalog=theirs, sku="crossed")


@pytest.mark.django_db
@pytest.mark.parametrize(("availability", "rows"), [("discontinued", 10), ("backorder", 0)])
def test_a_filter_on_a_rarer_availability_uses_its_index_under_every_sort(
    tenant_a, availability, rows
):
    """product_availability_idx leaves in-stock products out (most of a feed: a first pull
    writes fewer index entries); a filter on any other value, one in 500 products or none,
    still finds its products through it whatever the list's sort."""
    from catalogs import selectors

    catalog = CatalogFactory(tenant=tenant_a)
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO catalogs_product (tenant_id, catalog_id, sku, item_group_id, title, "
            "description, link, image_link, additional_image_links, brand, gtin, mpn, "
            "condition, availability, price, currency, product_type, google_product_category, "
            "custom_attributes, content_hash, review_status) "
            "SELECT %s, %s, 'S-' || g, '', 'Product ' || g, '', '', '', '[]', '', '', '', "
            "'new', CASE WHEN g %% 500 = 0 THEN 'discontinued' ELSE 'in_stock' END, g, 'USD', "
            "'', '', '{}', '', 'available' FROM generate_series(1, 5000) g",
            [tenant_a.pk, catalog.pk],
        )
        cur.execute("ANALYZE catalogs_product")
        cur.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'product_availability_idx'")
        assert cur.fetchone()[0].endswith("WHERE (NOT ((availability)::text = 'in_stock'::text))")
    for sort in selectors.PRODUCT_SORTS.values():
        qs = selectors.product_search(
            tenant=tenant_a, catalog=catalog, filters={"availability": availability}
        ).order_by(sort, "id")
        assert "product_availability_idx" in qs[:100].explain(), sort
        assert len(qs) == rows
