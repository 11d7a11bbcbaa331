"""Writes of catalogs and products. Every function takes the tenant and the actor."""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from catalog_health.tenancy.models import Tenant
from catalog_health.tenancy.services import audit_record

from . import events
from .models import (
    Catalog,
    ColumnMappingPreset,
    DailyImpression,
    Order,
    OrderUpload,
    Product,
    ProductSortKey,
    ReviewStatus,
    UploadKind,
    UploadStatus,
)
from .order_formats import (
    CHUNK_ROWS,
    ColumnMapping,
    ImpressionFile,
    OrderFile,
    Source,
    detect_format,
    header_signature,
    impression_file_open,
    is_blank,
    is_xlsx,
    order_file_open,
    read_header,
)
from .order_io import (
    IMPRESSION_COLUMNS,
    ORDER_COLUMNS,
    FileError,
    ImpressionRow,
    OrderRow,
    RowError,
    csv_records,
    impressions_parse,
    orders_parse,
)
from .rules import EDITABLE_FIELDS, product_edit_errors
from .selectors import mapping_preset_for_header


@transaction.atomic
def catalog_create(
    *, tenant: Tenant, actor, name: str, country: str = "US", currency: str | None = None
) -> Catalog:
    catalog = Catalog(
        tenant=tenant,
        name=name.strip(),
        country=country.upper(),
        currency=(currency or tenant.currency).upper(),
    )
    catalog.full_clean()
    catalog.save()
    audit_record(tenant=tenant, actor=actor, action="catalog.created", target=catalog)
    return catalog


@transaction.atomic
def catalog_update(*, tenant: Tenant, catalog: Catalog, actor, data: dict) -> Catalog:
    if catalog.tenant_id != tenant.pk:
        raise Catalog.DoesNotExist
    changes = {}
    for field in ("name", "country", "currency"):
        if field in data and getattr(catalog, field) != data[field]:
            changes[field] = [getattr(catalog, field), data[field]]
            setattr(catalog, field, data[field])
    if changes:
        catalog.full_clean()
        catalog.save()
        audit_record(
            tenant=tenant, actor=actor, action="catalog.updated", target=catalog, changes=changes
        )
    return catalog


def _json_value(value):
    return None if value is None else str(value)


@transaction.atomic
def product_update(*, tenant: Tenant, product: Product, actor, data: dict) -> Product:
    """A seller's edit of inventory, price, sale price, shipping fee or availability.

    Validated as a whole, audited field by field (old and new values), and the product goes
    back to review so its status and the catalog's ECR state follow the fix.
    """
    if product.tenant_id != tenant.pk:
        raise Product.DoesNotExist
    # Lock the row: two sellers saving at once must not lose either audit entry.
    product = Product.objects.for_tenant(tenant).select_for_update().get(pk=product.pk)
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({f: "This field cannot be edited here." for f in sorted(unknown)})
    merged = {f: data.get(f, getattr(product, f)) for f in EDITABLE_FIELDS}
    errors = product_edit_errors(merged)
    if errors:
        raise ValidationError(errors)
    changes = {
        f: [_json_value(getattr(product, f)), _json_value(merged[f])]
        for f in EDITABLE_FIELDS
        if merged[f] != getattr(product, f)
    }
    if not changes:
        return product
    now = timezone.now()
    for field in changes:
        setattr(product, field, merged[field])
    product.last_changed_at = now
    product.review_status = ReviewStatus.PENDING
    product.review_requested_at = now
    # The feed stays the source of truth: forgetting the content hash and the feed record's
    # fingerprint makes the next pull that carries this product read its row and write the
    # feed's values again (as marketplaces do).
    product.content_hash = ""
    product.feed_line_hash = None
    product.save(
        update_fields=[
            *changes,
            "content_hash",
            "feed_line_hash",
            "last_changed_at",
            "review_status",
            "review_requested_at",
            "updated_at",
        ]
    )
    audit_record(
        tenant=tenant, actor=actor, action="product.updated", target=product, changes=changes
    )
    # Re-review once committed (at once when the catalog's ECR is on, else in the standard
    # queue) so the product's status and the catalog's ECR state follow the fix.
    events.products_edited.send(
        sender=None, tenant=tenant, catalog=product.catalog, product_ids=[product.pk], actor=actor
    )
    return product


# --- Sort keys of the product list (PostgreSQL) -------------------------------------------

SORT_KEY_TABLE = ProductSortKey._meta.db_table
# When 'on' for a transaction, the insert trigger of catalogs migration 0009 leaves new
# products without a sort key row: the transaction fills them in bulk before committing.
DEFER_SORT_KEYS = "catalog_health.defer_sort_keys"


def sort_keys_defer(cursor) -> None:
    """Inside a transaction about to create a catalog's first products in bulk: the
    triggers write no sort keys; ``sort_keys_fill_new_partition`` must follow."""
    cursor.execute(f"SET LOCAL {DEFER_SORT_KEYS} = 'on'")


def sort_key_partition(catalog_id: int) -> str:
    return f"{SORT_KEY_TABLE}_c{int(catalog_id)}"


