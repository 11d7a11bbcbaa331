"""ecr_productissue keeps two indexes for its reads (migration 0007): a product's issues
and a catalog's issues by code each walk one."""

import pytest
from django.db import connection

from catalogs.models import Product
from catalogs.tests.factories import CatalogFactory
from catalogs.tests.test_models import _insert_products
from ecr.models import ProductIssue


@pytest.mark.django_db
def test_a_products_issues_and_a_catalogs_issues_by_code_are_read_through_an_index(tenant_a):
    catalogs = [CatalogFactory(tenant=tenant_a) for _ in range(3)]
    with connection.cursor() as cur:
        for catalog in catalogs:
            _insert_products(cur, tenant_a, catalog, 2000)
        # an issue for every product, a second code for one in ten, as a first pull leaves
        cur.execute(
            "INSERT INTO ecr_productissue (tenant_id, catalog_id, product_id, code, severity, "
            "field, message, how_to_fix, rule, created_at) "
            "SELECT p.tenant_id, p.catalog_id, p.id, c.code, 'error', 'gtin', 'm', 'h', c.code, "
            "now() FROM catalogs_product p CROSS JOIN (VALUES ('gtin_invalid'), ('other')) c "
            "(code) WHERE p.tenant_id = %s AND (c.code = 'gtin_invalid' OR p.id %% 10 = 0)",
            [tenant_a.pk],
        )
        cur.execute("ANALYZE ecr_productissue")
    product = Product.objects.filter(catalog=catalogs[1]).order_by("id")[500]
    reads = {
        "ecr_productissue_product_id": ProductIssue.objects.for_tenant(tenant_a).filter(
            product_id=product.pk
        ),
        "issue_catalog_code_idx": ProductIssue.objects.for_tenant(tenant_a).filter(
            catalog=catalogs[1], code="other"
        ),
    }
    for index, qs in reads.items():
        plan = qs.explain()
        assert index in plan, plan
    assert reads["ecr_productissue_product_id"].count() == (2 if product.pk % 10 == 0 else 1)
    assert reads["issue_catalog_code_idx"].count() == sum(
        1
        for pk in Product.objects.filter(catalog=catalogs[1]).values_list("pk", flat=True)
        if pk % 10 == 0
    )
