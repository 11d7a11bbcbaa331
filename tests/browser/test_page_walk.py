"""Every page of the app, in a real browser, for each role, plus Django admin for staff and the
API docs (/api/docs/, /api/redoc/): none may log a console error (CSP violations and failed
same-origin loads included), throw, load a same-origin resource that fails, or show an empty
required control (a <select> without options, a required <select> without a real choice), or
lack an icon (the browser then asks for /favicon.ico, a 404 Playwright does not report).

Pages come from the URL resolver (tests/urlwalk.py), so a new page is walked without editing
this file. Images from feeds point at other hosts; the browser gets a blank image for them
instead of going to the network.
"""

from __future__ import annotations

import base64

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Page

from catalog_health.tenancy.roles import Role
from catalogs.models import ColumnMappingPreset
from catalogs.order_uploads import order_upload_create
from catalogs.tests.export_samples import tiktok_csv, tiktok_row
from catalogs.tests.factories import CatalogFactory, ProductFactory
from catalogs.tests.order_factories import DailyImpressionFactory, OrderFactory
from channels.tests.factories import ChannelFeedFactory
from ecr.tests.factories import ProductIssueFactory
from feeds.tests.factories import FeedRowErrorFactory, FeedRunFactory, ProductSourceFactory
from flagged.tests.factories import FlagStateFactory
from tests.urlwalk import tenant_routes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
ROLES = [Role.OWNER, Role.ADMIN, Role.ADVERTISER, Role.SELLER, Role.VIEWER]

# Collects CSP violations the page reports (besides the console message Chromium logs).
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});
"""

# Empty required controls: a select with no option, a required select with no real choice
# (Django admin's multiple-choice, autocomplete and template-row selects start empty by design).
EMPTY_CONTROLS = """
() => Array.from(document.querySelectorAll('select')).filter((s) =>
  !s.multiple &&  // a multiple choice may rightly start with nothing chosen
  !s.hasAttribute('data-ajax--url') &&  // admin autocomplete: options come as you type
  !(s.name || '').includes('__prefix__') &&  // admin's template row for "add another"
  (s.options.length === 0 || (s.required && !Array.from(s.options).some((o) => o.value !== '')))
).map((s) => s.name || s.id || s.getAttribute('aria-label') || s.outerHTML.slice(0, 80))
"""


class Watch:
    """What went wrong on the current page."""

    def __init__(self, page: Page, origin: str):
        self.page, self.origin = page, origin
        self.problems: list[str] = []
        page.add_init_script(CSP_LISTENER)
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"uncaught: {exc}"))
        page.on("response", self._response)
        page.route(lambda url: not url.startswith(origin), self._elsewhere)

    def _elsewhere(self, route):
        route.fulfill(status=200, content_type="image/png", body=PNG)

    def _console(self, msg):
        # failed loads are reported with their URL by _response (a role's 403 page is fine)
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            self.problems.append(f"console: {msg.text}")

    def _response(self, response):
        if (
            response.url.startswith(self.origin)
            and response.status >= 400
            and response.request.resource_type != "document"  # the page itself: see visit()
        ):
            self.problems.append(f"{response.status} {response.url}")

    def visit(self, url: str, *, expect: int = 200, ready: str | None = None) -> list[str]:
        """Open the page; `expect` 403 for a page the role may not use (the 403 page itself
        must then work like any other)."""
        self.problems = []
        response = self.page.goto(url)
        self.page.wait_for_load_state("networkidle")
        if ready:
            self.page.wait_for_selector(ready, timeout=15_000)
        problems = list(self.problems)
        if response is None or response.status != expect:
            problems.append(f"page answered {response.status if response else 'nothing'}")
        violations = self.page.evaluate("window.__cspViolations || []")
        problems += [f"CSP: {v}" for v in violations]
        problems += [f"empty control: {c}" for c in self.page.evaluate(EMPTY_CONTROLS)]
        icon = self.page.evaluate("document.querySelector('link[rel~=icon]')?.href || null")
        if icon is None:
            problems.append("no icon: the browser asks for /favicon.ico")
        elif icon.startswith(self.origin) and (status := self.page.request.get(icon).status) >= 400:
            problems.append(f"icon {status} {icon}")
        return problems


def report(failures: dict[str, list[str]]) -> str:
    return "\n" + "\n".join(f"{url}: {' | '.join(p)}" for url, p in failures.items())


@pytest.fixture
def shop(tenant_a, member, live_server):
    catalog = CatalogFactory(tenant=tenant_a, name="Main store")
    products = ProductFactory.create_batch(3, catalog=catalog)
    # a link review flags as not an image, on this server as the demo's are: never requested
    ProductFactory(catalog=catalog, image_link=f"{live_server.url}/static/demo/spec-sheet.pdf")
    OrderFactory(product=products[0], shipped_at=None, tracking_number="")
    DailyImpressionFactory(product=products[0])
    ProductIssueFactory(product=products[1])
    FlagStateFactory(product=products[0])
    source = ProductSourceFactory(catalog=catalog, name="Main feed")
    run = FeedRunFactory(source=source, status="succeeded")
    FeedRowErrorFactory(run=run)
    users = {}
    for role in ROLES:
        user = member(tenant_a, role, username=f"walk-{role}")
        user.set_password("walk-pass-1")
        user.save()
        users[role] = user
    upload = order_upload_create(
        tenant=tenant_a,
        catalog=catalog,
        actor=users[Role.OWNER],
        data=tiktok_csv(tiktok_row(seller_sku=products[0].sku)),
        filename="tiktok-orders.csv",
        kind="orders",
    )
    preset = ColumnMappingPreset.objects.create(
        tenant=tenant_a,
        kind="orders",
        name="Marketplace X",
        header=["a"],
        columns={"order_id": "a"},
    )
    feed = ChannelFeedFactory(catalog=catalog)
    return {
        "users": users,
        "kwargs": {
            "tenant_slug": tenant_a.slug,
            "catalog_id": catalog.pk,
            "product_id": products[0].pk,
            "source_id": source.pk,
            "run_id": run.pk,
            "upload_id": upload.pk,
            "preset_id": preset.pk,
            "feed_id": feed.pk,
        },
    }


def html_pages(user, kwargs: dict) -> list[tuple[str, int]]:
    """Every tenant page that answers this user with HTML (not a CSV or JSON), with its status:
    200, or 403 for a page the user's role may not use."""
    client = Client()
    client.force_login(user)
    urls = []
    for route in tenant_routes():
        missing = set(route.kwargs) - kwargs.keys()
        assert not missing, f"{route.name}: the walk has no value for {missing}"
        url = reverse(route.name, kwargs={k: kwargs[k] for k in route.kwargs})
        response = client.get(url)
        if response.status_code in (301, 302):  # where it leads is walked too
            continue
        if response.status_code == 405:  # an action (POST only), not a page
            continue
        if "text/html" in response.get("Content-Type", "") and not getattr(
            response, "streaming", False
        ):
            assert response.status_code in (200, 403), (url, response.status_code)
            urls.append((url, response.status_code))
    return urls


