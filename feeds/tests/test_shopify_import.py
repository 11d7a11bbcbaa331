"""A Shopify products export through the real pipeline (`manage.py import_feed`): recognised
from its header, variants grouped by Handle across the reader's blocks, validated as any
feed's rows, stored as products."""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.core.management import call_command

from catalogs.models import Product
from catalogs.tests.factories import CatalogFactory
from feeds import records
from feeds.columnar import DUPLICATE_ID
from feeds.models import FeedRowError, FeedRun, FeedSettings, RunStatus
from feeds.tests.factories import ProductSourceFactory
from feeds.tests.test_services import upload_run

# the first pull into an empty catalog COPYs outside the test's transaction, as in production
pytestmark = pytest.mark.django_db(transaction=True)

HEADER = [
    "Handle", "Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags", "Published",
    "Option1 Name", "Option1 Value", "Option1 Linked To", "Option2 Name", "Option2 Value",
    "Option2 Linked To", "Option3 Name", "Option3 Value", "Option3 Linked To", "Variant SKU",
    "Variant Grams", "Variant Inventory Tracker", "Variant Inventory Qty",
    "Variant Inventory Policy", "Variant Fulfillment Service", "Variant Price",
    "Variant Compare At Price", "Variant Requires Shipping", "Variant Taxable",
    "Variant Barcode", "Image Src", "Image Position", "Image Alt Text", "Gift Card",
    "SEO Title", "SEO Description", "Google Shopping / Google Product Category",
    "Google Shopping / Gender", "Google Shopping / Age Group", "Google Shopping / MPN",
    "Google Shopping / Condition", "Google Shopping / Custom Product", "Variant Image",
    "Variant Weight Unit", "Variant Tax Code", "Cost per item", "Included / United States",
    "Price / United States", "Compare At Price / United States", "Status",
]  # fmt: skip
CDN = "https://cdn.shopify.com/s/files/1/0000/0001/products"
CATEGORY = "Apparel & Accessories > Clothing > Shirts & Tops"


