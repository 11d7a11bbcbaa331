"""A seller's own data: catalogs and products (orders and daily impressions join them)."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from catalog_health.tenancy.currencies import validate_currency
from catalog_health.tenancy.models import Tenant, TenantOwnedModel, TenantQuerySet

from .countries import validate_country


class CodeField(models.CharField):
    """Text compared byte by byte: an id, not prose. COLLATE "C" on PostgreSQL; SQLite's
    default collation already compares bytes (and it has no "C")."""

    def db_parameters(self, connection):
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params


class Catalog(TenantOwnedModel):
    name = models.CharField(max_length=200)
    country = models.CharField(
        max_length=2, default="US", help_text="ISO 3166-1 alpha-2", validators=[validate_country]
    )
    currency = models.CharField(
        max_length=3,
        default="USD",
        validators=[validate_currency],
        help_text="ISO 4217 code, e.g. USD, EUR, GBP",
    )
    handling_days = models.PositiveSmallIntegerField(
        "handling time (days)",
        default=3,
        help_text="ship-by of an imported order line without one: paid (or placed) time plus "
        "this many days",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="catalog_tenant_name_uniq"),
            # the target of the products' (tenant, catalog) foreign key
            models.UniqueConstraint(fields=["tenant", "id"], name="catalog_tenant_id_uniq"),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Availability(models.TextChoices):
    IN_STOCK = "in_stock", "In stock"
    OUT_OF_STOCK = "out_of_stock", "Out of stock"
    PREORDER = "preorder", "Preorder"
    BACKORDER = "backorder", "Backorder"
    DISCONTINUED = "discontinued", "Discontinued"


class Condition(models.TextChoices):
    NEW = "new", "New"
    REFURBISHED = "refurbished", "Refurbished"
    USED = "used", "Used"


class ReviewStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    AVAILABLE = "available", "Available"
    UNAVAILABLE = "unavailable", "Unavailable"


class ProductQuerySet(TenantQuerySet):
    def active(self):
        return self.filter(removed_at__isnull=True)


class Product(TenantOwnedModel):
    """One item of a catalog, with the fields Google Merchant Center / Meta / TikTok feeds carry."""

    # One database foreign key, (tenant_id, catalog_id) -> catalog (tenant_id, id), added by
    # migration 0005, instead of one per column: a product can never belong to another
    # tenant's catalog, and a first pull of a million products pays one integrity check per
    # row instead of two. No index of its own: every query starts with (tenant, catalog),
    # which the composite indexes below serve; each index is one more write per row.
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    catalog = models.ForeignKey(
        Catalog,
        on_delete=models.CASCADE,
        related_name="products",
        db_index=False,
        db_constraint=False,
    )
    # Byte order: ids are codes, and comparing them with memcmp instead of the locale's rules
    # makes the unique index several times cheaper to maintain on a bulk insert.
    sku = CodeField("id (SKU)", max_length=100)
    item_group_id = models.CharField(max_length=100, blank=True)
    title = models.CharField(max_length=500, blank=True)
    description = models.TextField(blank=True)
    link = models.CharField(max_length=2000, blank=True)
    image_link = models.CharField(max_length=2000, blank=True)
    additional_image_links = models.JSONField(default=list, blank=True)
    brand = models.CharField(max_length=150, blank=True)
    gtin = models.CharField(max_length=50, blank=True)
    mpn = models.CharField(max_length=70, blank=True)
    condition = models.CharField(max_length=12, choices=Condition.choices, blank=True)
    availability = models.CharField(
        max_length=14, choices=Availability.choices, default=Availability.IN_STOCK
    )
    price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    sale_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, help_text="of price and sale price")
    shipping_fee = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    inventory_quantity = models.IntegerField(null=True, blank=True)
    product_type = models.CharField(max_length=750, blank=True)
    google_product_category = models.CharField(max_length=250, blank=True)
    custom_attributes = models.JSONField(default=dict, blank=True)

    # Bookkeeping
    content_hash = models.CharField(max_length=64, blank=True, editable=False)
    # hash of the raw feed record this product's content came from (feeds.records): the
    # next pull skips parsing that record when it finds it again byte for byte
    feed_line_hash = models.BigIntegerField(null=True, blank=True, editable=False)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_changed_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_seen_run_id = models.BigIntegerField(null=True, blank=True, editable=False)
    removed_at = models.DateTimeField(null=True, blank=True, help_text="set when a feed removed it")
    review_status = models.CharField(
        max_length=12, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )
    review_requested_at = models.DateTimeField(null=True, blank=True, help_text="pending since")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "catalog", "sku"], name="product_tenant_catalog_sku_uniq"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "catalog", "id"], name="product_catalog_id_idx"),
            # Review-status filters use ecr_product_ratio_idx (tenant, catalog, review_status
            # WHERE removed_at IS NULL), created by the ecr app's migration 0003; ECR's issue
            # counts find removed products by ecr_product_removed_idx (ecr migration 0006).
            # Only the rarer availabilities: a filter on "in stock" (most of a catalog) walks
            # the sort's index, the others need this one. Leaving in-stock products out
            # saved a first pull of a million (80 % in stock) ~2 s (bench/RESULTS.md).
            models.Index(
                fields=["tenant", "catalog", "availability", "id"],
                name="product_availability_idx",
                condition=~models.Q(availability=Availability.IN_STOCK),
            ),
            # The title, price and last-changed sorts are served by ProductSortKey's indexes.
        ]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.sku} — {self.title[:60]}" if self.title else self.sku

    @property
    def is_active(self) -> bool:
        return self.removed_at is None


class ProductSortKey(TenantOwnedModel):
    """A product's title, price and last change again, for the product list's sorts by them
    and the lookups of what changed lately (Diagnostics, ECR).

    Kept in step with the product by database triggers (catalogs migration 0009), so every
    write path (feeds, admin, API, ORM) keeps it right. On PostgreSQL the table is
    partitioned by catalog: a catalog's first pull fills a new partition and builds its
    indexes in bulk, then attaches it (catalogs.sort_keys.sort_keys_new_partition_table, or
    sort_keys_fill_new_partition), instead of PostgreSQL maintaining three indexes row by
    row (title and price fed in random order), the largest part of a first pull's time
    (bench/RESULTS.md). Catalogs without a partition of their own (products created one by
    one) live in the default partition.
    """

    tenant = models.ForeignKey(
        Tenant, on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )
    # On PostgreSQL the primary key is (product, catalog): a partitioned table's must
    # include its partition key. product alone is unique all the same.
    product = models.OneToOneField(
        Product,
        on_delete=models.DO_NOTHING,  # the database's delete trigger removes the row
        primary_key=True,
        related_name="sort_key",
        db_constraint=False,
    )
    catalog = models.ForeignKey(
        Catalog, on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )
    title = models.CharField(max_length=500, blank=True)
    price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    last_changed_at = models.DateTimeField()

    class Meta:
        # Per catalog partition (one tenant's one catalog): no (tenant, catalog) prefix, a
        # bulk build twice as fast. The default partition also has (tenant, catalog, title |
        # price | last_changed_at, product) indexes of its own (migration 0009).
        indexes = [
            models.Index(fields=["title", "product"], name="product_sort_title_idx"),
            models.Index(fields=["price", "product"], name="product_sort_price_idx"),
            models.Index(fields=["last_changed_at", "product"], name="product_sort_changed_idx"),
        ]

    def __str__(self) -> str:
        return f"sort key of product {self.product_id}"


# --- Orders and daily impressions (issue #6, Flagged products) -----------------------------


class CancelReason(models.TextChoices):
    NONE = "", "—"
    OUT_OF_STOCK = "out_of_stock", "Out of stock"
    BUYER_REQUEST = "buyer_request", "Buyer request"
    OTHER = "other", "Other"


class Order(TenantOwnedModel):
    """One order line: one sku of one order of one catalog. Idempotent key: (tenant,
    catalog, order_id, sku): a shop numbers its own orders (Shopify's #1001 in every store)
    and a tenant's stores share skus, so an order id is only unique within its catalog."""

    # No database FK constraints: their deferred per-row checks at commit were ~40 % of an
    # order import (bench/orders_import.py, docs/orders.md). Every write path resolves the
    # product within (tenant, catalog) first (the import's merge joins catalogs_product;
    # orders_upsert looks the skus up); Django still cascades deletes of products, catalogs
    # and tenants, and the indexes below are unchanged (flagged scoring's plans too).
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    # No index of its own: the order list's catalog filter rides order_tenant_list_idx, and
    # a catalog's delete (admin only) scans the table once; one index fewer to build after
    # a bulk load and to maintain per imported line.
    catalog = models.ForeignKey(
        Catalog, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    # indexed by order_product_idx, which leads with it
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    order_id = models.CharField("order id", max_length=64)
    sku = models.CharField("SKU", max_length=100)
    quantity = models.PositiveIntegerField(default=1)
    item_price = models.DecimalField(max_digits=12, decimal_places=2)
    shipping_fee = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    placed_at = models.DateTimeField()
    ship_by = models.DateTimeField("ship by")
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(
        max_length=16, choices=CancelReason.choices, blank=True, default=""
    )
    # NULL, against Django's convention for text, because "no tracking number" and "the
    # order file has no tracking column" (Shopify's export) must differ: "" is known to have
    # none (counts against the valid tracking rate), NULL is unknown (not scored, and an
    # import that does not say keeps a number already known). See docs/orders.md.
    tracking_number = models.CharField(  # noqa: DJ001
        max_length=64, blank=True, null=True, default=None
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # catalog last: the order-id search of Manage Orders, across a tenant's
            # catalogs, keeps (tenant, order_id) as the index's prefix
            models.UniqueConstraint(
                fields=["tenant", "order_id", "sku", "catalog"],
                name="order_tenant_orderid_sku_catalog_uniq",
            )
        ]
        indexes = [
            # Scoring scans a tenant's window of orders (order_tenant_list_idx serves its
            # range on placed_at: a separate (tenant, placed_at) index was one more to
            # maintain per imported line and used by nothing else); the details page one
            # product's, and a product's delete its lines, by order_product_idx (a product
            # is one tenant's: a tenant column before it, or a product-only index beside
            # it, was one more index to build and maintain per line).
            models.Index(fields=["product", "placed_at"], name="order_product_idx"),
            models.Index(fields=["tenant", "-placed_at", "-id"], name="order_tenant_list_idx"),
        ]
        ordering = ["-placed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.order_id} / {self.sku}"


class DailyImpression(TenantOwnedModel):
    """Impressions and clicks of one product on one day. Key: (tenant, catalog, sku, date)."""

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    sku = models.CharField("SKU", max_length=100)
    date = models.DateField()
    impressions = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "catalog", "sku", "date"], name="impression_tenant_sku_date_uniq"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "product", "date"], name="impression_product_date_idx")
        ]
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.sku} {self.date}: {self.impressions}"


