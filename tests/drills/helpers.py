"""Data of the drills: a tenant with a catalog fed from a URL source, feeds, snapshots."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from catalog_health.tenancy.models import Membership, Tenant
from catalog_health.tenancy.roles import Role
from catalogs.models import Catalog, Product
from feeds import services
from feeds.models import FeedRun, ProductSource, RunStatus, Schedule, SourceKind

HEADER = "id,title,description,link,image_link,price,availability,brand\n"


def feed_csv(products: int, *, version: int = 1) -> bytes:
    """A valid CSV feed; each version changes the title and price of every product."""
    lines = [HEADER]
    for i in range(products):
        lines.append(
            f"SKU-{i:07d},Trail Runner {i} v{version},Light shoe number {i} for trails,"
            f"https://shop.example.com/p/{i},https://shop.example.com/i/{i}.jpg,"
            f"{10 + (i + version) % 90}.{version % 100:02d} USD,in stock,Kestrel\n"
        )
    return "".join(lines).encode()


@dataclass
class Shop:
    tenant: Tenant
    catalog: Catalog
    source: ProductSource
    user: object


def make_shop(*, feed_url: str, slug: str = "drill", schedule: str = Schedule.MANUAL) -> Shop:
    from django.contrib.auth import get_user_model

    tenant = Tenant.objects.create(slug=slug, name=f"Drill {slug}", currency="USD")
    catalog = Catalog.objects.create(tenant=tenant, name="Main store", country="US", currency="USD")
    user = get_user_model().objects.create_user(
        username=f"adv-{slug}", password="pw-drill", email=f"adv-{slug}@example.com"
    )
    Membership.objects.create(tenant=tenant, user=user, role=Role.ADVERTISER)
    source = services.source_create(
        tenant=tenant,
        catalog=catalog,
        actor=user,
        data={
            "name": "Main feed",
            "kind": SourceKind.URL,
            "url": feed_url,
            "schedule": schedule,
            "format": "csv",
        },
    )
    return Shop(tenant, catalog, source, user)


def catalog_snapshot(shop: Shop) -> tuple[int, str]:
    """(active products, digest of every product's sku, hash, title, price and removal)."""
    rows = (
        Product.objects.for_tenant(shop.tenant)
        .filter(catalog=shop.catalog)
        .order_by("sku")
        .values_list("sku", "content_hash", "title", "price", "removed_at")
    )
    digest = hashlib.sha256()
    active = 0
    for row in rows.iterator(chunk_size=5000):
        digest.update(repr(row).encode())
        active += row[4] is None
    return active, digest.hexdigest()


def run_of(shop: Shop, run_id: int) -> FeedRun:
    return FeedRun.objects.for_tenant(shop.tenant).get(pk=run_id)


def finished(shop: Shop, run_id: int) -> FeedRun | None:
    run = run_of(shop, run_id)
    return None if run.status in (RunStatus.QUEUED, RunStatus.RUNNING) else run


def stage_table_exists(run: FeedRun) -> bool:
    from django.db import connection

    return run.stage_table in connection.introspection.table_names()
