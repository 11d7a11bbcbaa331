"""Uploaded order and impression files, from upload to import: column-mapping presets,
the upload's preview, the background import and its reaper. Every function takes the tenant."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from catalog_health.tenancy.models import Tenant
from catalog_health.tenancy.services import audit_record
from catalogs import events
from catalogs.models import (
    Catalog,
    ColumnMappingPreset,
    OrderUpload,
    Product,
    UploadKind,
    UploadStatus,
)
from catalogs.order_files import impressions_read_file, orders_import_file, orders_preview
from catalogs.order_formats import header_signature, is_xlsx
from catalogs.order_io import FileError

if TYPE_CHECKING:
    from catalogs.order_formats import ColumnMapping


def mapping_preset_validate(
    *, kind: str, name: str, header: list[str], columns: dict, cancel_values: dict | None
) -> ColumnMapping:
    """The ColumnMapping that mapping_preset_save would store, or the ValidationError it
    would raise (saving nothing: for forms that show it before saving through it)."""
    from catalogs.order_formats import ColumnMapping  # pandas: loaded on use

    mapping = ColumnMapping(
        columns={k: v for k, v in columns.items() if v}, cancel_values=cancel_values or {}
    )
    problems = mapping.errors(header, kind=kind)
    if not name.strip():
        problems.insert(0, "Give the mapping a name.")
    if problems:
        raise ValidationError(problems)
    return mapping


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
    mapping = mapping_preset_validate(
        kind=kind, name=name, header=header, columns=columns, cancel_values=cancel_values
    )
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
        upload.unchanged = result.unchanged
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
            unchanged=None,
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
        # what the summary holds and how the file is read: a preview kept before either
        # changed (before it held `importable`, or read other times) is read again
        "summary": PREVIEW_SUMMARY_VERSION,
        "date_order": date_order,
        "tenant": [tenant.date_order, tenant.time_zone],
        # a line refused as shipped … (or dated) in the future may be taken on a later day
        "today": timezone.localdate(timezone=ZoneInfo(tenant.time_zone)).isoformat(),
        "handling_days": catalog.handling_days,
        "products": [products["n"], str(products["changed"])],
        "presets": [presets["n"], str(presets["changed"])],
    }


PREVIEW_ERRORS_KEPT = 200
PREVIEW_SUMMARY_VERSION = 7


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
        "repeated": getattr(result, "repeated", 0),
        # what the Import button imports: the lines read but those refused (a bad value, an
        # unknown SKU, a skipped unpaid order) and those a later line repeats
        "importable": result.lines - result.refused - getattr(result, "repeated", 0),
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
            if key == "tracking_number" and value is None:
                cells.append("unknown")  # the file has no tracking column: not "none"
            elif value is None or (isinstance(value, float) and value != value):
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
