"""Catalog and product pages. Views parse input, call a selector or a service, render."""

from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.generic import TemplateView, View

from catalog_health.csv_export import csv_download, stamped_filename
from catalog_health.page_filters import filter_refusals, valid_filters
from catalog_health.service_forms import add_service_errors
from catalog_health.tenancy.roles import Perm
from catalog_health.tenancy.views import TenantViewMixin

from . import events, order_uploads, product_panels, selectors, services
from .forms import (
    CatalogForm,
    CatalogSettingsForm,
    ColumnMappingForm,
    OrderFilterForm,
    ProductEditForm,
    ProductFilterForm,
    UploadForm,
)
from .mixins import CatalogFromUrlMixin
from .models import (
    Availability,
    ColumnMappingPreset,
    OrderUpload,
    Product,
    ReviewStatus,
    UploadKind,
    UploadStatus,
)
from .rules import product_edit_refusal


class CatalogMixin(CatalogFromUrlMixin, TenantViewMixin):
    """Loads the catalog named in the URL through the tenant scope (foreign id: 404)."""

    def load_objects(self) -> None:
        super().load_objects()
        self.get_catalog()


class CatalogListView(TenantViewMixin, TemplateView):
    template_name = "catalogs/catalog_list.html"
    permission = Perm.VIEW
    write_permission = Perm.MANAGE_CATALOGS

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["catalogs"] = selectors.catalog_list_with_counts(tenant=self.tenant)
        ctx["form"] = kwargs.get("form") or CatalogForm(initial={"currency": self.tenant.currency})
        ctx["can_manage"] = self.can(Perm.MANAGE_CATALOGS)
        return ctx

    def post(self, request, *args, **kwargs):
        form = CatalogForm(request.POST)
        if form.is_valid():
            try:
                catalog = services.catalog_create(
                    tenant=self.tenant, actor=request.user, **form.cleaned_data
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, f"Catalog {catalog.name} created.")
                return redirect(
                    "catalogs:catalog_detail", tenant_slug=self.tenant.slug, catalog_id=catalog.pk
                )
        return self.render_to_response(self.get_context_data(form=form))


class CatalogDetailView(CatalogMixin, TemplateView):
    """The catalog's product list: search, filters, sort, keyset pagination."""

    template_name = "catalogs/catalog_detail.html"
    permission = Perm.VIEW

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        catalog = self.get_catalog()
        form = ProductFilterForm(self.request.GET or {"size": 50, "sort": "sku"})
        filters = valid_filters(form)
        page = selectors.product_page(
            tenant=self.tenant,
            catalog=catalog,
            filters=filters,
            cursor=self.request.GET.get("cursor"),
            sort=filters.get("sort") or "sku",
            size=filters.get("size") or 50,
        )
        query = self.request.GET.copy()
        query.pop("cursor", None)
        # One reverse() per page, not per row: the rows differ only by the product id.
        product_url = reverse(
            "catalogs:product_detail",
            kwargs={"tenant_slug": self.tenant.slug, "catalog_id": catalog.pk, "product_id": 0},
        ).removesuffix("0/")
        export_query = urlencode(
            {k: filters[k] for k in ("q", "availability", "review_status") if filters.get(k)}
        )
        ctx.update(
            catalog=catalog,
            filter_form=form,
            filter_refusals=filter_refusals(form),
            page=page,
            base_query=query.urlencode(),
            export_query=export_query,
            product_url=product_url,
            # an empty page without filters (or cursor) means the catalog has no product
            is_filtered=bool(
                self.request.GET.get("cursor")
                or any(filters.get(k) for k in ("q", "availability", "review_status"))
            ),
            can_manage_sources=self.can(Perm.MANAGE_SOURCES),
        )
        return ctx


