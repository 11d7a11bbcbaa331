"""Demo catalogs and a few thousand realistic products, some with data problems that review
will find. Deterministic (seeded) and idempotent."""

from __future__ import annotations

import os
import random
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import Availability, Catalog, Condition, Product

BRANDS = ["Northwind", "Acme Outdoor", "Lumen", "Fjord & Co", "Papillon", "Kestrel", "Urban Loom"]
TYPES = {
    "Apparel > Tops": ["T-Shirt", "Hoodie", "Linen Shirt", "Polo", "Sweater"],
    "Apparel > Shoes": ["Trail Runner", "Leather Boot", "Canvas Sneaker", "Sandal"],
    "Home > Kitchen": ["Chef Knife", "Cast Iron Skillet", "French Press", "Cutting Board"],
    "Sports > Camping": ["Tent 2P", "Sleeping Bag", "Headlamp", "Camp Stove"],
    "Electronics > Audio": ["Wireless Earbuds", "Bluetooth Speaker", "Headphones"],
}
COLORS = ["Black", "Navy", "Olive", "Sand", "Red", "White", "Grey"]
SIZES = ["XS", "S", "M", "L", "XL"]

DEMO_CATALOGS = {
    0: [("Main store", "US", "USD"), ("Outlet", "US", "USD")],
    1: [("EU shop", "DE", "EUR"), ("Marketplace mirror", "FR", "EUR")],
}


def _gtin13(rng: random.Random) -> str:
    digits = [rng.randint(0, 9) for _ in range(12)]
    total = sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


def demo_product_rows(*, count: int, seed: int, currency: str, host: str) -> list[dict]:
    """Plain dicts of products: most are clean, about 15% carry a problem review should flag."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        category = rng.choice(list(TYPES))
        kind = rng.choice(TYPES[category])
        brand = rng.choice(BRANDS)
        color = rng.choice(COLORS)
        group = f"G{seed}-{i // 4:05d}"
        size = SIZES[i % 4] if category.startswith("Apparel") else ""
        title = f"{brand} {kind} – {color}" + (f", size {size}" if size else "")
        price = Decimal(rng.randint(900, 25900)) / 100
        qty = rng.choice([0, 0, 3, 8, 15, 40, 120])
        availability = Availability.IN_STOCK if qty else Availability.OUT_OF_STOCK
        if rng.random() < 0.04:
            availability = rng.choice([Availability.PREORDER, Availability.BACKORDER])
        slug = f"{kind}-{color}".lower().replace(" ", "-")
        row = {
            "sku": f"SKU-{seed}-{i:05d}",
            "item_group_id": group if size else "",
            "title": title,
            "description": (
                f"The {kind.lower()} from {brand} in {color.lower()}. "
                "Made to last, easy to care for, shipped in recycled packaging."
            ),
            "link": f"https://{host}/products/{slug}-{i}",
            "image_link": demo_image_url(),
            "brand": brand,
            "gtin": _gtin13(rng),
            "mpn": f"{brand[:3].upper()}-{i:05d}",
            "condition": Condition.NEW,
            "availability": availability,
            "price": price,
            "sale_price": (price * Decimal("0.8")).quantize(Decimal("0.01"))
            if rng.random() < 0.15
            else None,
            "currency": currency,
            "shipping_fee": rng.choice([Decimal("0"), Decimal("4.99"), Decimal("6.50")]),
            "inventory_quantity": qty,
            "product_type": category,
            "google_product_category": category.split(" > ")[0],
        }
        problem = rng.random()
        if problem < 0.03:
            row["image_link"] = ""
        elif problem < 0.05:
            row["price"] = Decimal("0")
            row["sale_price"] = None
        elif problem < 0.07:
            row["title"] = row["title"].upper() + "!!!"
        elif problem < 0.09:
            row["gtin"] = row["gtin"][:-1] + str((int(row["gtin"][-1]) + 1) % 10)
        elif problem < 0.11:
            row["description"] = ""
        elif problem < 0.12:
            row["title"] = row["title"] + " 🔥🔥 best price"
        elif problem < 0.13:
            row["link"] = row["link"].replace("https://", "ftp://")
        elif problem < 0.14:
            row["shipping_fee"] = (price * Decimal("0.6")).quantize(Decimal("0.01"))
        elif problem < 0.15:
            row["currency"] = "GBP" if currency != "GBP" else "USD"
        rows.append(row)
    return rows


def demo_image_url() -> str:
    """The demo's local placeholder image (static/demo/), from the demo's own web server:
    no page waits on an outside host. DEMO_SITE_URL is set by scripts/demo.sh."""
    site = os.environ.get("DEMO_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
    return f"{site}{settings.STATIC_URL}demo/product-placeholder.png"


@transaction.atomic
def seed_demo(*, tenants, stdout, products_per_catalog: int = 1500) -> None:
    now = timezone.now()
    for t_index, tenant in enumerate(tenants):
        for c_index, (name, country, currency) in enumerate(DEMO_CATALOGS[t_index % 2]):
            catalog, _ = Catalog.objects.for_tenant(tenant).get_or_create(
                tenant=tenant, name=name, defaults={"country": country, "currency": currency}
            )
            existing = set(
                Product.objects.for_tenant(tenant)
                .filter(catalog=catalog)
                .values_list("sku", flat=True)
            )
            rows = demo_product_rows(
                count=products_per_catalog,
                seed=t_index * 10 + c_index,
                currency=currency,
                host=f"{tenant.slug}.example.com",
            )
            new = [
                Product(tenant=tenant, catalog=catalog, last_seen_at=now, **row)
                for row in rows
                if row["sku"] not in existing
            ]
            Product.objects.bulk_create(new, batch_size=1000)
            stdout.write(f"  {tenant.slug}/{catalog.name}: {len(new)} products added")
