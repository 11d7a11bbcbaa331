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
