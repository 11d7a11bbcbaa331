"""A Shopify products export (Products → Export, CSV) as product-feed rows.

Pure and not wired into the feed pipeline yet: ``shopify_product_rows`` takes the export's
rows (dicts by column name, e.g. from ``csv.DictReader``) and returns one dict per variant
in the feed's fields (``catalogs.fields.FEED_FIELDS``, values as text) plus the problems.

Shopify writes one row per variant, grouped by ``Handle``: the product's first row carries
its title, description, vendor, type and first image; later rows of the same handle carry
the variant's cells only, and rows with only ``Image Src`` add more images. So a variant
inherits the product's title, description and image; its id is ``Variant SKU``, else the
handle plus its option values; its price is ``Variant Price``, and a higher
``Variant Compare At Price`` becomes the regular price with the variant price as the sale
price.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

REQUIRED_COLUMNS = ("Handle", "Variant Price")
PRODUCT_LEVEL = {
    "title": "Title",
    "description": "Body (HTML)",
    "brand": "Vendor",
    "product_type": "Type",
    "image_link": "Image Src",
}


@dataclass(frozen=True)
class Problem:
    line: int  # the header is line 1
    handle: str
    message: str


def _cell(row: Mapping[str, object], column: str) -> str:
    value = row.get(column)
    return "" if value is None else str(value).strip()


def _amount(text: str) -> Decimal | None:
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None
    return value if value.is_finite() and value >= 0 else None


def _variant_id(handle: str, options: list[str]) -> str:
    parts = [handle, *(o for o in options if o and o.lower() != "default title")]
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", "-".join(parts)).strip("-")[:100]


def shopify_product_rows(
    rows: Iterable[Mapping[str, object]], *, shop_url: str = "", currency: str = ""
) -> tuple[list[dict[str, str]], list[Problem]]:
    """Variants of a Shopify products export as feed rows, and the rows left out."""
    products: dict[str, dict[str, str]] = {}
    extra_images: dict[str, list[str]] = {}
    variants: list[tuple[int, str, Mapping[str, object]]] = []
    problems: list[Problem] = []
    for line, row in enumerate(rows, start=2):
        handle = _cell(row, "Handle")
        if not handle:
            problems.append(Problem(line, "", "Handle is empty"))
            continue
        product = products.setdefault(handle, {})
        for field, column in PRODUCT_LEVEL.items():
            if not product.get(field) and _cell(row, column):
                product[field] = _cell(row, column)
        image = _cell(row, "Image Src")
        if image and image != product.get("image_link"):
            extra_images.setdefault(handle, []).append(image)
        if _cell(row, "Status").lower() in ("draft", "archived"):
            product["skip"] = f"status is {_cell(row, 'Status').lower()}"
        has_variant = _cell(row, "Variant Price") or _cell(row, "Variant SKU")
        if has_variant:
            variants.append((line, handle, row))
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for line, handle, row in variants:
        product = products[handle]
        if product.get("skip"):
            problems.append(Problem(line, handle, f"left out: the product's {product['skip']}"))
            continue
        options = [_cell(row, f"Option{i} Value") for i in (1, 2, 3)]
        sku = _cell(row, "Variant SKU") or _variant_id(handle, options)
        if sku in seen:
            problems.append(Problem(line, handle, f"id {sku!r} repeats an earlier variant"))
            continue
        price = _amount(_cell(row, "Variant Price"))
        if price is None:
            problems.append(Problem(line, handle, "Variant Price is not an amount"))
            continue
        compare_at = _amount(_cell(row, "Variant Compare At Price"))
        regular, sale = (compare_at, price) if compare_at and compare_at > price else (price, None)
        seen.add(sku)
        title = product.get("title", "")
        variant_title = " / ".join(o for o in options if o and o.lower() != "default title")
        qty = _cell(row, "Variant Inventory Qty")
        tracked = bool(_cell(row, "Variant Inventory Tracker"))
        sells_out = _cell(row, "Variant Inventory Policy").lower() != "continue"
        in_stock = not tracked or not sells_out or (qty.lstrip("-").isdigit() and int(qty) > 0)
        out.append(
            {
                "sku": sku,
                "item_group_id": handle,
                "title": f"{title} - {variant_title}" if variant_title else title,
                "description": product.get("description", ""),
                "link": f"{shop_url.rstrip('/')}/products/{handle}" if shop_url else "",
                "image_link": _cell(row, "Variant Image") or product.get("image_link", ""),
                "additional_image_links": "|".join(extra_images.get(handle, [])),
                "brand": product.get("brand", ""),
                "gtin": _cell(row, "Variant Barcode"),
                "mpn": "",
                "condition": "new",
                "availability": "in_stock" if in_stock else "out_of_stock",
                "price": f"{regular:.2f}",
                "sale_price": f"{sale:.2f}" if sale is not None else "",
                "currency": currency,
                "shipping_fee": "",
                "inventory_quantity": qty if qty.lstrip("-").isdigit() else "",
                "product_type": product.get("product_type", ""),
                "google_product_category": _cell(row, "Product Category"),
                "custom_attributes": "",
            }
        )
    return out, problems
