"""Writes of catalogs and products. Every function takes the tenant and the actor."""

from __future__ import annotations

import copy
import dataclasses

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from catalog_health.tenancy.currencies import currency_code
from catalog_health.tenancy.models import Tenant
from catalog_health.tenancy.services import audit_record

from . import events
from .countries import country_code
from .models import (
    Catalog,
    DailyImpression,
    Order,
    Product,
    ReviewStatus,
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
from .rules import (
    EDITABLE_FIELDS,
    FutureLimit,
    catalog_name_error,
    entry_refusal,
    future_limit,
    invisible_trim,
    product_edit_errors,
    product_edit_refusal,
    tracking_number_error,
)
from .selectors import TRACKING_NOT_VALID


@transaction.atomic
def catalog_create(
    *,
    tenant: Tenant,
    actor,
    name: str,
    country: str = "US",
    currency: str | None = None,
    handling_days: int | None = None,
) -> Catalog:
    """A new catalog; its currency is the tenant's unless given (None), and a given one must
    be an ISO 4217 code, its country an ISO 3166 code (both stored in capitals)."""
    catalog = Catalog(
        tenant=tenant,
        name=_catalog_name(name),
        country=_country(country),
        currency=_currency(tenant.currency if currency is None else currency),
    )
    if handling_days is not None:
        catalog.handling_days = _handling_days(handling_days)
    catalog.full_clean()
    catalog.save()
    audit_record(tenant=tenant, actor=actor, action="catalog.created", target=catalog)
    return catalog


# Ship-by of an imported line without one is paid (or placed) time + this many days; more
# than two months would hide every overdue order.
MAX_HANDLING_DAYS = 60


def _currency(value) -> str:
    try:
        return currency_code(value)
    except ValidationError as exc:
        raise ValidationError({"currency": exc.messages}) from exc


def _catalog_name(value: str) -> str:
    """A name trimmed as every pasted value is; one with an invisible character inside is
    refused (it would show as an empty or garbled link). "" is left to the model's blank
    check."""
    name = invisible_trim(value)
    error = catalog_name_error(name)
    if error:
        raise ValidationError({"name": entry_refusal("Name", name, error)})
    return name


def _country(value) -> str:
    try:
        return country_code(value)
    except ValidationError as exc:
        raise ValidationError({"country": exc.messages}) from exc


def _handling_days(days) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_HANDLING_DAYS:
        raise ValidationError({"handling_days": f"Handling time is 0 to {MAX_HANDLING_DAYS} days."})
    return days


CATALOG_EDITABLE = ("name", "country", "currency", "handling_days")
CATALOG_RULES = {
    "name": _catalog_name,
    "currency": _currency,
    "country": _country,
    "handling_days": _handling_days,
}


def _catalog_apply(catalog: Catalog, data: dict) -> dict:
    """Set data's editable values on catalog as the rules take them (ValidationError naming
    the field otherwise); returns what changed, field: [old, new]."""
    changes = {}
    for field in CATALOG_EDITABLE:
        if field not in data:
            continue
        value = CATALOG_RULES[field](data[field])
        if getattr(catalog, field) != value:
            changes[field] = [getattr(catalog, field), value]
            setattr(catalog, field, value)
    if changes:
        # Only what changes is checked: a value saved before a rule existed (a currency
        # "US$") must not block an unrelated setting; admin shows and fixes it.
        catalog.full_clean(exclude=[f for f in CATALOG_EDITABLE if f not in changes])
    return changes


def catalog_validate(*, catalog: Catalog, data: dict) -> None:
    """Raise the ValidationError that catalog_update (catalog_create, for a catalog not saved
    yet) would raise for data, saving nothing: for forms that show the service's errors
    before saving through it (Django admin). ``catalog`` needs its tenant."""
    _catalog_apply(copy.copy(catalog), data)


@transaction.atomic
def catalog_update(*, tenant: Tenant, catalog: Catalog, actor, data: dict) -> Catalog:
    if catalog.tenant_id != tenant.pk:
        raise Catalog.DoesNotExist
    changes = _catalog_apply(catalog, data)
    if changes:
        catalog.save()
        audit_record(
            tenant=tenant, actor=actor, action="catalog.updated", target=catalog, changes=changes
        )
    return catalog


def _json_value(value):
    return None if value is None else str(value)


class ProductRemovedError(ValidationError):
    """A product its feed removed is not edited (rules.product_edit_refusal): the product
    page says why above the read-only product, the API answers the 404 it gives such a
    product."""

    def __init__(self, refusal: str):
        super().__init__({NON_FIELD_ERRORS: [refusal]})


@transaction.atomic
def product_update(*, tenant: Tenant, product: Product, actor, data: dict) -> Product:
    """A seller's edit of inventory, price, sale price, shipping fee or availability.

    Validated as a whole, audited field by field (old and new values), and the product goes
    back to review so its status and the catalog's ECR state follow the fix. A product its
    feed removed is refused whole (rules.product_edit_refusal).
    """
    if product.tenant_id != tenant.pk:
        raise Product.DoesNotExist
    # Lock the row: two sellers saving at once must not lose either audit entry, and a pull
    # removing the product meanwhile is seen here.
    product = Product.objects.for_tenant(tenant).select_for_update().get(pk=product.pk)
    refusal = product_edit_refusal(product.removed_at, time_zone=tenant.time_zone)
    if refusal:
        raise ProductRemovedError(refusal)
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


# --- Orders and daily impressions (issue #6) ----------------------------------------------

UPSERT_BATCH = 5000
# what an upsert of a known line rewrites: every column but its key (tenant, catalog,
# order id, sku)
ORDER_UPDATE_FIELDS = [
    "product",
    *(c for c in ORDER_COLUMNS if c not in ("order_id", "sku")),
    "updated_at",
]


# A line whose source did not say its tracking number (None) keeps the stored one: the
# same rule as the file import's merge (order_merge.KEPT_WHEN_UNKNOWN).
ORDER_KEPT_WHEN_UNKNOWN = ("tracking_number",)


@dataclasses.dataclass
class UpsertResult:
    """What an import or API upsert did: rows written (inserted + updated), rows already
    stored as given (unchanged), and rows refused, with reasons."""

    written: int = 0
    errors: list[RowError] = dataclasses.field(default_factory=list)
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

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
    """Insert or update order lines of one catalog, idempotent on (tenant, catalog, order id,
    sku): each shop numbers its own orders, so another catalog's line of the same order id
    and sku is another line.

    A row whose sku is not a product of the catalog is refused with a row error; the others
    that are new or differ from the stored line are written in batches of one INSERT … ON
    CONFLICT DO UPDATE each. A row whose tracking number is None (its source did not say)
    keeps the stored line's.
    """
    if catalog.tenant_id != tenant.pk:
        raise Catalog.DoesNotExist
    now = timezone.now()
    # one catalog per call: (order id, sku) is the key within it
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
        unique_fields=["tenant", "order_id", "sku", "catalog"],
        update_fields=ORDER_UPDATE_FIELDS,
        kept_when_unknown=ORDER_KEPT_WHEN_UNKNOWN,
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
    *, tenant, catalog, rows, lines, build, unique_fields, update_fields, kept_when_unknown=()
) -> UpsertResult:
    """Resolve each row's sku to a product of the catalog (an unknown sku is a row error),
    then write the rows that are new or differ from the stored ones, in batches of one
    INSERT … ON CONFLICT DO UPDATE, all or nothing; the others are counted unchanged. A field
    of kept_when_unknown that a row leaves None (its source did not say) keeps the stored
    value."""
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
    keys = [f for f in unique_fields if f not in ("tenant", "catalog")]
    compared = [model._meta.get_field(f).attname for f in update_fields if f != "updated_at"]
    with transaction.atomic():
        for start in range(0, len(objs), UPSERT_BATCH):
            batch = _changed_rows(
                result,
                objs[start : start + UPSERT_BATCH],
                _stored_rows(model, tenant, catalog, objs[start : start + UPSERT_BATCH], keys),
                keys=keys,
                compared=compared,
                kept_when_unknown=kept_when_unknown,
            )
            # ON CONFLICT: a line another writer inserted meanwhile is updated, but for a
            # field this row does not know
            for unknown in (False, True):
                group = [o for o in batch if _leaves_unknown(o, kept_when_unknown) == unknown]
                if group:
                    model.objects.bulk_create(
                        group,
                        update_conflicts=True,
                        unique_fields=unique_fields,
                        update_fields=[
                            f for f in update_fields if not (unknown and f in kept_when_unknown)
                        ],
                    )
    result.written = result.inserted + result.updated
    return result


