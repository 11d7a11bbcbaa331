"""A Shopify products export (Products → Export, CSV) as product-feed rows (pure: no ORM).

Shopify writes one row per variant, grouped by ``Handle``: the product's first row carries
its title, description, vendor, type and first image; later rows of the same handle carry
the variant's cells only, and rows with only ``Image Src`` add more images. So a variant
inherits the product's title, description and image; its id is ``Variant SKU``, else the
handle plus its option values; its price is ``Variant Price``, and a higher
``Variant Compare At Price`` becomes the regular price with the variant price as the sale
price (in the catalog's currency: the export's prices carry none).

``Products`` turns the export's rows, as they stream in, into one row per variant in the
feed's canonical columns (the cells a CSV feed would have), which the pipeline validates
like any feed's (``columnar.validate_table``): readers.parse_feed_tables recognises the
export from its header (``is_products_export``). A product is complete when a row of
another handle (or the end of the file) comes, so its rows may span the reader's blocks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal

from .parsing import RowError, parse_price

PRODUCT_LEVEL = {
    "title": "Title",
    "description": "Body (HTML)",
    "brand": "Vendor",
    "product_type": "Type",
    "image_link": "Image Src",
    "google_product_category": "Google Shopping / Google Product Category",
    "category": "Product Category",
    "mpn": "Google Shopping / MPN",
    "condition": "Google Shopping / Condition",
    "status": "Status",
}
# the canonical columns of every variant row (a column the export lacks stays out, so an
# update-mode run keeps that field)
COLUMNS = (
    "sku",
    "item_group_id",
    "title",
    "description",
    "image_link",
    "additional_image_link",
    "brand",
    "gtin",
    "condition",
    "availability",
    "price",
    "sale_price",
    "product_type",
)
OPTIONAL_COLUMNS = {
    "quantity": ("Variant Inventory Qty",),
    "mpn": ("Google Shopping / MPN",),
    "google_product_category": ("Google Shopping / Google Product Category", "Product Category"),
}
NOT_TOGETHER = (
    "the rows of product “{}” are not together: an export lists each product's rows one "
    "after another"
)


def _key(name: object) -> str:
    return str(name).strip().lstrip("\ufeff").strip().lower()


def is_products_export(header: Iterable[object]) -> bool:
    """A header with ``Handle`` and ``Variant SKU`` or ``Variant Price`` (any case)."""
    cols = {_key(h) for h in header}
    return "handle" in cols and bool(cols & {"variant sku", "variant price"})


def _cell(row: Mapping[str, object], column: str) -> str:
    value = row.get(column)
    return "" if value is None else str(value).strip()


def _amount(text: str) -> Decimal | None:
    try:
        return parse_price(text, "XXX")[0] if text else None
    except ValueError:
        return None


def _variant_id(handle: str, options: list[str]) -> str:
    parts = [handle, *(o for o in options if o and o.lower() != "default title")]
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", "-".join(parts)).strip("-")[:100]


class Products:
    """Variants of a Shopify products export, product by product as its rows stream in.

    ``add`` takes (line, row) pairs (a row: cells by the export's column names) and
    returns the variants of the products completed so far and the rows' problems;
    ``finish`` those of the last product. Problems are row errors (a row without handle, a
    product whose rows are not together) or warnings (a draft or archived product's
    variants are left out, as products not in the feed are).
    """

    def __init__(self, header: Iterable[object], *, shop_url: str = ""):
        names = {_key(h): str(h).strip().lstrip("\ufeff").strip() for h in header}
        self.column = {k: names.get(k.lower(), k) for k in _shopify_columns()}
        self.columns = [
            *COLUMNS,
            *(f for f, cs in OPTIONAL_COLUMNS.items() if any(c.lower() in names for c in cs)),
            *(["link"] if shop_url else []),
        ]
        self.shop_url = shop_url.rstrip("/")
        self.handle = ""
        self.rows: list[tuple[int, Mapping[str, object]]] = []
        self.done: set[str] = set()

    def add(
        self, rows: Iterable[tuple[int, Mapping[str, object]]]
    ) -> tuple[list[tuple[int, dict[str, str]]], list[RowError]]:
        out: list[tuple[int, dict[str, str]]] = []
        problems: list[RowError] = []
        for line, row in rows:
            handle = self._get(row, "Handle")
            sku = self._get(row, "Variant SKU")[:100]
            if not handle:
                problems.append(RowError(line, sku, "Handle", "the row has no Handle"))
                continue
            if handle != self.handle:
                self._complete(out, problems)
                self.handle = handle
            if handle in self.done:
                problems.append(RowError(line, sku, "Handle", NOT_TOGETHER.format(handle[:60])))
                continue
            self.rows.append((line, row))
        return out, problems

    def finish(self) -> tuple[list[tuple[int, dict[str, str]]], list[RowError]]:
        out: list[tuple[int, dict[str, str]]] = []
        problems: list[RowError] = []
        self._complete(out, problems)
        return out, problems

    def _get(self, row: Mapping[str, object], column: str) -> str:
        return _cell(row, self.column[column])

    def _complete(self, out: list, problems: list[RowError]) -> None:
        """The variants of the product whose rows are held, if any."""
        if not self.rows:
            return
        rows, handle = self.rows, self.handle
        self.rows = []
        self.done.add(handle)
        product: dict[str, str] = {}
        images: list[str] = []
        for _, row in rows:
            for field, column in PRODUCT_LEVEL.items():
                if not product.get(field):
                    product[field] = self._get(row, column)
            image = self._get(row, "Image Src")
            if image and image not in images:
                images.append(image)
        variants = [(line, row) for line, row in rows if self._is_variant(row)]
        status = product["status"].lower()
        if status in ("draft", "archived"):
            for line, row in variants:
                message = f"left out: the product is {status} in Shopify"
                sku = self._get(row, "Variant SKU")[:100]
                problems.append(RowError(line, sku, "Status", message, "warning"))
            return
        for line, row in variants:
            out.append((line, self._variant(handle, product, images, row)))

    def _is_variant(self, row: Mapping[str, object]) -> bool:
        """A variant's row, not one that only adds an image."""
        cells = ("Variant SKU", "Variant Price", "Option1 Value")
        return any(self._get(row, c) for c in cells)

    def _variant(
        self, handle: str, product: dict[str, str], images: list[str], row: Mapping[str, object]
    ) -> dict[str, str]:
        get = self._get
        options = [get(row, f"Option{i} Value") for i in (1, 2, 3)]
        named = [o for o in options if o and o.lower() != "default title"]
        title = product["title"]
        price, sale = get(row, "Variant Price"), ""
        compare_at = get(row, "Variant Compare At Price")
        amount, regular = _amount(price), _amount(compare_at)
        if amount is not None and regular is not None and regular > amount:
            price, sale = compare_at, price
        image = get(row, "Variant Image") or product["image_link"]
        qty = get(row, "Variant Inventory Qty")
        sells_out = get(row, "Variant Inventory Tracker") and (
            get(row, "Variant Inventory Policy").lower() != "continue"
        )
        sold_out = sells_out and re.fullmatch(r"-?\d+", qty) is not None and int(qty) <= 0
        values = {
            "sku": get(row, "Variant SKU") or _variant_id(handle, options),
            "item_group_id": handle,
            "title": f"{title} - {' / '.join(named)}" if named and title else title,
            "description": product["description"],
            "link": f"{self.shop_url}/products/{handle}" if self.shop_url else "",
            "image_link": image,
            "additional_image_link": ",".join(i for i in images if i != image),
            "brand": product["brand"],
            "gtin": get(row, "Variant Barcode"),
            "mpn": product["mpn"],
            "condition": product["condition"].lower() or "new",
            "availability": "out of stock" if sold_out else "in stock",
            "price": price,
            "sale_price": sale,
            "quantity": qty,
            "product_type": product["product_type"],
            "google_product_category": product["google_product_category"] or product["category"],
        }
        return {c: values[c] for c in self.columns}


def _shopify_columns() -> tuple[str, ...]:
    return (
        "Handle",
        *PRODUCT_LEVEL.values(),
        "Variant SKU",
        "Variant Price",
        "Variant Compare At Price",
        "Variant Image",
        "Variant Barcode",
        "Variant Inventory Qty",
        "Variant Inventory Tracker",
        "Variant Inventory Policy",
        "Option1 Value",
        "Option2 Value",
        "Option3 Value",
    )


def variant_rows(
    rows: Iterable[Mapping[str, object]], *, header: Iterable[object], shop_url: str = ""
) -> tuple[list[tuple[int, dict[str, str]]], list[RowError]]:
    """All variants of an export's rows (dicts by column name; the header is line 1 and
    each row one line), and the problems: ``Products`` on a whole file at once."""
    products = Products(header, shop_url=shop_url)
    out, problems = products.add(enumerate(rows, start=2))
    rest, more = products.finish()
    return out + rest, problems + more