class ProductExportView(CatalogMixin, View):
    """The product list as CSV: every product its filters match; cells formula-safe."""

    permission = Perm.VIEW

    def get(self, request, *args, **kwargs):
        catalog = self.get_catalog()
        filters = valid_filters(ProductFilterForm(request.GET))
        tz = ZoneInfo(self.tenant.time_zone)
        availability = dict(Availability.choices)
        review = dict(ReviewStatus.choices)
        fields = list(selectors.PRODUCT_EXPORT_FIELDS)
        at = {name: i for i, name in enumerate(fields)}

        def rows():
            for values in selectors.product_export_rows(
                tenant=self.tenant, catalog=catalog, filters=filters
            ):
                row = list(values)
                row[at["availability"]] = availability.get(row[at["availability"]], "")
                row[at["review_status"]] = review.get(row[at["review_status"]], "")
                row[at["last_changed"]] = (
                    row[at["last_changed"]].astimezone(tz).isoformat(timespec="seconds")
                )
                yield row

        name = slugify(catalog.name) or f"catalog-{catalog.pk}"
        filename = stamped_filename(f"products-{name}", time_zone=self.tenant.time_zone)
        return csv_download(filename, fields, rows())


class CatalogSettingsView(CatalogMixin, TemplateView):
    """A catalog's settings: its handling time, which makes the ship-by of imported order
    lines without one. Sellers set it (they work the orders it makes overdue)."""

    template_name = "catalogs/catalog_settings.html"
    permission = Perm.VIEW
    write_permission = Perm.MANAGE_ORDERS

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        catalog = self.get_catalog()
        ctx.update(
            catalog=catalog,
            form=kwargs.get("form")
            or CatalogSettingsForm(initial={"handling_days": catalog.handling_days}),
            can_manage=self.can(Perm.MANAGE_ORDERS),
        )
        return ctx

    def post(self, request, *args, **kwargs):
        catalog = self.get_catalog()
        form = CatalogSettingsForm(request.POST)
        if form.is_valid():
            try:
                services.catalog_update(
                    tenant=self.tenant, catalog=catalog, actor=request.user, data=form.cleaned_data
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                days = catalog.handling_days
                messages.success(
                    request,
                    f"Handling time of {catalog.name} is {days} day{'s' if days != 1 else ''}: "
                    "the next import computes ship-by with it.",
                )
                return redirect(request.path)
        return self.render_to_response(self.get_context_data(form=form))


class ProductDetailView(CatalogMixin, TemplateView):
    """Every field of a product; sellers and advertisers edit inventory, prices, shipping fee
    and availability here. A product its feed removed is shown read-only, saying so."""

    template_name = "catalogs/product_detail.html"
    permission = Perm.VIEW
    write_permission = Perm.EDIT_PRODUCTS

    def load_objects(self) -> None:
        super().load_objects()
        self.product = self.get_product()
        self.edit_refusal = product_edit_refusal(
            self.product.removed_at, time_zone=self.tenant.time_zone
        )

    def get_product(self) -> Product:
        try:
            return selectors.product_get(
                tenant=self.tenant,
                product_id=self.kwargs["product_id"],
                catalog_id=self.get_catalog().pk,
            )
        except Product.DoesNotExist as exc:
            raise Http404("No such product.") from exc

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        product = kwargs.get("product") or self.product
        ctx.update(
            catalog=self.get_catalog(),
            product=product,
            product_source=product_panels.product_source(tenant=self.tenant, product=product),
            panels=product_panels.render_panels(
                tenant=self.tenant, product=product, request=self.request
            ),
            form=kwargs.get("form") or ProductEditForm(instance=product),
            can_edit=self.can(Perm.EDIT_PRODUCTS),
            edit_refusal=self.edit_refusal,
            focus=self.request.GET.get("focus", ""),
        )
        return ctx

    def post(self, request, *args, **kwargs):
        product = self.product
        # refused before the form is read: a removed product's page has no form to show
        # errors on, only the read-only fields and why
        refusal = self.edit_refusal
        form = ProductEditForm(request.POST, instance=Product(pk=product.pk))
        if not refusal and form.is_valid():
            try:
                services.product_update(
                    tenant=self.tenant, product=product, actor=request.user, data=form.edited_data()
                )
            except services.ProductRemovedError as exc:  # a pull removed it meanwhile
                refusal = " ".join(exc.messages)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Product saved.")
                return redirect(
                    "catalogs:product_detail",
                    tenant_slug=self.tenant.slug,
                    catalog_id=product.catalog_id,
                    product_id=product.pk,
                )
        if refusal:
            messages.error(request, f"Nothing was saved. {refusal}")
            return redirect(request.path)
        return self.render_to_response(self.get_context_data(product=product, form=form))


# --- Manage Orders and uploads (issue #6) -------------------------------------------------


class OrderListView(TenantViewMixin, TemplateView):
    """Manage Orders: filter order lines, mark them shipped with tracking, one or many."""

    template_name = "catalogs/orders.html"
    permission = Perm.VIEW
    write_permission = Perm.MANAGE_ORDERS

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        catalogs = list(selectors.catalog_list(tenant=self.tenant))
        form = OrderFilterForm(self.request.GET or None, catalogs=catalogs)
        filters = valid_filters(form)
        page = selectors.order_page(
            tenant=self.tenant,
            filters=filters,
            cursor=self.request.GET.get("cursor"),
            size=filters.get("size") or 50,
        )
        query = self.request.GET.copy()
        query.pop("cursor", None)
        # the product a seller came from (flagged's Review links here filtered by its sku)
        sku_product = None
        if filters.get("sku"):
            sku_product = selectors.product_by_sku(
                tenant=self.tenant,
                sku=filters["sku"].strip(),
                catalog_ids=[filters["catalog"]]
                if filters.get("catalog")
                else [c.pk for c in catalogs],
            )
        # one reverse() per page: rows differ by catalog and product id only
        catalogs_url = reverse("catalogs:catalog_list", kwargs={"tenant_slug": self.tenant.slug})
        ctx.update(
            catalogs=catalogs,
            sku_product=sku_product,
            catalogs_url=catalogs_url,
            filter_form=form,
            filter_refusals=filter_refusals(form),
            page=page,
            base_query=query.urlencode(),
            full_query=self.request.GET.urlencode(),
            can_manage=self.can(Perm.MANAGE_ORDERS),
            now=timezone.now(),
            tracking_errors=kwargs.get("tracking_errors", {}),
        )
        return ctx

    def post(self, request, *args, **kwargs):
        if "ship_one" in request.POST:
            ids = [request.POST["ship_one"]]
        else:
            ids = request.POST.getlist("order")
        try:
            pks = [int(i) for i in ids]
        except ValueError:
            pks = []
        if not pks:
            messages.error(request, "Select at least one order to mark shipped.")
            return redirect(f"{request.path}?{request.POST.get('query', '')}")
        tracking = {pk: request.POST.get(f"tracking-{pk}", "") for pk in pks}
        try:
            count = services.orders_mark_shipped(
                tenant=self.tenant, actor=request.user, tracking=tracking
            )
        except ValidationError as exc:
            messages.error(
                request,
                "Nothing was marked shipped: "
                + "; ".join(
                    f"{m}" for m in sorted({m for msgs in exc.message_dict.values() for m in msgs})
                ),
            )
            return redirect(f"{request.path}?{request.POST.get('query', '')}")
        events.sales_data_changed(tenant=self.tenant, catalog=None, kind="orders")
        messages.success(
            request,
            f"{count} order line{'s' if count != 1 else ''} marked shipped. Flagged statuses "
            "follow at the next scoring (queued now).",
        )
        return redirect(f"{request.path}?{request.POST.get('query', '')}")


class CatalogUploadView(CatalogMixin, TemplateView):
    """Upload order lines or daily impressions as CSV; good rows are written, bad rows are
    listed with their line and column."""

    template_name = "catalogs/orders_upload.html"
    permission = Perm.VIEW
    write_permission = Perm.MANAGE_ORDERS

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        from .order_io import IMPRESSION_COLUMNS, ORDER_COLUMNS

        ctx.update(
            catalog=self.get_catalog(),
            form=kwargs.get("form") or UploadForm(),
            result=kwargs.get("result"),
            kind=kwargs.get("kind"),
            order_columns=",".join(ORDER_COLUMNS),
            impression_columns=",".join(IMPRESSION_COLUMNS),
            can_manage=self.can(Perm.MANAGE_ORDERS),
            uploads=selectors.order_upload_recent(tenant=self.tenant, catalog=self.get_catalog()),
        )
        return ctx

    def post(self, request, *args, **kwargs):
        from .order_formats import detect_format, is_xlsx, read_header, text_as_utf8
        from .order_io import FileError

        catalog = self.get_catalog()
        form = UploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        kind = form.cleaned_data["kind"]
        # spreadsheets' other encodings (UTF-16, Windows-1252) are read as the UTF-8 they mean
        data = text_as_utf8(form.cleaned_data["file"].read())
        if kind == "impressions":
            try:
                own_csv = not is_xlsx(data) and (
                    detect_format(read_header(data)).key == "app_impressions"
                )
            except FileError as exc:
                form.add_error("file", f"Nothing was imported: {exc}")
                return self.render_to_response(self.get_context_data(form=form))
        if kind == "orders" or not own_csv:
            # order exports are previewed first: kept until the seller imports them
            upload = order_uploads.order_upload_create(
                tenant=self.tenant,
                catalog=catalog,
                actor=request.user,
                data=data,
                filename=form.cleaned_data["file"].name,
                kind=kind,
            )
            return redirect(
                "catalogs:catalog_upload_detail",
                tenant_slug=self.tenant.slug,
                catalog_id=catalog.pk,
                upload_id=upload.pk,
            )
        importer = (
            services.orders_import_csv if kind == "orders" else services.impressions_import_csv
        )
        try:
            result = importer(tenant=self.tenant, catalog=catalog, data=data, actor=request.user)
        except FileError as exc:
            form.add_error("file", f"Nothing was imported: {exc}")
            return self.render_to_response(self.get_context_data(form=form))
        if result.written:
            events.sales_data_changed(tenant=self.tenant, catalog=catalog, kind=kind)
        return self.render_to_response(
            self.get_context_data(form=UploadForm(initial={"kind": kind}), result=result, kind=kind)
        )


class CatalogUploadDetailView(CatalogMixin, TemplateView):
    """One uploaded order export: its preview (the first rows as they will be read, the
    counts, unknown SKUs, unmapped columns, the detected format), then its import and
    progress."""

    template_name = "catalogs/order_upload_detail.html"
    permission = Perm.VIEW
    write_permission = Perm.MANAGE_ORDERS

    def load_objects(self) -> None:
        super().load_objects()
        try:
            self.upload = selectors.order_upload_get(
                tenant=self.request.tenant,
                catalog=self.get_catalog(),
                upload_id=self.kwargs["upload_id"],
            )
        except OrderUpload.DoesNotExist as exc:
            raise Http404("No such upload.") from exc

    def get_context_data(self, **kwargs):
        from .order_io import FileError

        ctx = super().get_context_data(**kwargs)
        upload = self.upload
        date_order = self.request.GET.get("date_order", "")
        if date_order not in ("dmy", "mdy"):
            date_order = ""
        preview = problem = None
        mapping_form = kwargs.get("mapping_form")
        if upload.status == UploadStatus.PREVIEWED:
            try:
                preview = order_uploads.order_upload_preview(
                    tenant=self.tenant, upload=upload, date_order=date_order
                )
            except FileError as exc:
                problem = str(exc)
            if problem and "map its columns" in problem and mapping_form is None:
                mapping_form = self._mapping_form()
        ctx.update(
            catalog=self.get_catalog(),
            upload=upload,
            preview=preview,
            problem=problem,
            needs_date_order=bool(problem and "cannot tell" in problem),
            date_order_chosen=bool(date_order),
            date_order=date_order or (preview["date_order"] if preview else ""),
            columns=(
                order_uploads.PREVIEW_COLUMNS
                if upload.kind == UploadKind.ORDERS
                else order_uploads.IMPRESSION_PREVIEW
            ),
            mapping_form=mapping_form,
            preview_rows=preview["rows"] if preview else [],
            can_manage=self.can(Perm.MANAGE_ORDERS),
            in_progress=upload.status in (UploadStatus.QUEUED, UploadStatus.RUNNING),
            retention_hours=order_uploads.upload_retention_hours(),
        )
        return ctx

    def _mapping_form(self, data=None) -> ColumnMappingForm:
        from .order_formats import read_header

        header = read_header(bytes(self.upload.data))
        return ColumnMappingForm(
            data,
            header=header,
            kind=self.upload.kind,
            initial={"name": (self.upload.filename or "My export").rsplit(".", 1)[0][:100]},
        )

    def post(self, request, *args, **kwargs):
        from .order_formats import read_header

        if "save_mapping" in request.POST:
            if self.upload.status != UploadStatus.PREVIEWED:
                return redirect(request.path)
            form = self._mapping_form(request.POST)
            if form.is_valid():
                try:
                    order_uploads.mapping_preset_save(
                        tenant=self.tenant,
                        actor=request.user,
                        kind=self.upload.kind,
                        name=form.cleaned_data["name"],
                        header=read_header(bytes(self.upload.data)),
                        columns=form.columns(),
                        cancel_values=form.cleaned_data.get("cancel_values") or {},
                    )
                except ValidationError as exc:
                    for message in exc.messages:
                        form.add_error(None, message)
                else:
                    messages.success(
                        request,
                        f"Mapping {form.cleaned_data['name']!r} saved: files with these "
                        "columns are read with it from now on.",
                    )
                    return redirect(request.path)
            return self.render_to_response(self.get_context_data(mapping_form=form))
        if "retry" in request.POST:
            queued = order_uploads.order_upload_retry(
                tenant=self.tenant, upload=self.upload, actor=request.user
            )
            if queued:
                messages.info(
                    request, "The import was started again; this page shows its progress."
                )
            return redirect(request.path)
        date_order = request.POST.get("date_order", "")
        if date_order not in ("dmy", "mdy"):
            date_order = ""
        queued = order_uploads.order_upload_start(
            tenant=self.tenant, upload=self.upload, actor=request.user, date_order=date_order
        )
        if queued:
            messages.info(request, "The file is being imported; this page shows its progress.")
        return redirect(request.path)


class MappingPresetListView(TenantViewMixin, TemplateView):
    """The tenant's saved column mappings (made on the upload page), with delete."""

    template_name = "catalogs/mapping_presets.html"
    permission = Perm.VIEW
    write_permission = Perm.MANAGE_ORDERS

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["presets"] = list(selectors.mapping_preset_list(tenant=self.tenant))
        ctx["can_manage"] = self.can(Perm.MANAGE_ORDERS)
        return ctx


class MappingPresetDeleteView(TenantViewMixin, View):
    """POST: remove one mapping (another tenant's id is a 404 like a missing one)."""

    permission = Perm.MANAGE_ORDERS
    write_permission = Perm.MANAGE_ORDERS
    http_method_names = ["post"]

    def load_objects(self) -> None:
        super().load_objects()
        try:
            self.preset = selectors.mapping_preset_get(
                tenant=self.request.tenant, preset_id=self.kwargs["preset_id"]
            )
        except ColumnMappingPreset.DoesNotExist as exc:
            raise Http404("No such mapping.") from exc

    def post(self, request, *args, **kwargs):
        name = self.preset.name
        order_uploads.mapping_preset_delete(
            tenant=self.tenant, actor=request.user, preset=self.preset
        )
        messages.success(request, f"Mapping {name!r} removed.")
        return redirect("catalogs:mapping_preset_list", tenant_slug=self.tenant.slug)
