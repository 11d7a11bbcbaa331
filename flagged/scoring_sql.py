"""The set-based scoring statements (SQL text and parameters, no ORM).

One aggregate query per tenant computes the five metrics' counts for every
product with orders in the window (a product a feed removed from its catalog is not scored,
and leaves the list); the level, worst level and next status are
computed in the same statement. The counts' conditions are the metric definitions of
``flagged.scoring.METRICS`` printed as SQL and the levels' CASE comes from the same
``BANDS`` as ``flagged.scoring.classify``; the next status mirrors
``flagged.scoring.next_status`` (tests check they agree). Only rows whose status or counts
changed land in a temporary table, from which one upsert writes the states and one insert
writes the transitions.
"""

# ruff: noqa: S608 -- identifiers come from model metadata and the constants
# below, never from input; every value is a bound parameter.

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from flagged.conditions import Ctx, Since, all_of
from flagged.scoring import METRICS, PLACED_SINCE, PLACED_UNTIL_NOW, PREFIX, Metric, Policy

COUNT_COLUMNS = [f"{p}_{k}" for p in PREFIX.values() for k in ("num", "den")]
LEVEL_COLUMNS = [f"{p}_level" for p in PREFIX.values()]


@dataclass(frozen=True)
class Tables:
    order: str
    state: str
    transition: str
    product: str = "catalogs_product"


def _conditions(metric: Metric, policy: Policy, vendor: str) -> tuple[str, str]:
    """(numerator condition, denominator condition) for one metric, inside FILTER: the
    definition's conditions printed as SQL. The window's upper bound, the same for every
    metric, is in the aggregate's WHERE."""
    d = METRICS[metric]
    # times are parameters in SQL
    ctx = Ctx(now=None, policy=policy, prefix=d.column, vendor=vendor)
    den = all_of(PLACED_SINCE, d.population)
    return all_of(den, d.counted).sql(ctx), den.sql(ctx)


def _level(metric: Metric, policy: Policy) -> str:
    """CASE expression for the metric's level: ``scoring.classify`` from the same BANDS."""
    if not policy.enabled:
        return "0"
    p = PREFIX[metric]
    num, den = f"{p}_num", f"{p}_den"
    whens = " ".join(
        f"WHEN {num} * 100 {op} %({p}_{setting})s * {den} THEN {int(level)}"
        for op, setting, level in METRICS[metric].bands
    )
    # no order against the metric: safe (scoring.classify)
    against = f"{den} - {num}" if METRICS[metric].higher_is_better else num
    return (
        f"CASE WHEN {den} < %({p}_min_orders)s OR {den} = 0 OR {against} = 0 THEN 0"
        f" {whens} ELSE 0 END"
    )


def params(
    *,
    tenant_id: int,
    policies: dict[Metric, Policy],
    now: datetime,
    resolved_days: int,
    tz: tzinfo = UTC,
) -> dict:
    """The statement's parameters: the times, and per metric its window start (days on the
    clock of ``tz``, the tenant's time zone), minimum orders, band settings and every policy
    setting its conditions read."""
    values: dict = {
        "tenant": tenant_id,
        "now": now,
        "expire_before": now - timedelta(days=resolved_days),
    }
    for metric, d in METRICS.items():
        policy, p = policies[metric], d.column
        values[f"{p}_since"] = Since().value(None, Ctx(now=now, policy=policy, tz=tz))
        values[f"{p}_min_orders"] = policy.min_orders
        for setting in {s for _, s, _ in d.bands} | set(d.counted.settings()):
            values[f"{p}_{setting}"] = getattr(policy, setting)
    values["since"] = min(values[f"{p}_since"] for p in PREFIX.values())
    return values


def aggregate_sql(
    tables: Tables,
    policies: dict[Metric, Policy],
    *,
    one_product: bool = False,
    vendor: str = "postgresql",
) -> str:
    """The metric counts per product: the bare GROUP BY (also the benchmark floor). With
    ``one_product``, only the product bound to ``%(product)s`` (the details page)."""
    counts = []
    for metric, p in PREFIX.items():
        num, den = _conditions(metric, policies[metric], vendor)
        counts.append(f"COUNT(*) FILTER (WHERE {num}) AS {p}_num")
        counts.append(f"COUNT(*) FILTER (WHERE {den}) AS {p}_den")
    product = "o.product_id = %(product)s" if one_product else "o.product_id IS NOT NULL"
    return (
        "SELECT o.product_id, "
        + ", ".join(counts)
        + f" FROM {tables.order} o WHERE o.tenant_id = %(tenant)s"
        f" AND o.placed_at >= %(since)s AND {PLACED_UNTIL_NOW.sql(Ctx(now=None, policy=None))}"
        f" AND {product} GROUP BY o.product_id"
    )


def changes_sql(
    tables: Tables, policies: dict[Metric, Policy], temp: str, *, vendor: str = "postgresql"
) -> str:
    """CREATE TEMP TABLE <temp>: one row per product whose state must be written."""
    levels = ", ".join(f"{_level(m, policies[m])} AS {p}_level" for m, p in PREFIX.items())
    # SQLite (the embedded default) spells GREATEST as the scalar MAX.
    greatest = "MAX" if vendor == "sqlite" else "GREATEST"
    worst = f"{greatest}(" + ", ".join(LEVEL_COLUMNS) + ")"
    lv_counts = ", ".join(f"COALESCE(lv.{c}, 0) AS {c}" for c in COUNT_COLUMNS)
    lv_levels = ", ".join(f"COALESCE(lv.{c}, 0) AS {c}" for c in LEVEL_COLUMNS)
    cur_cols = ", ".join(f"s.{c}" for c in COUNT_COLUMNS)
    old = "COALESCE(cur.status, 'none')"
    w = "COALESCE(lv.worst, 0)"
    # A product a feed removed (its tenant's few, by the partial index of removed products).
    removed = (
        f"EXISTS (SELECT 1 FROM {tables.product} p WHERE p.tenant_id = %(tenant)s"
        " AND p.removed_at IS NOT NULL AND p.id = {})"
    )
    # Mirrors scoring.next_status.
    new_status = (
        "CASE WHEN cur.removed THEN 'none'"
        f" WHEN {w} = 2 THEN 'impacted' WHEN {w} = 1 THEN 'at_risk'"
        f" WHEN {old} IN ('at_risk', 'impacted') THEN 'resolved'"
        f" WHEN {old} = 'resolved' AND cur.status_since <= %(expire_before)s THEN 'none'"
        f" ELSE {old} END"
    )
    counts_changed = " OR ".join(f"cur.{c} IS DISTINCT FROM ch.{c}" for c in COUNT_COLUMNS)
    return f"""
CREATE TEMP TABLE {temp} AS
WITH agg AS ({aggregate_sql(tables, policies, vendor=vendor)}),
lv0 AS (SELECT agg.*, {levels} FROM agg WHERE NOT {removed.format("agg.product_id")}),
lv AS (SELECT lv0.*, {worst} AS worst FROM lv0),
cur AS (SELECT s.product_id, s.status, s.status_since, {cur_cols},
               {removed.format("s.product_id")} AS removed
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
