# SQL below is built only from quoted table/column names of our own models and the per-run
# staging table name (an integer id); every value goes through parameters.
# ruff: noqa: S608
"""The per-run staging tables: names, DDL, COPY of parsed tables, and their cleanup."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from django.db import (
    connection,
)

from catalogs.models import Product
from feeds.models import (
    FeedRun,
    UpdateMode,
)
from feeds.parsing import (
    OUTPUT_COLUMNS,
    custom_attribute_keys,
    written_fields,
)

# =========================================================================== staging + merge

_BYTES = ' COLLATE "C"'  # catalogs_product.sku's collation: a join on sku can use its index
_STAGE_TYPES = {
    "sku": "text" + _BYTES,
    "line": "bigint",
    "additional_image_links": "jsonb",
    "custom_attributes": "jsonb",
    "price": "numeric(14,2)",
    "sale_price": "numeric(14,2)",
    "shipping_fee": "numeric(14,2)",
    "inventory_quantity": "integer",
}
_NULLABLE = ("price", "sale_price", "shipping_fee", "inventory_quantity")
# Product columns written from the feed (everything in OUTPUT_COLUMNS but the line number)
PRODUCT_COLUMNS = [c for c in OUTPUT_COLUMNS if c != "line"]
# what a block COPYs into staging
STAGED_COLUMNS = [*OUTPUT_COLUMNS, "line_hash"]
DIFF_FIELDS = [c for c in PRODUCT_COLUMNS if c not in ("sku", "content_hash")]


def _is_pg() -> bool:
    return connection.vendor == "postgresql"


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


def _create_stage(run: FeedRun) -> None:
    pg = _is_pg()
    defs = [f"{_qn(c)} {_STAGE_TYPES.get(c, 'text') if pg else 'text'}" for c in OUTPUT_COLUMNS]
    defs.append(f"line_hash {'bigint' if pg else 'integer'}")
    cols = ", ".join(defs)
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {_qn(run.stage_table)}")
        # UNLOGGED: staging is scratch space, no WAL needed; dropped after the run
        cur.execute(f"CREATE {'UNLOGGED ' if pg else ''}TABLE {_qn(run.stage_table)} ({cols})")
        cur.execute(f"DROP TABLE IF EXISTS {_qn(_seen_table(run))}")
        cur.execute(
            f"CREATE {'UNLOGGED ' if pg else ''}TABLE {_qn(_seen_table(run))} "
            f"(sku text{_BYTES if pg else ''})"
        )
        cur.execute(f"DROP TABLE IF EXISTS {_qn(_columns_table(run))}")
        cur.execute(f"CREATE TABLE {_qn(_columns_table(run))} (name text)")


def _columns_table(run: FeedRun) -> str:
    """The canonical columns the feed carried (kept with the staging table: an update-mode
    apply writes only those fields, also when it runs later than the parse)."""
    return run.stage_table + "_cols"


def _store_columns(run: FeedRun, columns: set[str]) -> None:
    with connection.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {_qn(_columns_table(run))} (name) VALUES (%s)",
            [(c,) for c in sorted(columns)],
        )


@dataclass(frozen=True)
class _Written:
    """What an update-mode run writes: the fields of its columns, and the custom attribute
    keys its columns name (each set or cleared; the product's other attributes stay)."""

    fields: frozenset[str]
    attribute_keys: tuple[str, ...]

    def changed_sql(self) -> tuple[str, list]:
        """p (product) differs from s (staged row) in a written field."""
        parts, params = ["p.removed_at IS NOT NULL"], []
        for f in sorted(self.fields - {"sku"}):
            if f == "custom_attributes":
                merged, merged_params = self.attributes_sql("p", "s")
                parts.append(_distinct("p.custom_attributes", merged))
                params += merged_params
            elif Product._meta.get_field(f).get_internal_type() in ("CharField", "TextField"):
                parts.append(_distinct(f"coalesce(p.{_qn(f)}, '')", f"coalesce(s.{_qn(f)}, '')"))
            else:
                parts.append(_distinct(f"p.{_qn(f)}", f"s.{_qn(f)}"))
        return " OR ".join(parts), params

    def attributes_sql(self, old: str, new: str) -> tuple[str, list]:
        """The product's custom attributes with this run's keys set or cleared."""
        if _is_pg():
            return (
                f"((coalesce({old}.custom_attributes, '{{}}'::jsonb) - %s::text[]) "
                f"|| coalesce({new}.custom_attributes, '{{}}'::jsonb))",
                [list(self.attribute_keys)],
            )
        _sqlite_attributes_function(self.attribute_keys)
        return f"ch_feed_attributes({old}.custom_attributes, {new}.custom_attributes)", []

    def merged_attributes(self, old: Any, new: Any) -> dict:
        old, new = _json_value(old, {}), _json_value(new, {})
        merged = {k: v for k, v in (old or {}).items() if k not in self.attribute_keys}
        merged.update(new or {})
        return merged


def _json_value(v: Any, empty: Any) -> Any:
    if v is None or v == "":
        return empty
    return json.loads(v) if isinstance(v, str) else v


def _sqlite_attributes_function(keys: tuple[str, ...]) -> None:
    """SQLite has no jsonb operators: the merge of _Written.attributes_sql as a function of
    this connection (the embedded default; small catalogs)."""

    def merge(old: str | None, new: str | None) -> str:
        merged = _Written(frozenset(), keys).merged_attributes(old, new)
        return json.dumps(merged, sort_keys=True, ensure_ascii=False)

    connection.ensure_connection()
    connection.connection.create_function("ch_feed_attributes", 2, merge, deterministic=True)


def _written(run: FeedRun) -> _Written | None:
    """None in replace mode (a run writes every field); in update mode, what its file's
    columns write (feeds.parsing.written_fields)."""
    if run.mode == UpdateMode.REPLACE:
        return None
    with connection.cursor() as cur:
        cur.execute(f"SELECT name FROM {_qn(_columns_table(run))}")
        columns = [r[0] for r in cur.fetchall()]
    return _Written(frozenset(written_fields(columns)), tuple(custom_attribute_keys(columns)))


def _stage_exists(run: FeedRun) -> bool:
    return run.stage_table in connection.introspection.table_names()


def _drop_stage(run: FeedRun) -> None:
    if run.pk is None:
        return
    with connection.cursor() as cur:
        cur.execute(f"DROP VIEW IF EXISTS {_qn(_delta_view(run))}")
        cur.execute(f"DROP TABLE IF EXISTS {_qn(_delta_table(run))}")
        cur.execute(f"DROP TABLE IF EXISTS {_qn(_gone_table(run))}")
        cur.execute(f"DROP TABLE IF EXISTS {_qn(_review_table(run))}")
        cur.execute(f"DROP TABLE IF EXISTS {_qn(_seen_table(run))}")
        cur.execute(f"DROP TABLE IF EXISTS {_qn(_columns_table(run))}")
        cur.execute(f"DROP TABLE IF EXISTS {_qn(run.stage_table)}")


def _with_line_hash(table: pa.Table) -> pa.Table:
    if "line_hash" in table.column_names:
        return table
    return table.append_column("line_hash", pa.nulls(table.num_rows, pa.int64()))


def _nulls_for_numbers(table: pa.Table) -> pa.Table:
    for c in _NULLABLE:  # "" -> NULL for the numeric columns
        i = table.column_names.index(c)
        col = table.column(c)
        table = table.set_column(
            i, c, pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)
        )
    return table


