"""The tenant's home page: one line per catalog, each figure linking to the page behind it."""

from django.views.generic import TemplateView

from catalog_health.tenancy.views import TenantViewMixin

from . import selectors


class OverviewView(TenantViewMixin, TemplateView):
    template_name = "overview/home.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        rows = selectors.overview_rows(tenant=self.tenant)
        ctx["rows"] = rows
        ctx["totals"] = {
            "products": sum(r.products for r in rows),
            "impacted": sum(r.impacted for r in rows),
            "at_risk": sum(r.at_risk for r in rows),
            "ecr_off": sum(1 for r in rows if r.ecr_enabled is False),
            "stale": sum(1 for r in rows if r.stale),
        }
        return ctx
