"""What the channels' readers require beyond the columns: Meta's brand-or-identifier rule,
required columns no field rule may take away, and what their fetchers read from HTTP
before the body (a HEAD, a 304). Each output is read with an independent parser."""

import csv
import io
import xml.etree.ElementTree as ET

import pytest
from django.core.exceptions import ValidationError

from catalog_health.tenancy.roles import Role
from catalogs.models import ReviewStatus
from catalogs.tests.factories import ProductFactory
from channels import selectors, services
from channels.writers import G_NS

from .factories import ChannelFeedFactory
from .test_views import detail_url

pytestmark = pytest.mark.django_db


def _get(client, feed, **headers):
    response = client.get(services.feed_path(feed), **headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def _ids(body: bytes, fmt: str) -> list[str]:
    if fmt == "xml":
        root = ET.fromstring(body)  # noqa: S314 - our own output, read by an independent parser
        return [item.findtext(f"{{{G_NS}}}id") for item in root.iterfind("channel/item")]
    return [row["id"] for row in csv.DictReader(io.StringIO(body.decode()))]


@pytest.mark.parametrize("fmt", ["csv", "xml"])
def test_meta_leaves_out_products_with_no_brand_gtin_or_mpn(client, member, catalog, products, fmt):
    # Meta's brand field: "the brand name, MPN or GTIN of the item. You only need to enter
    # one of these": an item with none of them is refused (a missing required field)
    for sku, brand, gtin, mpn in (
        ("N1", "", "", ""),
        ("N2", " \x0b", "", " "),
        ("G1", "", "4006381333931", ""),
        ("M1", "", "", "KS-100"),
    ):
        ProductFactory(
            catalog=catalog,
            sku=sku,
            brand=brand,
            gtin=gtin,
            mpn=mpn,
            review_status=ReviewStatus.AVAILABLE,
        )
    meta = ChannelFeedFactory(catalog=catalog, channel="meta", format=fmt)
    _response, body = _get(client, meta)
    assert _ids(body, fmt) == ["A1", "A2", "R1", "G1", "M1"]
    assert selectors.feed_left_out(meta) == selectors.LeftOut(
        included=5, unavailable=1, pending=1, impacted=1, no_brand=2
    )
    # the feed's page says why
    client.force_login(member(catalog.tenant, Role.ADVERTISER))
    page = client.get(detail_url(meta)).content.decode()
    assert "No brand, GTIN or MPN 2" in page and "or instead a GTIN or MPN" in page
    client.logout()
    # Google takes a product without a brand, GTIN or MPN
    google = ChannelFeedFactory(catalog=catalog, channel="google", format="xml")
    assert {"N1", "N2"} <= set(_ids(_get(client, google)[1], "xml"))
    assert selectors.feed_left_out(google).no_brand == 0
    # a rule that gives every product a brand brings them back
    meta.rules = [{"op": "set", "field": "brand", "value": "Kestrel"}]
    meta.save()
    assert _ids(_get(client, meta)[1], fmt) == ["A1", "A2", "R1", "N1", "N2", "G1", "M1"]


@pytest.mark.parametrize(("channel", "fmt"), [("google", "xml"), ("meta", "csv")])
@pytest.mark.parametrize("encoding", ["", "gzip"])
def test_a_head_request_says_what_a_get_would_send(
    client, catalog, products, channel, fmt, encoding
):
    # RFC 9110 9.3.2 and 8.6: a HEAD carries the GET's header fields, and a Content-Length
    # only if it is the GET's: "0" tells a fetcher checking the file first that it is empty
    feed = ChannelFeedFactory(catalog=catalog, channel=channel, format=fmt)
    get, body = _get(client, feed, HTTP_ACCEPT_ENCODING=encoding)
    head = client.head(services.feed_path(feed), HTTP_ACCEPT_ENCODING=encoding)
    assert head.status_code == 200
    assert (b"".join(head.streaming_content) if head.streaming else head.content) == b""
    assert head.get("Content-Length", str(len(body))) == str(len(body))
    for name in ("Content-Type", "ETag", "Last-Modified", "Content-Disposition", "Vary"):
        assert head[name] == get[name], name
    assert head.get("Content-Encoding") == get.get("Content-Encoding")


def test_a_304_claims_no_empty_body_and_no_other_type(client, catalog, products):
    # RFC 9110 8.6: a 304 has no Content-Length unless it is the 200's; a cache updates its
    # stored response with the 304's fields (RFC 9111 4.3.4), so no Content-Type of its own
    feed = ChannelFeedFactory(catalog=catalog, channel="google", format="xml")
    get, _body = _get(client, feed)
    for method in (client.get, client.head):
        response = method(services.feed_path(feed), HTTP_IF_NONE_MATCH=get["ETag"])
        assert response.status_code == 304
        assert "Content-Length" not in response
        assert response.get("Content-Type", get["Content-Type"]) == get["Content-Type"]
        assert response["ETag"] == get["ETag"]


@pytest.mark.parametrize(
    ("channel", "rule", "error"),
    [
        # without one of its required columns a channel refuses the file or each item (TikTok:
        # "an error message if any of the required fields are missing")
        ("google", {"op": "rename", "from": "title", "to": "custom_label_1"}, "requires"),
        ("meta", {"op": "rename", "from": "brand", "to": "custom_label_2"}, "requires"),
        ("tiktok", {"op": "rename", "from": "description", "to": "details"}, "requires"),
        # nor can every item's required text be emptied
        ("google", {"op": "set", "field": "title", "value": ""}, "cannot be set empty"),
        ("meta", {"op": "set", "field": "description", "value": "  "}, "cannot be set empty"),
        ("tiktok", {"op": "set", "field": "brand", "value": ""}, "cannot be set empty"),
        # what the channel does not require may go; required columns may be copied
        ("google", {"op": "rename", "from": "brand", "to": "custom_label_1"}, None),
        ("google", {"op": "set", "field": "brand", "value": ""}, None),
        ("meta", {"op": "copy", "from": "title", "to": "custom_label_1"}, None),
    ],
)
def test_a_rule_cannot_take_away_a_column_the_channel_requires(catalog, channel, rule, error):
    fmt = "csv" if channel != "google" else "tsv"
    feed = ChannelFeedFactory(catalog=catalog, channel=channel, format=fmt)
    feed.rules = [{"op": "set", "field": "custom_label_0", "value": "x"}, rule]
    if error is None:
        services.feed_validate(feed)
        return
    with pytest.raises(ValidationError) as raised:
        services.feed_validate(feed)
    (message,) = raised.value.message_dict["rules"]
    assert message.startswith(f"Rule 2 ({rule['op']}): ") and error in message, message


@pytest.mark.parametrize(("channel", "fmt"), [("google", "xml"), ("meta", "csv")])
def test_a_product_without_a_title_description_or_link_is_left_out(
    client, catalog, products, channel, fmt
):
    # every channel requires a title, a description and a link: Pending products (which the
    # review has not yet made Unavailable for it) go out only with all three
    for sku, kw in (
        ("T1", {"title": ""}),
        ("T2", {"title": " \x0b "}),
        ("D1", {"description": ""}),
        ("L1", {"link": "\t"}),
    ):
        ProductFactory(catalog=catalog, sku=sku, review_status=ReviewStatus.PENDING, **kw)
    feed = ChannelFeedFactory(catalog=catalog, channel=channel, format=fmt, include_pending=True)
    assert _ids(_get(client, feed)[1], fmt) == ["A1", "A2", "P1", "R1"]
    assert selectors.feed_left_out(feed) == selectors.LeftOut(
        included=4, unavailable=1, pending=0, impacted=1, missing_value=4
    )
    # after the rules too: a rule that empties a title leaves that item out
    feed.rules = [{"op": "replace", "field": "title", "find": "Road Runner", "replace": ""}]
    feed.save()
    assert _ids(_get(client, feed)[1], fmt) == ["A1", "P1", "R1"]
