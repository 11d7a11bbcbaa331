# SQL below is built only from quoted table/column names of our own models and the per-run
# staging table name (an integer id); every value goes through parameters.
# ruff: noqa: S608
"""The set-based SQL of the apply transaction: delta, counts, upsert, removals."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import (
    connection,
)

from catalogs import selectors as catalog_selectors
from catalogs.models import Catalog, Product
from catalogs.sort_keys import sort_keys_written_after
from feeds.ingest.staging import (
    _BYTES,
    PRODUCT_COLUMNS,
    _catalog_is_empty,
    _delta_table,
    _delta_view,
    _distinct,
    _gone_table,
    _is_pg,
    _json_value,
    _qn,
    _seen_table,
    _store_seen,
    _written,
)
from feeds.models import (
    FeedRun,
    FeedRunChange,
    UpdateMode,
)
from feeds.parsing import (
    HASHED_COLUMNS,
    content_hash,
)
from feeds.readers import RecordMatcher

log = logging.getLogger(__name__)


def _changed_since(catalog: Catalog, when: datetime | None) -> bool:
    version = _products_version(catalog)
    return version is not None and (when is None or version > when)


def _products_version(catalog: Catalog) -> Any:
    """Changes whenever a product of the catalog is created, changed, removed or brought back."""
    return catalog_selectors.products_last_changed(tenant=catalog.tenant_id, catalog=catalog)


def _create_delta(run: FeedRun) -> str:
    """The new and changed rows of the feed, with the id of the product they change: one
    join of staging and catalog that the counts, the diff and the merge all read. Returns
    the relation to read. A catalog with no products yet (a first pull) gets a view of the
    staging table instead: every row is new, and copying them all once more would only cost
    time."""
    st = _qn(run.stage_table)
    dt = _qn(_delta_table(run))
    dv = _qn(_delta_view(run))
    p = _qn(Product._meta.db_table)
    changed = f"{_distinct('p.content_hash', 's.content_hash')} OR p.removed_at IS NOT NULL"
    changed_params: list = []
    written = _written(run)
    if written is not None:  # update mode: a product changes only in the fields written
        changed, changed_params = written.changed_sql()
    with connection.cursor() as cur:
        cur.execute(f"DROP VIEW IF EXISTS {dv}")
        cur.execute(f"DROP TABLE IF EXISTS {dt}")
        if _catalog_is_empty(run):
            cur.execute(
                f"CREATE VIEW {dv} AS SELECT s.*, CAST(NULL AS bigint) AS product_id, "
                f"CAST(NULL AS {'timestamp with time zone' if _is_pg() else 'text'}) "
                f"AS old_removed_at FROM {st} s"
            )
            return _delta_view(run)
        cur.execute(
            f"CREATE {'UNLOGGED ' if _is_pg() else ''}TABLE {dt} AS "
            f"SELECT s.*, p.id AS product_id, p.removed_at AS old_removed_at "
            f"FROM {st} s LEFT JOIN {p} p "
            f"ON p.tenant_id = %s AND p.catalog_id = %s AND p.sku = s.sku "
            f"WHERE p.id IS NULL OR {changed}",
            [run.tenant_id, run.catalog_id, *changed_params],
        )
    return _delta_table(run)


def _stage_counts(run: FeedRun, delta: str, matcher: RecordMatcher | None) -> dict[str, int]:
    """created / updated / staged / active / to_remove, computed set-based before the merge."""
    st = _qn(run.stage_table)
    dt = _qn(delta)
    p = _qn(Product._meta.db_table)
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT (SELECT count(*) FROM {st}), "
            f"count(*) FILTER (WHERE d.product_id IS NULL), "
            f"count(*) FILTER (WHERE d.product_id IS NOT NULL), "
            f"count(*) FILTER (WHERE d.old_removed_at IS NOT NULL) FROM {dt} d"
        )
        staged, created, updated, revived = cur.fetchone()
        cur.execute(
            f"SELECT count(*) FROM {p} p WHERE p.tenant_id = %s AND p.catalog_id = %s "
            "AND p.removed_at IS NULL",
            [run.tenant_id, run.catalog_id],
        )
        active = cur.fetchone()[0]
    # ids in staging are unique: the active products it matches are all staged rows but the
    # new ones and the ones that bring back a removed product
    # ids in staging are unique: the active products it matches are all staged rows but the
    # new ones and the ones that bring back a removed product
    to_remove = active - (staged - created - revived)
    if run.mode != UpdateMode.REPLACE:
        to_remove = 0
    elif (
        matcher is not None
        and to_remove <= len(matcher.matched_skus)
        and _products_version(run.catalog) == matcher.products_version
    ):
        # no product was created, removed or brought back since the fingerprints were read
        # (the catalog row lock is held now), so every unread record is an active product
        # that is not staged: all the active products are accounted for
        to_remove = 0
    elif to_remove:  # but some may be in the feed unstaged (rejected or unread): list them once
        if matcher is not None:
            _store_seen(run, set(matcher.matched_skus))
        gone = _qn(_gone_table(run))
        with connection.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {gone}")
            cur.execute(
                f"CREATE {'UNLOGGED ' if _is_pg() else ''}TABLE {gone} AS "
                f"SELECT p.id, p.sku, p.title FROM {p} p "
                "WHERE p.tenant_id = %s AND p.catalog_id = %s AND p.removed_at IS NULL "
                f"AND NOT EXISTS (SELECT 1 FROM {st} s WHERE s.sku = p.sku) "
                f"AND NOT EXISTS (SELECT 1 FROM {_qn(_seen_table(run))} r WHERE r.sku = p.sku)",
                [run.tenant_id, run.catalog_id],
            )
            cur.execute(f"SELECT count(*) FROM {gone}")
            to_remove = cur.fetchone()[0]
    return {
        "staged": staged,
        "created": created,
        "updated": updated,
        "active": active,
        "to_remove": to_remove,
    }


def _merge(run: FeedRun, delta: str, now: datetime, review: str | None = None) -> None:
    """Two set-based statements over the delta (only new and changed rows): a plain INSERT
    of the new products and an UPDATE by primary key of the changed ones. Unchanged rows
    never reach either. With ``review`` (a table of (sku, review_status) of the delta's
    rows, reviewed before the merge) they are written with their status and review time,
    else Pending. (No ON CONFLICT: the catalog row lock held by the caller serialises
    applies, and ON CONFLICT's speculative insertion costs an extra unique-index probe per
    row on a first pull of a million products.)"""
    p = _qn(Product._meta.db_table)
    dt = _qn(delta)
    cols = PRODUCT_COLUMNS
    fixed = {  # bookkeeping of a new product, as parameters
        "first_seen_at": now,
        "last_changed_at": now,
        "last_seen_at": now,
        "last_seen_run_id": run.pk,
        "review_requested_at": now,
        "created_at": now,
        "updated_at": now,
    }
    insert_cols = [
        "tenant_id",
        "catalog_id",
        *cols,
        "feed_line_hash",
        *fixed,
        "removed_at",
        "review_status",
    ]
    select = ", ".join(
        [
            "%s",
            "%s",
            *(f"s.{_qn(c)}" for c in cols),
            "s.line_hash",
            *(["%s"] * len(fixed)),
            "NULL",
            "'pending'",
        ]
    )
    source = f"{dt} s"
    status_params: list = []
    if review is not None:
        select = select.removesuffix("'pending'") + "coalesce(r.review_status, 'pending'), "
        select += "CASE WHEN r.review_status IS NULL THEN NULL ELSE %s END"
        insert_cols.append("reviewed_at")
        source = f"{dt} s LEFT JOIN {_qn(review)} r ON r.sku = s.sku"
        status_params = [now]
    refreshed = {k: fixed[k] for k in ("last_changed_at", "last_seen_at", "last_seen_run_id")}
    refreshed |= {"review_requested_at": now, "updated_at": now}
    written = _written(run)
    set_params: list = []
    if written is None:
        sets = [f"{_qn(c)} = s.{_qn(c)}" for c in cols if c != "sku"]
    else:  # update mode: the fields of the file's columns; content_hash below
        sets = [
            f"{_qn(c)} = s.{_qn(c)}"
            for c in cols
            if c in written.fields and c not in ("sku", "custom_attributes")
        ]
        if "custom_attributes" in written.fields:
            merged, set_params = written.attributes_sql(p, "s")
            sets.append(f"custom_attributes = {merged}")
    sets += ["feed_line_hash = s.line_hash"]
    sets += [f"{_qn(c)} = %s" for c in refreshed]
    sets += ["removed_at = NULL"]
    if review is None:
        sets += ["review_status = 'pending'"]
    else:
        sets += [
            "review_status = coalesce(r.review_status, 'pending')",
            f"reviewed_at = CASE WHEN r.review_status IS NULL THEN {p}.reviewed_at ELSE %s END",
        ]
    # the delta's products, new and changed, by the catalog's (tenant, catalog, sku) index
    merged_ids = (
        f"SELECT m.id FROM {dt} d JOIN {p} m "
        "ON m.tenant_id = %s AND m.catalog_id = %s AND m.sku = d.sku"
    )
    with (
        connection.cursor() as cur,
        sort_keys_written_after(
            cur,
            catalog_id=run.catalog_id,
            ids_sql=merged_ids,
            params=[run.tenant_id, run.catalog_id],
        ),
    ):
        cur.execute(
            f"INSERT INTO {p} ({', '.join(_qn(c) for c in insert_cols)}) "
            f"SELECT {select} FROM {source} WHERE s.product_id IS NULL",
            [run.tenant_id, run.catalog_id, *fixed.values(), *status_params],
        )
        cur.execute(
            f"UPDATE {p} SET {', '.join(sets)} FROM {source} "
            f"WHERE s.product_id IS NOT NULL AND {p}.id = s.product_id",
            [*set_params, *refreshed.values(), *status_params],
        )
    if written is not None:
        _rehash_updated(delta)


def _merged_rows_sql(run: FeedRun, delta: str) -> tuple[str, list]:
    """The delta's rows as the merge writes them: the product columns and ``product_id``
    (null for a new product). In update mode a changed product keeps the fields its file
    does not write, and its custom attributes are merged."""
    p = _qn(Product._meta.db_table)
    dt = _qn(delta)
    written = _written(run)
    if written is None:
        cols = ", ".join(f"s.{_qn(c)}" for c in PRODUCT_COLUMNS)
        return f"SELECT s.product_id, {cols} FROM {dt} s", []
    exprs, params = [], []
    for c in PRODUCT_COLUMNS:
        if c == "sku" or (c in written.fields and c != "custom_attributes"):
            exprs.append(f"s.{_qn(c)}")
        elif c == "custom_attributes" and c in written.fields:
            merged, params = written.attributes_sql("p", "s")
            exprs.append(f"CASE WHEN s.product_id IS NULL THEN s.{_qn(c)} ELSE {merged} END")
        else:
            exprs.append(f"CASE WHEN s.product_id IS NULL THEN s.{_qn(c)} ELSE p.{_qn(c)} END")
    cols = ", ".join(f"{e} AS {_qn(c)}" for e, c in zip(exprs, PRODUCT_COLUMNS, strict=True))
    return (
        f"SELECT s.product_id, {cols} FROM {dt} s LEFT JOIN {p} p ON p.id = s.product_id",
        params,
    )


def _skus_after_merge_sql(run: FeedRun, delta: str, *, removals: bool) -> tuple[str, list]:
    """The skus of the catalog's active products once the merge (and the removals) are
    done, as (sku, w) rows whose weights w sum, per sku, to its number of active products
    then: every product of the catalog (+1), less the removed ones and those the run
    removes (-1), plus the new and brought back rows of the delta (+1). Every product's
    sku is read from the (tenant, catalog, sku) index alone, not from the table (the
    removed products are few, and found by their own index): ~0.25 s against ~0.45-0.7 s
    at a million products. Every branch gives the staging tables' type, text (the
    products' sku is varchar): with a column's types unequal across a UNION ALL, PostgreSQL
    keeps the caller's filter above it and carries all the rows up to it."""
    p = _qn(Product._meta.db_table)
    gone = f" UNION ALL SELECT g.sku::text, -1 FROM {_qn(_gone_table(run))} g" if removals else ""
    return (
        f"SELECT p.sku::text AS sku, 1 AS w FROM {p} p "
        "WHERE p.tenant_id = %s AND p.catalog_id = %s "
        f"UNION ALL SELECT p.sku::text, -1 FROM {p} p WHERE p.tenant_id = %s AND p.catalog_id = %s "
        f"AND p.removed_at IS NOT NULL{gone} "
        f"UNION ALL SELECT s.sku, 1 FROM {_qn(delta)} s "
        "WHERE s.product_id IS NULL OR s.old_removed_at IS NOT NULL",
        [run.tenant_id, run.catalog_id, run.tenant_id, run.catalog_id],
    )