def _stored_rows(model, tenant, catalog, batch: list, keys: list[str]) -> dict[tuple, dict]:
    """The stored rows among batch's keys (a superset is read: every combination of the
    key values), locked until the upsert commits, by key."""
    stored = (
        model.objects.for_tenant(tenant)
        .filter(catalog=catalog, **{f"{k}__in": {getattr(o, k) for o in batch} for k in keys})
        .order_by()
        .select_for_update()
        .values()
    )
    return {tuple(row[k] for k in keys): row for row in stored}


def _leaves_unknown(obj, kept_when_unknown) -> bool:
    return any(getattr(obj, f) is None for f in kept_when_unknown)


def _changed_rows(
    result: UpsertResult, batch: list, stored: dict, *, keys, compared, kept_when_unknown
) -> list:
    """The rows of batch that are new or differ from their stored row (counted into result
    as inserted, updated or unchanged); an unknown field of kept_when_unknown takes the
    stored value."""
    changed = []
    for obj in batch:
        old = stored.get(tuple(getattr(obj, k) for k in keys))
        if old is None:
            result.inserted += 1
            changed.append(obj)
            continue
        for field in kept_when_unknown:
            if getattr(obj, field) is None:
                setattr(obj, field, old[field])
        if all(getattr(obj, f) == old[f] for f in compared):
            result.unchanged += 1
        else:
            result.updated += 1
            changed.append(obj)
    return changed


