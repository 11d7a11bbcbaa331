"""Reads of catalogs and products, shared by pages and the API."""

from django.db.models import Count, Max, Q, QuerySet

from catalog_health.pagination import KeysetPage, keyset_paginate
from catalog_health.tenancy.models import Tenant

from .models import Catalog, ColumnMappingPreset, OrderUpload, Product, ProductSortKey, ReviewStatus
from .order_formats import header_signature
from .rules import TRACKING_VALID_PATTERN

# Each sort walks an index of <field>, id within the catalog: constant cost at 1M rows.
# Title, price and last change are read from the product's sort key, whose indexes are
# built in bulk by a catalog's first pull (ProductSortKey).
PRODUCT_SORTS = {
    "sku": "sku",
    "title": "sort_key__title",
    "price": "sort_key__price",
    "-price": "-sort_key__price",
    "changed": "-sort_key__last_changed_at",
}
PAGE_SIZES = (25, 50, 100, 200)


def catalog_list(*, tenant: Tenant) -> QuerySet[Catalog]:
    return Catalog.objects.for_tenant(tenant).order_by("name")


def catalog_list_with_counts(*, tenant: Tenant) -> QuerySet[Catalog]:
    """Catalogs with their active product counts per review status, in one query."""
    active = Q(products__removed_at__isnull=True)
    return catalog_list(tenant=tenant).annotate(
        product_count=Count("products", filter=active),
        available_count=Count(
            "products", filter=active & Q(products__review_status=ReviewStatus.AVAILABLE)
        ),
        unavailable_count=Count(
            "products", filter=active & Q(products__review_status=ReviewStatus.UNAVAILABLE)
        ),
        pending_count=Count(
            "products", filter=active & Q(products__review_status=ReviewStatus.PENDING)
        ),
        last_changed_at=Max("products__last_changed_at"),
    )


def products_last_changed(*, tenant: Tenant | int, catalog: Catalog):
    """When a product of the catalog was last created, changed, removed or brought back
    (every such write sets last_changed_at, which the products' sort keys repeat): one
    index lookup in the catalog's sort key partition."""
    return (
        ProductSortKey.objects.for_tenant(tenant)
        .filter(catalog_id=catalog.pk)
        .aggregate(m=Max("last_changed_at"))["m"]
    )


def catalog_get(*, tenant: Tenant, catalog_id: int) -> Catalog:
    return Catalog.objects.for_tenant(tenant).get(pk=catalog_id)


def product_search(*, tenant: Tenant, catalog: Catalog, filters: dict) -> QuerySet[Product]:
    """Active products of a catalog filtered by search (sku prefix or title words),
    availability and review status."""
    qs = Product.objects.for_tenant(tenant).active().filter(catalog=catalog)
    q = (filters.get("q") or "").strip()
    if q:
        qs = qs.filter(Q(sku__istartswith=q) | Q(title__icontains=q))
    if filters.get("availability"):
        qs = qs.filter(availability=filters["availability"])
    if filters.get("review_status"):
        qs = qs.filter(review_status=filters["review_status"])
    return qs


def with_sort_keys(qs: QuerySet[Product], *, catalog: Catalog) -> QuerySet[Product]:
    """The catalog's products joined to their sort keys (``sort_key__…`` lookups), naming
    the sort key's own tenant and catalog: they select the catalog's partition (and lead the
    indexes of the default partition, which many catalogs share)."""
    return qs.filter(sort_key__tenant_id=catalog.tenant_id, sort_key__catalog_id=catalog.pk)


def product_sorted(
    qs: QuerySet[Product], *, catalog: Catalog, sort: str
) -> tuple[QuerySet[Product], str]:
    """The products in a list's order (a key of PRODUCT_SORTS), and the field it sorts by."""
    field = PRODUCT_SORTS.get(sort, "sku")
    if field.lstrip("-").startswith("sort_key__"):
        qs = with_sort_keys(qs, catalog=catalog)
    return qs, field


def product_page(
    *, tenant: Tenant, catalog: Catalog, filters: dict, cursor: str | None, sort: str, size: int
) -> KeysetPage:
    qs = product_search(tenant=tenant, catalog=catalog, filters=filters).only(
        "id",
        "sku",
        "title",
        "image_link",
        "availability",
        "price",
        "sale_price",
        "currency",
        "inventory_quantity",
        "review_status",
        "last_changed_at",
        "catalog_id",
    )
    qs, field = product_sorted(qs, catalog=catalog, sort=sort)
    return keyset_paginate(qs, sort=field, cursor=cursor, page_size=size)


PRODUCT_EXPORT_FIELDS = {
    "id": "sku",
    "title": "title",
    "availability": "availability",
    "price": "price",
    "sale_price": "sale_price",
    "currency": "currency",
    "inventory_quantity": "inventory_quantity",
    "review_status": "review_status",
    "brand": "brand",
    "gtin": "gtin",
    "mpn": "mpn",
    "condition": "condition",
    "item_group_id": "item_group_id",
    "link": "link",
    "image_link": "image_link",
    "last_changed": "last_changed_at",
}


def product_export_rows(*, tenant: Tenant, catalog: Catalog, filters: dict):
    """Every product the list's filters match, in SKU order, as tuples of
    PRODUCT_EXPORT_FIELDS: streamed in chunks (no page limit, a fixed number of queries)."""
    qs = product_search(tenant=tenant, catalog=catalog, filters=filters).order_by("sku")
    return qs.values_list(*PRODUCT_EXPORT_FIELDS.values()).iterator(chunk_size=2000)


