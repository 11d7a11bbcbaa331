"""An empty Flagged products list says why it is empty: nothing flagged at all, nothing in this
status (good news, said as such), or nothing matching the search, with a way back."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from catalog_health.tenancy.roles import Role
from catalogs.tests.factories import CatalogFactory, ProductFactory
from flagged.scoring import FlagStatus

from .factories import FlagStateFactory

pytestmark = pytest.mark.django_db


def empty_row(client, tenant, **params) -> tuple[str, str]:
    """The empty row's text and the href of its link ('' without one)."""
    url = reverse("flagged:flagged_list", kwargs={"tenant_slug": tenant.slug})
    html = client.get(url, params).content.decode()
    found = re.search(r'<tr id="flagged-empty"><td[^>]*>(.*?)</td></tr>', html, re.S)
    assert found, "no empty row"
    cell = found.group(1)
    link = re.search(r'href="([^"]*)"', cell)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip(), (
        link.group(1).replace("&amp;", "&") if link else ""
    )


@pytest.fixture
def seller(client, member, tenant_a):
    client.force_login(member(tenant_a, Role.SELLER))
    return client


def test_nothing_flagged_yet_says_when_products_appear(seller, tenant_a):
    text, link = empty_row(seller, tenant_a)
    assert text.startswith("No product is flagged.")
    assert "scoring runs hourly" in text
    assert link == ""


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("impacted", "No product is Impacted."),
        ("at_risk", "No product is At risk."),
        ("resolved", "No product was Resolved in the last 14 days."),
    ],
)
def test_an_empty_status_tab_says_so(seller, tenant_a, status, expected):
    catalog = CatalogFactory(tenant=tenant_a)
    others = {"impacted": FlagStatus.AT_RISK, "at_risk": FlagStatus.RESOLVED}
    FlagStateFactory(
        product=ProductFactory(catalog=catalog), status=others.get(status, FlagStatus.IMPACTED)
    )
    text, link = empty_row(seller, tenant_a, status=status)
    assert text == expected
    assert link == ""


def test_a_search_that_finds_nothing_offers_to_clear_it(seller, tenant_a):
    catalog = CatalogFactory(tenant=tenant_a)
    FlagStateFactory(product=ProductFactory(catalog=catalog, sku="MUG-1"))
    text, link = empty_row(
        seller, tenant_a, status="impacted", q="kettle", reason="late_dispatch_rate", sort="since"
    )
    assert text == "No Impacted product matches this search. Clear the search and reason"
    # back to the same tab and sort, without the search and the reason
    assert link == "?status=impacted&sort=since"
    url = reverse("flagged:flagged_list", kwargs={"tenant_slug": tenant_a.slug})
    assert "MUG-1" in seller.get(url + link).content.decode()