def _second_connection(*, autocommit: bool):
    """A psycopg connection of its own to the default database (a COPY that runs while this
    thread parses)."""
    import psycopg

    db = connection.settings_dict
    return psycopg.connect(
        dbname=db["NAME"],
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        autocommit=autocommit,
    )


def _stage_table(run: FeedRun, table: pa.Table) -> None:
    """COPY one validated block into the staging table (PostgreSQL), or insert it (SQLite)."""
    if table.num_rows == 0:
        return
    table = _nulls_for_numbers(_with_line_hash(table))
    name = _qn(run.stage_table)
    cols = ", ".join(_qn(c) for c in STAGED_COLUMNS)
    with connection.cursor() as cur:
        if _is_pg():
            buf = io.BytesIO()
            pacsv.write_csv(
                table.select(STAGED_COLUMNS), buf, pacsv.WriteOptions(include_header=False)
            )
            # CSV: a quoted "" is an empty string, an unquoted empty field is NULL
            with cur.cursor.copy(f"COPY {name} ({cols}) FROM STDIN (FORMAT csv)") as copy:
                copy.write(buf.getbuffer())
        else:
            rows = [tuple(r[c] for c in STAGED_COLUMNS) for r in table.to_pylist()]
            marks = ", ".join(["%s"] * len(STAGED_COLUMNS))
            cur.executemany(f"INSERT INTO {name} ({cols}) VALUES ({marks})", rows)


