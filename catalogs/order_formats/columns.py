"""A source's columns by their role, as every format step reads them (pandas, no ORM)."""

from __future__ import annotations

import pandas as pd

from .detection import header_key
from .values import clean_text


def has_words(values: pd.Series, pattern: str) -> pd.Series:
    return values.str.lower().str.contains(pattern, regex=True)


def column(frame: pd.DataFrame, columns: dict[str, str], name: str) -> pd.Series:
    """A source column by its role ('' everywhere when the file does not have it)."""
    source = columns.get(name)
    if source is not None and source in frame:
        return frame[source]
    return pd.Series("", index=frame.index, dtype=object)


def tracking_column(frame: pd.DataFrame, columns: dict[str, str]) -> pd.Series:
    """The tracking column's text, or None (unknown) on every line of a file without one: a
    file that does not say is not a file saying "none" (docs/orders.md, Tracking numbers)."""
    source = columns.get("tracking_number")
    if source is not None and source in frame:
        return clean_text(frame[source])
    return pd.Series(None, index=frame.index, dtype=object)


def keyed(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its columns renamed to their header_key (the line column kept)."""
    return frame.rename(columns=lambda c: c if c == "line" else header_key(c))


def lowered(values: pd.Series) -> pd.Series:
    return clean_text(values).str.lower()


def order_level_fill(out: pd.DataFrame, names: tuple[str, ...]) -> pd.DataFrame:
    """Copy each order's first non-empty cell of some fields to its rows where they are
    empty (exports that write an order's cells on one of its rows only)."""
    for name in names:
        if name not in out:
            continue
        first = out[name].where(out[name].ne("")).groupby(out["order_id"]).transform("first")
        out[name] = out[name].where(out[name].ne(""), first.fillna(""))
    return out


# An order status as shops write it (WooCommerce, BigCommerce, Magento, PrestaShop …, a few
# languages; WooCommerce's wc- prefix too). Partly refunded or shipped orders are neither.
_STATUS = r"^(?:wc-)?(?:{})$"
CANCELLED_STATUS = _STATUS.format(
    r"cancell?ed|refunded|closed|declined|voided?|cancelad[oa]|annul[ée]e?|annullat[oa]"
    r"|storniert|geannuleerd"
)
SHIPPED_STATUS = _STATUS.format(
    r"shipped|completed?|delivered|fulfilled|enviad[oa]|entregue|entregad[oa]|conclu[íi]d[oa]"
    r"|completad[oa]|versandt|versendet|geliefert|abgeschlossen|exp[ée]di[ée]e?|livr[ée]e?"
    r"|spedit[oa]|consegnat[oa]|verzonden|afgerond"
)
UNPAID_STATUS = _STATUS.format(r"pending payment|awaiting payment|failed|pending")
# Why a marketplace's open order not paid yet (Amazon's Pending, Shopify's pending) is
# skipped: the seller is not to ship it yet, so it must not turn overdue
PENDING_ORDER = "pending order (not paid yet)"


def status_applied(out: pd.DataFrame, status: pd.Series) -> pd.DataFrame:
    """A mapped order status column read into the fields: a cancelled (or refunded) order's
    lines are cancelled, a shipped (or completed, delivered) one's shipped, an unpaid one's
    skipped. Where the file gives no time for it, the placed time stands for it: a
    completed order is then not overdue, and a cancelled one counts as cancelled."""
    status = lowered(status)
    placed = out["placed_at"]
    cancelled = status.str.match(CANCELLED_STATUS)
    out["cancelled_at"] = out["cancelled_at"].mask(cancelled & out["cancelled_at"].eq(""), placed)
    # a status gives no reason: other, as a marketplace's cancellation without one
    out["cancel_reason"] = out["cancel_reason"].mask(
        cancelled & out["cancel_reason"].eq(""), "other"
    )
    shipped = status.str.match(SHIPPED_STATUS) & out["shipped_at"].eq("")
    delivered = out["delivered_at"]
    out["shipped_at"] = out["shipped_at"].mask(shipped, delivered.where(delivered.ne(""), placed))
    unpaid = status.str.match(UNPAID_STATUS)
    out["skip"] = out["skip"].mask(unpaid, "unpaid order (not placed yet)")
    return out
