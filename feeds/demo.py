"""Demo product sources: one per catalog, and for the first catalog of each tenant a
finished run (with a diff and row errors) so the pages have something to show. Idempotent."""

from __future__ import annotations

import csv
import io
from datetime import time

from catalogs.models import Catalog, Product

from . import services
from .models import FeedRun, ProductSource, Schedule, SourceKind, Trigger, UpdateMode


def _feed_from(products: list[Product]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(
        [
            "id",
            "title",
            "description",
            "link",
            "image_link",
            "price",
            "availability",
            "brand",
            "gtin",
            "color",
        ]
    )
    for i, p in enumerate(products):
        title = p.title + (" (new colour)" if i % 17 == 0 else "")
        price = f"{(p.price or 0) + (1 if i % 23 == 0 else 0)} {p.currency or 'USD'}"
        w.writerow(
            [
                p.sku,
                title,
                p.description,
                p.link,
                p.image_link,
                price,
                p.availability.replace("_", " "),
                p.brand,
                p.gtin,
                "Navy",
            ]
        )
    w.writerow(["", "Row without id", "", "", "", "5 USD", "in stock", "", "", ""])
    w.writerow(["DEMO-BAD-PRICE", "Bad price", "", "", "", "five dollars", "in stock", "", "", ""])
    w.writerow(
        [
            "DEMO-NEW-1",
            "Demo trail bottle",
            "New in the feed",
            "https://shop.example.com/p/DEMO-NEW-1",
            "https://shop.example.com/i/DEMO-NEW-1.jpg",
            "14,90 USD",
            "preorder",
            "Kestrel",
            "",
            "",
        ]
    )
    return buf.getvalue().encode()


def seed_demo(*, tenants, stdout) -> None:
    for tenant in tenants:
        catalogs = list(Catalog.objects.for_tenant(tenant).order_by("id"))
        for n, catalog in enumerate(catalogs):
            source, _ = ProductSource.objects.for_tenant(tenant).get_or_create(
                catalog=catalog,
                name="Daily feed",
                defaults={
                    "tenant": tenant,
                    "kind": SourceKind.URL,
                    "url": f"https://feeds.example.com/{tenant.slug}/{catalog.pk}.csv",
                    "schedule": Schedule.MANUAL,
                    "schedule_time": time(6, 0),
                    "mode": UpdateMode.UPDATE,
                    "enabled": n == 0,
                },
            )
            if n != 0 or FeedRun.objects.for_tenant(tenant).filter(source=source).exists():
                continue
            products = list(
                Product.objects.for_tenant(tenant)
                .active()
                .filter(catalog=catalog)
                .order_by("id")[:60]
            )
            path = services.upload_path_for("demo-feed.csv")
            with open(path, "wb") as fh:
                fh.write(_feed_from(products))
            run, _ = services.feed_run_request(
                tenant=tenant,
                source=source,
                actor=None,
                trigger=Trigger.UPLOAD,
                file_path=path,
                file_name="demo-feed.csv",
            )
            run = services.feed_run_execute(tenant_id=tenant.pk, run_id=run.pk)
            stdout.write(
                f"  {tenant.slug}/{catalog.name}: run #{run.number} {run.status}, created "
                f"{run.created}, updated {run.updated}, rejected {run.rejected}"
            )
