"""Flagged products tab, its CSV export and the View details page. Views parse input, call
selectors, render."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from catalog_health.csv_export import csv_download, stamped_filename
from catalog_health.page_filters import filter_refusals, valid_filters
from catalog_health.tenancy.roles import Perm
from catalog_health.tenancy.views import TenantViewMixin
from catalogs.models import Catalog, Product

from . import selectors
from .charts import impressions_figure
from .forms import FlaggedFilterForm
from .models import FlagState
from .scoring import (
    METRICS,
    STATUS_LABELS,
    Counts,
    FlagStatus,
    Level,
    Metric,
    MetricResult,
    Policy,
    ReviewTarget,
    classify,
    rate_text,
    threshold_text,
)
from .services import effective_policies, resolved_days

EXPORT_COLUMNS = ["sku", "title", "catalog", "status", "since", "reasons", "product_id"]


def _filters(request) -> tuple[FlaggedFilterForm, dict]:
    form = FlaggedFilterForm(request.GET or None)
    return form, valid_filters(form)


REMOVED_LABEL = "Removed from the catalog"
REASON_LEVELS = {Level.IMPACTED: "Impacted", Level.AT_RISK: "At risk"}


@dataclass(frozen=True)
class LateShipping:
    """What shipping a product's overdue orders now does to its late dispatch rate."""

    orders: int
    before: Counts
    after: Counts
    level_after: Level
    counted_after: bool  # enough shipped orders for the metric to count
    policy: Policy

    @property
    def before_text(self) -> str:
        return (
            rate_text(self.before, self.policy) if self.before.denominator else "no shipped orders"
        )

    @property
    def after_text(self) -> str:
        return rate_text(self.after, self.policy)

    @property
    def target_text(self) -> str:
        return threshold_text(self.policy.target)

    @property
    def outcome(self) -> str:
        if not self.counted_after:
            return "still too few shipped orders to count"
        return {
            Level.IMPACTED: "misses its target: the product would be Impacted for late dispatch",
            Level.AT_RISK: "is close to its target: the product would be At risk for late dispatch",
        }.get(self.level_after, "still meets its target")


def late_shipping_preview(
    results: list[MetricResult], *, in_catalog: bool = True
) -> LateShipping | None:
    """An overdue unshipped order shipped today ships after its ship-by date: it leaves the
    overdue count and joins the late dispatch one (both over the orders placed in the window).
    None when nothing is overdue or either metric is off, and for a product a feed removed
    from its catalog: it is not scored, so shipping changes nothing of its standing."""
    if not in_catalog:
        return None
    by_metric = {r.metric: r for r in results}
    overdue = by_metric.get(Metric.OVERDUE_UNSHIPPED)
    late = by_metric.get(Metric.LATE_DISPATCH)
    if overdue is None or late is None or not late.policy.enabled:
        return None
    n = overdue.counts.numerator
    if n == 0:
        return None
    after = Counts(late.counts.numerator + n, late.counts.denominator + n)
    return LateShipping(
        orders=n,
        before=late.counts,
        after=after,
        level_after=classify(after, late.policy),
        counted_after=after.denominator >= late.policy.min_orders,
        policy=late.policy,
    )


def reason_levels(levels: list[int], reasons: list[str]) -> list[tuple[str, str]]:
    """Each reason with the level it brings: [("Impacted", "Overdue unshipped rate 12% …"),
    ("At risk", "Late dispatch rate 3% …")]. `levels` are the row's metric levels in metric
    order; the reasons come worst first (selectors.state_reasons), so the flagged levels sorted
    worst first pair with them one to one."""
    flagged = sorted((lv for lv in levels if lv > Level.OK), reverse=True)
    return [
        (REASON_LEVELS.get(Level(lv), ""), text) for lv, text in zip(flagged, reasons, strict=False)
    ]


class FlaggedListView(TenantViewMixin, TemplateView):
    """The Flagged products tab: counters, status tabs, reason filter, search, sort, pages."""

    template_name = "flagged/flagged_list.html"
    permission = Perm.VIEW

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        form, filters = _filters(self.request)
        page = selectors.flagged_page(
            tenant=self.tenant,
            filters=filters,
            cursor=self.request.GET.get("cursor"),
            sort=filters.get("sort") or "-since",
            size=filters.get("size") or 50,
        )
        policies = effective_policies(tenant=self.tenant)
        query = self.request.GET.copy()
        query.pop("cursor", None)
        status_query = query.copy()
        status_query.pop("status", None)
        all_catalogs = query.copy()
        all_catalogs.pop("catalog", None)
        # the empty list's way back: the same tab, sort and catalog without search and reason
        clear_search = query.copy()
        for key in ("q", "reason"):
            clear_search.pop(key, None)
        catalog = None
        if filters.get("catalog"):
            catalog = self.scoped(Catalog).filter(pk=filters["catalog"]).only("name").first()
        rows = selectors.tab_rows(
            tenant=self.tenant,
            page=page,
            policies=policies,
            today=timezone.localdate(timezone=ZoneInfo(self.tenant.time_zone)),
        )
        searched = bool(filters.get("q") or filters.get("reason"))
        ctx.update(
            filter_form=form,
            filter_refusals=filter_refusals(form),
            status=filters.get("status") or "",
            counters=selectors.flag_counters(
                tenant=self.tenant, catalog_id=filters.get("catalog") or None
            ),
            empty_text=selectors.tab_empty_text(
                status=filters.get("status") or "", searched=searched
            ),
            clear_search_query=clear_search.urlencode() if searched else None,
            page=page,
            rows=rows,
            rows_with_reasons=[
                (r, reason_levels([r.state.level(m) for m in METRICS], r.reasons)) for r in rows
            ],
            base_query=query.urlencode(),
            status_query=status_query.urlencode(),
            catalog_filter=catalog,
            catalog_id=filters.get("catalog") or "",
            all_catalogs_query=all_catalogs.urlencode(),
            resolved_days=resolved_days(),
        )
        return ctx


