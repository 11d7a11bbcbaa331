"""The product page's Flagged products panel says what the product's status means: the note
under the reasons used to read "Impacted products get reduced visibility…" on an At risk, a
Resolved and a Not flagged product alike, and did not say when a fix shows in the status."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalog_health.tenancy.roles import Role
from catalogs.tests.factories import CatalogFactory, ProductFactory
from flagged.panels import product_flag_panel
from flagged.scoring import FlagStatus, Level

from .factories import FlagStateFactory

pytestmark = pytest.mark.django_db

LEVELS = {
    FlagStatus.IMPACTED: Level.IMPACTED,
    FlagStatus.AT_RISK: Level.AT_RISK,
    FlagStatus.RESOLVED: Level.OK,
    FlagStatus.NONE: Level.OK,
}


@pytest.mark.parametrize(
    ("status", "starts", "reasons"),
    [
        (FlagStatus.IMPACTED, "Impacted: the product gets reduced visibility", 1),
        (FlagStatus.AT_RISK, "At risk: close to a target; visibility is not reduced yet", 1),
        (FlagStatus.RESOLVED, "Resolved: every metric meets its target again", 0),
        (FlagStatus.NONE, "Not flagged: no metric misses or is close to its target", 0),
    ],
)
def test_the_note_matches_the_status(tenant_a, status, starts, reasons):
    product = ProductFactory(catalog=CatalogFactory(tenant=tenant_a))
    level = LEVELS[status]
    FlagStateFactory(product=product, status=status, worst_level=level, overdue_level=level)
    panel = product_flag_panel(tenant=tenant_a, product=product)
    assert panel["note"].startswith(starts), panel["note"]
    assert len(panel["lines"]) == reasons
    flagged = status in (FlagStatus.IMPACTED, FlagStatus.AT_RISK)
    # a flagged product's seller learns when a fix shows: not at once
    assert ("at the next scoring: hourly" in panel["note"]) is flagged
    assert ("Impacted products" in panel["note"]) is False


def test_the_product_page_shows_the_note(client, member, tenant_a):
    product = ProductFactory(catalog=CatalogFactory(tenant=tenant_a))
    FlagStateFactory(
        product=product, status=FlagStatus.AT_RISK, worst_level=Level.AT_RISK, overdue_num=3
    )
    client.force_login(member(tenant_a, Role.SELLER))
    url = reverse("catalogs:product_detail", args=[tenant_a.slug, product.catalog_id, product.pk])
    html = client.get(url).content.decode()
    assert "At risk: close to a target; visibility is not reduced yet" in html
