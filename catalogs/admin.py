import copy

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from catalog_health.service_forms import add_service_errors
from catalog_health.tenancy.currencies import CurrencyFormField

from . import events
from .countries import CountryFormField
from .forms import CatalogNameField, PastedTextField, TrackingNumberField
from .models import Catalog, Product
from .rules import EDITABLE_FIELDS, product_edit_errors, product_edit_refusal
from .services import (
    CATALOG_EDITABLE,
    catalog_create,
    catalog_update,
    catalog_validate,
    product_update,
)


class CatalogAdminForm(forms.ModelForm):
    """The service's checks on the posted values, with its messages; CatalogAdmin saves
    through it."""

    class Meta:
        model = Catalog
        fields = ["tenant", *CATALOG_EDITABLE]
        field_classes = {
            "name": CatalogNameField,
            "country": CountryFormField,
            "currency": CurrencyFormField,
        }

    def clean(self):
        cleaned = super().clean()
        if self.errors:  # a field's own error stands
            return cleaned
        catalog = copy.copy(self.instance)  # the instance itself is filled in after clean()
        if "tenant" in cleaned:  # added: the tenant chosen
            catalog.tenant = cleaned["tenant"]
        try:
            catalog_validate(catalog=catalog, data={f: cleaned[f] for f in CATALOG_EDITABLE})
        except ValidationError as exc:
            add_service_errors(self, exc)
        return cleaned


@admin.register(Catalog)
class CatalogAdmin(admin.ModelAdmin):
    """Added and changed through the catalog services, audited with the staff member. A
    catalog stays in its tenant: its products, orders and sources carry that tenant too."""

    form = CatalogAdminForm
    list_display = ["name", "tenant", "country", "currency", "handling_days", "created_at"]
    list_filter = ["tenant"]
    search_fields = ["name"]

    def get_readonly_fields(self, request, obj=None):
        return ["tenant"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in CATALOG_EDITABLE}
        if change:
            stored = Catalog.objects.for_tenant(obj.tenant_id).get(pk=obj.pk)
            catalog_update(tenant=obj.tenant, catalog=stored, actor=request.user, data=data)
        else:
            obj.pk = catalog_create(tenant=obj.tenant, actor=request.user, **data).pk
        obj.refresh_from_db()  # what the service stored, for admin's message and history


class ProductAdminForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = list(EDITABLE_FIELDS)

    def clean(self):
        data = super().clean()
        for field, message in product_edit_errors(
            {f: data.get(f, getattr(self.instance, f)) for f in EDITABLE_FIELDS}
        ).items():
            self.add_error(field if field in self.fields else None, message)
        return data


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    """Products come from the feeds and their status from the review: here an operator
    changes only what a seller may (EDITABLE_FIELDS), through the seller's own service, so
    the change is audited, re-reviewed and seen by the product list and channel feeds. A
    product its feed removed is shown read-only, as on the product page."""

    form = ProductAdminForm
    list_display = ["sku", "title", "catalog", "availability", "price", "review_status"]
    list_filter = ["review_status", "availability", "tenant"]
    search_fields = ["sku", "title"]
    show_full_result_count = False  # COUNT(*) over millions of rows on every page

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Product._meta.fields if f.name not in EDITABLE_FIELDS]

    def has_add_permission(self, request):
        return False  # products come from the catalog's feeds

    def has_change_permission(self, request, obj=None):
        if obj is not None and _edit_refusal(obj):
            return False
        return super().has_change_permission(request, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        product = self.get_object(request, object_id)
        refusal = _edit_refusal(product) if product is not None else None
        if refusal and request.method == "GET":
            self.message_user(request, refusal, messages.WARNING)
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in form.changed_data if f in EDITABLE_FIELDS}
        product_update(tenant=obj.tenant, product=obj, actor=request.user, data=data)


def _edit_refusal(product: Product) -> str | None:
    return product_edit_refusal(product.removed_at, time_zone=product.tenant.time_zone)


# --- Orders and daily impressions (issue #6) -----------------------------------------------
from .models import DailyImpression, Order  # noqa: E402
from .order_io import ORDER_COLUMNS  # noqa: E402
from .rules import future_day_error, future_times_errors, sales_row_link_errors  # noqa: E402
from .services import tenant_future_limit  # noqa: E402


class SalesRowAdminForm(forms.ModelForm):
    """A line's tenant, catalog, product and SKU belong together, as every other entry
    resolves the product by its SKU within the tenant and catalog."""

    def clean(self):
        data = super().clean()
        tenant, catalog, product, sku = (
            data.get(f) for f in ("tenant", "catalog", "product", "sku")
        )
        if tenant is None or catalog is None or product is None or not sku:
            return data  # a field's own error stands
        for field, message in sales_row_link_errors(
            tenant_id=tenant.pk, tenant_name=tenant.name, catalog=catalog, product=product, sku=sku
        ).items():
            self.add_error(field, message)
        return data


class OrderAdminForm(SalesRowAdminForm):
    """Ids and the tracking number by the rule of every other entry of orders."""

    class Meta:
        model = Order
        fields = ["tenant", "catalog", "product", *ORDER_COLUMNS]
        field_classes = {
            "order_id": PastedTextField,
            "sku": PastedTextField,
            "tracking_number": TrackingNumberField,
        }

    def clean(self):
        data = super().clean()
        tenant = data.get("tenant")
        if tenant:  # placed, shipped … in the future: the rule of every entry of orders
            limit = tenant_future_limit(tenant=tenant)
            for name, error in future_times_errors(data, limit=limit).items():
                self.add_error(name, error)
        return data


