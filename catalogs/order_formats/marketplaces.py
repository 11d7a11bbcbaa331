"""Per-source steps of the marketplaces whose exports say a line's state by a status (Amazon
Seller Central's All Orders report) or write short dates (Etsy's Sold Order Items): their
columns to the app's fields, still text, for formats.typed_lines."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .columns import column, keyed, lowered, tracking_column
from .values import by_unique, clean_text

# Amazon's All Orders report (tab-separated .txt): one row per order item
AMAZON_COLUMNS = {
    "order_id": "amazon-order-id",
    "sku": "sku",
    "quantity": "quantity",
    "item_price": "item-price",
    "shipping_fee": "shipping-price",
    "placed_at": "purchase-date",
    # the order's last update: when a line shipped or was cancelled (amazon_fields)
    "shipped_at": "last-updated-date",
    "order_status": "order-status",
    "item_status": "item-status",
}
# Etsy's Sold Order Items (EtsySoldOrderItems<year>-<month>.csv): one row per item
ETSY_ITEMS_COLUMNS = {
    "order_id": "order id",
    "sku": "sku",
    "listing_id": "listing id",
    "quantity": "quantity",
    "item_price": "price",
    "shipping_fee": "order shipping",
    "placed_at": "sale date",
    "paid_at": "date paid",
    "shipped_at": "date shipped",
}


def _lines(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({"line": frame["line"]})
    for name in ("paid_at", "ship_by", "shipped_at", "delivered_at", "cancelled_at"):
        out[name] = ""
    out["cancel_reason"] = ""
    out["skip"] = ""
    return out


def amazon_fields(frame: pd.DataFrame) -> pd.DataFrame:
    """Amazon All Orders rows -> the app's fields as text. The report times no shipment nor
    cancellation: a line shipped or cancelled (its item's status, else its order's) took
    that state at the order's last update, the nearest time the report gives. Its
    item-price is the price of all of the row's units (``price_covers_quantity``)."""
    f = keyed(frame)
    c = AMAZON_COLUMNS
    out = _lines(f)
    for name in ("order_id", "sku", "placed_at"):
        out[name] = clean_text(column(f, c, name))
    for name in ("quantity", "item_price", "shipping_fee"):
        out[name] = column(f, c, name)
    updated = clean_text(column(f, c, "shipped_at"))
    order_status = by_unique(column(f, c, "order_status"), lowered)
    item_status = by_unique(column(f, c, "item_status"), lowered)
    status = item_status.where(item_status.ne(""), order_status)
    cancelled = status.str.startswith("cancel") | order_status.str.startswith("cancel")
    shipped = status.eq("shipped") & ~cancelled
    out["shipped_at"] = updated.where(shipped, "")
    out["cancelled_at"] = updated.where(cancelled, "")
    out["cancel_reason"] = np.where(cancelled, "other", "")  # the report gives no reason
    # Pending: Amazon has not charged the buyer yet, the seller cannot ship it
    pending = order_status.str.startswith("pending") & ~cancelled
    out["skip"] = np.where(pending, "pending order (not paid yet)", "")
    out["tracking_number"] = tracking_column(f, c)  # unknown: the report has none
    out["price_covers_quantity"] = True
    return out


# Etsy writes month/day/two-digit year (03/14/26) whatever the buyer's or seller's locale;
# a sheet Excel saved again has four-digit years, read by the file's date rule instead.
_ETSY_DATE = r"^(\d{1,2})/(\d{1,2})/(\d{2})$"


def _etsy_dates(values: pd.Series) -> pd.Series:
    text = clean_text(values)
    parts = text.str.extract(_ETSY_DATE)
    short = parts[0].notna()
    if not short.any():
        return text
    iso = "20" + parts[2] + "-" + parts[0].str.zfill(2) + "-" + parts[1].str.zfill(2)
    return text.where(~short, iso)


def etsy_items_fields(frame: pd.DataFrame) -> pd.DataFrame:
    """Etsy Sold Order Items rows -> the app's fields as text: the SKU, else the listing id
    (a listing without SKUs), the order's shipping on each of its items."""
    f = keyed(frame)
    c = ETSY_ITEMS_COLUMNS
    out = _lines(f)
    out["order_id"] = clean_text(column(f, c, "order_id"))
    sku = clean_text(column(f, c, "sku"))
    out["sku"] = sku.where(sku.ne(""), clean_text(column(f, c, "listing_id")))
    for name in ("quantity", "item_price", "shipping_fee"):
        out[name] = column(f, c, name)
    for name in ("placed_at", "paid_at", "shipped_at"):
        out[name] = by_unique(column(f, c, name), _etsy_dates)
    out["tracking_number"] = tracking_column(f, c)  # unknown: the download has none
    return out
