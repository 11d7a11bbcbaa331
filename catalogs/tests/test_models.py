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