def tenant_future_limit(*, tenant: Tenant) -> FutureLimit:
    """How late an order line may be placed (shipped …) and impressions dated, from now in
    the tenant's time zone (catalogs.rules): taken once per file, request or form."""
    return future_limit(now=timezone.now(), time_zone=tenant.time_zone)


def _import(
    kind: str, *, tenant: Tenant, catalog: Catalog, data: bytes | str, actor
) -> UpsertResult:
    """Parse a whole CSV file, write its good rows, report the bad ones (FileError if the
    file itself is unreadable: then nothing is written)."""
    limit = tenant_future_limit(tenant=tenant)
    if kind == "orders":
        records = list(csv_records(data, ORDER_COLUMNS))
        parsed = orders_parse(
            records, tz=tenant.time_zone, handling_days=catalog.handling_days, limit=limit
        )
        upsert = orders_upsert
        key = lambda r: (r.order_id, r.sku)  # noqa: E731
        record_key = lambda rec: (rec.get("order_id", "").strip(), rec.get("sku", "").strip())  # noqa: E731
    else:
        records = list(csv_records(data, IMPRESSION_COLUMNS))
        parsed = impressions_parse(records, limit=limit)
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


MAX_BULK_SHIP = 500


@transaction.atomic
def orders_mark_shipped(*, tenant: Tenant, actor, tracking: dict[int, str], shipped_at=None) -> int:
    """Mark order lines shipped with their tracking numbers ({order pk: tracking}).

    Unshipped, uncancelled lines of this tenant become shipped now; lines already shipped
    without a tracking number, or with an unknown one (their file did not say), get the
    number (their shipping time stays); so do lines whose number is not valid (an invisible
    character in it: catalogs.rules), the valid tracking rate counts against them. Others are
    left alone. A number is trimmed of outer blanks and invisible characters; an empty one,
    or one with an invisible character inside, is refused: a shipment without a valid number
    would hurt the valid tracking rate. All or nothing.
    """
    errors = {}
    tracking = {pk: invisible_trim(number or "") for pk, number in tracking.items()}
    for pk, number in tracking.items():
        error = tracking_number_error(number)
        if not number:
            errors[str(pk)] = "Enter a tracking number."
        elif error:
            errors[str(pk)] = entry_refusal("Tracking number", number, error)
    if len(tracking) > MAX_BULK_SHIP:
        errors["__all__"] = f"At most {MAX_BULK_SHIP} orders at once."
    if errors:
        raise ValidationError(errors)
    shipped_at = shipped_at or timezone.now()
    unshipped = Q(shipped_at__isnull=True, cancelled_at__isnull=True)
    # the same lines Manage Orders lists as shipped without tracking, and the unknown ones
    untracked = Q(shipped_at__isnull=False) & (Q(tracking_number__isnull=True) | TRACKING_NOT_VALID)
    orders = list(
        Order.objects.for_tenant(tenant)
        .select_for_update()
        .filter(unshipped | untracked, pk__in=list(tracking))
    )
    for order in orders:
        if order.shipped_at is None:
            order.shipped_at = max(shipped_at, order.placed_at)
        order.tracking_number = tracking[order.pk]
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