def sort_keys_fill_new_partition(cursor, *, tenant_id: int, catalog_id: int) -> bool:
    """Write the sort keys of a catalog whose products were created with the triggers
    deferred (a first pull), in the caller's transaction, on PostgreSQL.

    A new partition is filled, then its four indexes are built from its rows, then it is
    attached: at a million products ~3.7 s against ~12 s for PostgreSQL maintaining the
    title, price and last-changed indexes row by row as the products arrive
    (bench/RESULTS.md). The ATTACH locks the default partition (it checks that no row of
    the catalog is there), so it is the caller's last statement before COMMIT. Returns
    False when the catalog already had a partition (its products were all deleted since):
    the rows then go into it, with row-by-row index maintenance.
    """
    partition = sort_key_partition(catalog_id)
    select = (
        "SELECT tenant_id, id AS product_id, catalog_id, title, price, last_changed_at "
        "FROM catalogs_product WHERE tenant_id = %s AND catalog_id = %s"
    )
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [partition])
    exists = cursor.fetchone()[0]
    # rows left by products that went without their delete trigger (a TRUNCATE) would make
    # the ATTACH fail; the catalog's products are all new here, so any row of it is stale
    cursor.execute(
        f"DELETE FROM {SORT_KEY_TABLE} WHERE tenant_id = %s AND catalog_id = %s",  # noqa: S608 - model table
        [tenant_id, catalog_id],
    )
    if exists:
        cursor.execute(
            f"INSERT INTO {SORT_KEY_TABLE} "
            "(tenant_id, product_id, catalog_id, title, price, last_changed_at) " + select,
            [tenant_id, catalog_id],
        )
    else:
        # CREATE TABLE AS writes in bulk (faster than INSERT … SELECT), in title order so
        # that the title index's build finds its rows already sorted (0.4-0.5 s at 1M
        # instead of 1.2 s); the partition must carry the parent's NOT NULLs.
        # maintenance_work_mem: the index builds sort in memory (PostgreSQL's default 64 MB
        # spills a million titles to disk).
        cursor.execute(
            f"CREATE TABLE {partition} AS {select} ORDER BY title, id", [tenant_id, catalog_id]
        )
        cursor.execute(
            f"ALTER TABLE {partition} ALTER tenant_id SET NOT NULL, "
            "ALTER product_id SET NOT NULL, ALTER catalog_id SET NOT NULL, "
            "ALTER title SET NOT NULL, ALTER last_changed_at SET NOT NULL"
        )
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute(
            f"ALTER TABLE {partition} ADD CONSTRAINT {partition}_pkey "
            "PRIMARY KEY (product_id, catalog_id)"
        )
        # the parent's index definitions: ATTACH adopts these instead of building its own
        for name, key in (("title", "title"), ("price", "price"), ("changed", "last_changed_at")):
            cursor.execute(f"CREATE INDEX {partition}_{name} ON {partition} ({key}, product_id)")
        cursor.execute(f"ANALYZE {partition}")
        cursor.execute(
            f"ALTER TABLE {SORT_KEY_TABLE} ATTACH PARTITION {partition} "
            f"FOR VALUES IN ({int(catalog_id)})"
        )
    cursor.execute(f"SET LOCAL {DEFER_SORT_KEYS} = 'off'")
    return not exists


