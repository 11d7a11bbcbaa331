"""Browser journey: an advertiser opens the Channel feeds tab, creates a Google feed, copies
its URL, previews a rule, and the channel fetches the feed (the log shows it)."""

import pytest

from catalog_health.tenancy.roles import Role
from channels.models import ChannelFeed
from channels.tests import conftest as channel_fixtures

# the channels tests' catalog of products in every review and flag state (function-scoped)
catalog = channel_fixtures.catalog
products = channel_fixtures.products

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_channel_feeds_tab(
    page, live_server, login, screenshot, member, tenant_a, products, catalog
):
    user = member(tenant_a, Role.ADVERTISER, username="ada")
    user.set_password("s3cret-pass")
    user.save()
    login("ada", "s3cret-pass")
    page.goto(f"{live_server.url}/t/{tenant_a.slug}/catalogs/{catalog.pk}/")
    page.get_by_role("link", name="Channel feeds").click()
    page.select_option("#id_channel", "google")
    page.select_option("#id_format", "xml")
    page.select_option("#id_flagged", "label")
    page.fill("#id_name", "Google Shopping US")
    page.get_by_role("button", name="Create feed").click()
    feed = ChannelFeed.objects.get()
    url = page.input_value(f"#url-{feed.pk}")
    assert url.endswith(f"/{feed.token}/google.xml")

    # the channel fetches it
    response = page.request.get(url, headers={"User-Agent": "Googlebot/2.1"})
    assert (
        response.status == 200
        and b"<g:custom_label_0>impacted</g:custom_label_0>" in response.body()
    )

    # live preview: typing the rule updates the first rows without a click
    page.fill("#id_rules", '[{"op": "template", "field": "title", "template": "{brand} {title}"}]')
    page.get_by_text("Kestrel Trail Runner").first.wait_for()
    assert page.get_by_text("not saved").is_visible()
    assert ChannelFeed.objects.get().rules == []
    page.get_by_role("button", name="Preview").click()
    assert page.get_by_text("Kestrel Trail Runner").first.is_visible()
    assert page.get_by_text("Googlebot/2.1").is_visible()
    screenshot("channels-1-feed-detail")
    page.get_by_role("link", name="All channel feeds").click()
    screenshot("channels-2-feed-list")


def test_impacted_link_opens_the_flagged_tab_of_that_catalog(
    page, live_server, login, screenshot, member, tenant_a, products, catalog
):
    """The feed page's "Impacted N" lands on the Flagged products tab, Impacted, filtered to
    the feed's catalog: another catalog's Impacted product is not listed."""
    from catalogs.tests.factories import CatalogFactory, ProductFactory
    from channels.tests.factories import ChannelFeedFactory
    from flagged.tests.factories import FlagStateFactory

    other = CatalogFactory(tenant=tenant_a, name="Hats")
    FlagStateFactory(
        product=ProductFactory(catalog=other, sku="H1", title="Late hat"), status="impacted"
    )
    feed = ChannelFeedFactory(catalog=catalog, flagged="exclude")
    user = member(tenant_a, Role.SELLER, username="sam")
    user.set_password("s3cret-pass")
    user.save()
    login("sam", "s3cret-pass")
    page.goto(f"{live_server.url}/t/{tenant_a.slug}/catalogs/{catalog.pk}/channel-feeds/{feed.pk}/")
    page.get_by_role("link", name="Impacted 1").click()
    page.wait_for_url(f"**/flagged/**catalog={catalog.pk}**")
    table = page.locator("#flagged-table")
    assert table.get_by_text("Late shoe").is_visible()
    assert table.get_by_text("Late hat").count() == 0
    assert page.locator("#catalog-filter").get_by_text("Shoes").is_visible()
    screenshot("channels-3-impacted-link")
    page.get_by_role("button", name="Filter").click()  # the filter form keeps the catalog
    assert table.get_by_text("Late hat").count() == 0
    page.get_by_role("link", name="All catalogs").click()
    assert page.locator("#flagged-table").get_by_text("Late hat").is_visible()