class SalesDataAdmin(admin.ModelAdmin):
    """Order lines and daily impressions are what products are scored on: a change or delete
    here is announced (catalogs.events) as an import, an upload or the API announces theirs,
    so the tenant is scored again."""

    sales_data_kind: str  # "orders" or "impressions"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        moved_from = {form.initial.get("catalog")} if change else set()
        self._announce({obj.catalog_id} | moved_from)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        self._announce({obj.catalog_id})

    def delete_queryset(self, request, queryset):
        catalog_ids = set(queryset.values_list("catalog_id", flat=True))
        super().delete_queryset(request, queryset)
        self._announce(catalog_ids)

    def _announce(self, catalog_ids: set) -> None:
        catalogs = Catalog.objects.filter(pk__in=catalog_ids - {None}).select_related("tenant")
        for catalog in catalogs.order_by("pk"):
            events.sales_data_changed(
                tenant=catalog.tenant, catalog=catalog, kind=self.sales_data_kind
            )


@admin.register(Order)
class OrderAdmin(SalesDataAdmin):
    sales_data_kind = "orders"
    form = OrderAdminForm
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


class DailyImpressionAdminForm(SalesRowAdminForm):
    """The SKU by the rule of every other entry of a SKU."""

    class Meta:
        model = DailyImpression
        fields = ["tenant", "catalog", "product", "sku", "date", "impressions", "clicks"]
        field_classes = {"sku": PastedTextField}

    def clean(self):
        data = super().clean()
        tenant, day = data.get("tenant"), data.get("date")
        if tenant and day:  # dated in the future: the rule of every entry of impressions
            error = future_day_error(day, limit=tenant_future_limit(tenant=tenant))
            if error:
                self.add_error("date", error)
        return data


@admin.register(DailyImpression)
class DailyImpressionAdmin(SalesDataAdmin):
    sales_data_kind = "impressions"
    form = DailyImpressionAdminForm
    list_display = ["sku", "date", "tenant", "impressions", "clicks"]
    list_filter = ["tenant"]
    search_fields = ["sku"]
    raw_id_fields = ["catalog", "product"]
    show_full_result_count = False


# --- Uploads of marketplace exports (issue #20) --------------------------------------------
from .models import ColumnMappingPreset, OrderUpload  # noqa: E402
from .order_uploads import (  # noqa: E402
    mapping_preset_delete,
    mapping_preset_save,
    mapping_preset_validate,
)


@admin.register(OrderUpload)
class OrderUploadAdmin(admin.ModelAdmin):
    """Uploads and their outcome; the stored file itself is never shown (it is emptied once
    imported). Status may be changed by hand, e.g. to fail a stuck import at once."""

    list_display = ["filename", "kind", "status", "tenant", "catalog", "size", "created_at"]
    list_filter = ["status", "kind", "tenant"]
    search_fields = ["filename"]
    raw_id_fields = ["catalog", "preset", "created_by"]
    readonly_fields = [
        "size",
        "format_key",
        "format_label",
        "rows_total",
        "rows_done",
        "written",
        "unchanged",
        "refused",
        "errors",
        "created_at",
        "heartbeat_at",
        "finished_at",
    ]
    exclude = ["data", "preview"]
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).defer("data", "preview")


class ColumnMappingPresetAdminForm(forms.ModelForm):
    """A mapping's columns and cancel values, checked against the header it was made for as
    on the upload page."""

    class Meta:
        model = ColumnMappingPreset
        fields = ["columns", "cancel_values"]

    def clean(self):
        cleaned = super().clean()
        for field in self.Meta.fields:
            if field in cleaned and not isinstance(cleaned[field], dict):
                self.add_error(field, "A JSON object: field name → value.")
        if self.errors:  # a field's own error stands
            return cleaned
        try:
            mapping_preset_validate(
                kind=self.instance.kind,
                name=self.instance.name,
                header=self.instance.header,
                columns=cleaned["columns"],
                cancel_values=cleaned["cancel_values"],
            )
        except ValidationError as exc:
            add_service_errors(self, exc)
        return cleaned


@admin.register(ColumnMappingPreset)
class ColumnMappingPresetAdmin(admin.ModelAdmin):
    """Made from a file's header on the upload page; changed and deleted here through the
    same services (checked, audited with the staff member). Tenant, kind and name are what
    the mapping is found by, so they stay."""

    form = ColumnMappingPresetAdminForm
    list_display = ["name", "kind", "tenant", "updated_at"]
    list_filter = ["kind", "tenant"]
    search_fields = ["name"]
    readonly_fields = ["tenant", "kind", "name", "header_key", "header", "created_at", "updated_at"]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        mapping_preset_save(
            tenant=obj.tenant,
            actor=request.user,
            kind=obj.kind,
            name=obj.name,
            header=obj.header,
            columns=form.cleaned_data["columns"],
            cancel_values=form.cleaned_data["cancel_values"],
        )
        obj.refresh_from_db()  # what the service stored, for admin's message and history

    def delete_model(self, request, obj):
        mapping_preset_delete(tenant=obj.tenant, actor=request.user, preset=obj)

    def delete_queryset(self, request, queryset):
        for preset in queryset.select_related("tenant"):
            self.delete_model(request, preset)
