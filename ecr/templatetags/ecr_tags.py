"""`{% ecr_banner catalog %}`: the ECR-disabled banner every page of a catalog shows."""

from django import template

from catalog_health.shares import share_text
from ecr import selectors, services, state
from ecr.models import ProductIssue, ReviewSettings

register = template.Library()


@register.inclusion_tag("ecr/_banner.html", takes_context=True)
def ecr_banner(context, catalog=None):
    """Renders nothing while ECR is on; when it is off, the ratio against the thresholds,
    the Unavailable count and a link to Diagnostics. Two small queries, only when off."""
    request = context.get("request")
    tenant = getattr(request, "tenant", None)
    catalog_id = getattr(catalog, "pk", None) or (
        request.resolver_match.kwargs.get("catalog_id")
        if request and request.resolver_match
        else None
    )
    if tenant is None or catalog_id is None:
        return {"ecr": None}
    ecr = selectors.banner_for(tenant=tenant, catalog_id=catalog_id)
    if ecr is None:
        return {"ecr": None}
    t = services.thresholds_for(ecr=ecr, settings=ReviewSettings.current())
    return {
        "ecr": ecr,
        "thresholds": t,
        "tenant": tenant,
        "to_fix": state.fixes_to_enable(
            available=ecr.available_count, active=ecr.active_count, thresholds=t
        ),
    }


@register.filter
def pct(value, digits: int = 1) -> str:
    """0.753 -> "75.3%"; thresholds 0.800 -> "80%"; None -> "—". Rounded down
    (catalog_health.shares): 0.7998 is 79.9%, not the 80% it missed."""
    return share_text(value, int(digits))


@register.filter
def duration(seconds) -> str:
    """Seconds as ``3 s`` / ``4 min`` / ``2.5 h`` / ``3.1 d``."""
    from ecr.charts import human_duration

    return human_duration(seconds)


@register.inclusion_tag("ecr/_product_issues.html", takes_context=True)
def product_issues(context, product):
    """The review issues of one product (product page): one query."""
    request = context.get("request")
    tenant = getattr(request, "tenant", None)
    if tenant is None or product is None:
        return {"issues": [], "product": product}
    return {
        "issues": list(
            ProductIssue.objects.for_tenant(tenant)
            .filter(product_id=product.pk)
            .order_by("severity", "code")
        ),
        "product": product,
    }
