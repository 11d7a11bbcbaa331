"""The catalog's Channel feeds tab."""

import json

import pytest
from django.urls import reverse

from catalog_health.tenancy.models import AuditEvent
from catalog_health.tenancy.roles import Role
from catalogs.models import ReviewStatus
from catalogs.tests.factories import CatalogFactory, ProductFactory
from channels import services
from channels.models import ChannelFeed

from .factories import ChannelFeedFactory

pytestmark = pytest.mark.django_db


def list_url(catalog):
    return reverse(
        "channels:feed_list", kwargs={"tenant_slug": catalog.tenant.slug, "catalog_id": catalog.pk}
    )


def detail_url(feed):
    return reverse(
        "channels:feed_detail",
        kwargs={
            "tenant_slug": feed.tenant.slug,
            "catalog_id": feed.catalog_id,
            "feed_id": feed.pk,
        },
    )


@pytest.fixture
def owner_client(client, member, tenant_a):
    client.force_login(member(tenant_a, Role.OWNER))
    return client


def test_tab_on_the_catalog_and_create(owner_client, catalog, products):
    page = owner_client.get(
        reverse(
            "catalogs:catalog_detail",
            kwargs={"tenant_slug": catalog.tenant.slug, "catalog_id": catalog.pk},
        )
    )
    assert list_url(catalog).encode() in page.content
    response = owner_client.post(
        list_url(catalog),
        {"channel": "meta", "format": "csv", "flagged": "exclude", "label_slot": "0"},
    )
    feed = ChannelFeed.objects.get()
    assert response.status_code == 302 and response["Location"] == detail_url(feed)
    listing = owner_client.get(list_url(catalog)).content.decode()
    assert feed.token in listing and "Copy URL" in listing
    refused = owner_client.post(
        list_url(catalog),
        {"channel": "tiktok", "format": "xml", "flagged": "exclude", "label_slot": "0"},
    )
    assert refused.status_code == 200 and "TikTok feeds are csv" in refused.content.decode()


def test_a_second_feed_for_the_same_channel_is_a_form_error(owner_client, catalog):
    ChannelFeedFactory(catalog=catalog, channel="google", format="xml")
    refused = owner_client.post(
        list_url(catalog),
        {"channel": "google", "format": "tsv", "flagged": "exclude", "label_slot": "0"},
    )
    assert refused.status_code == 200
    assert "already has a Google Merchant Center feed" in refused.content.decode()
    assert ChannelFeed.objects.count() == 1


def test_detail_says_what_is_left_out_and_links_the_lists(owner_client, catalog, products):
    feed = ChannelFeedFactory(catalog=catalog, flagged="exclude")
    html = owner_client.get(detail_url(feed)).content.decode()
    assert "Unavailable 1" in html and "Pending 1" in html and "Impacted 1" in html
    assert "?review_status=unavailable" in html and "?review_status=pending" in html
    assert f"status=impacted&amp;catalog={catalog.pk}" in html
    assert "No fetch yet" in html


def test_detail_says_which_products_the_channel_would_refuse(owner_client, catalog, products):
    ProductFactory(catalog=catalog, sku="X" * 51, review_status=ReviewStatus.AVAILABLE)
    html = owner_client.get(detail_url(ChannelFeedFactory(catalog=catalog))).content.decode()
    assert "Id over 50 characters 1" in html
    ProductFactory(catalog=catalog, sku="NB", brand="", review_status=ReviewStatus.AVAILABLE)
    tiktok = ChannelFeedFactory(catalog=catalog, channel="tiktok", format="csv")
    html = owner_client.get(detail_url(tiktok)).content.decode()
    assert "No brand 1" in html and "Id over" not in html
    ProductFactory(catalog=catalog, sku="NP", price=None, review_status=ReviewStatus.AVAILABLE)
    ProductFactory(catalog=catalog, sku="NI", image_link="", review_status=ReviewStatus.AVAILABLE)
    html = owner_client.get(detail_url(tiktok)).content.decode()
    assert "No price 1" in html and "No image 1" in html


def test_detail_counts_preorders_google_gets_without_a_date(owner_client, catalog, products):
    ProductFactory(
        catalog=catalog, sku="PD", availability="preorder", review_status=ReviewStatus.AVAILABLE
    )
    html = owner_client.get(detail_url(ChannelFeedFactory(catalog=catalog))).content.decode()
    assert "Preorder or backorder without an availability date 1" in html
    tiktok = ChannelFeedFactory(catalog=catalog, channel="tiktok", format="csv")
    assert (
        "without an availability date" not in owner_client.get(detail_url(tiktok)).content.decode()
    )