def sort_keys_drop_orphan_partitions() -> int:
    """Drop the sort key partitions of deleted catalogs (their delete emptied them), one
    transaction each; returns how many went. Dropping a partition locks the whole sort key
    table for an instant, so each drop waits at most half a second for that lock and is
    otherwise left for the next run, rather than queueing every product list behind it."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass AND c.relkind = 'r' AND c.relname LIKE %s "
            "AND NOT EXISTS (SELECT 1 FROM catalogs_catalog k "
            "  WHERE c.relname = %s || k.id::text)",
            [SORT_KEY_TABLE, f"{SORT_KEY_TABLE}\\_c%", f"{SORT_KEY_TABLE}_c"],
        )
        orphans = [row[0] for row in cur.fetchall()]
    dropped = 0
    for partition in orphans:
        try:
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute("SET LOCAL lock_timeout = '500ms'")
                table = connection.ops.quote_name(partition)
                cur.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")  # noqa: S608 - pg_class name
                if cur.fetchone()[0]:  # rows of a catalog deleted mid-way: not ours to drop
                    continue
                cur.execute(f"DROP TABLE {table}")
        except OperationalError:  # lock not granted in time: the next run tries again
            continue
        dropped += 1
    return dropped


# --- Orders and daily impressions (issue #6) ----------------------------------------------

UPSERT_BATCH = 5000
# what an upsert of a known (order id, sku) line rewrites: every column but its key
ORDER_UPDATE_FIELDS = [
    "catalog",
    "product",
    *(c for c in ORDER_COLUMNS if c not in ("order_id", "sku")),
    "updated_at",
]


@dataclasses.dataclass
class UpsertResult:
    """What an import or API upsert did: rows written and rows refused, with reasons."""

    written: int = 0
    errors: list[RowError] = dataclasses.field(default_factory=list)

    @property
    def refused(self) -> int:
        return len({e.line for e in self.errors})


def _products_by_sku(*, tenant: Tenant, catalog: Catalog, skus: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    sku_list = sorted(skus)
    for start in range(0, len(sku_list), UPSERT_BATCH):
        chunk = sku_list[start : start + UPSERT_BATCH]
        found.update(
            Product.objects.for_tenant(tenant)
            .filter(catalog=catalog, sku__in=chunk)
            .values_list("sku", "id")
        )
    return found


def _last_wins(rows: list, lines: list[int] | None, *, key) -> tuple[list, list[int]]:
    """One row per key, the last one given: one upsert statement may touch a row only once."""
    lines = lines or list(range(1, len(rows) + 1))
    by_key = {key(r): (r, line) for r, line in zip(rows, lines, strict=True)}
    return [r for r, _ in by_key.values()], [line for _, line in by_key.values()]


def orders_upsert(
    *, tenant: Tenant, catalog: Catalog, rows: list[OrderRow], lines: list[int] | None = None
) -> UpsertResult:
    """Insert or update order lines, idempotent on (tenant, order id, sku).

    A row whose sku is not a product of the catalog is refused with a row error; the others
    are written in batches of one INSERT … ON CONFLICT DO UPDATE each.
    """
    if catalog.tenant_id != tenant.pk:
        raise Catalog.DoesNotExist
    now = timezone.now()
    rows, lines = _last_wins(rows, lines, key=lambda r: (r.order_id, r.sku))
    return _upsert_by_sku(
        tenant=tenant,
        catalog=catalog,
        rows=rows,
        lines=lines,
        build=lambda row, product_id: Order(
            tenant=tenant,
            catalog=catalog,
            product_id=product_id,
            updated_at=now,
            **row.__dict__,
        ),
        unique_fields=["tenant", "order_id", "sku"],
        update_fields=ORDER_UPDATE_FIELDS,
    )


def impressions_upsert(
    *, tenant: Tenant, catalog: Catalog, rows: list[ImpressionRow], lines: list[int] | None = None
) -> UpsertResult:
    """Insert or update daily impressions, idempotent on (tenant, catalog, sku, date)."""
    if catalog.tenant_id != tenant.pk:
        raise Catalog.DoesNotExist
    rows, lines = _last_wins(rows, lines, key=lambda r: (r.sku, r.date))
    return _upsert_by_sku(
        tenant=tenant,
        catalog=catalog,
        rows=rows,
        lines=lines,
        build=lambda row, product_id: DailyImpression(
            tenant=tenant,
            catalog=catalog,
            product_id=product_id,
            sku=row.sku,
            date=row.date,
            impressions=row.impressions,
            clicks=row.clicks,
        ),
        unique_fields=["tenant", "catalog", "sku", "date"],
        update_fields=["product", "impressions", "clicks"],
    )


def _upsert_by_sku(
    *, tenant, catalog, rows, lines, build, unique_fields, update_fields
) -> UpsertResult:
    """Resolve each row's sku to a product of the catalog (an unknown sku is a row error),
    then write the rows in batches of one INSERT … ON CONFLICT DO UPDATE, all or nothing."""
    result = UpsertResult()
    products = _products_by_sku(tenant=tenant, catalog=catalog, skus={r.sku for r in rows})
    objs = []
    for i, row in enumerate(rows):
        product_id = products.get(row.sku)
        if product_id is None:
            line = lines[i] if lines else i + 1
            result.errors.append(
                RowError(line, "sku", f"{row.sku!r} is not a product of {catalog.name}")
            )
            continue
        objs.append(build(row, product_id))
    if not objs:
        return result
    model = type(objs[0])
    with transaction.atomic():
        for start in range(0, len(objs), UPSERT_BATCH):
            batch = objs[start : start + UPSERT_BATCH]
            model.objects.bulk_create(
                batch,
                update_conflicts=True,
                unique_fields=unique_fields,
                update_fields=update_fields,
            )
            result.written += len(batch)
    return result


def _import(
    kind: str, *, tenant: Tenant, catalog: Catalog, data: bytes | str, actor
) -> UpsertResult:
    """Parse a whole CSV file, write its good rows, report the bad ones (FileError if the
    file itself is unreadable: then nothing is written)."""
    if kind == "orders":
        records = list(csv_records(data, ORDER_COLUMNS))
        parsed = orders_parse(records)
        upsert = orders_upsert
        key = lambda r: (r.order_id, r.sku)  # noqa: E731
        record_key = lambda rec: (rec.get("order_id", "").strip(), rec.get("sku", "").strip())  # noqa: E731
    else:
        records = list(csv_records(data, IMPRESSION_COLUMNS))
        parsed = impressions_parse(records)
        upsert = impressions_upsert
        key = lambda r: (r.sku, r.date.isoformat())  # noqa: E731
        record_key = lambda rec: (rec.get("sku", "").strip(), rec.get("date", "").strip())  # noqa: E731
    line_of = {record_key(rec): line for line, rec in records}
    lines = [line_of.get(key(r), 0) for r in parsed.rows]
    result = upsert(tenant=tenant, catalog=catalog, rows=parsed.rows, lines=lines)
    result.errors = sorted(parsed.errors + result.errors, key=lambda e: e.line)
    audit_record(
        tenant=tenant,
        actor=actor,
        action=f"{kind}.imported",
        target=catalog,
        changes={"written": result.written, "refused_rows": result.refused},
    )
    return result


def orders_import_csv(
    *, tenant: Tenant, catalog: Catalog, data: bytes | str, actor
) -> UpsertResult:
    """CSV with the columns order_id, sku, quantity, item_price, shipping_fee, placed_at,
    ship_by, shipped_at, delivered_at, cancelled_at, cancel_reason, tracking_number."""
    return _import("orders", tenant=tenant, catalog=catalog, data=data, actor=actor)


def impressions_import_csv(
    *, tenant: Tenant, catalog: Catalog, data: bytes | str, actor
) -> UpsertResult:
    """CSV with the columns sku, date, impressions, clicks."""
    return _import("impressions", tenant=tenant, catalog=catalog, data=data, actor=actor)


# --- Marketplace exports: TikTok Shop, Shopify, mapped files (issue #20) -------------------

UNKNOWN_SKU_LINES = 20  # lines listed per unknown sku
UNKNOWN_SKUS_LISTED = 200


@dataclasses.dataclass
class OrderFileResult(UpsertResult):
    """What reading (and, for an import, writing) an order export found."""

    format_label: str = ""
    date_order: str = ""
    date_order_source: str = ""
    lines: int = 0  # data rows read
    orders: int = 0  # distinct order ids among the lines read well
    shipped: int = 0
    cancelled: int = 0
    unknown_skus: dict[str, list[int]] = dataclasses.field(default_factory=dict)
    unchanged: int = 0
    unmapped_columns: list[str] = dataclasses.field(default_factory=list)
    first_rows: list[dict] = dataclasses.field(default_factory=list)
    timings: dict[str, float] = dataclasses.field(default_factory=dict)  # seconds per phase


def order_file_open_for(
    *,
    tenant: Tenant,
    catalog: Catalog,
    data: Source,
    date_order: str = "",
    preset: ColumnMappingPreset | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> OrderFile:
    """Recognise an order export for a catalog: a built-in format, else the tenant's mapping
    preset made for this header (or the one given). FileError when neither fits."""
    if is_blank(data):
        raise FileError("The file is empty.")
    header = read_header(data)
    if preset is None and detect_format(header).kind == "unknown":
        preset = mapping_preset_for_header(tenant=tenant, kind=UploadKind.ORDERS, header=header)
    mapping = None
    if preset is not None:
        if preset.tenant_id != tenant.pk:
            raise ColumnMappingPreset.DoesNotExist
        mapping = ColumnMapping(columns=preset.columns, cancel_values=preset.cancel_values)
    return order_file_open(
        data,
        tz=tenant.time_zone,
        date_order=date_order or tenant.date_order,
        handling_days=catalog.handling_days,
        mapping=mapping,
        chunk_rows=chunk_rows,
    )


def _file_result(order_file: OrderFile) -> OrderFileResult:
    return OrderFileResult(
        format_label=order_file.detected.label,
        date_order=order_file.options.date_order or "",
        date_order_source=order_file.date_order_source,
        unmapped_columns=order_file.unmapped_columns,
    )


def _count_lines(result: OrderFileResult, lines, errors, read: int, order_ids: set) -> None:
    result.lines += read
    result.errors.extend(errors)
    order_ids.update(lines["order_id"].unique())
    result.shipped += int(lines["shipped_at"].notna().sum())
    result.cancelled += int(lines["cancelled_at"].notna().sum())


def _unknown_skus(
    result: OrderFileResult, *, tenant: Tenant, catalog: Catalog, sku_lines: dict[str, list[int]]
) -> None:
    known = _products_by_sku(tenant=tenant, catalog=catalog, skus=set(sku_lines))
    for sku in sorted(set(sku_lines) - set(known)):
        lines = sku_lines[sku]
        if len(result.unknown_skus) < UNKNOWN_SKUS_LISTED:
            result.unknown_skus[sku] = lines[:UNKNOWN_SKU_LINES]
        result.errors.extend(
            RowError(line, "sku", f"{sku!r} is not a product of {catalog.name}") for line in lines
        )


def orders_preview(
    *,
    tenant: Tenant,
    catalog: Catalog,
    data: bytes,
    date_order: str = "",
    preset: ColumnMappingPreset | None = None,
    rows: int = 10,
) -> OrderFileResult:
    """Read an order export without saving it: the first rows as they will be read, the
    counts, unknown skus, unmapped columns and the detected format."""
    if (
        preset is None
        and not is_xlsx(data)
        and detect_format(read_header(data)).key == ("app_orders")
    ):
        return _app_csv_preview(tenant=tenant, catalog=catalog, data=data, rows=rows)
    order_file = order_file_open_for(
        tenant=tenant, catalog=catalog, data=data, date_order=date_order, preset=preset
    )
    result = _file_result(order_file)
    order_ids: set = set()
    sku_lines: dict[str, list[int]] = {}
    for lines, errors, read in order_file.chunks():
        _count_lines(result, lines, errors, read, order_ids)
        if len(result.first_rows) < rows:
            result.first_rows.extend(_display_rows(lines.head(rows - len(result.first_rows))))
        for sku, group in lines.groupby("sku", sort=False)["line"]:
            sku_lines.setdefault(sku, []).extend(group.head(UNKNOWN_SKU_LINES).tolist())
    result.orders = len(order_ids)
    _unknown_skus(result, tenant=tenant, catalog=catalog, sku_lines=sku_lines)
    result.errors.sort(key=lambda e: e.line)
    return result


def _app_csv_preview(*, tenant, catalog, data: bytes, rows: int) -> OrderFileResult:
    """The app's own CSV is imported by its strict parser (orders_import_csv): preview it
    with that parser too, so that the preview says what the import will do."""
    records = list(csv_records(data, ORDER_COLUMNS))
    parsed = orders_parse(records)
    result = OrderFileResult(
        format_label="Catalog Health order CSV",
        lines=len(records),
        orders=len({r.order_id for r in parsed.rows}),
        shipped=sum(1 for r in parsed.rows if r.shipped_at),
        cancelled=sum(1 for r in parsed.rows if r.cancelled_at),
    )
    result.errors.extend(parsed.errors)
    line_of = {
        (rec.get("order_id", "").strip(), rec.get("sku", "").strip()): line for line, rec in records
    }
    for row in parsed.rows[:rows]:
        result.first_rows.append({"line": line_of.get((row.order_id, row.sku)), **row.__dict__})
    sku_lines: dict[str, list[int]] = {}
    for row in parsed.rows:
        sku_lines.setdefault(row.sku, []).append(line_of.get((row.order_id, row.sku), 0))
    _unknown_skus(result, tenant=tenant, catalog=catalog, sku_lines=sku_lines)
    result.errors.sort(key=lambda e: e.line)
    return result


def _display_rows(lines) -> list[dict]:
    rows = []
    for record in lines.to_dict("records"):
        rows.append(
            {
                key: (None if value is None or value is pd.NaT else value)
                for key, value in record.items()
            }
        )
    return rows


STAGE_COLUMNS = (
    "line int, order_id text, sku text, quantity bigint, item_price numeric(12,2), "
    "shipping_fee numeric(12,2), placed_at timestamptz, ship_by timestamptz, "
    "shipped_at timestamptz, delivered_at timestamptz, cancelled_at timestamptz, "
    "cancel_reason text, tracking_number text"
)
ORDER_VALUE_COLUMNS = (
    "quantity",
    "item_price",
    "shipping_fee",
    "placed_at",
    "ship_by",
    "shipped_at",
    "delivered_at",
    "cancelled_at",
    "cancel_reason",
    "tracking_number",
)


def orders_import_file(
    *,
    tenant: Tenant,
    catalog: Catalog,
    data: Source,
    actor,
    date_order: str = "",
    preset: ColumnMappingPreset | None = None,
    progress=None,
    chunk_rows: int = CHUNK_ROWS,
) -> OrderFileResult | UpsertResult:
    """Import an order export as downloaded (TikTok Shop, Shopify, a mapped file or the
    app's own CSV), idempotent on (tenant, order id, sku): importing the same file again
    changes nothing.

    Lines whose sku is not a product of the catalog are refused and listed. On PostgreSQL
    the file goes chunk by chunk into a staging table (COPY) and one INSERT … ON CONFLICT
    writes the lines that are new or differ; progress(rows_read) is called per chunk.
    """
    if catalog.tenant_id != tenant.pk:
        raise Catalog.DoesNotExist
    if (
        preset is None
        and not is_xlsx(data)
        and detect_format(read_header(data)).key == ("app_orders")
    ):
        if not isinstance(data, bytes):
            data = Path(data).read_bytes()  # the app's CSV: at most MAX_FILE_ROWS rows
        return orders_import_csv(tenant=tenant, catalog=catalog, data=data, actor=actor)
    order_file = order_file_open_for(
        tenant=tenant,
        catalog=catalog,
        data=data,
        date_order=date_order,
        preset=preset,
        chunk_rows=chunk_rows,
    )
    result = _file_result(order_file)
    if connection.vendor == "postgresql":
        _orders_import_postgres(
            result, order_file, tenant=tenant, catalog=catalog, progress=progress
        )
    else:
        _orders_import_orm(result, order_file, tenant=tenant, catalog=catalog, progress=progress)
    result.errors.sort(key=lambda e: e.line)
    audit_record(
        tenant=tenant,
        actor=actor,
        action="orders.imported",
        target=catalog,
        changes={
            "format": result.format_label,
            "written": result.written,
            "unchanged": result.unchanged,
            "refused_rows": result.refused,
        },
    )
    return result


def _phase(result, name: str, since: float) -> float:
    now = time.perf_counter()
    result.timings[name] = round(now - since, 3)
    return now


def _orders_import_postgres(result, order_file, *, tenant, catalog, progress) -> None:
    stage = "order_import_stage"
    order_ids: set = set()
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS pg_temp.{stage}")
        cur.execute(f"CREATE TEMP TABLE {stage} ({STAGE_COLUMNS})")
        try:
            for lines, errors, read in order_file.chunks():
                _count_lines(result, lines, errors, read, order_ids)
                if len(lines):
                    # pyarrow's CSV writer: several times faster than DataFrame.to_csv
                    sink = pa.BufferOutputStream()
                    pa_csv.write_csv(
                        pa.Table.from_pandas(lines, preserve_index=False),
                        sink,
                        pa_csv.WriteOptions(include_header=False),
                    )
                    copy_sql = (
                        f"COPY {stage} FROM STDIN (FORMAT csv, FORCE_NOT_NULL "
                        "(order_id, sku, cancel_reason, tracking_number))"
                    )
                    with cur.cursor.copy(copy_sql) as copy:
                        copy.write(memoryview(sink.getvalue()))
                if progress:
                    progress(result.lines)
            result.orders = len(order_ids)
            mark = _phase(result, "read, typed and staged", started)
            cur.execute(f"ANALYZE {stage}")  # a temp table has no statistics until then
            cur.execute(
                f"SELECT s.sku, array_agg(s.line ORDER BY s.line) FROM {stage} s "  # noqa: S608
                "WHERE NOT EXISTS (SELECT 1 FROM catalogs_product p WHERE p.tenant_id = %s "
                'AND p.catalog_id = %s AND p.sku = s.sku COLLATE "C") GROUP BY s.sku ORDER BY 1',
                [tenant.pk, catalog.pk],
            )
            for sku, lines in cur.fetchall():
                if len(result.unknown_skus) < UNKNOWN_SKUS_LISTED:
                    result.unknown_skus[sku] = lines[:UNKNOWN_SKU_LINES]
                result.errors.extend(
                    RowError(line, "sku", f"{sku!r} is not a product of {catalog.name}")
                    for line in lines
                )
            values = ", ".join(f"s.{c}" for c in ORDER_VALUE_COLUMNS)
            updated = ["catalog_id", "product_id", *ORDER_VALUE_COLUMNS]
            with transaction.atomic():
                cur.execute(
                    # identifiers are this module's constants; values are parameters
                    f"""
                    INSERT INTO catalogs_order AS o (tenant_id, catalog_id, product_id, order_id,
                        sku, {", ".join(ORDER_VALUE_COLUMNS)}, updated_at)
                    SELECT DISTINCT ON (s.order_id, s.sku) %s, %s, p.id, s.order_id, s.sku,
                        {values}, now()
                    FROM {stage} s
                    JOIN catalogs_product p ON p.tenant_id = %s AND p.catalog_id = %s
                        AND p.sku = s.sku COLLATE "C"
                    ORDER BY s.order_id, s.sku, s.line DESC
                    ON CONFLICT (tenant_id, order_id, sku) DO UPDATE SET
                        {", ".join(f"{c} = EXCLUDED.{c}" for c in updated)},
                        updated_at = EXCLUDED.updated_at
                    WHERE ({", ".join(f"o.{c}" for c in updated)})
                        IS DISTINCT FROM ({", ".join(f"EXCLUDED.{c}" for c in updated)})
                    """,  # noqa: S608
                    [tenant.pk, catalog.pk, tenant.pk, catalog.pk],
                )
                result.written = cur.rowcount
                cur.execute(
                    f"SELECT count(DISTINCT (s.order_id, s.sku)) FROM {stage} s "  # noqa: S608
                    "JOIN catalogs_product p ON p.tenant_id = %s AND p.catalog_id = %s "
                    'AND p.sku = s.sku COLLATE "C"',
                    [tenant.pk, catalog.pk],
                )
                result.unchanged = cur.fetchone()[0] - result.written
                mark = _phase(result, "merged", mark)
            _phase(result, "committed", mark)
        finally:
            cur.execute(f"DROP TABLE IF EXISTS pg_temp.{stage}")


def _orders_import_orm(result, order_file, *, tenant, catalog, progress) -> None:
    """The embedded (SQLite) path: the same lines through the ORM's bulk upsert."""
    rows: list[OrderRow] = []
    line_numbers: list[int] = []
    order_ids: set = set()
    for lines, errors, read in order_file.chunks():
        _count_lines(result, lines, errors, read, order_ids)
        for record in lines.to_dict("records"):
            line_numbers.append(int(record.pop("line")))
            for key in ("placed_at", "ship_by", "shipped_at", "delivered_at", "cancelled_at"):
                value = record[key]
                record[key] = None if value is None or pd.isna(value) else value.to_pydatetime()
            for key in ("item_price", "shipping_fee"):
                record[key] = Decimal(record[key])
            record["quantity"] = int(record["quantity"])
            rows.append(OrderRow(**record))
        if progress:
            progress(result.lines)
    result.orders = len(order_ids)
    upserted = orders_upsert(tenant=tenant, catalog=catalog, rows=rows, lines=line_numbers)
    result.written = upserted.written
    result.errors.extend(upserted.errors)
    for error in upserted.errors:
        sku = error.message.split("'")[1] if "'" in error.message else ""
        lines = result.unknown_skus.setdefault(sku, [])
        if len(lines) < UNKNOWN_SKU_LINES:
            lines.append(error.line)


@dataclasses.dataclass
class ImpressionFileResult(UpsertResult):
    """What reading (and, for an import, writing) an impressions export found."""

    format_label: str = ""
    date_order: str = ""
    lines: int = 0
    unknown_skus: dict[str, list[int]] = dataclasses.field(default_factory=dict)
    unmapped_columns: list[str] = dataclasses.field(default_factory=list)
    first_rows: list[dict] = dataclasses.field(default_factory=list)
    columns: dict[str, str] = dataclasses.field(default_factory=dict)


def impression_file_open_for(
    *, tenant: Tenant, data: bytes, date_order: str = "", preset=None
) -> ImpressionFile:
    """An impressions export: the preset given, else the tenant's preset for this header,
    else the usual column names."""
    header = read_header(data)
    if preset is None:
        preset = mapping_preset_for_header(
            tenant=tenant, kind=UploadKind.IMPRESSIONS, header=header
        )
    mapping = None
    if preset is not None:
        if preset.tenant_id != tenant.pk:
            raise ColumnMappingPreset.DoesNotExist
        mapping = ColumnMapping(columns=preset.columns)
    return impression_file_open(data, mapping=mapping, date_order=date_order or tenant.date_order)


def impressions_read_file(
    *,
    tenant: Tenant,
    catalog: Catalog,
    data: bytes,
    date_order: str = "",
    preset=None,
    rows: int = 10,
    write: bool = False,
    actor=None,
) -> ImpressionFileResult:
    """Preview (write=False) or import an impressions export: any CSV/XLSX with a product
    id, a date and impressions (clicks optional). Idempotent on (sku, date)."""
    if catalog.tenant_id != tenant.pk:
        raise Catalog.DoesNotExist
    opened = impression_file_open_for(
        tenant=tenant, data=data, date_order=date_order, preset=preset
    )
    result = ImpressionFileResult(
        format_label="daily impressions export",
        date_order=opened.date_order or "",
        unmapped_columns=opened.unmapped_columns,
        columns=dict(opened.mapping.columns),
    )
    parsed: list[ImpressionRow] = []
    line_numbers: list[int] = []
    for frame, errors, read in opened.chunks():
        result.lines += read
        result.errors.extend(errors)
        if len(result.first_rows) < rows:
            result.first_rows.extend(frame.head(rows - len(result.first_rows)).to_dict("records"))
        for record in frame.to_dict("records"):
            line_numbers.append(int(record.pop("line")))
            parsed.append(ImpressionRow(**record))
    if write:
        upserted = impressions_upsert(
            tenant=tenant, catalog=catalog, rows=parsed, lines=line_numbers
        )
        result.written = upserted.written
        unknown = upserted.errors
        audit_record(
            tenant=tenant,
            actor=actor,
            action="impressions.imported",
            target=catalog,
            changes={"written": result.written, "refused_rows": result.refused},
        )
    else:
        known = _products_by_sku(tenant=tenant, catalog=catalog, skus={r.sku for r in parsed})
        unknown = [
            RowError(line, "sku", f"{r.sku!r} is not a product of {catalog.name}")
            for r, line in zip(parsed, line_numbers, strict=True)
            if r.sku not in known
        ]
    for error in unknown:
        sku = error.message.split("'")[1] if "'" in error.message else ""
        listed = result.unknown_skus.setdefault(sku, [])
        if len(listed) < UNKNOWN_SKU_LINES:
            listed.append(error.line)
    result.errors.extend(unknown)
    result.errors.sort(key=lambda e: e.line)
    return result


@transaction.atomic
def mapping_preset_save(
    *,
    tenant: Tenant,
    actor,
    kind: str,
    name: str,
    header: list[str],
    columns: dict,
    cancel_values: dict | None = None,
) -> ColumnMappingPreset:
    """Save (or replace, by name) a tenant's column mapping for one export layout; files
    with the same header are read through it from now on."""
    mapping = ColumnMapping(
        columns={k: v for k, v in columns.items() if v}, cancel_values=cancel_values or {}
    )
    problems = mapping.errors(header, kind=kind)
    if not name.strip():
        problems.insert(0, "Give the mapping a name.")
    if problems:
        raise ValidationError(problems)
    preset, _ = ColumnMappingPreset.objects.for_tenant(tenant).update_or_create(
        tenant=tenant,
        kind=kind,
        name=name.strip()[:100],
        defaults={
            "header": [str(h) for h in header],
            "header_key": header_signature(header),
            "columns": mapping.columns,
            "cancel_values": mapping.cancel_values,
        },
    )
    audit_record(
        tenant=tenant,
        actor=actor,
        action="mapping_preset.saved",
        target=preset,
        changes={"kind": kind, "columns": mapping.columns},
    )
    return preset


def mapping_preset_delete(*, tenant: Tenant, actor, preset: ColumnMappingPreset) -> None:
    """Remove a tenant's column mapping: files with its header get the mapping form again
    (kept previews are computed anew, see order_upload_preview)."""
    if preset.tenant_id != tenant.pk:
        raise ColumnMappingPreset.DoesNotExist
    audit_record(
        tenant=tenant,
        actor=actor,
        action="mapping_preset.deleted",
        target=preset,
        changes={"kind": preset.kind, "name": preset.name},
    )
    ColumnMappingPreset.objects.for_tenant(tenant).filter(pk=preset.pk).delete()


def order_upload_create(
    *, tenant: Tenant, catalog: Catalog, actor, data: bytes, filename: str, kind: str
) -> OrderUpload:
    """Keep an uploaded file from its preview until it is imported."""
    if catalog.tenant_id != tenant.pk:
        raise Catalog.DoesNotExist
    return OrderUpload.objects.create(
        tenant=tenant,
        catalog=catalog,
        kind=kind,
        filename=filename[:255],
        data=data,
        size=len(data),
        created_by=actor if getattr(actor, "pk", None) else None,
    )


# files larger than this import in the background (a worker), with progress
BACKGROUND_BYTES = 2 * 1024 * 1024


def order_upload_start(*, tenant: Tenant, upload: OrderUpload, actor, date_order: str = "") -> bool:
    """Import a previewed upload: now when small (returns False), else queue it on a
    worker after commit (returns True). A second start of the same upload does nothing."""
    if upload.tenant_id != tenant.pk:
        raise OrderUpload.DoesNotExist
    claimed = (
        OrderUpload.objects.for_tenant(tenant)
        .filter(pk=upload.pk, status=UploadStatus.PREVIEWED)
        .update(status=UploadStatus.QUEUED, date_order=date_order, heartbeat_at=timezone.now())
    )
    if not claimed:
        return True
    return _order_upload_dispatch(tenant=tenant, upload=upload)


def _order_upload_dispatch(*, tenant: Tenant, upload: OrderUpload) -> bool:
    """Run a just-claimed (QUEUED) upload now when small (False), else on a worker (True)."""
    upload.refresh_from_db()
    if upload.size <= BACKGROUND_BYTES:
        order_upload_run(tenant_id=tenant.pk, upload_id=upload.pk)
        return False
    # by name: the task module imports this one (CatalogsConfig.ready() registers it)
    import_order_upload = current_app.tasks["catalogs.import_order_upload"]

    def _send() -> None:
        try:
            import_order_upload.delay(tenant_id=tenant.pk, upload_id=upload.pk)
        except Exception:  # the broker is down: say so on the page instead of failing
            OrderUpload.objects.for_tenant(tenant).filter(pk=upload.pk).update(
                status=UploadStatus.FAILED,
                message="The import could not be queued (the task queue is down); try again.",
            )

    transaction.on_commit(_send)
    return True


def order_upload_run(*, tenant_id: int, upload_id: int) -> OrderUpload | None:
    """Import one queued upload (the task's body; safe to deliver twice: only a queued
    upload is claimed)."""
    claimed = (
        OrderUpload.objects.for_tenant(tenant_id)
        .filter(pk=upload_id, status=UploadStatus.QUEUED)
        .update(status=UploadStatus.RUNNING, heartbeat_at=timezone.now())
    )
    if not claimed:
        return None
    upload = (
        OrderUpload.objects.for_tenant(tenant_id)
        .select_related("catalog", "tenant")
        .get(pk=upload_id)
    )
    data = bytes(upload.data)
    if not is_xlsx(data):
        upload.rows_total = max(data.count(b"\n") - 1, 0)
        upload.save(update_fields=["rows_total"])

    def progress(done: int) -> None:
        OrderUpload.objects.for_tenant(tenant_id).filter(pk=upload_id).update(
            rows_done=done, heartbeat_at=timezone.now()
        )

    try:
        if upload.kind == UploadKind.IMPRESSIONS:
            result = impressions_read_file(
                tenant=upload.tenant,
                catalog=upload.catalog,
                data=data,
                date_order=upload.date_order,
                write=True,
                actor=upload.created_by,
            )
        else:
            result = orders_import_file(
                tenant=upload.tenant,
                catalog=upload.catalog,
                data=data,
                actor=upload.created_by,
                date_order=upload.date_order,
                preset=upload.preset,
                progress=progress,
            )
    except FileError as exc:
        upload.status, upload.message = UploadStatus.FAILED, f"Nothing was imported: {exc}"
    else:
        upload.status = UploadStatus.DONE
        upload.written, upload.refused = result.written, result.refused
        upload.errors = [dataclasses.asdict(e) for e in result.errors[:500]]
        upload.rows_done = upload.rows_total = getattr(result, "lines", 0) or upload.rows_total
        if result.written:
            events.sales_data_changed(
                tenant=upload.tenant, catalog=upload.catalog, kind=upload.kind
            )
    upload.finished_at = timezone.now()
    upload.data = b""  # the file is not kept once imported
    upload.save()
    return upload


def _upload_stale_minutes() -> int:
    return int(getattr(settings, "ORDER_UPLOAD_STALE_MINUTES", 30))


def upload_retention_hours() -> int:
    return int(getattr(settings, "ORDER_UPLOAD_RETENTION_HOURS", 72))


def order_uploads_reap(*, now=None) -> dict[str, int]:
    """Beat task body. Fail imports that have shown no progress for
    ORDER_UPLOAD_STALE_MINUTES (their worker was killed: the merge runs in one transaction,
    so the catalog's orders are as they were) keeping their file so that they can be
    retried; delete previewed uploads never imported within ORDER_UPLOAD_RETENTION_HOURS and
    drop the file of failed ones as old. Returns counts."""
    now = now or timezone.now()
    stale_cutoff = now - timedelta(minutes=_upload_stale_minutes())
    keep_cutoff = now - timedelta(hours=upload_retention_hours())
    failed = 0
    # ids only, across tenants; every write below goes through the tenant scope again
    stale = (
        OrderUpload.objects.filter(
            status__in=[UploadStatus.QUEUED, UploadStatus.RUNNING],
        )
        .filter(Q(heartbeat_at__lt=stale_cutoff) | Q(heartbeat_at__isnull=True))
        .filter(created_at__lt=stale_cutoff)
        .values_list("tenant_id", "pk")
    )
    for tenant_id, upload_id in list(stale):
        failed += (
            OrderUpload.objects.for_tenant(tenant_id)
            .filter(pk=upload_id, status__in=[UploadStatus.QUEUED, UploadStatus.RUNNING])
            .filter(Q(heartbeat_at__lt=stale_cutoff) | Q(heartbeat_at__isnull=True))
            .update(
                status=UploadStatus.FAILED,
                finished_at=now,
                message=(
                    "The import stopped without finishing (its worker was stopped or lost). "
                    "No order was changed; retry it."
                ),
            )
        )
    expired = 0
    for tenant_id, upload_id in list(
        OrderUpload.objects.filter(
            status=UploadStatus.PREVIEWED, created_at__lt=keep_cutoff
        ).values_list("tenant_id", "pk")
    ):
        expired += (
            OrderUpload.objects.for_tenant(tenant_id)
            .filter(pk=upload_id, status=UploadStatus.PREVIEWED)
            .delete()[0]
        )
    dropped = 0
    for tenant_id, upload_id in list(
        OrderUpload.objects.filter(status=UploadStatus.FAILED, created_at__lt=keep_cutoff)
        .exclude(size=0)
        .values_list("tenant_id", "pk")
    ):
        dropped += (
            OrderUpload.objects.for_tenant(tenant_id)
            .filter(pk=upload_id, status=UploadStatus.FAILED)
            .update(data=b"", size=0, preview=None)
        )
    return {"failed": failed, "expired": expired, "files_dropped": dropped}


def order_upload_retry(*, tenant: Tenant, upload: OrderUpload, actor) -> bool:
    """Import a failed upload again (its file is still kept): as order_upload_start, True
    when it went to a worker. Does nothing (returns True) unless the upload is retryable."""
    if upload.tenant_id != tenant.pk:
        raise OrderUpload.DoesNotExist
    with transaction.atomic():
        locked = (
            OrderUpload.objects.for_tenant(tenant)
            .select_for_update()
            .filter(pk=upload.pk, status=UploadStatus.FAILED)
            .first()
        )
        if locked is None or not locked.retryable:
            return True
        # straight from Failed to Queued: never Previewed again, which the retention of
        # unimported files would count from the original upload time
        OrderUpload.objects.for_tenant(tenant).filter(pk=upload.pk).update(
            status=UploadStatus.QUEUED,
            heartbeat_at=timezone.now(),
            message="",
            rows_done=0,
            written=0,
            refused=0,
            errors=[],
            finished_at=None,
        )
        audit_record(
            tenant=tenant,
            actor=actor,
            action="order_upload.retried",
            target=locked.catalog,
            changes={"upload": locked.pk, "filename": locked.filename},
        )
    return _order_upload_dispatch(tenant=tenant, upload=locked)


def _preview_depends_on(*, tenant: Tenant, catalog: Catalog, kind: str, date_order: str) -> dict:
    """What a cached preview was computed from: when any of it changes, compute again (a
    product added turns an unknown SKU known, a saved mapping reads the file anew)."""
    products = (
        Product.objects.for_tenant(tenant)
        .filter(catalog=catalog)
        .aggregate(n=Count("pk"), changed=Max("last_changed_at"))
    )
    presets = (
        ColumnMappingPreset.objects.for_tenant(tenant)
        .filter(kind=kind)
        .aggregate(n=Count("pk"), changed=Max("updated_at"))
    )
    return {
        "date_order": date_order,
        "tenant": [tenant.date_order, tenant.time_zone],
        "handling_days": catalog.handling_days,
        "products": [products["n"], str(products["changed"])],
        "presets": [presets["n"], str(presets["changed"])],
    }


PREVIEW_ERRORS_KEPT = 200


def order_upload_preview(*, tenant: Tenant, upload: OrderUpload, date_order: str = "") -> dict:
    """The preview of a previewed upload, read from the file once and then kept on the row
    (the file can be tens of megabytes: re-reading it on every page load was the page's
    cost). Raises FileError like the readers. Times are shown in the tenant's time zone."""
    if upload.tenant_id != tenant.pk:
        raise OrderUpload.DoesNotExist
    catalog = upload.catalog
    depends = _preview_depends_on(
        tenant=tenant, catalog=catalog, kind=upload.kind, date_order=date_order
    )
    cached = upload.preview
    if cached and cached.get("depends") == depends:
        if cached.get("problem"):
            raise FileError(cached["problem"])
        return cached["result"]
    scoped = OrderUpload.objects.for_tenant(tenant).filter(
        pk=upload.pk, status=UploadStatus.PREVIEWED
    )
    try:
        if upload.kind == UploadKind.IMPRESSIONS:
            result = impressions_read_file(
                tenant=tenant, catalog=catalog, data=bytes(upload.data), date_order=date_order
            )
        else:
            result = orders_preview(
                tenant=tenant, catalog=catalog, data=bytes(upload.data), date_order=date_order
            )
    except FileError as exc:  # e.g. the date order asked for: kept too, until it changes
        scoped.update(preview={"depends": depends, "problem": str(exc)})
        raise
    summary = {
        "format_label": result.format_label,
        "date_order": result.date_order,
        "date_order_source": getattr(result, "date_order_source", ""),
        "lines": result.lines,
        "orders": getattr(result, "orders", 0),
        "shipped": getattr(result, "shipped", 0),
        "cancelled": getattr(result, "cancelled", 0),
        "refused": result.refused,
        "unknown_skus": result.unknown_skus,
        "unmapped_columns": list(result.unmapped_columns),
        "errors": [dataclasses.asdict(e) for e in result.errors[:PREVIEW_ERRORS_KEPT]],
        "rows": _preview_cells(result.first_rows, kind=upload.kind, tenant=tenant),
    }
    scoped.update(preview={"depends": depends, "result": summary})
    return summary


PREVIEW_COLUMNS = (
    ("line", "Line"),
    ("order_id", "Order id"),
    ("sku", "SKU"),
    ("quantity", "Qty"),
    ("item_price", "Price"),
    ("shipping_fee", "Shipping"),
    ("placed_at", "Placed"),
    ("ship_by", "Ship by"),
    ("shipped_at", "Shipped"),
    ("delivered_at", "Delivered"),
    ("cancelled_at", "Cancelled"),
    ("cancel_reason", "Cancel reason"),
    ("tracking_number", "Tracking"),
)

IMPRESSION_PREVIEW = (
    ("line", "Line"),
    ("sku", "SKU"),
    ("date", "Date"),
    ("impressions", "Impressions"),
    ("clicks", "Clicks"),
)


def _preview_cells(first_rows: list[dict], *, kind: str, tenant: Tenant) -> list[list[str]]:
    """The preview's first rows as text, times in the tenant's time zone."""
    zone = ZoneInfo(tenant.time_zone)
    columns = PREVIEW_COLUMNS if kind == UploadKind.ORDERS else IMPRESSION_PREVIEW
    rows = []
    for record in first_rows:
        cells = []
        for key, _label in columns:
            value = record.get(key)
            if value is None or (isinstance(value, float) and value != value):
                cells.append("—")
            elif isinstance(value, datetime):
                if value != value:  # NaT
                    cells.append("—")
                else:
                    cells.append(timezone.localtime(value, zone).strftime("%Y-%m-%d %H:%M"))
            else:
                cells.append(str(value) if str(value) != "" else "—")
        rows.append(cells)
    return rows


MAX_BULK_SHIP = 500


@transaction.atomic
def orders_mark_shipped(*, tenant: Tenant, actor, tracking: dict[int, str], shipped_at=None) -> int:
    """Mark order lines shipped with their tracking numbers ({order pk: tracking}).

    Unshipped, uncancelled lines of this tenant become shipped now; lines already shipped
    without a tracking number get the number (their shipping time stays). Others are left
    alone. An empty tracking number is refused: a shipment without one would hurt the
    valid tracking rate. All or nothing.
    """
    errors = {}
    for pk, number in tracking.items():
        number = (number or "").strip()
        if not number:
            errors[str(pk)] = "Enter a tracking number."
        elif len(number) > 64 or any(ord(c) < 32 for c in number):
            errors[str(pk)] = "A tracking number has at most 64 printable characters."
    if len(tracking) > MAX_BULK_SHIP:
        errors["__all__"] = f"At most {MAX_BULK_SHIP} orders at once."
    if errors:
        raise ValidationError(errors)
    shipped_at = shipped_at or timezone.now()
    unshipped = Q(shipped_at__isnull=True, cancelled_at__isnull=True)
    untracked = Q(shipped_at__isnull=False, tracking_number__regex=r"^\s*$")
    orders = list(
        Order.objects.for_tenant(tenant)
        .select_for_update()
        .filter(unshipped | untracked, pk__in=list(tracking))
    )
    for order in orders:
        if order.shipped_at is None:
            order.shipped_at = max(shipped_at, order.placed_at)
        order.tracking_number = tracking[order.pk].strip()
        order.updated_at = timezone.now()
    Order.objects.bulk_update(orders, ["shipped_at", "tracking_number", "updated_at"])
    if orders:
        audit_record(
            tenant=tenant,
            actor=actor,
            action="orders.marked_shipped",
            changes={
                "orders": [f"{o.order_id}/{o.sku}" for o in orders[:100]],
                "count": len(orders),
            },
        )
    return len(orders)


__all__ = ["FileError", "RowError"]
