"""ECR and Diagnostics pages. Views parse input, call a selector or a service, render."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.text import slugify
from django.views import View
from django.views.generic import TemplateView

from catalog_health.csv_export import csv_download
from catalog_health.tenancy.roles import Perm
from catalog_health.tenancy.views import TenantViewMixin
from catalogs.mixins import CatalogFromUrlMixin
from catalogs.models import Catalog

from . import charts, rules, selectors, services
from .models import EcrTrigger, ReviewSettings

PAGE_SIZES = (25, 50, 100, 200)


class EcrCatalogMixin(CatalogFromUrlMixin, TenantViewMixin):
    """Loads the catalog of the URL through the tenant scope (a foreign id is a 404)."""

    def dispatch(self, request, *args, **kwargs):
        # A foreign or missing catalog is a 404 whatever the method or role: never a 405 or
        # 403 that would tell an outsider the id exists.
        if request.tenant is not None and not (
            Catalog.objects.for_tenant(request.tenant).filter(pk=kwargs["catalog_id"]).exists()
        ):
            raise Http404("No such catalog.")
        return super().dispatch(request, *args, **kwargs)

    def ecr_context(self) -> dict:
        catalog = self.get_catalog()
        ecr = services.ecr_state_get(tenant=self.tenant, catalog=catalog)
        applied = services.thresholds_applied_for(ecr=ecr, settings=ReviewSettings.current())
        return {
            "catalog": catalog,
            "ecr": ecr,
            "thresholds": applied.thresholds,
            "thresholds_applied": applied,
        }


class DiagnosticsOverviewView(TenantViewMixin, TemplateView):
    """Every catalog of the tenant with its ECR state and Unavailable count."""

    template_name = "ecr/overview.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        settings = ReviewSettings.current()
        catalogs = list(selectors.catalog_overview(tenant=self.tenant))
        unchecked = selectors.active_counts_unchecked(
            tenant=self.tenant, states={c.pk: getattr(c, "ecr_state", None) for c in catalogs}
        )
        rows = []
        for catalog in catalogs:
            ecr = getattr(catalog, "ecr_state", None)
            thresholds = services.thresholds_for(ecr=ecr, settings=settings)
            rows.append(
                {
                    "catalog": catalog,
                    "ecr": ecr,
                    "thresholds": thresholds,
                    "status": selectors.ecr_status_shown(
                        ecr=ecr,
                        min_products=thresholds.min_products,
                        active_now=unchecked.get(catalog.pk),
                    ),
                }
            )
        ctx["rows"] = rows
        return ctx


class CatalogEcrView(EcrCatalogMixin, TemplateView):
    """Status, gauge, ratio over time with thresholds and events, review-time comparison."""

    template_name = "ecr/catalog_ecr.html"
    permission = Perm.VIEW
    write_permission = Perm.MANAGE_CATALOGS

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(self.ecr_context())
        catalog, ecr, t = ctx["catalog"], ctx["ecr"], ctx["thresholds"]
        events = list(selectors.ecr_events(tenant=self.tenant, catalog=catalog)[:50])
        points = selectors.ratio_history(tenant=self.tenant, catalog=catalog)
        lanes = selectors.lane_timings(tenant=self.tenant, catalog=catalog)
        to_fix = services.ecr_state.fixes_to_enable(
            available=ecr.available_count, active=ecr.active_count, thresholds=t
        )
        unchecked = selectors.active_counts_unchecked(tenant=self.tenant, states={catalog.pk: ecr})
        ctx.update(
            status=selectors.ecr_status_shown(
                ecr=ecr, min_products=t.min_products, active_now=unchecked.get(catalog.pk)
            ),
            events=events,
            lanes=lanes,
            gauge_fig=charts.figure_json(
                charts.gauge_figure(ecr.ratio, disable=float(t.disable), enable=float(t.enable))
            ),
            ratio_fig=charts.figure_json(
                charts.ratio_figure(
                    points,
                    [charts.EventPoint(e.created_at, e.enabled, e.ratio) for e in events],
                    disable=float(t.disable),
                    enable=float(t.enable),
                    now=timezone.now(),
                    tz=ZoneInfo(self.tenant.time_zone),  # the times the history table shows
                )
            ),
            lanes_fig=charts.figure_json(charts.review_time_figure(lanes)),
            to_fix=to_fix,
            enable_advice=services.ecr_state.enable_advice(
                to_fix=to_fix, unavailable=ecr.unavailable_count, pending=ecr.pending_count
            ),
            can_manage=self.can(Perm.MANAGE_CATALOGS),
        )
        return ctx

    def post(self, request, *args, **kwargs):
        catalog = self.get_catalog()
        d = services.ecr_evaluate(
            tenant=self.tenant, catalog=catalog, trigger=EcrTrigger.MANUAL, actor=request.user
        )
        if not d.evaluated:
            messages.info(request, "Checked: the catalog has too few products to be evaluated.")
        elif d.changed:
            messages.warning(request, f"ECR is now {'enabled' if d.enabled else 'disabled'}.")
        else:
            messages.success(request, "Checked: the ECR state is unchanged.")
        return redirect("ecr:catalog_ecr", tenant_slug=self.tenant.slug, catalog_id=catalog.pk)


class CatalogDiagnosticsView(EcrCatalogMixin, TemplateView):
    """Unavailable and warned products grouped by issue code, and the products changed by
    the latest feed runs that now fail ad policy."""

    template_name = "ecr/catalog_diagnostics.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(self.ecr_context())
        d = services.catalog_diagnostics(tenant=self.tenant, catalog=ctx["catalog"], ecr=ctx["ecr"])
        ctx.update(
            counts=d.counts,
            error_groups=d.error_groups,
            warning_groups=d.warning_groups,
            awaiting_review=d.awaiting_review,
            changed=d.changed,
            changed_total=d.changed_total,
            changed_since=d.changed_since,
        )
        return ctx


def _filters(request) -> dict:
    code = request.GET.get("code", "")
    severity = request.GET.get("severity", "")
    return {
        "code": code if code in rules.RULES else "",
        "severity": severity if severity in rules.SEVERITIES else "",
        "q": request.GET.get("q", "")[:100],
        # the Pending products a group shows apart, instead of the reviewed ones it counts
        "awaiting": request.GET.get("awaiting") == "1",
    }


class IssueProductsView(EcrCatalogMixin, TemplateView):
    """Products of one issue group (or all with issues), filterable, keyset paginated."""

    template_name = "ecr/issue_products.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        catalog = self.get_catalog()
        f = _filters(self.request)
        try:
            size = int(self.request.GET.get("size", 50))
        except ValueError:
            size = 50
        size = size if size in PAGE_SIZES else 50
        page = selectors.affected_products_page(
            tenant=self.tenant,
            catalog=catalog,
            code=f["code"],
            severity=f["severity"],
            q=f["q"],
            cursor=self.request.GET.get("cursor"),
            size=size,
            awaiting_review=f["awaiting"],
        )
        query = self.request.GET.copy()
        query.pop("cursor", None)
        export_query = self.request.GET.copy()
        for k in ("cursor", "size", "q"):
            export_query.pop(k, None)
        reviewed_query = query.copy()
        reviewed_query.pop("awaiting", None)
        ctx.update(
            catalog=catalog,
            page=page,
            filters=f,
            size=size,
            page_sizes=PAGE_SIZES,
            rule=rules.RULES.get(f["code"]),
            rule_choices=sorted(rules.RULES.values(), key=lambda r: r.title),
            base_query=query.urlencode(),
            export_query=export_query.urlencode(),
            reviewed_query=reviewed_query.urlencode(),
        )
        return ctx


class DiagnosticsExportView(EcrCatalogMixin, View):
    """CSV of the affected products (one row per issue), safe to open in a spreadsheet."""

    HEADER = [
        "product_id",
        "sku",
        "title",
        "review_status",
        "issue_code",
        "severity",
        "field",
        "message",
        "how_to_fix",
    ]

    def get(self, request, *args, **kwargs):
        catalog = self.get_catalog()
        f = _filters(request)
        rows = selectors.export_rows(
            tenant=self.tenant,
            catalog=catalog,
            code=f["code"],
            severity=f["severity"],
            awaiting_review=f["awaiting"],
        )
        name = slugify(catalog.name) or f"catalog-{catalog.pk}"
        suffix = f"-{f['code']}" if f["code"] else ""
        suffix += "-awaiting-review" if f["awaiting"] else ""
        return csv_download(f"diagnostics-{name}{suffix}.csv", self.HEADER, rows)