class FlaggedExportView(TenantViewMixin, View):
    """CSV of every product matching the tab's filters; cells are formula-injection safe."""

    permission = Perm.VIEW

    def get(self, request, *args, **kwargs):
        _, filters = _filters(request)
        tz = ZoneInfo(self.tenant.time_zone)  # the time the tab shows, with its offset
        rows = (
            [
                state.product.sku,
                state.product.title,
                state.product.catalog.name,
                STATUS_LABELS[FlagStatus(state.status)],
                state.status_since.astimezone(tz).isoformat(timespec="seconds"),
                "; ".join(reasons),
                state.product.pk,
            ]
            for state, reasons in selectors.flagged_export_rows(
                tenant=self.tenant, filters=filters, sort=filters.get("sort")
            )
        )
        tenant = self.tenant
        filename = stamped_filename(f"flagged-products-{tenant.slug}", time_zone=tenant.time_zone)
        return csv_download(filename, EXPORT_COLUMNS, rows)


class FlaggedDetailView(TenantViewMixin, TemplateView):
    """View details: metrics vs targets with the orders that count, impressions graph,
    transition history and one Review button per reason."""

    template_name = "flagged/flagged_detail.html"
    permission = Perm.VIEW

    def load_objects(self) -> None:
        super().load_objects()
        self.product = (
            self.scoped(Product)
            .select_related("catalog")
            .filter(pk=self.kwargs["product_id"])
            .first()
        )
        if self.product is None:
            raise Http404("No such product.")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        product = self.product
        now = timezone.now()
        state = self.scoped(FlagState).filter(product=product).first()
        policies = effective_policies(tenant=self.tenant)
        results = selectors.product_metrics(tenant=self.tenant, product=product, now=now)
        orders = selectors.counting_orders(
            tenant=self.tenant, product=product, results=results, now=now
        )
        transitions = selectors.product_transitions(tenant=self.tenant, product=product)
        tz = ZoneInfo(self.tenant.time_zone)
        points = selectors.impression_series(
            tenant=self.tenant, product=product, today=now.astimezone(tz).date()
        )
        figure = impressions_figure(
            points,
            selectors.transition_points(transitions, policies),
            until=now,
            tz=tz,  # the times the history table shows
            # Plotly reads a few HTML tags in titles: the sku is data, so escape it.
            title=f"Daily impressions of {html.escape(product.sku)}",
        )
        slug = self.tenant.slug
        metrics = []
        for r in results:
            metrics.append(
                {
                    "result": r,
                    "definition": METRICS[r.metric],
                    "orders": orders.get(r.metric, []),
                    "review_url": self._review_url(r.metric, product, slug),
                    "review_label": selectors.REVIEW_LABELS[METRICS[r.metric].review],
                    "flagged": r.level > Level.OK,
                    "level_label": {
                        Level.OK: "OK",
                        Level.AT_RISK: "At risk",
                        Level.IMPACTED: "Misses target",
                    }[r.level],
                    "value_text": rate_text(r.counts, r.policy) if r.counts.denominator else "—",
                    "target_text": threshold_text(r.policy.target),
                    "at_risk_text": threshold_text(r.policy.at_risk_threshold),
                    "evaluated": r.policy.enabled and r.counts.denominator >= r.policy.min_orders,
                }
            )
        ctx.update(
            product=product,
            state=state,
            status_label=self._status_label(product, state),
            removed=not product.is_active,
            metrics=metrics,
            history=[
                {
                    "t": t,
                    "from": STATUS_LABELS[FlagStatus(t.from_status)],
                    "to": STATUS_LABELS[FlagStatus(t.to_status)],
                    "reasons": selectors.state_reasons(
                        t, selectors.transition_policies(t, policies)
                    ),
                }
                for t in transitions
            ],
            late_shipping=late_shipping_preview(results, in_catalog=product.is_active),
            figure_json=json.loads(figure.to_json()),
            has_impressions=bool(points),
        )
        return ctx

    @staticmethod
    def _status_label(product: Product, state: FlagState | None) -> str:
        if not product.is_active:
            return REMOVED_LABEL
        return STATUS_LABELS[FlagStatus(state.status)] if state else "Not flagged"

    @staticmethod
    def _review_url(metric, product, slug) -> str:
        target = METRICS[metric].review
        product_url = reverse(
            "catalogs:product_detail",
            kwargs={
                "tenant_slug": slug,
                "catalog_id": product.catalog_id,
                "product_id": product.pk,
            },
        )
        orders_url = reverse("catalogs:order_list", kwargs={"tenant_slug": slug})
        if target == ReviewTarget.INVENTORY:
            return f"{product_url}?focus=inventory_quantity#product-edit-form"
        if target == ReviewTarget.SHIPPING_FEE:
            return f"{product_url}?focus=shipping_fee#product-edit-form"
        status = {
            ReviewTarget.OVERDUE_ORDERS: "overdue",
            ReviewTarget.LATE_ORDERS: "late",
            ReviewTarget.SHIPPED_ORDERS: "no_tracking",
        }[target]
        query = urlencode({"status": status, "sku": product.sku, "catalog": product.catalog_id})
        return f"{orders_url}?{query}"
