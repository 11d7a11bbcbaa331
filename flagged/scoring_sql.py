"""The set-based scoring statements (SQL text and parameters, no ORM).

One aggregate query per tenant computes the five metrics' counts for every
product with orders in the window; the level, worst level and next status are
computed in the same statement with CASE expressions that mirror
``flagged.scoring.classify`` and ``flagged.scoring.next_status`` (a test checks
they agree). Only rows whose status or counts changed land in a temporary table,
from which one upsert writes the states and one insert writes the transitions.
"""

# ruff: noqa: S608 -- identifiers come from model metadata and the constants
# below, never from input; every value is a bound parameter.

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flagged.scoring import METRICS, Metric, Policy

# Column prefix of each metric in flagged_flagstate / flagged_flagtransition.
PREFIX: dict[Metric, str] = {
    Metric.OOS_CANCELLATION: "oos",
    Metric.OVERDUE_UNSHIPPED: "overdue",
    Metric.LATE_DISPATCH: "late",
    Metric.HIGH_SHIPPING_FEE: "fee",
    Metric.VALID_TRACKING: "tracking",
}

COUNT_COLUMNS = [f"{p}_{k}" for p in PREFIX.values() for k in ("num", "den")]
LEVEL_COLUMNS = [f"{p}_level" for p in PREFIX.values()]


@dataclass(frozen=True)
class Tables:
    order: str
    state: str
    transition: str


def _conditions(metric: Metric, policy: Policy, p: str) -> tuple[str, str]:
    """(numerator condition, denominator condition) for one metric, inside FILTER."""
    in_window = f"o.placed_at >= %({p}_since)s"
    if metric == Metric.OOS_CANCELLATION:
        return (
            f"{in_window} AND o.cancelled_at IS NOT NULL AND o.cancel_reason = 'out_of_stock'",
            in_window,
        )
    if metric == Metric.OVERDUE_UNSHIPPED:
        return (
            f"{in_window} AND o.ship_by < %(now)s AND o.shipped_at IS NULL "
            "AND o.cancelled_at IS NULL",
            in_window,
        )
    if metric == Metric.LATE_DISPATCH:
        return (
            f"{in_window} AND o.shipped_at IS NOT NULL AND o.shipped_at > o.ship_by",
            f"{in_window} AND o.shipped_at IS NOT NULL",
        )
    if metric == Metric.HIGH_SHIPPING_FEE:
        parts = []
        if policy.fee_amount is not None:
            parts.append(f"o.shipping_fee > %({p}_amount)s")
        if policy.fee_ratio_percent is not None:
            parts.append(f"o.shipping_fee * 100 > o.item_price * o.quantity * %({p}_ratio)s")
        high = " OR ".join(parts) or "FALSE"
        return f"{in_window} AND ({high})", in_window
    if metric == Metric.VALID_TRACKING:
        return (
            f"{in_window} AND o.shipped_at IS NOT NULL AND TRIM(o.tracking_number) <> ''",
            f"{in_window} AND o.shipped_at IS NOT NULL",
        )
    raise ValueError(metric)


def _level(metric: Metric, policy: Policy, p: str) -> str:
    """CASE expression for the metric's level; mirrors scoring.classify."""
    if not policy.enabled:
        return "0"
    num, den = f"{p}_num", f"{p}_den"
    low = f"{den} < %({p}_min)s OR {den} = 0"
    if METRICS[metric].higher_is_better:
        return (
            f"CASE WHEN {low} THEN 0 WHEN {num} * 100 < %({p}_target)s * {den} THEN 2 "
            f"WHEN {num} * 100 <= %({p}_risk)s * {den} THEN 1 ELSE 0 END"
        )
    return (
        f"CASE WHEN {low} THEN 0 WHEN {num} * 100 > %({p}_target)s * {den} THEN 2 "
        f"WHEN {num} * 100 >= %({p}_risk)s * {den} THEN 1 ELSE 0 END"
    )


def params(
    *, tenant_id: int, policies: dict[Metric, Policy], now: datetime, resolved_days: int
) -> dict:
    values: dict = {
        "tenant": tenant_id,
        "now": now,
        "expire_before": now - timedelta(days=resolved_days),
    }
    for metric, p in PREFIX.items():
        policy = policies[metric]
        values[f"{p}_since"] = now - timedelta(days=policy.window_days)
        values[f"{p}_min"] = policy.min_orders
        values[f"{p}_target"] = policy.target
        values[f"{p}_risk"] = policy.at_risk_threshold
        if metric == Metric.HIGH_SHIPPING_FEE:
            values[f"{p}_amount"] = policy.fee_amount
            values[f"{p}_ratio"] = policy.fee_ratio_percent
    values["since"] = min(values[f"{p}_since"] for p in PREFIX.values())
    return values


