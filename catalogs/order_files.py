"""Order and impression files: marketplace exports (TikTok Shop, Shopify, Amazon, Etsy, eBay,
mapped files) previewed and imported, and daily impression files. Every function takes
the tenant."""

from __future__ import annotations

import dataclasses
import time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from django.db import connection

from catalog_health.tenancy.models import Tenant
from catalog_health.tenancy.services import audit_record
from catalogs.models import (
    Catalog,
    ColumnMappingPreset,
    UploadKind,
)
from catalogs.order_io import (
    MAX_TEXT,
    ORDER_COLUMNS,
    FileError,
    ImpressionRow,
    OrderRow,
    RowError,
    csv_records,
    orders_parse,
)
from catalogs.order_merge import (
    UNKNOWN_SKU_LINES,
    UNKNOWN_SKUS_LISTED,
    count_lines,
    orders_import_postgres,
)
from catalogs.rules import identifier_error, invisible_trim
from catalogs.selectors import mapping_preset_for_header
from catalogs.services import (
    UpsertResult,
    _products_by_sku,
    impressions_upsert,
    orders_import_csv,
    orders_upsert,
    tenant_future_limit,
)

if TYPE_CHECKING:
    from catalogs.order_formats import ImpressionFile, OrderFile, Source


def _formats():
    """catalogs.order_formats, imported on first use: it loads pandas and pyarrow, which
    the web process does not need until an order file is read."""
    from catalogs import order_formats

    return order_formats


# --- Marketplace exports: TikTok Shop, Shopify, mapped files (issue #20) -------------------


@dataclasses.dataclass
class OrderFileResult(UpsertResult):
    """What reading (and, for an import, writing) an order export found."""

    format_label: str = ""
    date_order: str = ""
    date_order_source: str = ""
    lines: int = 0  # data rows read
    # lines read well that a later line of the same order id and sku replaces (known skus)
    repeated: int = 0
    orders: int = 0  # distinct order ids among the lines read well
    shipped: int = 0
    cancelled: int = 0
    unknown_skus: dict[str, list[int]] = dataclasses.field(default_factory=dict)
    unmapped_columns: list[str] = dataclasses.field(default_factory=list)
    first_rows: list[dict] = dataclasses.field(default_factory=list)
    timings: dict[str, float] = dataclasses.field(default_factory=dict)  # seconds per phase
    bulk: bool = False  # merged into the bare table, its indexes built again (order_merge)


def order_file_open_for(
    *,
    tenant: Tenant,
    catalog: Catalog,
    data: Source,
    date_order: str = "",
    preset: ColumnMappingPreset | None = None,
    chunk_rows: int | None = None,
) -> OrderFile:
    """Recognise an order export for a catalog: a built-in format, else the tenant's mapping
    preset made for this header (or the one given). FileError when neither fits."""
    if _formats().is_blank(data):
        raise FileError("The file is empty.")
    header = _formats().read_header(data)
    if preset is None and _formats().detect_format(header).kind == "unknown":
        preset = mapping_preset_for_header(tenant=tenant, kind=UploadKind.ORDERS, header=header)
    mapping = None
    if preset is not None:
        if preset.tenant_id != tenant.pk:
            raise ColumnMappingPreset.DoesNotExist
        mapping = _formats().ColumnMapping(
            columns=preset.columns, cancel_values=preset.cancel_values
        )
    return _formats().order_file_open(
        data,
        tz=tenant.time_zone,
        date_order=date_order or tenant.date_order,
        handling_days=catalog.handling_days,
        mapping=mapping,
        chunk_rows=chunk_rows or _formats().CHUNK_ROWS,
        limit=tenant_future_limit(tenant=tenant),
    )


def _file_result(order_file: OrderFile) -> OrderFileResult:
    return OrderFileResult(
        format_label=order_file.detected.label,
        date_order=order_file.options.date_order or "",
        date_order_source=order_file.date_order_source,
        unmapped_columns=order_file.unmapped_columns,
    )


