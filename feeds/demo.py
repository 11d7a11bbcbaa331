"""Demo product sources: one per catalog, and for the first catalog of each tenant a
finished run (with a diff and row errors) so the pages have something to show. Idempotent."""

from __future__ import annotations

import csv
import io
import os
from datetime import time
from pathlib import Path
from typing import Any

from django.conf import settings

from catalogs.demo import DEMO_CATALOGS, demo_image_url
from catalogs.models import Catalog, Product

from . import services
from .demo_server import DEMO_FEED_USER
from .models import (
    FeedRun,
    FeedSettings,
    ProductSource,
    Schedule,
    SourceKind,
    Trigger,
    UpdateMode,
)


def _feed_from(products: list[Product], *, extra_rows: bool = True) -> bytes:
    """A feed of ``products``; with ``extra_rows``, a few edits, bad rows and a new product
    (the first run's diff and row errors)."""
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
        title = p.title + (" (new colour)" if extra_rows and i % 17 == 0 else "")
        bump = 1 if extra_rows and i % 23 == 0 else 0
        price = f"{(p.price or 0) + bump} {p.currency or 'USD'}"
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
                "Navy" if extra_rows else "",
            ]
        )
    if not extra_rows:
        return buf.getvalue().encode()
    w.writerow(["", "Row without id", "", "", "", "5 USD", "in stock", "", "", ""])
    w.writerow(["DEMO-BAD-PRICE", "Bad price", "", "", "", "five dollars", "in stock", "", "", ""])
    w.writerow(
        [
            "DEMO-NEW-1",
            "Demo trail bottle",
            "New in the feed",
            "https://shop.example.com/p/DEMO-NEW-1",
            demo_image_url(),
            "14,90 USD",
            "preorder",
            "Kestrel",
            "",
            "",
        ]
    )
    return buf.getvalue().encode()


# The demo serves its own feeds (feeds.demo_server, started by scripts/demo.sh) so Request
# Data Now works offline; these say where. Demo only: nothing else reads them.
DEMO_FEED_NETWORK = "127.0.0.1/32"


def demo_feeds_dir() -> Path:
    return Path(os.environ.get("DEMO_FEEDS_DIR") or settings.VAR_DIR / "demo-feeds")


def demo_feeds_url() -> str:
    return os.environ.get("DEMO_FEEDS_URL", "http://127.0.0.1:8001").rstrip("/")


DEMO_CATALOG_NAMES = [name for names in DEMO_CATALOGS.values() for name, _, _ in names]


def _allow_demo_feed_server() -> None:
    """Allow-list the demo's loopback feed server (the DB's FeedSettings: demo data only)."""
    fs = FeedSettings.load()
    if DEMO_FEED_NETWORK not in fs.fetch_allow_list.split():
        fs.fetch_allow_list = (fs.fetch_allow_list.strip() + "\n" + DEMO_FEED_NETWORK).strip()
        fs.save()


def _write_feed(relative: str, products: list[Product]) -> str:
    path = demo_feeds_dir() / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_feed_from(products, extra_rows=False))
    return f"{demo_feeds_url()}/{relative}"


def _demo_source(*, tenant, catalog, name: str, data: dict[str, Any]) -> ProductSource:
    """Create the source, or point an existing one (an older demo) at the demo's server."""
    source = ProductSource.objects.for_tenant(tenant).filter(catalog=catalog, name=name).first()
    if source is None:
        return services.source_create(
            tenant=tenant, catalog=catalog, actor=None, data={"name": name, **data}
        )
    if any(getattr(source, k) != v for k, v in data.items()):
        services.source_update(tenant=tenant, source=source, actor=None, data=data)
        source.refresh_from_db()
    return source


def seed_demo(*, tenants, stdout) -> None:
    _allow_demo_feed_server()
    for tenant in tenants:
        # the demo's own catalogs: one a user made in a demo tenant keeps the sources it has
        catalogs = list(
            Catalog.objects.for_tenant(tenant).filter(name__in=DEMO_CATALOG_NAMES).order_by("id")
        )
        for n, catalog in enumerate(catalogs):
            products = list(
                Product.objects.for_tenant(tenant).active().filter(catalog=catalog).order_by("id")
            )
            relative = f"{tenant.slug}/{catalog.pk}.csv"
            source = _demo_source(
                tenant=tenant,
                catalog=catalog,
                name="Daily feed",
                data={
                    "kind": SourceKind.URL,
                    "url": _write_feed(relative, products),
                    "schedule": Schedule.DAILY,
                    "schedule_time": time(6, 0),
                    "mode": UpdateMode.UPDATE,
                    "enabled": True,
                },
            )
            if n == 0:
                # the same feed behind Basic auth: Request Data Now asks for its password
                _demo_source(
                    tenant=tenant,
                    catalog=catalog,
                    name="Supplier feed (password)",
                    data={
                        "kind": SourceKind.URL,
                        "url": _write_feed(f"private/{relative}", products),
                        "username": DEMO_FEED_USER,
                        "schedule": Schedule.MANUAL,
                        "mode": UpdateMode.UPDATE,
                        "enabled": True,
                    },
                )
            if n != 0 or FeedRun.objects.for_tenant(tenant).filter(source=source).exists():
                continue
            path = services.upload_path_for("demo-feed.csv")
            with open(path, "wb") as fh:
                fh.write(_feed_from(products[:60]))
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
    stdout.write(f"  feeds served by the demo from {demo_feeds_dir()} at {demo_feeds_url()}/")
