from decimal import Decimal

import factory

from catalog_health.tenancy.models import Tenant
from catalogs.models import Availability, Catalog, Product


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Tenant {n}")
    slug = factory.Sequence(lambda n: f"tenant-{n}")


class CatalogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Catalog

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Catalog {n}")
    country = "US"
    currency = "USD"


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    catalog = factory.SubFactory(CatalogFactory)
    tenant = factory.SelfAttribute("catalog.tenant")
    sku = factory.Sequence(lambda n: f"SKU-{n:06d}")
    title = factory.Sequence(lambda n: f"Trail Runner {n}")
    description = "A shoe for trails."
    link = factory.LazyAttribute(lambda p: f"https://shop.example.com/p/{p.sku}")
    image_link = factory.LazyAttribute(lambda p: f"https://shop.example.com/i/{p.sku}.jpg")
    brand = "Kestrel"
    availability = Availability.IN_STOCK
    price = Decimal("49.99")
    currency = "USD"
    shipping_fee = Decimal("4.99")
    inventory_quantity = 10
