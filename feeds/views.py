"""Product sources pages. Views parse input, call a selector or a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import TemplateView

from catalog_health.csv_export import csv_download
from catalog_health.service_forms import add_service_errors
from catalog_health.tenancy.roles import Perm
from catalog_health.tenancy.views import TenantViewMixin
from catalogs.mixins import CatalogFromUrlMixin
from catalogs.selectors import catalog_list

from . import selectors, services
from .diff import CHANGES_CSV_HEADER, FieldChange, field_changes
from .forms import RefreshForm, SourceForm, UploadForm
from .models import ChangeKind, FeedRun, ProductSource, RunStatus, SourceKind, Trigger

# Row-error CSV columns of a feed run (the writing is catalog_health.csv_export's).
ROW_ERROR_HEADER = ["line", "sku", "field", "severity", "message"]


class FeedsMixin(CatalogFromUrlMixin, TenantViewMixin):
    """Loads the objects named in the URL through the tenant scope (foreign id: 404)."""

    permission = Perm.VIEW
    write_permission = Perm.MANAGE_SOURCES

    def load_objects(self) -> None:
        """Resolve every object named in the URL before the role check: a foreign id is the
        same 404 as a missing one, whatever the method."""
        super().load_objects()
        if "catalog_id" in self.kwargs:
            self.get_catalog()
        if "source_id" in self.kwargs:
            self.get_source()
        if "run_id" in self.kwargs:
            self.get_run()

    def get_source(self) -> ProductSource:
        if not hasattr(self, "_source"):
            try:
                self._source = selectors.source_get(
                    tenant=self.tenant, source_id=self.kwargs["source_id"]
                )
            except ProductSource.DoesNotExist as exc:
                raise Http404("No such product source.") from exc
        return self._source

    def get_run(self) -> FeedRun:
        if not hasattr(self, "_run"):
            try:
                self._run = selectors.run_get(tenant=self.tenant, run_id=self.kwargs["run_id"])
            except FeedRun.DoesNotExist as exc:
                raise Http404("No such run.") from exc
        return self._run

    def run_url(self, run: FeedRun) -> str:
        return reverse(
            "feeds:run_detail", kwargs={"tenant_slug": self.tenant.slug, "run_id": run.pk}
        )


class SourceListView(FeedsMixin, TemplateView):
    """Every product source of the tenant, grouped by catalog."""

    template_name = "feeds/source_list.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["sources"] = selectors.source_list(tenant=self.tenant)
        ctx["catalogs"] = catalog_list(tenant=self.tenant)
        ctx["can_manage"] = self.can(Perm.MANAGE_SOURCES)
        return ctx


class CatalogSourcesView(FeedsMixin, TemplateView):
    """The Product Sources tab of a catalog: sources, freshness, and a form to add one."""

    template_name = "feeds/catalog_sources.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        catalog = self.get_catalog()
        ctx.update(
            catalog=catalog,
            sources=selectors.source_list(tenant=self.tenant, catalog=catalog),
            form=kwargs.get("form") or SourceForm(time_zone=self.tenant.time_zone),
            can_manage=self.can(Perm.MANAGE_SOURCES),
            show_form=bool(kwargs.get("form")) or self.request.GET.get("new") == "1",
        )
        return ctx

    def post(self, request, *args, **kwargs):
        catalog = self.get_catalog()
        form = SourceForm(request.POST, time_zone=self.tenant.time_zone)
        if form.is_valid():
            data = {f: form.cleaned_data[f] for f in SourceForm.Meta.fields}
            try:
                source = services.source_create(
                    tenant=self.tenant,
                    catalog=catalog,
                    actor=request.user,
                    data=data,
                    password=form.cleaned_data["password"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Product source “{source.name}” added.")
                return redirect(
                    "feeds:catalog_sources", tenant_slug=self.tenant.slug, catalog_id=catalog.pk
                )
        return self.render_to_response(self.get_context_data(form=form))


class SourceDetailView(FeedsMixin, TemplateView):
    """One source: its settings (editable) and its run history."""

    template_name = "feeds/source_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        source = self.get_source()
        history = selectors.run_history(
            tenant=self.tenant, source=source, cursor=self.request.GET.get("cursor")
        )
        ctx.update(
            source=source,
            catalog=source.catalog,
            form=kwargs.get("form") or SourceForm(instance=source, time_zone=self.tenant.time_zone),
            page=history,
            base_query="",
            can_manage=self.can(Perm.MANAGE_SOURCES),
            refresh_form=RefreshForm(),
            upload_form=UploadForm(),
        )
        return ctx

    def post(self, request, *args, **kwargs):
        source = self.get_source()
        if "delete" in request.POST:
            services.source_delete(tenant=self.tenant, source=source, actor=request.user)
            messages.success(request, f"Product source “{source.name}” deleted.")
            return redirect(
                "feeds:catalog_sources", tenant_slug=self.tenant.slug, catalog_id=source.catalog_id
            )
        form = SourceForm(
            request.POST, instance=ProductSource(pk=source.pk), time_zone=self.tenant.time_zone
        )
        if form.is_valid():
            data = {f: form.cleaned_data[f] for f in SourceForm.Meta.fields}
            try:
                services.source_update(
                    tenant=self.tenant,
                    source=source,
                    actor=request.user,
                    data=data,
                    password=form.cleaned_data["password"] or None,
                    clear_password=form.cleaned_data["clear_password"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Product source saved.")
                return redirect(
                    "feeds:source_detail", tenant_slug=self.tenant.slug, source_id=source.pk
                )
        return self.render_to_response(self.get_context_data(form=form))


class SourceRefreshView(FeedsMixin, TemplateView):
    """Request Data Now. GET asks for the password when one is needed; POST starts the run
    (or shows the one already queued/running)."""

    template_name = "feeds/source_refresh.html"
    permission = Perm.MANAGE_SOURCES

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        source = self.get_source()
        ctx.update(
            source=source,
            catalog=source.catalog,
            form=kwargs.get("form") or RefreshForm(),
            active=FeedRun.objects.for_tenant(self.tenant).active().filter(source=source).first(),
        )
        return ctx

    def post(self, request, *args, **kwargs):
        source = self.get_source()
        if source.kind != SourceKind.URL:
            messages.error(request, "This source has no URL to pull; upload a file instead.")
            return redirect(
                "feeds:source_detail", tenant_slug=self.tenant.slug, source_id=source.pk
            )
        form = RefreshForm(request.POST)
        form.is_valid()
        password = form.cleaned_data.get("password", "")
        if selectors.refresh_needs_password(tenant=self.tenant, source=source, password=password):
            form.add_error("password", "This feed needs its password.")
            return self.render_to_response(self.get_context_data(form=form))
        try:
            run, created = services.feed_run_request(
                tenant=self.tenant,
                source=source,
                actor=request.user,
                trigger=Trigger.MANUAL,
                password=password,
                remember=form.cleaned_data.get("remember", False),
                force=form.cleaned_data.get("force", False),
            )
        except services.WrongPasswordLimited as exc:
            form.add_error("password" if source.needs_password_prompt else None, str(exc))
            return self.render_to_response(self.get_context_data(form=form))
        except services.RefreshRateLimited as exc:
            messages.warning(request, str(exc))
            return redirect(self._back(source, request.POST.get("next")))
        run.refresh_from_db()
        if run.status == RunStatus.FAILED and run.error_code == "queue":
            messages.error(request, run.error_message)
        elif created:
            messages.success(request, f"Data requested for “{source.name}”.")
        else:
            messages.info(request, "A run of this source is already in progress; here it is.")
        return redirect(self.run_url(run))

    def _back(self, source: ProductSource, next_url: str | None = None) -> str:
        """The page the click came from when it is one of this site's, else the catalog's
        sources tab: a posted ``next`` never leads off the site."""
        if next_url and url_has_allowed_host_and_scheme(
            next_url,
            allowed_hosts={self.request.get_host()},
            require_https=self.request.is_secure(),
        ):
            return next_url
        return reverse(
            "feeds:catalog_sources",
            kwargs={"tenant_slug": self.tenant.slug, "catalog_id": source.catalog_id},
        )


class SourceUploadView(FeedsMixin, View):
    """Upload a feed file to a source (streamed to disk, then the normal pipeline)."""

    permission = Perm.MANAGE_SOURCES

    def post(self, request, *args, **kwargs):
        source = self.get_source()
        form = UploadForm(request.POST, request.FILES)
        if not form.is_valid():
            messages.error(request, _upload_problem(request.FILES.get("file")))
            return redirect(
                "feeds:source_detail", tenant_slug=self.tenant.slug, source_id=source.pk
            )
        run, created = services.feed_run_upload(
            tenant=self.tenant,
            source=source,
            actor=request.user,
            uploaded=form.cleaned_data["file"],
        )
        if not created:
            messages.info(request, "A run of this source is already in progress; here it is.")
        return redirect(self.run_url(run))

    def get(self, request, *args, **kwargs):
        source = self.get_source()
        return redirect("feeds:source_detail", tenant_slug=self.tenant.slug, source_id=source.pk)


def _upload_problem(uploaded) -> str:
    """What to do about an upload the form refused: none chosen, or an empty file."""
    if uploaded is not None and not uploaded.size:
        return f"The file “{uploaded.name}” is empty; choose the feed file and upload it again."
    return "Choose a feed file to upload."


class RunDetailView(FeedsMixin, TemplateView):
    """A run: live progress while active, then counts, durations, row errors and the diff."""

    template_name = "feeds/run_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        run = self.get_run()
        kind = self.request.GET.get("kind") or ""
        if kind not in ChangeKind.values:
            kind = ""
        changes = selectors.run_changes_page(
            tenant=self.tenant,
            run=run,
            kind=kind or None,
            cursor=self.request.GET.get("cursor"),
            size=DIFF_PRODUCTS_PER_PAGE,
        )
        errors = selectors.run_row_errors_page(
            tenant=self.tenant, run=run, cursor=self.request.GET.get("ecursor"), size=50
        )
        diff = []
        for ch in changes.rows:
            rows = field_changes(ch.changes)
            diff.append((ch, rows[:DIFF_FIELDS_SHOWN], rows[DIFF_FIELDS_SHOWN:]))
        failed = run.status == RunStatus.FAILED
        durations = sorted(run.durations.items(), key=lambda kv: _PHASE_ORDER.get(kv[0], 9))
        ctx.update(
            run=run,
            catalog=run.catalog,
            source=run.source,
            progress=selectors.run_progress(run),
            page=changes,
            diff=diff,
            kind=kind,
            kinds=ChangeKind.choices,
            base_query=f"kind={kind}" if kind else "",
            errors=errors,
            durations=durations,
            can_manage=self.can(Perm.MANAGE_SOURCES),
            # a failed run shows its error, not empty panels
            show_counts=not failed or bool(run.received),
            show_details=not failed or bool(durations) or bool(errors.rows),
            show_changes=not failed or bool(changes.rows) or bool(kind),
            details_days=(
                services.feed_settings().run_details_days if run.details_deleted_at else None
            ),
        )
        return ctx


# A long diff stays readable: products per page, and fields shown before "N more fields".
DIFF_PRODUCTS_PER_PAGE = 20
DIFF_FIELDS_SHOWN = 3


_PHASE_ORDER = {"fetching": 0, "parsing": 1, "validating": 2, "applying": 3, "reviewing": 4}


class RunProgressView(FeedsMixin, View):
    """The small JSON the run page polls."""

    def get(self, request, *args, **kwargs):
        return JsonResponse(selectors.run_progress(self.get_run()))


class RunErrorsCsvView(FeedsMixin, View):
    """Row errors as CSV, streamed; cells that a spreadsheet would evaluate are neutralised."""

    def get(self, request, *args, **kwargs):
        run = self.get_run()
        rows = (
            selectors.run_row_errors(tenant=self.tenant, run=run)
            .values_list("line", "sku", "field", "severity", "message")
            .iterator(chunk_size=2000)
        )
        return csv_download(f"run-{run.pk}-row-errors.csv", ROW_ERROR_HEADER, rows)


class RunChangesCsvView(FeedsMixin, View):
    """Every change of a run as CSV (field, old, new), streamed, cells neutralised."""

    def get(self, request, *args, **kwargs):
        run = self.get_run()
        changes = (
            selectors.run_changes(tenant=self.tenant, run=run)
            .values_list("kind", "sku", "changes")
            .iterator(chunk_size=2000)
        )
        rows = (
            (kind, sku, fc.field, fc.old or "", fc.new or "")
            for kind, sku, data in changes
            for fc in (field_changes(data) or [FieldChange("", None, None)])
        )
        return csv_download(f"run-{run.pk}-changes.csv", CHANGES_CSV_HEADER, rows)


class RunConfirmView(FeedsMixin, View):
    """Confirm (apply) or discard a run held because it would remove many products."""

    permission = Perm.MANAGE_SOURCES

    def post(self, request, *args, **kwargs):
        run = self.get_run()
        try:
            if request.POST.get("action") == "discard":
                services.feed_run_cancel(tenant=self.tenant, run=run, actor=request.user)
                messages.info(request, "The run was discarded; the catalog is unchanged.")
            else:
                services.feed_run_confirm(
                    tenant=self.tenant,
                    run=run,
                    actor=request.user,
                    removal_digest=request.POST.get("removal_digest"),
                )
                run.refresh_from_db()
                if run.error_code == "queue":  # still held: the page says why
                    messages.error(request, "The confirmation could not be queued.")
                else:
                    messages.success(request, "Confirmed: the run is applying the feed.")
        except services.RunNotConfirmable as exc:
            messages.error(request, str(exc))
        return redirect(self.run_url(run))

    def get(self, request, *args, **kwargs):
        return redirect(self.run_url(self.get_run()))
