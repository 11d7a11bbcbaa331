"""A seller's day on the demo data, at a laptop's width (1280) and a phone's (390).

Every Flagged products and ECR / Diagnostics page fits the screen: a wide table scrolls inside
its card, the page itself never scrolls sideways (on a phone that hid the tab's "View details"
column and the ECR history's "Why" off to the right, with the header and cards shrunk beside
them), and on a phone the Review button of a flagged metric can still be reached and followed.
"""

from __future__ import annotations

import pytest

from catalog_health.tenancy.models import Tenant
from catalogs.models import Catalog
from ecr.models import CatalogEcrState
from flagged.models import FlagState
from flagged.scoring import FlagStatus
from tests.browser.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1280, 390)

# The elements sticking out of the page on the right, each named by its tag, id and class.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const parent = el.parentElement;
    if (el.getBoundingClientRect().right > width + 1 && parent &&
        parent.getBoundingClientRect().right <= width + 1) {
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
               (typeof el.className === 'string' && el.className ? '.' + el.className : ''));
    }
  }
  return {scroll: document.documentElement.scrollWidth, width, out: out.slice(0, 5)};
}"""


def seller_pages(tenant: Tenant) -> dict[str, str]:
    flagged = FlagState.objects.for_tenant(tenant)
    impacted = flagged.filter(status=FlagStatus.IMPACTED).order_by("product_id").first()
    resolved = flagged.filter(status=FlagStatus.RESOLVED).order_by("product_id").first()
    off = CatalogEcrState.objects.for_tenant(tenant).filter(enabled=False).order_by("catalog_id")
    catalog = off.first().catalog_id if off.exists() else Catalog.objects.for_tenant(tenant)[0].pk
    t = f"/t/{tenant.slug}"
    return {
        "overview": f"{t}/overview/",
        "flagged": f"{t}/flagged/",
        "flagged-resolved": f"{t}/flagged/?status=resolved",
        "flagged-none-match": f"{t}/flagged/?q=no-such-product",
        "details-impacted": f"{t}/flagged/{impacted.product_id}/",
        "details-resolved": f"{t}/flagged/{resolved.product_id}/",
        "ecr": f"{t}/catalogs/{catalog}/ecr/",
        "diagnostics": f"{t}/catalogs/{catalog}/diagnostics/",
        "diagnostics-products": f"{t}/catalogs/{catalog}/diagnostics/products/",
        "diagnostics-all": f"{t}/diagnostics/",
    }


def pages_wider_than_the_screen(page, live_server, username, pages, *, prefix) -> dict:
    """Sign in as a demo user, open each page (a full-page screenshot each, named
    prefix.format(name)) and return those the page itself scrolls sideways on."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "catalog-demo")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    wide = {}
    for name, path in pages.items():
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        page.wait_for_load_state()
        page.screenshot(path=str(ARTIFACTS / f"{prefix.format(name)}.png"), full_page=True)
        found = page.evaluate(OVERFLOW)
        if found["scroll"] > found["width"]:
            wide[path] = found
    return wide


@pytest.mark.parametrize("width", WIDTHS)
def test_seller_pages_fit_the_screen(demo, browser, live_server, width):
    acme = Tenant.objects.get(slug="acme")
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)  # the machine is shared: slow, not broken
    try:
        wide = pages_wider_than_the_screen(
            page, live_server, "seller", seller_pages(acme), prefix=f"seller-day-{{}}-{width}"
        )
        assert not wide, wide

        # A graph's legend sits under its x axis, not over the dates or the plot (on a phone it
        # wraps to several rows, which grew upwards over the axis).
        covered = []
        for name in ("ecr", "details-impacted"):
            page.goto(live_server.url + seller_pages(acme)[name])
            page.wait_for_selector(".js-plotly-plot .legend")
            for graph in page.locator(".js-plotly-plot").all():
                if not graph.locator(".legend").count():
                    continue
                legend = graph.locator(".legend").bounding_box()
                for part in (".xtitle", ".xaxislayer-above", "rect.nsewdrag"):
                    if graph.locator(part).count():
                        box = graph.locator(part).first.bounding_box()
                        if legend["y"] < box["y"] + box["height"] - 1:
                            covered.append((name, graph.get_attribute("id"), part))
        assert not covered, covered

        # On a phone too, the flagged metric's Review button is there to follow.
        review = page.locator("#metrics-table a", has_text="Review").first
        review.scroll_into_view_if_needed()
        box = review.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, box
        review.click()
        page.wait_for_load_state()
        assert f"/t/{acme.slug}/" in page.url and "/flagged/" not in page.url, page.url
    finally:
        context.close()


def other_pages(tenant: Tenant) -> dict[str, str]:
    """The rest of a member's pages: catalogs, products, orders, sources, runs, account."""
    from catalogs.models import Product
    from feeds.models import FeedRun, ProductSource

    catalog = Catalog.objects.for_tenant(tenant).order_by("pk").first()
    product = Product.objects.for_tenant(tenant).filter(catalog=catalog).order_by("pk").first()
    source = ProductSource.objects.for_tenant(tenant).order_by("pk").first()
    run = FeedRun.objects.for_tenant(tenant).order_by("pk").first()
    t = f"/t/{tenant.slug}"
    pages = {
        "catalogs": f"{t}/catalogs/",
        "catalog": f"{t}/catalogs/{catalog.pk}/",
        "product": f"{t}/catalogs/{catalog.pk}/products/{product.pk}/",
        "orders": f"{t}/orders/",
        "sources": f"{t}/sources/",
        "members": f"{t}/members/",
        "settings": f"{t}/settings/",
        "account": "/accounts/",
    }
    if source is not None:
        pages["source"] = f"{t}/sources/{source.pk}/"
    if run is not None:
        pages["run"] = f"{t}/runs/{run.pk}/"
    return pages


@pytest.mark.parametrize("width", WIDTHS)
def test_the_other_pages_fit_the_screen(demo, browser, live_server, width):
    acme = Tenant.objects.get(slug="acme")
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        wide = pages_wider_than_the_screen(
            page, live_server, "owner", other_pages(acme), prefix=f"page-{{}}-{width}"
        )
        assert not wide, wide
    finally:
        context.close()
