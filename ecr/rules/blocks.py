"""Blocks of products: the Arrow columns the review engine reads, and the same block made
from plain mappings (a seller's edit, tests, hostile input)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import pyarrow as pa

_TEXT = (
    "sku",
    "title",
    "description",
    "link",
    "image_link",
    "brand",
    "gtin",
    "mpn",
    "condition",
    "availability",
    "currency",
    "item_group_id",
    # Numbers as the text they were given in ("" or null: empty), so garbage is reported
    # and messages show the value as written.
    "price",
    "sale_price",
    "shipping_fee",
    "inventory_quantity",
)
BLOCK_SCHEMA = pa.schema(
    [
        *(pa.field(n, pa.string()) for n in _TEXT),
        pa.field("additional_image_links", pa.list_(pa.string())),
        # Lower-cased keys of custom_attributes; null when it is not a mapping.
        pa.field("attribute_keys", pa.list_(pa.string())),
    ]
)

# --- plain mappings into a block ----------------------------------------------


def _text(v: Any) -> str:
    """A field as text: feeds are data, and a number or list where text belongs is
    reviewed as its text rather than crashing the review."""
    if v is None:
        return ""
    return v if isinstance(v, str) else str(v)


def _number_text(v: Any) -> str | None:
    if v is None or (isinstance(v, str) and v == ""):
        return None
    if isinstance(v, float):
        return repr(v)
    return str(v) if isinstance(v, Decimal) else _text(v)


def _json_text(v: Any) -> str:
    """A value where a link belongs, written as PostgreSQL writes the stored JSON."""
    if isinstance(v, str):
        return v
    if v is None:
        return "None"
    if isinstance(v, int | float | Decimal) and not isinstance(v, bool):
        return str(v)
    return json.dumps(v, ensure_ascii=False, default=str)


def _links(v: Any) -> list[str] | None:
    """Additional image links: a list, or one comma-separated text; empty is none."""
    if not v:
        return None
    if isinstance(v, str):
        return [x for x in v.split(",") if x.strip()]
    if isinstance(v, list | tuple):
        return [_json_text(x) for x in v]
    return [_json_text(v)]


def block_from_products(products: Sequence[Mapping[str, Any]]) -> pa.Table:
    """A block from mappings with the field names of ``catalogs.Product`` (missing keys
    count as empty; any value type is accepted and reviewed as its text)."""
    cols: dict[str, list] = {name: [] for name in BLOCK_SCHEMA.names}
    for p in products:
        get = p.get
        for name in (
            "sku",
            "title",
            "description",
            "link",
            "image_link",
            "brand",
            "gtin",
            "mpn",
            "condition",
            "availability",
            "currency",
            "item_group_id",
        ):
            cols[name].append(_text(get(name)))
        for name in ("price", "sale_price", "shipping_fee"):
            cols[name].append(_number_text(get(name)))
        q = get("inventory_quantity")
        cols["inventory_quantity"].append(
            str(q) if isinstance(q, int) and not isinstance(q, bool) else None
        )
        cols["additional_image_links"].append(_links(get("additional_image_links")))
        attrs = get("custom_attributes")
        cols["attribute_keys"].append(
            [str(k).lower() for k in attrs] if attrs and isinstance(attrs, Mapping) else None
        )
    return pa.table(cols, schema=BLOCK_SCHEMA)