def product_by_sku(*, tenant: Tenant, sku: str, catalog_ids: list[int]) -> Product | None:
    """The product with this SKU in the first of these catalogs that has one. The catalog
    ids are spelled out so that the (tenant, catalog, sku) index serves the lookup."""
    return (
        Product.objects.for_tenant(tenant)
        .filter(catalog_id__in=catalog_ids, sku=sku)
        .only("pk", "catalog_id", "sku", "title")
        .order_by("catalog_id")
        .first()
    )


def product_get(*, tenant: Tenant, product_id: int, catalog_id: int | None = None) -> Product:
    qs = Product.objects.for_tenant(tenant).select_related("catalog")
    if catalog_id is not None:
        qs = qs.filter(catalog_id=catalog_id)
    return qs.get(pk=product_id)


# --- Orders (issue #6): Manage Orders -----------------------------------------------------

ORDER_STATUSES = {
    "overdue": "Overdue",
    "unshipped": "Unshipped",
    "cancelled": "Cancelled",
    "shipped": "Shipped",
    "late": "Shipped late",
    "no_tracking": "Shipped without tracking",
}


# Lines whose tracking is known and not a valid number (none, blanks only, or an invisible
# character in it): the ones the valid tracking rate counts against once shipped. Unknown
# (NULL) is not among them: it is not scored.
TRACKING_NOT_VALID = Q(tracking_number__isnull=False) & ~Q(
    tracking_number__regex=TRACKING_VALID_PATTERN
)


def order_search(*, tenant: Tenant, filters: dict, now=None) -> QuerySet:
    """Order lines of a tenant filtered by status, sku, catalog and placed date."""
    from django.db.models import F
    from django.utils import timezone

    from .models import Order

    now = now or timezone.now()
    qs = Order.objects.for_tenant(tenant)
    status = filters.get("status")
    open_ = Q(shipped_at__isnull=True, cancelled_at__isnull=True)
    if status == "overdue":
        qs = qs.filter(open_, ship_by__lt=now)
    elif status == "unshipped":
        qs = qs.filter(open_)
    elif status == "cancelled":
        qs = qs.filter(cancelled_at__isnull=False)
    elif status == "shipped":
        qs = qs.filter(shipped_at__isnull=False)
    elif status == "late":
        qs = qs.filter(shipped_at__isnull=False, shipped_at__gt=F("ship_by"))
    elif status == "no_tracking":
        qs = qs.filter(TRACKING_NOT_VALID, shipped_at__isnull=False)
    if filters.get("sku"):
        qs = qs.filter(sku=filters["sku"].strip())
    if filters.get("order_id"):
        qs = qs.filter(order_id=filters["order_id"].strip())
    if filters.get("catalog"):
        qs = qs.filter(catalog_id=filters["catalog"])
    if filters.get("date_from"):
        qs = qs.filter(placed_at__date__gte=filters["date_from"])
    if filters.get("date_to"):
        qs = qs.filter(placed_at__date__lte=filters["date_to"])
    return qs.select_related("catalog")


def order_page(*, tenant: Tenant, filters: dict, cursor: str | None, size: int) -> KeysetPage:
    """Newest orders first; keyset on (placed_at, id): one query whatever the page, the
    product's title joined in (product_title), and whether the tracking number is valid
    (tracking_valid: None when unknown)."""
    from django.db.models import BooleanField, ExpressionWrapper, F

    return keyset_paginate(
        order_search(tenant=tenant, filters=filters).annotate(
            product_title=F("product__title"),
            tracking_valid=ExpressionWrapper(
                Q(tracking_number__regex=TRACKING_VALID_PATTERN), output_field=BooleanField()
            ),
        ),
        sort="-placed_at",
        cursor=cursor,
        page_size=size,
    )


def mapping_preset_for_header(
    *, tenant: Tenant, kind: str, header: list[str]
) -> ColumnMappingPreset | None:
    """The tenant's latest column mapping made for this exact header (loosely compared)."""
    return (
        ColumnMappingPreset.objects.for_tenant(tenant)
        .filter(kind=kind, header_key=header_signature(header))
        .order_by("-updated_at")
        .first()
    )


def mapping_preset_list(
    *, tenant: Tenant, kind: str | None = None
) -> QuerySet[ColumnMappingPreset]:
    """The tenant's column mappings, of one kind or all (orders first)."""
    presets = ColumnMappingPreset.objects.for_tenant(tenant)
    if kind:
        return presets.filter(kind=kind).order_by("name")
    return presets.order_by("-kind", "name")


def mapping_preset_get(*, tenant: Tenant, preset_id: int) -> ColumnMappingPreset:
    return ColumnMappingPreset.objects.for_tenant(tenant).get(pk=preset_id)


def order_upload_recent(*, tenant: Tenant, catalog: Catalog, limit: int = 5) -> list[OrderUpload]:
    """A catalog's latest uploads (without their files)."""
    return list(
        OrderUpload.objects.for_tenant(tenant)
        .filter(catalog=catalog)
        .defer("data", "preview")
        .order_by("-created_at")[:limit]
    )


def order_upload_get(*, tenant: Tenant, catalog: Catalog, upload_id: int) -> OrderUpload:
    return OrderUpload.objects.for_tenant(tenant).get(catalog=catalog, pk=upload_id)