def _created_ids(run: FeedRun, delta: str) -> dict[str, int]:
    """After the merge: the ids of the products created from the delta's new rows."""
    p = _qn(Product._meta.db_table)
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT s.sku, p.id FROM {_qn(delta)} s JOIN {p} p ON p.tenant_id = %s "
            "AND p.catalog_id = %s AND p.sku = s.sku WHERE s.product_id IS NULL",
            [run.tenant_id, run.catalog_id],
        )
        return dict(cur.fetchall())


def _rehash_updated(delta: str) -> None:
    """An update-mode run merged its fields into products: their content hash is now that of
    the merged content, as the parser would compute it for a row of that content (so a
    later full feed with the same content is recognised as unchanged)."""
    p = _qn(Product._meta.db_table)
    cols = ", ".join(_qn(c) for c in HASHED_COLUMNS)
    with connection.cursor() as cur:
        cur.execute(f"SELECT product_id FROM {_qn(delta)} WHERE product_id IS NOT NULL")
        ids = [r[0] for r in cur.fetchall()]
        batch = 5000 if _is_pg() else 500  # bounded memory; SQLite's parameter limit
        for start in range(0, len(ids), batch):
            chunk = ids[start : start + batch]
            marks = ", ".join(["%s"] * len(chunk))
            cur.execute(f"SELECT id, {cols} FROM {p} WHERE id IN ({marks})", chunk)
            hashes = [
                (
                    content_hash(
                        _hash_text(c, v) for c, v in zip(HASHED_COLUMNS, r[1:], strict=True)
                    ),
                    r[0],
                )
                for r in cur.fetchall()
            ]
            if _is_pg():  # one statement per batch
                cur.execute(
                    f"UPDATE {p} SET content_hash = v.h FROM (SELECT unnest(%s::text[]) AS h, "
                    f"unnest(%s::bigint[]) AS id) v WHERE {p}.id = v.id",
                    [[h for h, _ in hashes], [i for _, i in hashes]],
                )
            else:
                cur.executemany(f"UPDATE {p} SET content_hash = %s WHERE id = %s", hashes)


