"""What each channel's feed carries and how it writes values (pure: no Django, no ORM).

A product row becomes an *item*: a dict of the channel's own column names to text, already
written the way that channel's specification wants it (prices "12.99 USD", availability
words, condition). Field rules then work on those columns, and the writers only lay them
out (RSS 2.0 elements, CSV or TSV cells).

References: Google Merchant Center product data specification, Meta commerce catalog
fields, TikTok catalog template (its first nine columns are required, in this order).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

GOOGLE, META, TIKTOK = "google", "meta", "tiktok"
XML, CSV, TSV = "xml", "csv", "tsv"

# Which formats a channel reads (the issue: Google RSS or TSV, Meta CSV or XML, TikTok CSV).
CHANNEL_FORMATS: dict[str, tuple[str, ...]] = {
    GOOGLE: (XML, TSV),
    META: (CSV, XML),
    TIKTOK: (CSV,),
}

# The columns a product row carries into a channel item (selectors.FEED_ROW_COLUMNS order).
ROW_COLUMNS = (
    "id",
    "sku",
    "item_group_id",
    "title",
    "description",
    "link",
    "image_link",
    "additional_image_links",
    "brand",
    "gtin",
    "mpn",
    "condition",
    "availability",
    "price",
    "sale_price",
    "currency",
    "product_type",
    "google_product_category",
    "custom_attributes",
    "flag_status",
)

_AVAILABILITY = {
    # our value: (Google, Meta/TikTok)
    "in_stock": ("in stock", "in stock"),
    "out_of_stock": ("out of stock", "out of stock"),
    "preorder": ("preorder", "preorder"),
    # Meta and TikTok have no "backorder": they call it "available for order"
    "backorder": ("backorder", "available for order"),
    # Google has no "discontinued": not buyable is "out of stock" there
    "discontinued": ("out of stock", "discontinued"),
}


@dataclass(frozen=True)
class ChannelSpec:
    channel: str
    id_column: str
    # required columns first, in the order the channel's template lists them
    required: tuple[str, ...]
    optional: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


_OPTIONAL = (
    "additional_image_link",
    "sale_price",
    "sale_price_effective_date",
    "item_group_id",
    "google_product_category",
    "product_type",
    "gtin",
    "mpn",
)

SPECS: dict[str, ChannelSpec] = {
    GOOGLE: ChannelSpec(
        GOOGLE,
        "id",
        ("id", "title", "description", "link", "image_link", "availability", "price"),
        ("condition", "brand", *_OPTIONAL),
    ),
    META: ChannelSpec(
        META,
        "id",
        (
            "id",
            "title",
            "description",
            "availability",
            "condition",
            "price",
            "link",
            "image_link",
            "brand",
        ),
        _OPTIONAL,
    ),
    TIKTOK: ChannelSpec(
        TIKTOK,
        "sku_id",
        (
            "sku_id",
            "title",
            "description",
            "availability",
            "condition",
            "price",
            "link",
            "image_link",
            "brand",
        ),
        _OPTIONAL,
    ),
}


def label_column(slot: int) -> str:
    return f"custom_label_{slot}"


def base_columns(channel: str, *, label_slot: int | None) -> list[str]:
    """The columns of a channel's feed before rules: its template, then the flag label."""
    cols = list(SPECS[channel].columns)
    if label_slot is not None:
        cols.append(label_column(label_slot))
    return cols


# Currencies whose ISO 4217 minor unit is not 2 (ISO 4217 list one, "Minor unit" column;
# funds and metals codes without one are left at 2). Channels read "1200 JPY", not
# "1200.00 JPY". xml_sql writes prices with the same table.
MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG"], 0),
    **dict.fromkeys(["RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"], 0),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}
DEFAULT_MINOR_UNITS = 2


