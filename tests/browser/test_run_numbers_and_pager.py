"""Issue 21, item 11 (feeds): a tenant's runs are numbered #1, #2, … whatever other tenants
do, and a list that fits on one page has no "Next page"."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from catalog_health.tenancy.roles import Role
from catalogs.tests.factories import CatalogFactory
from feeds.tests.factories import FeedRunFactory, ProductSourceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_run_numbers_per_tenant_and_no_pager_when_it_fits(
    page, live_server, login, screenshot, member, tenant_a, tenant_b
):
    user = member(tenant_a, Role.ADVERTISER, username="ada")
    user.set_password("pw-ada-1")
    user.save()
    source = ProductSourceFactory(catalog=CatalogFactory(tenant=tenant_a), name="Daily feed")
    other = ProductSourceFactory(catalog=CatalogFactory(tenant=tenant_b))
    first = FeedRunFactory(source=source)
    FeedRunFactory(source=other)  # another tenant's run in between
    second = FeedRunFactory(source=source)
    assert second.pk - first.pk == 2 and (first.number, second.number) == (1, 2)

    login("ada", "pw-ada-1")
    page.goto(f"{live_server.url}/t/{tenant_a.slug}/sources/{source.pk}/")
    history = page.locator("#run-history")
    expect(history.get_by_role("link", name="#1", exact=True)).to_be_visible()
    expect(history.get_by_role("link", name="#2", exact=True)).to_be_visible()
    expect(history.get_by_role("link", name="#3", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Next page")).to_have_count(0)
    expect(page.locator("[data-pager]")).to_have_count(0)
    screenshot("issue21-11-run-numbers")

    history.get_by_role("link", name="#2", exact=True).click()
    expect(page.get_by_role("heading", name="Run #2")).to_be_visible()
    expect(page.get_by_role("link", name="Next page")).to_have_count(0)