# --- Uploads of marketplace exports (issue #20) --------------------------------------------


class UploadKind(models.TextChoices):
    ORDERS = "orders", "Order lines"
    IMPRESSIONS = "impressions", "Daily impressions"


class ColumnMappingPreset(TenantOwnedModel):
    """A named column mapping of one export layout: which of its columns holds each field.

    Picked automatically when a file with the same header arrives again (header_key: a
    hash of its loosely compared column names, see catalogs.order_formats.header_key)."""

    kind = models.CharField(max_length=12, choices=UploadKind.choices)
    name = models.CharField(max_length=100)
    header_key = models.CharField(max_length=64, editable=False)
    header = models.JSONField(default=list, help_text="the column names it was made for")
    columns = models.JSONField(default=dict, help_text="field -> column name")
    cancel_values = models.JSONField(
        default=dict,
        blank=True,
        help_text="cancel reason value -> out_of_stock / buyer_request / other",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "name"], name="mapping_preset_tenant_name_uniq"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "kind", "header_key"], name="mapping_preset_header_idx")
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UploadStatus(models.TextChoices):
    PREVIEWED = "previewed", "Previewed"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Importing"
    DONE = "done", "Imported"
    FAILED = "failed", "Failed"


class OrderUpload(TenantOwnedModel):
    """One uploaded export: kept from its preview until it is imported (in the background
    when large), with the import's progress and outcome."""

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=UploadKind.choices, default=UploadKind.ORDERS)
    filename = models.CharField(max_length=255, blank=True)
    data = models.BinaryField(editable=False)
    size = models.PositiveIntegerField(default=0)
    format_key = models.CharField(max_length=32, blank=True)
    format_label = models.CharField(max_length=100, blank=True)
    date_order = models.CharField(max_length=3, blank=True, help_text="chosen for this file")
    preset = models.ForeignKey(
        ColumnMappingPreset, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=UploadStatus.choices, default=UploadStatus.PREVIEWED
    )
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    written = models.PositiveIntegerField(default=0)
    # lines already stored as the file has them (a re-import: "0 saved, N unchanged"); None
    # for an upload imported before it was recorded
    unchanged = models.PositiveIntegerField(null=True, blank=True)
    refused = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="the first row errors")
    message = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # last sign of life of its import (queued, claimed, each chunk read): the reaper fails
    # an upload that has shown none for ORDER_UPLOAD_STALE_MINUTES (its worker died)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # the preview once computed, with what it depends on (see order_uploads.order_upload_preview)
    preview = models.JSONField(null=True, blank=True, editable=False)

    class Meta:
        indexes = [
            models.Index(
                fields=["tenant", "catalog", "-created_at"], name="order_upload_recent_idx"
            )
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename or 'upload'} ({self.status})"

    @property
    def retryable(self) -> bool:
        """A failed import whose file is still here (the worker died or the queue was
        down); a file refused as unreadable is not kept."""
        return self.status == UploadStatus.FAILED and self.size > 0 and bool(self.data)

    @property
    def percent(self) -> int:
        if not self.rows_total:
            return 100 if self.status == UploadStatus.DONE else 0
        return min(100, self.rows_done * 100 // self.rows_total)
