"""Browser: the pages with charts (the ECR tab, View details) load a Plotly bundle of the trace
types they draw (scatter, bar, indicator), not the full 4.8 MB one, and every chart still
draws without a script error. The cold-load timings are written to
test-artifacts/page-weight.json for reading (never asserted: tests do not assert wall-clock).
"""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest

from catalog_health.tenancy.roles import Role
from catalogs.tests.order_factories import DailyImpressionFactory
from ecr import services
from ecr.tests.factories import CatalogFactory, PendingProductFactory
from flagged.scoring import FlagStatus
from flagged.tests.factories import FlagStateFactory

from .conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAX_SCRIPT_BYTES = 2_000_000  # the whole plotly.min.js is 4.8 MB

TIMING_JS = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const scripts = performance.getEntriesByType("resource")
    .filter(r => r.initiatorType === "script")
    .map(r => ({name: r.name.split("/").pop(), bytes: r.decodedBodySize,
                transferred: r.transferSize, ms: Math.round(r.duration)}));
  return {domContentLoaded: Math.round(nav.domContentLoadedEventEnd),
          load: Math.round(nav.loadEventEnd), scripts};
}"""


@pytest.fixture
def advertiser(member, tenant_a, login):
    user = member(tenant_a, Role.ADVERTISER, username="ada")
    user.set_password("advertiser-pass-1")
    user.save()
    return user


def _cold_load(browser, live_server, url: str, name: str, cookies) -> dict:
    """Load `url` in a fresh browser context (empty cache), logged in through `cookies`."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.add_cookies(cookies)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(url, wait_until="load")
    charts = "[data-figure], #impressions-plot"
    page.wait_for_function(
        f"() => [...document.querySelectorAll('{charts}')]"
        ".every(el => el.querySelector('.main-svg'))"
    )
    timing = page.evaluate(TIMING_JS)
    timing["figures"] = page.locator(charts).count()
    timing["errors"] = errors
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()
    return timing


def test_chart_pages_load_a_small_plotly_and_draw(
    browser, page, live_server, login, advertiser, tenant_a
):
    catalog = CatalogFactory(tenant=tenant_a, name="Outlet")
    PendingProductFactory.create_batch(8, catalog=catalog, tenant=tenant_a)
    PendingProductFactory.create_batch(2, catalog=catalog, tenant=tenant_a, price=Decimal("0"))
    services.review_after_feed_run(tenant=tenant_a, catalog=catalog)
    catalog.products.update(image_link="")  # no wait on an unresolvable image host
    product = catalog.products.first()
    for days in range(10):
        DailyImpressionFactory(product=product, date=date.today() - timedelta(days=days))
    FlagStateFactory(product=product, status=FlagStatus.IMPACTED)
    login("ada", "advertiser-pass-1")
    cookies = page.context.cookies()
    base = f"{live_server.url}/t/{tenant_a.slug}"

    results = {
        "ecr_tab": _cold_load(
            browser, live_server, f"{base}/catalogs/{catalog.pk}/ecr/", "weight-ecr-tab", cookies
        ),
        "view_details": _cold_load(
            browser, live_server, f"{base}/flagged/{product.pk}/", "weight-view-details", cookies
        ),
    }
    (ARTIFACTS / "page-weight.json").write_text(json.dumps(results, indent=2))

    ecr, details = results["ecr_tab"], results["view_details"]
    assert ecr["figures"] == 3  # gauge (indicator), ratio over time (scatter), waits (bar)
    assert details["figures"] == 1  # impressions (scatter)
    for timing in (ecr, details):
        assert timing["errors"] == []
        plotly = [s for s in timing["scripts"] if s["name"].startswith("plotly")]
        assert len(plotly) == 1
        assert 0 < plotly[0]["bytes"] < MAX_SCRIPT_BYTES