def _hash_text(field: str, v: Any) -> str:
    """A stored value in the parser's text form (feeds.parsing: what content_hash reads)."""
    if v is None:
        return ""
    if field == "custom_attributes":
        return json.dumps(_json_value(v, {}), sort_keys=True, ensure_ascii=False)
    if field == "additional_image_links":
        return json.dumps(_json_value(v, []))
    if field in ("price", "sale_price", "shipping_fee"):
        return str(Decimal(str(v)).quantize(Decimal("0.01")))
    return str(v)


def _remember_line_hashes(run: FeedRun) -> None:
    """Rows read again whose content did not change may still come from a record with new
    bytes (or from before fingerprints existed): store their fingerprint, so the next pull
    skips them. Content, review and change times are untouched."""
    p = _qn(Product._meta.db_table)
    st = _qn(run.stage_table)
    same = f"{p}.content_hash = s.content_hash"
    if run.mode != UpdateMode.REPLACE:  # a row not in the delta changes no written field
        same = (
            f"{p}.removed_at IS NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {_qn(_delta_table(run))} d WHERE d.sku = s.sku)"
        )
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {p} SET feed_line_hash = s.line_hash FROM {st} s "
            f"WHERE {p}.tenant_id = %s AND {p}.catalog_id = %s AND {p}.sku = s.sku "
            f"AND s.line_hash IS NOT NULL AND {same} "
            f"AND {_distinct(f'{p}.feed_line_hash', 's.line_hash')}",
            [run.tenant_id, run.catalog_id],
        )