def test_a_set_rule_that_writes_junk_is_refused_naming_the_rule(owner_client, catalog, products):
    feed = ChannelFeedFactory(catalog=catalog, channel="google", format="xml")
    data = {"channel": "google", "format": "xml", "flagged": "exclude", "label_slot": "0"}
    rules = [
        {"op": "set", "field": "brand", "value": "Kestrel"},
        {"op": "set", "field": "price", "value": "call us"},
    ]
    html = owner_client.post(
        detail_url(feed), {**data, "rules": json.dumps(rules), "action": "save"}
    ).content.decode()
    assert "Rule 2 (set): price must be an amount and a currency code" in html
    feed.refresh_from_db()
    assert feed.rules == []


def test_detail_counts_items_a_rule_made_invalid_at_the_last_fetch(
    client, owner_client, catalog, products
):
    rule = {"op": "replace", "field": "price", "find": "20.00 USD", "replace": "call us"}
    feed = ChannelFeedFactory(catalog=catalog, rules=[rule])
    html = owner_client.get(detail_url(feed)).content.decode()
    assert "Value a rule made invalid 0" in html and "No complete fetch yet" in html
    response = client.get(services.feed_path(feed))
    assert b"call us" not in b"".join(response.streaming_content)
    html = owner_client.get(detail_url(feed)).content.decode()
    assert "Value a rule made invalid 1" in html and "at the last complete fetch" in html
    # the preview says so before a rule is saved
    data = {"channel": "google", "format": "xml", "flagged": "exclude", "label_slot": "0"}
    suffix = [{"op": "suffix", "field": "price", "value": " each"}]
    html = owner_client.post(
        detail_url(feed), {**data, "rules": json.dumps(suffix), "action": "preview"}
    ).content.decode()
    assert "each" not in html.split('id="preview"')[1].split("</table>")[0]
    assert "3 products read for this preview are left out" in html


def test_preview_shows_draft_rules_without_saving(owner_client, catalog, products):
    feed = ChannelFeedFactory(catalog=catalog, channel="meta", format="csv")
    rules = [{"op": "template", "field": "title", "template": "{brand} {title}"}]
    data = {
        "channel": "meta",
        "format": "csv",
        "flagged": "exclude",
        "label_slot": "0",
        "rules": json.dumps(rules),
    }
    html = owner_client.post(detail_url(feed), {**data, "action": "preview"}).content.decode()
    assert "Kestrel Trail Runner" in html and "not saved" in html
    feed.refresh_from_db()
    assert feed.rules == []
    bad = owner_client.post(
        detail_url(feed),
        {**data, "rules": '[{"op": "set", "field": "id", "value": "x"}]', "action": "save"},
    )
    assert "cannot be changed" in bad.content.decode()
    feed.refresh_from_db()
    assert feed.rules == []
    saved = owner_client.post(detail_url(feed), {**data, "action": "save"})
    assert saved.status_code == 302
    feed.refresh_from_db()
    assert feed.rules == rules
    assert AuditEvent.objects.filter(action="channel_feed.rules_changed").count() == 1


def test_feed_text_is_escaped_in_the_preview(owner_client, catalog, products):
    p = products["a1"]
    p.title = "<script>alert(1)</script>"
    p.save()
    feed = ChannelFeedFactory(catalog=catalog)
    html = owner_client.get(detail_url(feed)).content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html


def test_rotate_from_the_page(owner_client, catalog):
    feed = ChannelFeedFactory(catalog=catalog)
    old = feed.token
    assert owner_client.post(detail_url(feed), {"action": "rotate"}).status_code == 302
    feed.refresh_from_db()
    assert feed.token != old


def test_a_feed_of_another_catalog_or_tenant_is_404(owner_client, catalog, tenant_b):
    mine = ChannelFeedFactory(catalog=catalog)
    other_catalog = CatalogFactory(tenant=catalog.tenant)
    foreign = ChannelFeedFactory(catalog=CatalogFactory(tenant=tenant_b))
    for feed_id in (foreign.pk,):
        url = detail_url(mine).replace(f"/{mine.pk}/", f"/{feed_id}/")
        assert owner_client.get(url).status_code == 404
        assert owner_client.post(url, {"action": "rotate"}).status_code == 404
    wrong_catalog = detail_url(mine).replace(
        f"/catalogs/{catalog.pk}/", f"/catalogs/{other_catalog.pk}/"
    )
    assert owner_client.get(wrong_catalog).status_code == 404


def test_viewers_see_but_cannot_change(client, member, tenant_a, catalog):
    client.force_login(member(tenant_a, Role.VIEWER))
    feed = ChannelFeedFactory(catalog=catalog)
    assert client.get(detail_url(feed)).status_code == 200
    assert client.post(detail_url(feed), {"action": "rotate"}).status_code == 403