# ASCII letters only, so PostgreSQL (xml_sql: translate()) writes the same whatever its
# locale: upper() there and str.upper() here differ beyond ASCII ("ß").
LOWER_ASCII = "abcdefghijklmnopqrstuvwxyz"
_UPPER_ASCII = str.maketrans(LOWER_ASCII, LOWER_ASCII.upper())


def currency_code(currency: str) -> str:
    """The currency as channels read ISO 4217 codes: in capitals (a catalog's currency is
    saved as typed)."""
    return currency.translate(_UPPER_ASCII)


def minor_units(currency: str) -> int:
    """How many decimals a price in this ISO 4217 currency has (any letter case)."""
    return MINOR_UNITS.get(currency_code(currency), DEFAULT_MINOR_UNITS)


def money(amount: Decimal | None, currency: str) -> str:
    """12.99 USD, 1200 JPY, 1.500 KWD: the number with the currency's minor units (rounded
    half away from zero, as PostgreSQL's round()), a space, the ISO 4217 code in capitals."""
    if amount is None:
        return ""
    value = amount.quantize(Decimal(1).scaleb(-minor_units(currency)), ROUND_HALF_UP)
    return f"{value + 0:f} {currency_code(currency)}"  # + 0: no "-0" where PostgreSQL has "0"


def image_list(urls: list[str]) -> str:
    """The additional images as one value: the URLs joined by ",", a comma inside a URL
    written %2C (Google's rule for text feeds; the XML writers split this value again, so
    one image stays one element), empty ones left out."""
    return ",".join(url.replace(",", "%2C") for url in urls if url)


def availability_word(channel: str, value: str) -> str:
    words = _AVAILABILITY.get(value)
    if words is None:
        return "in stock" if not value else value.replace("_", " ")
    return words[0] if channel == GOOGLE else words[1]


def flag_label(status: str | None) -> str:
    """What custom_label_N says: the words campaigns filter on."""
    return status if status in ("impacted", "at_risk") else ""


def _json(value: Any, default: Any) -> Any:
    if value is None:
        return default
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return default
    return value


def _attr_text(value: Any) -> str:
    """A custom attribute as text, as PostgreSQL's ->> gives it (xml_sql's fast path)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def item_builder(
    channel: str, *, catalog_currency: str, label_slot: int | None
) -> Callable[[tuple], dict[str, str]]:
    """A function turning one product row (ROW_COLUMNS order) into a channel item."""
    id_col = SPECS[channel].id_column
    label_col = label_column(label_slot) if label_slot is not None else None
    google = channel == GOOGLE

    def build(row: tuple) -> dict[str, str]:
        (
            _pk,
            sku,
            item_group_id,
            title,
            description,
            link,
            image_link,
            extra_images,
            brand,
            gtin,
            mpn,
            condition,
            availability,
            price,
            sale_price,
            currency,
            product_type,
            category,
            custom,
            flag_status,
        ) = row
        cur = currency or catalog_currency
        images = _json(extra_images, [])
        attrs = _json(custom, {})
        words = _AVAILABILITY.get(availability)
        item = {
            id_col: sku,
            "title": title or "",
            "description": description or "",
            "link": link or "",
            "image_link": image_link or "",
            "availability": (words[0] if google else words[1])
            if words
            else availability_word(channel, availability or ""),
            "price": money(price, cur),
            "condition": condition or "new",
            "brand": brand or "",
            "additional_image_link": image_list(images) if images else "",
            "sale_price": money(sale_price, cur),
            # only with a sale price: a window without one says nothing a channel can use
            # (Google ignores it, others flag it)
            "sale_price_effective_date": _attr_text(attrs.get("sale_price_effective_date"))
            if attrs and sale_price is not None
            else "",
            "item_group_id": item_group_id or "",
            "google_product_category": category or "",
            "product_type": product_type or "",
            "gtin": gtin or "",
            "mpn": mpn or "",
        }
        if label_col is not None:
            item[label_col] = flag_label(flag_status)
        return item

    return build
