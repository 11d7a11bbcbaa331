"""{% feed_freshness catalog %}: "last refreshed N hours ago" with a warning when stale."""

from django import template

from feeds.selectors import catalog_freshness

register = template.Library()


@register.inclusion_tag("feeds/_freshness.html", takes_context=True)
def feed_freshness(context, catalog):
    request = context.get("request")
    tenant = getattr(request, "tenant", None)
    if tenant is None or catalog is None:
        return {"freshness": None}
    return {
        "freshness": catalog_freshness(tenant=tenant, catalog=catalog),
        "catalog": catalog,
        "current_tenant": tenant,
    }