def _analyze_stage(run: FeedRun) -> None:
    """Index the staging table's sku after loading (cheaper than during COPY) and give the
    planner statistics: without them an anti-join against a catalog whose statistics are
    stale can turn into a nested loop over both tables. (A first pull on PostgreSQL does
    not stage: _ProductWriter.)"""
    stage = _qn(run.stage_table)
    with connection.cursor() as cur:
        cur.execute(f"CREATE UNIQUE INDEX {_qn(run.stage_table + '_sku')} ON {stage} (sku)")
        cur.execute(f"ANALYZE {stage}")


def _has_products_sql() -> str:
    """Whether a catalog (params: tenant id, catalog id) has any product, active or removed;
    none means a first pull."""
    return (
        f"SELECT EXISTS (SELECT 1 FROM {_qn(Product._meta.db_table)} "
        "WHERE tenant_id = %s AND catalog_id = %s)"
    )


def _catalog_is_empty(run: FeedRun) -> bool:
    with connection.cursor() as cur:
        cur.execute(_has_products_sql(), [run.tenant_id, run.catalog_id])
        return not cur.fetchone()[0]


def _distinct(a: str, b: str) -> str:
    return f"{a} IS DISTINCT FROM {b}" if _is_pg() else f"{a} IS NOT {b}"


def _delta_table(run: FeedRun) -> str:
    return run.stage_table + "_delta"


def _seen_table(run: FeedRun) -> str:
    """Skus in the feed that are not staged: rows rejected this run (the products exist in
    the feed, only their row could not be read, so replace mode keeps them with their last
    good data) and records skipped unread because they came back byte for byte."""
    return run.stage_table + "_seen"


def _store_seen(run: FeedRun, skus: set[str]) -> None:
    if not skus:
        return
    with connection.cursor() as cur:
        if _is_pg():
            buf = io.BytesIO()
            table = pa.table({"sku": pa.array(list(skus), pa.string())})
            pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False))
            sql = f"COPY {_qn(_seen_table(run))} (sku) FROM STDIN (FORMAT csv)"
            with cur.cursor.copy(sql) as copy:
                copy.write(buf.getbuffer())
            cur.execute(f"ANALYZE {_qn(_seen_table(run))}")
        else:
            cur.executemany(
                f"INSERT INTO {_qn(_seen_table(run))} (sku) VALUES (%s)", [(s,) for s in skus]
            )


def _gone_table(run: FeedRun) -> str:
    """The active products a replace-mode run removes (listed once, read three times)."""
    return run.stage_table + "_gone"


def _review_table(run: FeedRun) -> str:
    """The review statuses of the delta's rows (sku, review_status), for the merge."""
    return run.stage_table + "_review"


def _delta_view(run: FeedRun) -> str:
    return run.stage_table + "_dnew"