def _unknown_skus(
    result: OrderFileResult, *, tenant: Tenant, catalog: Catalog, sku_lines: dict[str, list[int]]
) -> set[str]:
    """Refuse the lines of skus that are no product of the catalog; returns those skus."""
    known = _products_by_sku(tenant=tenant, catalog=catalog, skus=set(sku_lines))
    unknown = set(sku_lines) - set(known)
    for sku in sorted(unknown):
        lines = sku_lines[sku]
        if len(result.unknown_skus) < UNKNOWN_SKUS_LISTED:
            result.unknown_skus[sku] = lines[:UNKNOWN_SKU_LINES]
        result.errors.extend(
            RowError(line, "sku", f"{sku!r} is not a product of {catalog.name}") for line in lines
        )
    return unknown


def _count_repeats(order_ids, skus, *, keys_seen: set, repeated: dict[str, int]) -> None:
    """Count, by sku, one chunk's lines whose (order id, sku) an earlier line had (in this
    chunk or one before): the import keeps one line per order id and sku, the last."""
    keys = order_ids.astype(str) + "\x1f" + skus.astype(str)
    again = keys.duplicated() | keys.isin(keys_seen)
    keys_seen.update(keys.unique())
    for sku, count in skus[again].value_counts().items():
        repeated[sku] = repeated.get(sku, 0) + int(count)


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
        and not _formats().is_xlsx(data)
        and _formats().detect_format(_formats().read_header(data)).key == ("app_orders")
    ):
        return _app_csv_preview(tenant=tenant, catalog=catalog, data=data, rows=rows)
    order_file = order_file_open_for(
        tenant=tenant, catalog=catalog, data=data, date_order=date_order, preset=preset
    )
    result = _file_result(order_file)
    order_ids: set = set()
    sku_lines: dict[str, list[int]] = {}
    keys_seen: set = set()
    repeated: dict[str, int] = {}
    for lines, errors, read in order_file.chunks():
        count_lines(result, lines, errors, read, order_ids)
        if len(result.first_rows) < rows:
            result.first_rows.extend(_display_rows(lines.head(rows - len(result.first_rows))))
        for sku, group in lines.groupby("sku", sort=False)["line"]:
            sku_lines.setdefault(sku, []).extend(group.head(UNKNOWN_SKU_LINES).tolist())
        _count_repeats(lines["order_id"], lines["sku"], keys_seen=keys_seen, repeated=repeated)
    result.orders = len(order_ids)
    unknown = _unknown_skus(result, tenant=tenant, catalog=catalog, sku_lines=sku_lines)
    result.repeated = sum(n for sku, n in repeated.items() if sku not in unknown)
    result.errors.sort(key=lambda e: e.line)
    return result


def _app_csv_preview(*, tenant, catalog, data: bytes, rows: int) -> OrderFileResult:
    """The app's own CSV is imported by its strict parser (orders_import_csv): preview it
    with that parser too, so that the preview says what the import will do."""
    records = list(csv_records(data, ORDER_COLUMNS))
    parsed = orders_parse(
        records,
        tz=tenant.time_zone,
        handling_days=catalog.handling_days,
        limit=tenant_future_limit(tenant=tenant),
    )
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
    # Every line's SKU, also of a line refused for another reason (a bad date): the preview
    # names all that is wrong with it, as the exports' previews list every line of an
    # unknown SKU, so that a corrected file is not refused again for its SKU
    skus: dict[int, str] = {}
    for line, record in records:
        sku = invisible_trim(str(record.get("sku") or "").strip())
        if sku and not identifier_error(sku, max_length=MAX_TEXT["sku"]):
            skus[line] = sku
    sku_lines: dict[str, list[int]] = {}
    for line, sku in skus.items():
        sku_lines.setdefault(sku, []).append(line)
    unknown = _unknown_skus(result, tenant=tenant, catalog=catalog, sku_lines=sku_lines)
    # the parser keeps one row per order id and sku (the last): the other good lines of a
    # known sku repeat (those of an unknown one are refused)
    bad = {e.line for e in parsed.errors}
    good = sum(1 for line, _ in records if line not in bad and skus.get(line) not in unknown)
    result.repeated = good - sum(1 for r in parsed.rows if r.sku not in unknown)
    result.errors.sort(key=lambda e: e.line)
    return result


