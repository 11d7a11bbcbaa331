import pytest

from catalogs.tests.factories import CatalogFactory, ProductFactory


@pytest.fixture
def catalog(tenant_a):
    """tenant_a's shop with the products SKU-1 and SKU-2 (a module may define its own)."""
    catalog = CatalogFactory(tenant=tenant_a, name="Shop", currency="BRL")
    for sku in ("SKU-1", "SKU-2"):
        ProductFactory(tenant=tenant_a, catalog=catalog, sku=sku)
    return catalog


@pytest.fixture
def staff_client(client, django_user_model):
    """A page client logged in as a platform admin (Django admin)."""
    user = django_user_model.objects.create_user(
        "operator", password="x", is_staff=True, is_superuser=True
    )
    client.force_login(user)
    return client
