import pytest

from catalogs.tests.factories import CatalogFactory, ProductFactory


@pytest.fixture
def catalog(tenant_a):
    """tenant_a's shop with the products SKU-1 and SKU-2 (a module may define its own)."""
    catalog = CatalogFactory(tenant=tenant_a, name="Shop", currency="BRL")
    for sku in ("SKU-1", "SKU-2"):
        ProductFactory(tenant=tenant_a, catalog=catalog, sku=sku)
    return catalog
