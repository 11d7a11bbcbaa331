from django.contrib import admin

from .models import Catalog, Product


@admin.register(Catalog)
class CatalogAdmin(admin.ModelAdmin):
    list_display = ["name", "tenant", "country", "currency", "created_at"]
    list_filter = ["tenant"]
    search_fields = ["name"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "title", "catalog", "availability", "price", "review_status"]
    list_filter = ["review_status", "availability", "tenant"]
    search_fields = ["sku", "title"]
    raw_id_fields = ["catalog"]
    readonly_fields = ["content_hash", "first_seen_at", "last_changed_at", "last_seen_at"]
    show_full_result_count = False  # COUNT(*) over millions of rows on every page


# --- Orders and daily impressions (issue #6) -----------------------------------------------
from .models import DailyImpression, Order  # noqa: E402


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "order_id",
        "sku",
        "tenant",
        "placed_at",
        "ship_by",
        "shipped_at",
        "cancelled_at",
    ]
    list_filter = ["tenant", "cancel_reason"]
    search_fields = ["order_id", "sku", "tracking_number"]
    raw_id_fields = ["catalog", "product"]
    show_full_result_count = False


@admin.register(DailyImpression)
class DailyImpressionAdmin(admin.ModelAdmin):
    list_display = ["sku", "date", "tenant", "impressions", "clicks"]
    list_filter = ["tenant"]
    search_fields = ["sku"]
    raw_id_fields = ["catalog", "product"]
    show_full_result_count = False
