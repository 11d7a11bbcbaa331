"""A list page given a filter value it does not know (a hand-edited link, an old bookmark:
?status=shipped_late where the value is `late`) lists as if that filter were not set, and
says so above the list, naming the value and the ones it takes, on every list page alike.
(The API answers the same link with a 400: tests/test_api_filter_oracles.py.)"""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalog_health.tenancy.roles import Role
from catalogs.tests.factories import CatalogFactory

pytestmark = pytest.mark.django_db

CASES = [
    # page, query, what the seller reads
    (
        "catalogs:order_list",
        {"status": "shipped_late"},
        ["Status “shipped_late” is not one of this list’s choices", "Shipped late"],
    ),
    (
        "catalogs:order_list",
        {"date_from": "2024-02-30", "status": "late"},
        ["Placed from “2024-02-30” is not applied"],
    ),
    (
        "catalogs:catalog_detail",
        {"review_status": "approved"},
        ["Review status “approved” is not one of this list’s choices", "Available"],
    ),
    (
        "flagged:flagged_list",
        {"reason": "slow"},
        ["Reason “slow” is not one of this list’s choices"],
    ),
]


@pytest.mark.parametrize(("name", "query", "expected"), CASES)
def test_a_filter_value_the_page_does_not_know_is_named_above_the_list(
    client, member, tenant_a, name, query, expected
):
    catalog = CatalogFactory(tenant=tenant_a)
    client.force_login(member(tenant_a, Role.SELLER))
    kwargs = {"tenant_slug": tenant_a.slug}
    if name == "catalogs:catalog_detail":
        kwargs["catalog_id"] = catalog.pk
    response = client.get(reverse(name, kwargs=kwargs), query)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="filter-refusals"' in html
    notice = html.split('id="filter-refusals"', 1)[1].split("</div>", 1)[0]
    for text in expected:
        assert text.replace("’", "&rsquo;") in notice or text in notice, notice


@pytest.mark.parametrize(
    ("name", "query"),
    [("catalogs:order_list", {"status": "late"}), ("flagged:flagged_list", {"status": ""})],
)
def test_known_filter_values_get_no_notice(client, member, tenant_a, name, query):
    client.force_login(member(tenant_a, Role.SELLER))
    response = client.get(reverse(name, kwargs={"tenant_slug": tenant_a.slug}), query)
    assert 'id="filter-refusals"' not in response.content.decode()