@pytest.mark.parametrize("role", ROLES)
def test_every_page_works_for_each_role(page, live_server, login, shop, role):
    urls = [("/tenants/", 200), *html_pages(shop["users"][role], shop["kwargs"])]
    assert len(urls) >= 18
    login(f"walk-{role}", "walk-pass-1")
    watch = Watch(page, live_server.url)
    failures = {}
    for url, status in urls:
        if problems := watch.visit(live_server.url + url, expect=status):
            failures[url] = problems
    assert not failures, report(failures)


def test_login_page_and_api_docs_work(page, live_server, login, shop, screenshot):
    watch = Watch(page, live_server.url)
    assert not watch.visit(live_server.url + "/accounts/login/")
    login("walk-owner", "walk-pass-1")
    # Swagger UI under script-src 'self': the operations are listed, not a blank page
    problems = watch.visit(live_server.url + "/api/docs/", ready=".opblock")
    screenshot("walk-api-docs", full_page=False)
    assert not problems, problems
    assert page.locator(".opblock").count() >= 20
    problems = watch.visit(live_server.url + "/api/redoc/", ready=".menu-content")
    screenshot("walk-api-redoc", full_page=False)
    assert not problems, problems


def test_every_admin_page_works_for_staff(page, live_server, login, shop, user_factory):
    staff = user_factory("walk-staff", is_staff=True, is_superuser=True)
    staff.set_password("walk-pass-1")
    staff.save()
    urls = ["/admin/"]
    for model in admin.site._registry:
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls.append(reverse(f"{name}_changelist"))
        if admin.site._registry[model].has_add_permission(_request_for(staff)):
            urls.append(reverse(f"{name}_add"))
    login("walk-staff", "walk-pass-1")
    watch = Watch(page, live_server.url)
    failures = {}
    for url in urls:
        if problems := watch.visit(live_server.url + url):
            failures[url] = problems
    assert not failures, report(failures)
    assert len(urls) >= 10


def _request_for(user):
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = user
    return request
