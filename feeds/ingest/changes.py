# SQL below is built only from quoted table/column names of our own models and the per-run
# staging table name (an integer id); every value goes through parameters.
# ruff: noqa: S608
"""The run diff: the sample of created, updated and removed products a run records."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.db import (
    connection,
)

from catalogs.models import Product
from feeds.ingest.context import _Ctx
from feeds.ingest.staging import DIFF_FIELDS, _gone_table, _is_pg, _qn, _written
from feeds.models import (
    ChangeKind,
    FeedRun,
    FeedRunChange,
)


def _created_changes(row: dict) -> dict:
    """The 'changes' of a created product: every field it has, as [None, new]."""
    changes = {}
    for f in DIFF_FIELDS:
        value = _norm(f, row[f])
        if value not in (None, "", [], {}):
            changes[f] = [None, value]
    return changes


def _norm(field: str, v: Any) -> Any:
    """Old and new values in one comparable, JSON-friendly form."""
    if v is None:
        return None
    if field in ("additional_image_links", "custom_attributes"):
        if isinstance(v, str):
            try:
                v = json.loads(v) if v else ([] if field == "additional_image_links" else {})
            except ValueError:
                return v
        return v
    if field in ("price", "sale_price", "shipping_fee"):
        return str(Decimal(str(v)).quantize(Decimal("0.01"))) if v != "" else None
    if field == "inventory_quantity":
        return int(v) if v != "" else None
    return str(v)


def _diff_value_sql(field: str, alias: str) -> str:
    """A field's value as _norm gives it, in SQL (jsonb)."""
    internal = Product._meta.get_field(field).get_internal_type()
    if internal == "DecimalField":
        return f"to_jsonb({alias}.{_qn(field)}::text)"
    return f"to_jsonb({alias}.{_qn(field)})"


def _insert_update_diffs(cur, run: FeedRun, dt: str, limit: int) -> None:
    """The 'updated' diff rows ({field: [old, new]} of the fields that differ, "removed" for
    a product brought back), as _append_update_diffs builds them in Python."""
    parts, params = [], []
    written = _written(run)
    for f in DIFF_FIELDS:
        if written is not None and f not in written.fields:
            continue  # update mode: a field the file does not carry keeps its value
        internal = Product._meta.get_field(f).get_internal_type()
        new = _diff_value_sql(f, "s")
        if written is not None and f == "custom_attributes":
            new, merged_params = written.attributes_sql("p", "s")
            differs = f"p.custom_attributes IS DISTINCT FROM {new}"
            params = merged_params * 2  # in the condition and in the value
        elif internal in ("CharField", "TextField"):  # "" and no value are the same
            differs = f"coalesce(p.{_qn(f)}, '') IS DISTINCT FROM coalesce(s.{_qn(f)}, '')"
        else:
            differs = f"p.{_qn(f)} IS DISTINCT FROM s.{_qn(f)}"
        value = f"jsonb_build_array({_diff_value_sql(f, 'p')}, {new})"
        parts.append(f"'{f}', CASE WHEN {differs} THEN {value} END")
    parts.append("'removed', CASE WHEN p.removed_at IS NOT NULL THEN '[true, false]'::jsonb END")
    changes = f"jsonb_strip_nulls(jsonb_build_object({', '.join(parts)}))"
    c = _qn(FeedRunChange._meta.db_table)
    cur.execute(
        f"INSERT INTO {c} (tenant_id, run_id, kind, product_id, sku, changes) "
        f"SELECT %s, %s, %s, p.id, s.sku, {changes} FROM {dt} s "
        f"JOIN {_qn(Product._meta.db_table)} p ON p.id = s.product_id ORDER BY s.line LIMIT %s",
        [run.tenant_id, run.pk, ChangeKind.UPDATED, *params, limit],
    )


def _append_update_diffs(cur, run: FeedRun, dt: str, limit: int, changes: list) -> None:
    p = _qn(Product._meta.db_table)
    new_cols = ", ".join(f"s.{_qn(c)}" for c in DIFF_FIELDS)
    old_cols = ", ".join(f"p.{_qn(c)}" for c in DIFF_FIELDS)
    cur.execute(
        f"SELECT p.id, s.sku, p.removed_at, {old_cols}, {new_cols} FROM {dt} s "
        f"JOIN {p} p ON p.id = s.product_id ORDER BY s.line LIMIT %s",
        [limit],
    )
    n = len(DIFF_FIELDS)
    written = _written(run)
    for pid, sku, removed_at, *vals in cur.fetchall():
        old, new = vals[:n], vals[n:]
        diff = {}
        for f, o, v in zip(DIFF_FIELDS, old, new, strict=True):
            if written is not None and f not in written.fields:
                continue  # update mode: a field the file does not carry keeps its value
            if written is not None and f == "custom_attributes":
                v = written.merged_attributes(o, v)
            on, nn = _norm(f, o), _norm(f, v)
            if on != nn and not (on in (None, "") and nn in (None, "")):
                diff[f] = [on, nn]
        if removed_at is not None:
            diff["removed"] = [True, False]
        changes.append(
            FeedRunChange(
                tenant_id=run.tenant_id,
                run=run,
                kind=ChangeKind.UPDATED,
                product_id=pid,
                sku=sku,
                changes=diff,
            )
        )


def _record_diff(ctx: _Ctx, delta: str, limit: int, *, removals: bool) -> None:
    """Store what the run changes (bounded sample; counts are always exact)."""
    run = ctx.run
    dt = _qn(delta)
    changes: list[FeedRunChange] = []
    new_cols = ", ".join(f"s.{_qn(c)}" for c in DIFF_FIELDS)
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT s.sku, {new_cols} FROM {dt} s WHERE s.product_id IS NULL "
            "ORDER BY s.line LIMIT %s",
            [limit],
        )
        for sku, *new in cur.fetchall():
            changes.append(
                FeedRunChange(
                    tenant_id=run.tenant_id,
                    run=run,
                    kind=ChangeKind.CREATED,
                    sku=sku,
                    changes=_created_changes(dict(zip(DIFF_FIELDS, new, strict=True))),
                )
            )
        FeedRunChange.objects.bulk_create(changes, batch_size=2000)
        changes = []
        if _is_pg():  # built and inserted by PostgreSQL: no round trip of old and new rows
            _insert_update_diffs(cur, run, dt, limit)
        else:
            _append_update_diffs(cur, run, dt, limit, changes)
        if removals:
            cur.execute(
                f"SELECT id, sku, title FROM {_qn(_gone_table(run))} ORDER BY id LIMIT %s",
                [limit],
            )
            for pid, sku, title in cur.fetchall():
                changes.append(
                    FeedRunChange(
                        tenant_id=run.tenant_id,
                        run=run,
                        kind=ChangeKind.REMOVED,
                        product_id=pid,
                        sku=sku,
                        changes={"title": [title, None]},
                    )
                )
    FeedRunChange.objects.bulk_create(changes, batch_size=2000)