def _remove_missing(run: FeedRun, now: datetime) -> int:
    """Mark removed the products listed by _stage_counts (active, neither staged nor seen)."""
    p = _qn(Product._meta.db_table)
    sql = (
        f"UPDATE {p} SET removed_at = %s, last_changed_at = %s, updated_at = %s "
        f"WHERE tenant_id = %s AND catalog_id = %s AND removed_at IS NULL "
        f"AND id IN (SELECT id FROM {_qn(_gone_table(run))})"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [now, now, now, run.tenant_id, run.catalog_id])
        return cur.rowcount


def _link_created_products(run: FeedRun) -> None:
    """Fill in the product ids of the 'created' diff rows (a join, not a lookup per row)."""
    with connection.cursor() as cur:
        cur.execute(*_link_created_products_sql(run))


def _link_created_products_sql(run: FeedRun) -> tuple[str, list]:
    p = _qn(Product._meta.db_table)
    c = _qn(FeedRunChange._meta.db_table)
    return (
        f"UPDATE {c} SET product_id = p.id FROM {p} p "
        f"WHERE {c}.tenant_id = %s AND {c}.run_id = %s AND {c}.kind = 'created' "
        f"AND p.tenant_id = {c}.tenant_id AND p.catalog_id = %s "
        f"AND p.sku = {c}.sku{_BYTES if _is_pg() else ''}",
        [run.tenant_id, run.pk, run.catalog_id],
    )