def _display_rows(lines) -> list[dict]:
    import pandas as pd

    rows = []
    for record in lines.to_dict("records"):
        rows.append(
            {
                key: (None if value is None or value is pd.NaT else value)
                for key, value in record.items()
            }
        )
    return rows


def orders_import_file(
    *,
    tenant: Tenant,
    catalog: Catalog,
    data: Source,
    actor,
    date_order: str = "",
    preset: ColumnMappingPreset | None = None,
    progress=None,
    chunk_rows: int | None = None,
) -> OrderFileResult | UpsertResult:
    """Import an order export as downloaded (TikTok Shop, Shopify, a mapped file or the
    app's own CSV), idempotent on (tenant, catalog, order id, sku): importing the same file
    again changes nothing.

    Lines whose sku is not a product of the catalog are refused and listed. On PostgreSQL
    the file goes chunk by chunk into a staging table (COPY) and one INSERT … ON CONFLICT
    writes the lines that are new or differ; progress(rows_read) is called per chunk.
    """
    if catalog.tenant_id != tenant.pk:
        raise Catalog.DoesNotExist
    if (
        preset is None
        and not _formats().is_xlsx(data)
        and _formats().detect_format(_formats().read_header(data)).key == ("app_orders")
    ):
        if not isinstance(data, bytes):
            data = Path(data).read_bytes()  # the app's CSV: at most MAX_FILE_ROWS rows
        return orders_import_csv(tenant=tenant, catalog=catalog, data=data, actor=actor)
    started = time.perf_counter()
    order_file = order_file_open_for(
        tenant=tenant,
        catalog=catalog,
        data=data,
        date_order=date_order,
        preset=preset,
        chunk_rows=chunk_rows,
    )
    result = _file_result(order_file)
    result.timings["recognised"] = round(time.perf_counter() - started, 3)
    if connection.vendor == "postgresql":
        orders_import_postgres(
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


def _orders_import_orm(result, order_file, *, tenant, catalog, progress) -> None:
    """The embedded (SQLite) path: the same lines through the ORM's bulk upsert."""
    import pandas as pd

    rows: list[OrderRow] = []
    line_numbers: list[int] = []
    order_ids: set = set()
    for lines, errors, read in order_file.chunks():
        count_lines(result, lines, errors, read, order_ids)
        for record in lines.to_dict("records"):
            line_numbers.append(int(record.pop("line")))
            for key in ("placed_at", "ship_by", "shipped_at", "delivered_at", "cancelled_at"):
                value = record[key]
                record[key] = None if value is None or pd.isna(value) else value.to_pydatetime()
            for key in ("item_price", "shipping_fee"):
                record[key] = Decimal(record[key])
            record["quantity"] = int(record["quantity"])
            if pd.isna(record["tracking_number"]):  # unknown: the file has no such column
                record["tracking_number"] = None
            rows.append(OrderRow(**record))
        if progress:
            progress(result.lines)
    result.orders = len(order_ids)
    upserted = orders_upsert(tenant=tenant, catalog=catalog, rows=rows, lines=line_numbers)
    result.written, result.unchanged = upserted.written, upserted.unchanged
    result.inserted, result.updated = upserted.inserted, upserted.updated
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
    header = _formats().read_header(data)
    if preset is None:
        preset = mapping_preset_for_header(
            tenant=tenant, kind=UploadKind.IMPRESSIONS, header=header
        )
    mapping = None
    if preset is not None:
        if preset.tenant_id != tenant.pk:
            raise ColumnMappingPreset.DoesNotExist
        mapping = _formats().ColumnMapping(columns=preset.columns)
    return _formats().impression_file_open(
        data,
        mapping=mapping,
        date_order=date_order or tenant.date_order,
        limit=tenant_future_limit(tenant=tenant),
    )


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