def body_html(i: int, size: int) -> str:
    """A product description as Shopify exports it: HTML over several lines, with commas
    and quotes (so the cell is quoted and the record spans lines)."""
    para = f'<p>Soft, "brushed" cotton tee no. {i}.</p>\n<ul><li>Machine wash</li></ul>\n'
    return (para * (size // len(para) + 1))[:size]


def render(cells: dict[str, str]) -> str:
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerow([cells.get(h, "") for h in HEADER])
    return text.getvalue()


@dataclass
class Export:
    """The export's text and, per row, its first line, its bytes and its handle."""

    text: list[str] = field(default_factory=lambda: [render({h: h for h in HEADER})])
    rows: list[tuple[int, int, int, str]] = field(default_factory=list)
    line: int = 2
    offset: int = len(render({h: h for h in HEADER}))

    def row(self, cells: dict[str, str]) -> int:
        """Write one row (cells by column name); return its line."""
        text = render(cells)
        size = len(text.encode())
        self.rows.append((self.line, self.offset, self.offset + size, cells["Handle"]))
        self.text.append(text)
        self.offset += size
        line, self.line = self.line, self.line + text.count("\n")
        return line

    def product(
        self,
        handle: str,
        variants: list[dict[str, str]],
        *,
        images: int = 2,
        description: str = "",
        status: str = "active",
    ) -> list[int]:
        """A product's rows: the first carries the product's cells, then one row per
        variant, then the images no variant row carried. Returns the variants' lines."""
        lines = []
        for n, variant in enumerate(variants):
            cells = {
                "Handle": handle,
                "Variant Grams": "180",
                "Variant Inventory Tracker": "shopify",
                "Variant Inventory Qty": "5",
                "Variant Inventory Policy": "deny",
                "Variant Fulfillment Service": "manual",
                "Variant Requires Shipping": "TRUE",
                "Variant Taxable": "TRUE",
                "Variant Weight Unit": "kg",
                "Included / United States": "TRUE",
                **variant,
            }
            if n == 0:
                cells |= {
                    "Title": f"Tee {handle}",
                    "Body (HTML)": description,
                    "Vendor": "Kestrel",
                    "Product Category": CATEGORY,
                    "Type": "Shirts",
                    "Tags": "cotton, summer",
                    "Published": "TRUE",
                    "Option1 Name": "Size",
                    "Option2 Name": "Color" if "Option2 Value" in variant else "",
                    "Gift Card": "FALSE",
                    "Google Shopping / Condition": "new",
                    "Status": status,
                }
            if n < images:
                cells |= {
                    "Image Src": f"{CDN}/{handle}-{n + 1}.jpg",
                    "Image Position": str(n + 1),
                    "Image Alt Text": f"{handle}, view {n + 1}",
                }
            lines.append(self.row(cells))
        for n in range(len(variants), images):
            image = {"Image Src": f"{CDN}/{handle}-{n + 1}.jpg", "Image Position": str(n + 1)}
            self.row({"Handle": handle, **image})
        return lines

    def pad_to(self, offset: int) -> None:
        """A one-variant product whose SEO description (a column no product field reads)
        makes the next row start at ``offset``."""
        cells = {"Handle": "pad", "Title": "Pad", "Variant Price": "1.00", "Status": "active"}
        room = offset - self.offset - len(render(cells))
        self.row({**cells, "SEO Description": "x" * room})
        assert self.offset == offset


def sizes(handle: str, n: int, price: str = "19.00", compare_at: str = "") -> list[dict]:
    return [
        {
            "Option1 Value": size,
            "Variant SKU": f"{handle.upper()}-{size}",
            "Variant Price": price,
            "Variant Compare At Price": compare_at,
            "Variant Barcode": f"40063813{i:05d}",
        }
        for i, size in enumerate(["XS", "S", "M", "L", "XL", "XXL"][:n])
    ]


BOUNDARY = records.BLOCK_BYTES  # where the reader's first block of records ends


def build() -> tuple[Export, dict]:
    """A realistic export of a little over one block of the reader, with the product
    "straddle" on both sides of the block's end."""
    ex = Export()
    facts: dict = {}
    facts["sale"] = ex.product("sale-tee", sizes("sale-tee", 3, "15.00", "20.00"))
    facts["plain"] = ex.product("plain-tee", sizes("plain-tee", 2, "12.50", "10.00"))
    ex.product("mug", [{"Option1 Value": "Default Title", "Variant Price": "9.5"}], images=3)
    no_sku = [{"Option1 Value": s, "Option2 Value": "Red", "Variant Price": "7"} for s in "SM"]
    ex.product("no-sku", no_sku, images=1)
    facts["draft"] = ex.product("draft-tee", sizes("draft-tee", 2), status="draft")
    bad = sizes("bad-price", 2)
    bad[1]["Variant Price"] = "twelve"
    facts["bad"] = ex.product("bad-price", bad)[1]
    facts["dup"] = ex.product("dup", sizes("sale-tee", 1))[0]  # another product's SKU
    i = 0
    while ex.offset < BOUNDARY - 40_000:
        ex.product(f"tee-{i:05d}", sizes(f"tee-{i:05d}", 4), description=body_html(i, 3_000))
        i += 1
    facts["filler"] = i
    ex.pad_to(BOUNDARY - 1_000)
    ex.product("straddle", sizes("straddle", 6), description=body_html(0, 300), images=8)
    for j in range(3):
        ex.product(f"after-{j}", sizes(f"after-{j}", 2), description=body_html(j, 500))
    return ex, facts


def test_a_shopify_products_export_imports_variant_by_variant(tenant_a, tmp_path, capsys):
    FeedSettings.objects.update_or_create(pk=1, defaults={"rejected_share_threshold": 0.5})
    ex, facts = build()
    straddle = [(start, end) for _, start, end, handle in ex.rows if handle == "straddle"]
    assert straddle[0][1] < BOUNDARY < straddle[-1][0]  # the product spans the two blocks
    path = tmp_path / "products_export_1.csv"
    path.write_text("".join(ex.text), encoding="utf-8")
    assert path.stat().st_size == ex.offset
    catalog = CatalogFactory(tenant=tenant_a, currency="EUR")

    call_command("import_feed", "--catalog", str(catalog.pk), str(path))

    summary = capsys.readouterr().out
    products = {p.sku: p for p in Product.objects.for_tenant(tenant_a).filter(catalog=catalog)}
    # sale 3, plain 2, mug 1, no-sku 2, bad-price 1 of 2, the fillers, pad 1, straddle 6,
    # after-* 2 each (the draft's variants are left out; dup's one is a duplicate)
    variants = 3 + 2 + 1 + 2 + 1 + 4 * facts["filler"] + 1 + 6 + 3 * 2
    assert len(products) == variants
    assert f"created {variants}," in summary and "rejected 2," in summary
    run = FeedRun.objects.get(catalog=catalog)
    errors = {
        (e.line, e.sku, e.field, e.message, e.severity)
        for e in FeedRowError.objects.filter(run=run)
    }
    draft = facts["draft"]
    assert errors == {
        (facts["bad"], "BAD-PRICE-S", "price", "cannot read price “twelve” (expected "
         "e.g. 12.99 USD)", "error"),
        (facts["dup"], "SALE-TEE-XS", "id", DUPLICATE_ID, "error"),
        *((line, f"DRAFT-TEE-{s}", "Status", "left out: the product is draft in Shopify",
           "warning") for line, s in zip(draft, ["XS", "S"], strict=True)),
    }  # fmt: skip

    # compare-at above the price: the regular price, the variant price the sale price
    sale = products["SALE-TEE-M"]
    assert (sale.price, sale.sale_price, sale.currency) == (Decimal("20"), Decimal("15"), "EUR")
    assert sale.title == "Tee sale-tee - M" and sale.item_group_id == "sale-tee"
    assert sale.brand == "Kestrel" and sale.product_type == "Shirts"
    assert sale.google_product_category == CATEGORY and sale.gtin == "4006381300002"
    assert sale.image_link == f"{CDN}/sale-tee-1.jpg"
    assert (products["PLAIN-TEE-S"].price, products["PLAIN-TEE-S"].sale_price) == (
        Decimal("12.50"),
        None,
    )
    # one variant, "Default Title": the handle is its id; image-only rows add images
    mug = products["mug"]
    assert mug.title == "Tee mug" and mug.price == Decimal("9.50")
    assert mug.additional_image_links == [f"{CDN}/mug-2.jpg", f"{CDN}/mug-3.jpg"]
    # no SKU: the handle plus the option values
    assert {"no-sku-S-Red", "no-sku-M-Red"} <= set(products)
    assert products["no-sku-M-Red"].title == "Tee no-sku - M / Red"
    # the product across the blocks: every variant inherits from its first row
    for size in ["XS", "S", "M", "L", "XL", "XXL"]:
        p = products[f"STRADDLE-{size}"]
        assert p.title == f"Tee straddle - {size}" and p.description == body_html(0, 300)
        assert p.brand == "Kestrel" and p.inventory_quantity == 5
        assert p.availability == "in_stock"
    assert products["STRADDLE-XXL"].image_link == f"{CDN}/straddle-1.jpg"
    assert len(products["STRADDLE-XXL"].additional_image_links) == 7
    assert "DRAFT-TEE-S" not in products and "BAD-PRICE-S" not in products


def test_an_uploaded_export_then_a_changed_one_updates_and_removes(tenant_a):
    """A product source's upload (gzipped, as sellers send big files), then the next export:
    a variant sold out, a price changed, a product deleted in Shopify."""
    FeedSettings.objects.update_or_create(pk=1, defaults={"manual_refresh_min_seconds": 0})
    catalog = CatalogFactory(tenant=tenant_a, currency="USD")
    source = ProductSourceFactory(catalog=catalog, tenant=tenant_a)
    first = Export()
    first.product("tee", sizes("tee", 3, "20.00", "25.00"), description=body_html(1, 800))
    first.product("cap", sizes("cap", 1, "9.00"))
    run = upload_run(tenant_a, source, gzip.compress("".join(first.text).encode()))
    assert (run.status, run.created, run.rejected) == (RunStatus.SUCCEEDED, 4, 0)

    second = Export()
    tee = sizes("tee", 3, "20.00", "25.00")
    tee[1] |= {"Variant Price": "18.00", "Variant Inventory Qty": "0"}
    second.product("tee", tee, description=body_html(1, 800))
    run = upload_run(tenant_a, source, "".join(second.text).encode())
    assert (run.status, run.updated, run.unchanged, run.removed) == (RunStatus.SUCCEEDED, 1, 2, 1)
    changed = Product.objects.for_tenant(tenant_a).get(catalog=catalog, sku="TEE-S")
    assert (changed.price, changed.sale_price) == (Decimal("25.00"), Decimal("18.00"))
    assert changed.availability == "out_of_stock" and changed.inventory_quantity == 0
    assert Product.objects.for_tenant(tenant_a).get(catalog=catalog, sku="CAP-XS").removed_at
