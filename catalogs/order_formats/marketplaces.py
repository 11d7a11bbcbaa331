"""Per-source steps of the marketplaces whose exports say a line's state by a status (Amazon
Seller Central's All Orders report), write short dates (Etsy's Sold Order Items) or frame
their rows (eBay's Orders report): their columns to the app's fields, still text, for
formats.typed_lines."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from .columns import PENDING_ORDER, column, keyed, lowered, order_level_fill, tracking_column
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
# Amazon's Fulfilled Shipments report (FBA, tab-separated .txt): one row per shipment item
AMAZON_SHIPMENTS_COLUMNS = {
    "order_id": "amazon-order-id",
    "sku": "sku",
    "quantity": "quantity-shipped",
    "item_price": "item-price",
    "shipping_fee": "shipping-price",
    "placed_at": "purchase-date",
    "paid_at": "payments-date",
    "shipped_at": "shipment-date",
    "tracking_number": "tracking-number",
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

# eBay Seller Hub's Orders report (Reports > Downloads > Orders): one row per item
EBAY_COLUMNS = {
    "order_id": "order number",
    "record": "sales record number",
    "item_number": "item number",
    "sku": "custom label",
    "quantity": "quantity",
    "item_price": "sold for",
    "shipping_fee": "shipping and handling",
    "placed_at": "sale date",
    "paid_at": "paid on date",
    "ship_by": "ship by date",
    "shipped_at": "shipped on date",
    "tracking_number": "tracking number",
}
# an order's cells that eBay writes on the order's own row only (an order of several items)
EBAY_ORDER_LEVEL = ("placed_at", "paid_at", "ship_by", "shipped_at", "shipping_fee")


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
    item-price is the price of all of the row's units (``price_covers_quantity``); a
    cancelled item's row has quantity 0 and no item-price (typed_lines takes it so)."""
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
    out["skip"] = np.where(pending, PENDING_ORDER, "")
    out["tracking_number"] = tracking_column(f, c)  # unknown: the report has none
    out["price_covers_quantity"] = True
    return out


def amazon_shipments_fields(frame: pd.DataFrame) -> pd.DataFrame:
    """Amazon Fulfilled Shipments rows -> the app's fields as text: each with its shipment's
    time and tracking number. An item whose units left in several shipments has a row in
    each: they make one line (_shipments_joined). item-price, as in the All Orders report,
    is the price of the row's units."""
    f = keyed(frame)
    c = AMAZON_SHIPMENTS_COLUMNS
    out = _lines(f)
    for name in ("order_id", "sku", "placed_at", "paid_at", "shipped_at"):
        out[name] = clean_text(column(f, c, name))
    for name in ("quantity", "item_price", "shipping_fee"):
        out[name] = clean_text(column(f, c, name))
    out["tracking_number"] = tracking_column(f, c)
    out["price_covers_quantity"] = True
    return _shipments_joined(out)


_PLAIN_NUMBER = r"\d+(?:\.\d+)?"


def _shipments_joined(out: pd.DataFrame) -> pd.DataFrame:
    """The rows of one order id and SKU (an item shipped in parts) as one line: its units,
    price and shipping summed, shipped when its last shipment left, with that one's number
    and line. Only within a chunk: an item's shipments a chunk apart stay two lines, the
    later one kept by the import (docs/orders.md)."""
    key = out["order_id"] + "\x1f" + out["sku"]
    parts = key.duplicated(keep=False) & out["order_id"].ne("")
    if not parts.any():
        return out
    shipped = pd.to_datetime(out["shipped_at"], utc=True, errors="coerce", format="ISO8601")
    drop = []
    for _, group in out[parts].groupby(key[parts], sort=False):
        numbers = group[["quantity", "item_price", "shipping_fee"]]
        if not numbers.apply(lambda v: v.str.fullmatch(_PLAIN_NUMBER)).all(axis=None):
            continue  # not plain numbers: each row is read (and refused) on its own
        last = shipped[group.index].fillna(pd.Timestamp.min.tz_localize("UTC")).idxmax()
        out.loc[last, "quantity"] = str(sum(int(float(q)) for q in group["quantity"]))
        for name in ("item_price", "shipping_fee"):
            out.loc[last, name] = str(sum(Decimal(v) for v in group[name]))
        drop.extend(i for i in group.index if i != last)
    return out.drop(index=drop).sort_index()


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


_MONTHS = {
    name: f"{number:02d}"
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_CLOCK = r"(?:[ T]+(\d{1,2}:\d{2}(?::\d{2})?))?$"
# eBay names the month: Mar-14-26 (US), 14-Mar-26 (UK), with a time or not, never ambiguous
_MONTH_FIRST = r"^([A-Za-z]{3})-(\d{1,2})-(\d{4}|\d{2})" + _CLOCK
_DAY_FIRST = r"^(\d{1,2})-([A-Za-z]{3})-(\d{4}|\d{2})" + _CLOCK


def _named_month_dates(values: pd.Series) -> pd.Series:
    """Dates with the month's English short name -> ISO text (the rest as it is)."""
    text = clean_text(values)
    for pattern, month_at, day_at in ((_MONTH_FIRST, 0, 1), (_DAY_FIRST, 1, 0)):
        parts = text.str.extract(pattern)
        month = parts[month_at].str.lower().map(_MONTHS)
        named = month.notna()
        if not named.any():
            continue
        year = parts[2].where(parts[2].str.len() == 4, "20" + parts[2])
        iso = year + "-" + month + "-" + parts[day_at].str.zfill(2)
        iso = iso.where(parts[3].isna(), iso + " " + parts[3])
        text = text.where(~named, iso)
    return text


def ebay_fields(frame: pd.DataFrame) -> pd.DataFrame:
    """eBay Orders report rows -> the app's fields as text. The rows that are no item are
    dropped: the footer (the count of records, the seller id) and the row an order of
    several items has of its own, whose times and shipping its items take. The SKU is the
    custom label, else the item number (a listing without one)."""
    f = keyed(frame).fillna("")
    c = EBAY_COLUMNS
    order_id = clean_text(column(f, c, "order_id"))
    record = by_unique(column(f, c, "record"), lowered)
    item = clean_text(column(f, c, "item_number"))
    sku = clean_text(column(f, c, "sku"))
    quantity = clean_text(column(f, c, "quantity"))
    footer = record.str.startswith("seller id") | order_id.str.contains(
        "record(s) downloaded", regex=False
    )
    order_row = item.eq("") & sku.eq("") & quantity.eq("")
    out = _lines(f)
    out["order_id"] = order_id
    out["sku"] = sku.where(sku.ne(""), item)
    out["quantity"] = quantity
    out["item_price"] = column(f, c, "item_price")
    out["shipping_fee"] = clean_text(column(f, c, "shipping_fee"))
    for name in ("placed_at", "paid_at", "ship_by", "shipped_at"):
        out[name] = by_unique(column(f, c, name), _named_month_dates)
    out["tracking_number"] = tracking_column(f, c)
    out = out[~footer]
    order_row = order_row[~footer]
    out = order_level_fill(out, EBAY_ORDER_LEVEL)
    # an order row's tracking number is its items' (one parcel), where theirs is empty
    if out["tracking_number"].notna().all():
        out = order_level_fill(out, ("tracking_number",))
    return out[~order_row]