def aggregate_sql(tables: Tables, policies: dict[Metric, Policy]) -> str:
    """The metric counts per product: the bare GROUP BY (also the benchmark floor)."""
    counts = []
    for metric, p in PREFIX.items():
        num, den = _conditions(metric, policies[metric], p)
        counts.append(f"COUNT(*) FILTER (WHERE {num}) AS {p}_num")
        counts.append(f"COUNT(*) FILTER (WHERE {den}) AS {p}_den")
    return (
        "SELECT o.product_id, "
        + ", ".join(counts)
        + f" FROM {tables.order} o WHERE o.tenant_id = %(tenant)s"
        " AND o.placed_at >= %(since)s AND o.placed_at <= %(now)s"
        " AND o.product_id IS NOT NULL GROUP BY o.product_id"
    )


def changes_sql(
    tables: Tables, policies: dict[Metric, Policy], temp: str, *, vendor: str = "postgresql"
) -> str:
    """CREATE TEMP TABLE <temp>: one row per product whose state must be written."""
    levels = ", ".join(f"{_level(m, policies[m], p)} AS {p}_level" for m, p in PREFIX.items())
    # SQLite (the embedded default) spells GREATEST as the scalar MAX.
    greatest = "MAX" if vendor == "sqlite" else "GREATEST"
    worst = f"{greatest}(" + ", ".join(LEVEL_COLUMNS) + ")"
    lv_counts = ", ".join(f"COALESCE(lv.{c}, 0) AS {c}" for c in COUNT_COLUMNS)
    lv_levels = ", ".join(f"COALESCE(lv.{c}, 0) AS {c}" for c in LEVEL_COLUMNS)
    cur_cols = ", ".join(f"s.{c}" for c in COUNT_COLUMNS)
    old = "COALESCE(cur.status, 'none')"
    w = "COALESCE(lv.worst, 0)"
    # Mirrors scoring.next_status.
    new_status = (
        f"CASE WHEN {w} = 2 THEN 'impacted' WHEN {w} = 1 THEN 'at_risk'"
        f" WHEN {old} IN ('at_risk', 'impacted') THEN 'resolved'"
        f" WHEN {old} = 'resolved' AND cur.status_since <= %(expire_before)s THEN 'none'"
        f" ELSE {old} END"
    )
    counts_changed = " OR ".join(f"cur.{c} IS DISTINCT FROM ch.{c}" for c in COUNT_COLUMNS)
    return f"""
CREATE TEMP TABLE {temp} AS
WITH agg AS ({aggregate_sql(tables, policies)}),
lv0 AS (SELECT agg.*, {levels} FROM agg),
lv AS (SELECT lv0.*, {worst} AS worst FROM lv0),
cur AS (SELECT s.product_id, s.status, s.status_since, {cur_cols}
        FROM {tables.state} s WHERE s.tenant_id = %(tenant)s AND s.status <> 'none'),
ch AS (
  SELECT COALESCE(lv.product_id, cur.product_id) AS product_id,
         {old} AS old_status, cur.status_since AS old_since,
         {lv_counts}, {lv_levels}, {w} AS worst_level, {new_status} AS new_status
  FROM lv FULL OUTER JOIN cur ON cur.product_id = lv.product_id
  WHERE COALESCE(lv.worst, 0) > 0 OR cur.product_id IS NOT NULL
)
SELECT ch.* FROM ch LEFT JOIN cur ON cur.product_id = ch.product_id
WHERE ch.new_status <> ch.old_status OR cur.product_id IS NULL OR {counts_changed}
"""


def state_upsert_sql(tables: Tables, temp: str) -> str:
    """Write the changed states; status_since moves only when the status changes.

    (`WHERE true` lets SQLite parse ON CONFLICT after INSERT … SELECT … FROM.)"""
    cols = COUNT_COLUMNS + LEVEL_COLUMNS
    return f"""
INSERT INTO {tables.state}
  (tenant_id, product_id, status, status_since, worst_level, updated_at, {", ".join(cols)})
SELECT %(tenant)s, product_id, new_status,
       CASE WHEN new_status <> old_status OR old_since IS NULL THEN %(now)s ELSE old_since END,
       worst_level, %(now)s, {", ".join(cols)}
FROM {temp} WHERE true
ON CONFLICT (tenant_id, product_id) DO UPDATE SET
  status = EXCLUDED.status, status_since = EXCLUDED.status_since,
  worst_level = EXCLUDED.worst_level, updated_at = EXCLUDED.updated_at,
  {", ".join(f"{c} = EXCLUDED.{c}" for c in cols)}
"""


def transition_insert_sql(tables: Tables, temp: str, *, vendor: str = "postgresql") -> str:
    """One transition row per status change, with counts, levels and the policies used."""
    cols = COUNT_COLUMNS + LEVEL_COLUMNS
    policies = "%(policies)s" if vendor == "sqlite" else "CAST(%(policies)s AS jsonb)"
    return f"""
INSERT INTO {tables.transition}
  (tenant_id, product_id, at, from_status, to_status, policies, {", ".join(cols)})
SELECT %(tenant)s, product_id, %(now)s, old_status, new_status, {policies},
       {", ".join(cols)}
FROM {temp} WHERE new_status <> old_status
"""
