"""A WooCommerce product CSV export as WooCommerce writes it (Products → Export, all
columns, custom meta included), for the tests: the header of WC_Product_CSV_Exporter's
default columns, then attribute and meta columns, a UTF-8 BOM, one row per product and
per variation (ordered by ID), descriptions with their newlines written as ``\\n``, lists
joined by ", " with commas inside values written ``\\,``, and text that starts with = + - @
prefixed with ``'``."""

from __future__ import annotations

import csv
import io

HEADER = [
    "ID", "Type", "SKU", "GTIN, UPC, EAN, or ISBN", "Name", "Published", "Is featured?",
    "Visibility in catalog", "Short description", "Description", "Date sale price starts",
    "Date sale price ends", "Tax status", "Tax class", "In stock?", "Stock",
    "Low stock amount", "Backorders allowed?", "Sold individually?", "Weight (kg)",
    "Length (cm)", "Width (cm)", "Height (cm)", "Allow customer reviews?", "Purchase note",
    "Sale price", "Regular price", "Categories", "Tags", "Shipping class", "Images",
    "Download limit", "Download expiry days", "Parent", "Grouped products", "Upsells",
    "Cross-sells", "External URL", "Button text", "Position", "Brands",
    "Attribute 1 name", "Attribute 1 value(s)", "Attribute 1 visible", "Attribute 1 global",
    "Attribute 2 name", "Attribute 2 value(s)", "Attribute 2 visible", "Attribute 2 global",
    "Meta: _alg_ean", "Meta: _yoast_wpseo_metadesc",
]  # fmt: skip
UPLOADS = "https://shop.example.com/wp-content/uploads/2024/05"


def description(text: str) -> str:
    """A description cell: its newlines written as the two characters \\n."""
    return text.replace("\\n", "\\\\n").replace("\n", "\\n")


def cell_list(values: list[str]) -> str:
    """A list cell (images, categories, brands): ", "-joined, commas inside written \\,."""
    return ", ".join(v.replace(",", "\\,") for v in values)


def escaped(text: str) -> str:
    """Text that a spreadsheet would read as a formula, prefixed with ' as the exporter does."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


class Export:
    """Rows by column name, rendered as the exporter's CSV bytes (BOM first)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, str]] = []

    def product(self, cells: dict[str, str]) -> int:
        """Add one row (cells by column name); returns its line (the header is line 1; a
        cell never holds a line break: the exporter writes them \\n)."""
        row = {
            "Published": "1",
            "Is featured?": "0",
            "Visibility in catalog": "visible",
            "Tax status": "taxable",
            "In stock?": "1",
            "Backorders allowed?": "0",
            "Sold individually?": "0",
            "Allow customer reviews?": "1",
            "Position": "0",
            **cells,
        }
        unknown = set(row) - set(HEADER)
        assert not unknown, unknown
        self.rows.append(row)
        return len(self.rows) + 1

    def render(self) -> bytes:
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(HEADER)
        for row in self.rows:
            writer.writerow([row.get(h, "") for h in HEADER])
        return b"\xef\xbb\xbf" + text.getvalue().encode()
