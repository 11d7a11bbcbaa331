"""The public feed URL: content per settings, secret token, Basic credentials, conditional
requests, gzip, rate limit, fetch log; each output checked with an independent parser."""

import base64
import csv
import gzip
import io
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections
from django.utils import timezone
from django.utils.http import http_date

from catalogs.models import ReviewStatus
from catalogs.tests.factories import ProductFactory
from channels import selectors, services
from channels.models import ChannelFeed, ChannelFeedFetch
from channels.specs import SPECS
from channels.writers import G_NS

from .factories import ChannelFeedFactory

pytestmark = pytest.mark.django_db


def fetch(client, feed, **headers):
    """GET the feed and read it all, as a channel does (an unread streamed body would only
    run its fetch log when garbage-collected)."""
    response = client.get(services.feed_path(feed), **headers)
    response.body = b"".join(response.streaming_content) if response.streaming else response.content
    return response


def body_of(response) -> bytes:
    return response.body


def xml_items(body: bytes) -> list[dict[str, list[str]]]:
    root = ET.fromstring(body)  # noqa: S314 - our own output, read by an independent parser
    assert root.tag == "rss" and root.get("version") == "2.0"
    out = []
    for item in root.iterfind("channel/item"):
        d: dict[str, list[str]] = {}
        for child in item:
            d.setdefault(child.tag.replace(f"{{{G_NS}}}", "g:"), []).append(child.text or "")
        out.append(d)
    return out


def table(body: bytes, fmt: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode()), delimiter="\t" if fmt == "tsv" else ","))


@pytest.mark.parametrize(
    ("flagged", "include_pending", "skus"),
    [
        ("exclude", False, ["A1", "A2", "R1"]),
        ("label", False, ["A1", "A2", "I1", "R1"]),
        ("ignore", False, ["A1", "A2", "I1", "R1"]),
        ("exclude", True, ["A1", "A2", "P1", "R1"]),
    ],
)
def test_only_available_products_and_impacted_per_setting(
    client, catalog, products, flagged, include_pending, skus
):
    feed = ChannelFeedFactory(
        catalog=catalog,
        channel="meta",
        format="csv",
        flagged=flagged,
        include_pending=include_pending,
    )
    rows = table(body_of(fetch(client, feed)), "csv")
    assert [r["id"] for r in rows] == skus
    if flagged == "label":
        labels = {r["id"]: r["custom_label_0"] for r in rows}
        assert labels == {"A1": "", "A2": "", "I1": "impacted", "R1": "at_risk"}
    else:
        assert "custom_label_0" not in rows[0]


def test_left_out_counts_say_why(catalog, products):
    feed = ChannelFeedFactory(catalog=catalog, flagged="exclude")
    assert selectors.feed_left_out(feed) == selectors.LeftOut(
        included=3, unavailable=1, pending=1, impacted=1
    )
    feed.include_pending, feed.flagged = True, "label"
    assert selectors.feed_left_out(feed) == selectors.LeftOut(
        included=5, unavailable=1, pending=0, impacted=0, labelled=2
    )


@pytest.mark.parametrize("fmt", ["xml", "tsv"])
def test_an_id_too_long_for_the_channel_is_left_out_and_counted(client, catalog, products, fmt):
    # Google takes ids of up to 50 characters; an id cannot be shortened (orders and
    # conversions name it), so the product stays out of Google's feed, and the page says so
    ProductFactory(catalog=catalog, sku="X" * 51, review_status=ReviewStatus.AVAILABLE)
    ProductFactory(catalog=catalog, sku="Y" * 50, review_status=ReviewStatus.AVAILABLE)
    google = ChannelFeedFactory(catalog=catalog, channel="google", format=fmt)
    body = body_of(fetch(client, google))
    ids = (
        [item["g:id"][0] for item in xml_items(body)]
        if fmt == "xml"
        else [row["id"] for row in table(body, fmt)]
    )
    assert ids == ["A1", "A2", "R1", "Y" * 50]
    assert selectors.feed_left_out(google) == selectors.LeftOut(
        included=4, unavailable=1, pending=1, impacted=1, long_id=1
    )
    meta = ChannelFeedFactory(catalog=catalog, channel="meta", format="csv")
    assert "X" * 51 in [row["id"] for row in table(body_of(fetch(client, meta)), "csv")]
    assert selectors.feed_left_out(meta).long_id == 0


def test_tiktok_leaves_out_products_without_a_brand_and_counts_them(client, catalog, products):
    # TikTok refuses an item without its required brand: out of the feed, counted on its page
    # blank as specs.is_blank reads it, whatever the first character; a brand that starts
    # outside ASCII is a brand
    for sku, brand in (("NB1", ""), ("NB2", " \x0b "), ("NB3", "\u3000\x01"), ("NA1", "Ñandú")):
        ProductFactory(catalog=catalog, sku=sku, brand=brand, review_status=ReviewStatus.AVAILABLE)
    tiktok = ChannelFeedFactory(catalog=catalog, channel="tiktok", format="csv")
    rows = table(body_of(fetch(client, tiktok)), "csv")
    assert sorted(r["sku_id"] for r in rows) == ["A1", "A2", "NA1", "R1"]
    assert all(r["brand"] for r in rows)
    assert selectors.feed_left_out(tiktok) == selectors.LeftOut(
        included=4, unavailable=1, pending=1, impacted=1, no_brand=3
    )
    # Google takes them (a brand is not required there; Meta takes a GTIN or MPN instead)
    google = ChannelFeedFactory(catalog=catalog, channel="google", format="tsv")
    assert len(table(body_of(fetch(client, google)), "tsv")) == 7
    assert selectors.feed_left_out(google).no_brand == 0
    # a rule that gives every product a brand brings them back
    tiktok.rules = [{"op": "set", "field": "brand", "value": "Kestrel"}]
    tiktok.save()
    rows = table(body_of(fetch(client, tiktok)), "csv")
    assert [r["sku_id"] for r in rows] == ["A1", "A2", "R1", "NB1", "NB2", "NB3", "NA1"]


@pytest.mark.parametrize(
    ("channel", "fmt"), [("google", "xml"), ("google", "tsv"), ("meta", "csv")]
)
@pytest.mark.parametrize(
    ("rule", "kept"),
    [
        ({"op": "replace", "field": "price", "find": "20.00 USD", "replace": "call us"}, "A1 R1"),
        ({"op": "suffix", "field": "price", "value": " each"}, ""),
        ({"op": "template", "field": "price", "template": "{price} incl. VAT"}, ""),
        ({"op": "replace", "field": "sale_price", "find": " USD", "replace": ""}, "A2 R1"),
        ({"op": "replace", "field": "availability", "find": "out of", "replace": "no"}, "A1 R1"),
        ({"op": "template", "field": "condition", "template": "{condition} item"}, ""),
        (
            {
                "op": "replace",
                "field": "link",
                "find": "https://shop.example.com/p/A2",
                "replace": "A2",
            },
            "A1 R1",
        ),
        ({"op": "replace", "field": "image_link", "find": "https:", "replace": ""}, ""),
    ],
)
def test_an_item_a_rule_gives_an_invalid_value_is_left_out_and_counted(
    client, catalog, products, channel, fmt, rule, kept
):
    # the channel would disapprove "<g:price>call us</g:price>": the item stays out, and the
    # feed's page and API count it at the fetch that left it out
    feed = ChannelFeedFactory(catalog=catalog, channel=channel, format=fmt, rules=[rule])
    assert selectors.feed_left_out(feed).invalid_value == 0  # no fetch yet
    body = body_of(fetch(client, feed))
    if fmt == "xml":
        skus = [item["g:id"][0] for item in xml_items(body)]
    else:
        skus = [row["id"] for row in table(body, fmt)]
    assert skus == kept.split()
    left_out = 3 - len(skus)
    assert ChannelFeedFetch.objects.get(feed=feed).invalid_values == left_out
    assert selectors.feed_left_out(feed).invalid_value == left_out
    assert selectors.feed_left_out(feed).included == 3  # before the rules, as before


def test_a_feed_without_rules_counts_no_invalid_value(client, catalog, products):
    feed = ChannelFeedFactory(catalog=catalog, channel="google", format="xml")
    assert len(xml_items(body_of(fetch(client, feed)))) == 3
    assert ChannelFeedFetch.objects.get(feed=feed).invalid_values == 0
    assert selectors.feed_left_out(feed).invalid_value == 0


@pytest.mark.parametrize(("channel", "fmt"), [("google", "xml"), ("meta", "xml")])
def test_rss_feeds_carry_the_required_fields(client, catalog, products, channel, fmt):
    feed = ChannelFeedFactory(catalog=catalog, channel=channel, format=fmt)
    response = fetch(client, feed)
    assert response["Content-Type"].startswith("application/xml")
    items = {i["g:id"][0]: i for i in xml_items(body_of(response))}
    assert set(items) == {"A1", "A2", "R1"}
    a1 = items["A1"]
    required = [
        c if c in ("title", "link", "description") else f"g:{c}" for c in SPECS[channel].required
    ]
    for column in required:
        assert a1.get(column, [""])[0], column
    assert a1["g:price"] == ["12.99 USD"]
    assert a1["g:sale_price"] == ["9.99 USD"]
    assert a1["g:sale_price_effective_date"] == ["2026-01-01T00:00Z/2026-01-31T23:59Z"]
    assert a1["g:additional_image_link"] == [
        "https://shop.example.com/i/a1-2.jpg",
        "https://shop.example.com/i/a1-3.jpg",
    ]
    assert a1["g:item_group_id"] == ["G1"]
    assert items["A2"]["g:availability"] == ["out of stock"]


@pytest.mark.parametrize(
    ("channel", "fmt"), [("google", "tsv"), ("meta", "csv"), ("tiktok", "csv")]
)
def test_table_feeds_carry_the_required_fields(client, catalog, products, channel, fmt):
    feed = ChannelFeedFactory(catalog=catalog, channel=channel, format=fmt)
    body = body_of(fetch(client, feed))
    header = body.decode().splitlines()[0].split("\t" if fmt == "tsv" else ",")
    assert header[: len(SPECS[channel].required)] == list(SPECS[channel].required)
    rows = {r[SPECS[channel].id_column]: r for r in table(body, fmt)}
    for column in SPECS[channel].required:
        assert rows["A1"][column], column
    assert rows["A1"]["price"] == "12.99 USD"
    assert rows["A1"]["additional_image_link"].split(",") == [
        "https://shop.example.com/i/a1-2.jpg",
        "https://shop.example.com/i/a1-3.jpg",
    ]
    if channel == "tiktok":
        assert body.startswith(
            b"sku_id,title,description,availability,condition,price,link,image_link,brand,"
        )


def test_feed_text_is_escaped_in_xml_and_unchanged_in_tables(client, catalog, products):
    p = products["a2"]
    p.title = '=HYPERLINK("http://evil") & <b>bold</b>'
    p.save()
    xml_feed = ChannelFeedFactory(catalog=catalog, channel="google", format="xml")
    items = {i["g:id"][0]: i for i in xml_items(body_of(fetch(client, xml_feed)))}
    assert items["A2"]["title"] == [p.title]
    csv_feed = ChannelFeedFactory(catalog=catalog, channel="meta", format="csv")
    rows = {r["id"]: r for r in table(body_of(fetch(client, csv_feed)), "csv")}
    assert rows["A2"]["title"] == p.title


def test_wrong_token_wrong_filename_and_rotated_token_are_404(client, catalog, products):
    feed = ChannelFeedFactory(catalog=catalog, channel="google", format="xml")
    old = services.feed_path(feed)
    assert client.get(old.replace(feed.token, feed.token[:-1] + "x")).status_code == 404
    assert client.get(old.replace("google.xml", "google.tsv")).status_code == 404
    assert fetch(client, feed).status_code == 200
    services.feed_rotate(tenant=feed.tenant, actor=None, feed=feed)
    assert client.get(old).status_code == 404
    assert fetch(client, feed).status_code == 200


def test_basic_credentials(client, catalog, products):
    feed = ChannelFeedFactory(catalog=catalog)
    services.feed_set_basic_auth(
        tenant=feed.tenant, actor=None, feed=feed, username="google", password="s3cret-pass"
    )
    feed.refresh_from_db()
    assert "s3cret" not in feed.basic_password_hash
    response = fetch(client, feed)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic")

    def auth(user, pw):
        return "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()

    assert fetch(client, feed, HTTP_AUTHORIZATION=auth("google", "wrong")).status_code == 401
    assert fetch(client, feed, HTTP_AUTHORIZATION=auth("meta", "s3cret-pass")).status_code == 401
    assert fetch(client, feed, HTTP_AUTHORIZATION="Basic !!!").status_code == 401
    ok = fetch(client, feed, HTTP_AUTHORIZATION=auth("google", "s3cret-pass"))
    assert ok.status_code == 200
    body_of(ok)


def test_etag_and_last_modified_answer_304_until_the_content_changes(client, catalog, products):
    feed = ChannelFeedFactory(catalog=catalog)
    first = fetch(client, feed)
    body_of(first)
    etag, last_modified = first["ETag"], first["Last-Modified"]
    again = fetch(client, feed, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again["ETag"] == etag
    assert not body_of(again)
    assert fetch(client, feed, HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304
    assert fetch(client, feed, HTTP_IF_NONE_MATCH='"other"').status_code == 200
    # a product changed: a new version
    p = products["a1"]
    p.title = "Trail Runner 2"
    p.last_changed_at = timezone.now() + timedelta(seconds=2)
    p.save()
    changed = fetch(client, feed, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert b"Trail Runner 2" in body_of(changed)
    # settings changed (rules): a new version too
    services.feed_update(
        tenant=feed.tenant,
        actor=None,
        feed=feed,
        data={"rules": [{"op": "set", "field": "brand", "value": "Acme"}]},
    )
    assert fetch(client, feed, HTTP_IF_NONE_MATCH=changed["ETag"]).status_code == 200


def test_a_new_flag_changes_the_version(client, catalog, products):
    from flagged.tests.factories import FlagStateFactory

    feed = ChannelFeedFactory(catalog=catalog)
    etag = fetch(client, feed)["ETag"]
    FlagStateFactory(product=products["a2"], status="impacted", status_since=timezone.now())
    response = fetch(client, feed, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert b"<g:id>A2</g:id>" not in body_of(response)


def test_a_hard_deleted_product_changes_the_version(client, catalog, products):
    # not the catalog's newest change, so the newest change time stays the same
    feed = ChannelFeedFactory(catalog=catalog)
    first = fetch(client, feed)
    before = selectors.feed_version(feed).last_modified
    products["a2"].delete()
    feed.refresh_from_db()
    assert selectors.feed_version(feed).last_modified > before
    response = fetch(client, feed, HTTP_IF_NONE_MATCH=first["ETag"])
    assert response.status_code == 200
    assert b"<g:id>A2</g:id>" not in body_of(response)


@pytest.mark.parametrize("flagged", ["exclude", "label"])
def test_a_deleted_flag_state_changes_the_version(client, catalog, products, flagged):
    from flagged.models import FlagState

    feed = ChannelFeedFactory(catalog=catalog, flagged=flagged)
    ignoring = ChannelFeedFactory(catalog=catalog, flagged="ignore", channel="meta")
    etags = {f.pk: fetch(client, f)["ETag"] for f in (feed, ignoring)}
    # the Impacted product's state goes (the newest flag change stays the other one's)
    FlagState.objects.filter(product=products["impacted"]).delete()
    response = fetch(client, feed, HTTP_IF_NONE_MATCH=etags[feed.pk])
    assert response.status_code == 200
    assert b"<g:id>I1</g:id>" in body_of(response)
    # a feed that ignores flags carries the same as before: still a 304
    assert fetch(client, ignoring, HTTP_IF_NONE_MATCH=etags[ignoring.pk]).status_code == 304


def test_deleting_many_products_updates_the_feeds_once(catalog, products):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from catalogs.models import Product

    ChannelFeedFactory(catalog=catalog)
    for i in range(20):
        ProductFactory(catalog=catalog, sku=f"D{i}")
    with CaptureQueriesContext(connection) as queries:
        Product.objects.filter(catalog=catalog, sku__startswith="D").delete()
    feeds_table = ChannelFeed._meta.db_table
    assert sum(f'UPDATE "{feeds_table}"' in q["sql"] for q in queries.captured_queries) == 1


def test_gzip_when_asked(client, catalog, products):
    feed = ChannelFeedFactory(catalog=catalog)
    plain = fetch(client, feed)
    plain_body = body_of(plain)
    zipped = fetch(client, feed, HTTP_ACCEPT_ENCODING="gzip, deflate")
    assert zipped["Content-Encoding"] == "gzip"
    assert zipped["ETag"] != plain["ETag"]
    assert "Accept-Encoding" in zipped["Vary"]
    assert gzip.decompress(body_of(zipped)) == plain_body
    # either representation's tag revalidates (a proxy may have stored the other one)
    assert (
        fetch(
            client, feed, HTTP_IF_NONE_MATCH=plain["ETag"], HTTP_ACCEPT_ENCODING="gzip"
        ).status_code
        == 304
    )
    assert "Content-Encoding" not in fetch(client, feed, HTTP_ACCEPT_ENCODING="gzip;q=0")


def test_rate_limited_per_feed(client, catalog, products, settings):
    settings.CHANNEL_FEED_RATE_LIMIT = (3, 600)
    feed = ChannelFeedFactory(catalog=catalog)
    other = ChannelFeedFactory(catalog=catalog, channel="meta", format="csv")
    for _ in range(3):
        body_of(fetch(client, feed))
    limited = fetch(client, feed)
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    assert fetch(client, other).status_code == 200  # per feed, not global


def test_fetch_log_and_stale_warning(client, catalog, products):
    feed = ChannelFeedFactory(catalog=catalog)
    feed.created_at = timezone.now() - timedelta(days=2)
    assert selectors.feed_is_stale(feed)
    response = fetch(client, feed, HTTP_USER_AGENT="Googlebot/2.1")
    n = len(body_of(response))
    fetch(client, feed, HTTP_USER_AGENT="Googlebot/2.1", HTTP_IF_NONE_MATCH=response["ETag"])
    log = list(ChannelFeedFetch.objects.for_tenant(feed.tenant).filter(feed=feed).order_by("id"))
    assert [(f.status, f.user_agent) for f in log] == [
        (200, "Googlebot/2.1"),
        (304, "Googlebot/2.1"),
    ]
    assert log[0].bytes == n and log[0].products == 3
    feed.refresh_from_db()
    assert not selectors.feed_is_stale(feed)
    assert selectors.feed_is_stale(feed, now=timezone.now() + timedelta(days=1, minutes=1))


def test_a_client_gone_mid_feed_is_logged_and_leaves_no_transaction_open(
    rf, catalog, products, monkeypatch
):
    from django.db import connection

    from channels import writers
    from channels.delivery import feed_out

    monkeypatch.setattr(writers, "CHUNK_ITEMS", 1)  # a chunk per item: stop after the first
    feed = ChannelFeedFactory(catalog=catalog)
    depth = len(connection.savepoint_ids)
    response = feed_out(rf.get(services.feed_path(feed)), token=feed.token, filename=feed.filename)
    chunks = iter(response.streaming_content)
    next(chunks)  # the RSS header
    assert b"<item>" in next(chunks)
    assert len(connection.savepoint_ids) == depth + 1  # the feed's read transaction is open
    # The client went away: the server closes the response. (Without Django's handler that
    # closes the connection at the end of a request: the test's transaction is not one.)
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    assert len(connection.savepoint_ids) == depth
    assert ChannelFeedFetch.objects.filter(feed=feed).get().status == 499


def test_304_answers_with_a_fixed_number_of_queries(
    client, catalog, products, django_assert_max_num_queries
):
    feed = ChannelFeedFactory(catalog=catalog)
    etag = fetch(client, feed)["ETag"]
    with django_assert_max_num_queries(8):
        assert fetch(client, feed, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_if_modified_since_in_the_past_gets_the_feed(client, catalog, products):
    feed = ChannelFeedFactory(catalog=catalog)
    old = http_date((timezone.now() - timedelta(days=3)).timestamp())
    assert fetch(client, feed, HTTP_IF_MODIFIED_SINCE=old).status_code == 200


def test_if_modified_since_in_the_future_is_ignored(client, catalog, products):
    # RFC 9110 13.1.3: a date later than the server's current time is invalid
    feed = ChannelFeedFactory(catalog=catalog)
    future = http_date((timezone.now() + timedelta(days=3)).timestamp())
    response = fetch(client, feed, HTTP_IF_MODIFIED_SINCE=future)
    assert response.status_code == 200
    assert b"<g:id>A1</g:id>" in body_of(response)


_HEAD_FEED = """
import sys

import django

django.setup()
from django.conf import settings
from django.test import Client

settings.CHANNEL_FEED_RATE_LIMIT = (3, 10**8)
client = Client()
print(" ".join(str(client.head(sys.argv[1]).status_code) for _ in range(int(sys.argv[2]))))
"""


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_rate_limit_is_shared_by_separate_processes(client, catalog, products, settings):
    """Two processes (as two gunicorn workers) count against the same limit: the cache is
    Redis, not each process's memory."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from django.conf import settings as conf
    from django.db import connection

    assert conf.CACHES["default"]["BACKEND"].endswith("RedisCache")
    db = connection.settings_dict
    env = {
        **os.environ,  # REDIS_URL and this run's CACHE_KEY_PREFIX included
        "DJANGO_SETTINGS_MODULE": "catalog_health.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "PYTHONPATH": str(Path(conf.BASE_DIR)),
    }
    feed = ChannelFeedFactory(catalog=catalog)
    path = services.feed_path(feed)

    def process(n: int) -> list[str]:
        out = subprocess.run(
            [sys.executable, "-c", _HEAD_FEED, path, str(n)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return out.stdout.split()

    assert process(2) == ["200", "200"]
    assert process(2) == ["200", "429"]  # a per-process cache would say 200 200
    settings.CHANNEL_FEED_RATE_LIMIT = (3, 10**8)
    assert fetch(client, feed).status_code == 429  # and this process counts with them


def test_rss_feed_without_rules_is_whole_under_the_debug_cursor(client, catalog, products):
    """DEBUG = True (make demo) wraps the cursor in Django's debug wrapper, whose copy()
    takes no parameters: the fast path must not go through it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    feed = ChannelFeedFactory(catalog=catalog)
    with CaptureQueriesContext(connection):
        response = fetch(client, feed)
    assert response.status_code == 200
    assert [i["g:id"][0] for i in xml_items(body_of(response))] == ["A1", "A2", "R1"]


def _broken_body(feed, *, link, counter, invalid):
    yield b"<?xml version='1.0'?><rss>"
    raise RuntimeError("the database went away")


def test_a_server_error_mid_feed_is_logged_as_500_and_raised(rf, catalog, products, monkeypatch):
    from channels.delivery import feed_out

    monkeypatch.setattr(services, "feed_body", _broken_body)
    feed = ChannelFeedFactory(catalog=catalog)
    response = feed_out(rf.get(services.feed_path(feed)), token=feed.token, filename=feed.filename)
    with pytest.raises(RuntimeError, match="went away"):
        b"".join(response.streaming_content)
    fetch_row = ChannelFeedFetch.objects.filter(feed=feed).get()
    assert (fetch_row.status, fetch_row.products) == (500, None)
    feed.refresh_from_db()
    assert feed.last_fetched_at is None  # a failed fetch does not count as one


def test_a_client_gone_before_a_server_error_is_still_499(rf, catalog, products, monkeypatch):
    from channels.delivery import feed_out

    monkeypatch.setattr(services, "feed_body", _broken_body)
    feed = ChannelFeedFactory(catalog=catalog)
    response = feed_out(rf.get(services.feed_path(feed)), token=feed.token, filename=feed.filename)
    chunks = iter(response.streaming_content)
    next(chunks)
    request_finished.disconnect(close_old_connections)
    try:
        response.close()  # the server closes the iterator: GeneratorExit, not an error
    finally:
        request_finished.connect(close_old_connections)
    assert ChannelFeedFetch.objects.filter(feed=feed).get().status == 499


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_requests_without_credentials_cannot_use_up_the_channels_limit(
    client, catalog, products, settings
):
    settings.CHANNEL_FEED_RATE_LIMIT = (3, 600)
    feed = ChannelFeedFactory(catalog=catalog)
    services.feed_set_basic_auth(
        tenant=feed.tenant, actor=None, feed=feed, username="google", password="s3cret-pass"
    )
    statuses = [fetch(client, feed).status_code for _ in range(3)]
    statuses.append(fetch(client, feed, HTTP_AUTHORIZATION="Basic !!!").status_code)
    # a bucket of their own, with the same limit: over it the challenge is still sent (a
    # client may send its password only when challenged), but nothing more is logged
    assert statuses == [401, 401, 401, 401]
    assert list(ChannelFeedFetch.objects.filter(feed=feed).values_list("status", flat=True)) == [
        401,
        401,
        401,
    ]
    ok = fetch(client, feed, HTTP_AUTHORIZATION=_basic("google", "s3cret-pass"))
    assert ok.status_code == 200
    assert [i["g:id"][0] for i in xml_items(body_of(ok))] == ["A1", "A2", "R1"]


def test_wrong_credentials_count_against_the_feeds_limit(client, catalog, products, settings):
    settings.CHANNEL_FEED_RATE_LIMIT = (3, 600)
    feed = ChannelFeedFactory(catalog=catalog)
    services.feed_set_basic_auth(
        tenant=feed.tenant, actor=None, feed=feed, username="google", password="s3cret-pass"
    )
    right, wrong = _basic("google", "s3cret-pass"), _basic("google", "wrong-pass")
    statuses = [fetch(client, feed, HTTP_AUTHORIZATION=h).status_code for h in (wrong, wrong)]
    statuses += [fetch(client, feed, HTTP_AUTHORIZATION=h).status_code for h in (right, right)]
    assert statuses == [401, 401, 200, 429]  # each password check is a slow hash


@pytest.mark.parametrize(("field", "value"), [("name", "Boots"), ("currency", "EUR")])
def test_the_catalogs_name_and_currency_change_the_version(client, catalog, products, field, value):
    """The feed writes them (the RSS title and description, the currency of prices
    without one), so a conditional GET after an admin changes them gets the new feed."""
    products["a2"].currency = ""
    products["a2"].save()
    feed = ChannelFeedFactory(catalog=catalog)
    first = fetch(client, feed)
    setattr(catalog, field, value)
    catalog.save()
    again = fetch(client, feed, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]
    root = ET.fromstring(body_of(again))  # noqa: S314 - our own output
    if field == "name":
        assert root.findtext("channel/title") == "Boots"
    else:
        prices = {i["g:id"][0]: i["g:price"][0] for i in xml_items(body_of(again))}
        assert prices["A2"] == "20.00 EUR"


@pytest.mark.parametrize(
    ("channel", "fmt"), [("google", "xml"), ("google", "tsv"), ("meta", "csv"), ("meta", "xml")]
)
def test_an_image_url_with_a_comma_stays_one_image(client, catalog, channel, fmt):
    from catalogs.models import ReviewStatus
    from catalogs.tests.factories import ProductFactory

    ProductFactory(
        catalog=catalog,
        sku="C1",
        additional_image_links=[
            "https://cdn.example/w_100,h_100/a.jpg",
            "https://cdn.example/b.jpg",
        ],
        review_status=ReviewStatus.AVAILABLE,
    )
    feed = ChannelFeedFactory(catalog=catalog, channel=channel, format=fmt)
    body = body_of(fetch(client, feed))
    if fmt == "xml":
        images = xml_items(body)[0]["g:additional_image_link"]
    else:
        images = table(body, fmt)[0]["additional_image_link"].split(",")
    assert images == ["https://cdn.example/w_100%2Ch_100/a.jpg", "https://cdn.example/b.jpg"]


def test_a_changed_channel_or_format_redirects_the_url_the_channel_was_given(
    client, catalog, products
):
    feed = ChannelFeedFactory(catalog=catalog, channel="google", format="xml")
    given = services.feed_path(feed)
    services.feed_update(tenant=feed.tenant, actor=None, feed=feed, data={"format": "tsv"})
    services.feed_update(
        tenant=feed.tenant, actor=None, feed=feed, data={"channel": "meta", "format": "csv"}
    )
    now = services.feed_path(feed)
    assert now.endswith("/meta.csv")
    for old in (given, given.replace("google.xml", "google.tsv")):
        for method in (client.get, client.head):
            response = method(old)
            assert response.status_code == 301, old
            assert response["Location"] == f"http://testserver{now}"
    assert [r["id"] for r in table(body_of(fetch(client, feed)), "csv")] == ["A1", "A2", "R1"]
    # a name the feed never had is still a 404, and the log shows the channel's old URL
    assert client.get(given.replace("google.xml", "tiktok.csv")).status_code == 404
    assert 301 in {f.status for f in ChannelFeedFetch.objects.filter(feed=feed)}
    # back to a former name: served again, not redirected to itself
    services.feed_update(
        tenant=feed.tenant, actor=None, feed=feed, data={"channel": "google", "format": "xml"}
    )
    assert fetch(client, feed).status_code == 200
    assert client.get(now).status_code == 301
    # a rotated token ends every URL of the old one, former names too
    services.feed_rotate(tenant=feed.tenant, actor=None, feed=feed)
    assert client.get(given).status_code == 404
    assert client.get(services.feed_path(feed).replace("google.xml", "meta.csv")).status_code == 404


@pytest.mark.parametrize(
    ("channel", "fmt"), [("google", "tsv"), ("meta", "csv"), ("tiktok", "csv")]
)
def test_a_table_feed_without_rules_carries_every_product(client, catalog, channel, fmt):
    """More products than any limit a query could take from another setting (a channel's
    2,000-character link limit once ended the rows' query at 2,000 products)."""
    ProductFactory.create_batch(
        2_050, catalog=catalog, review_status=ReviewStatus.AVAILABLE, brand="Acme"
    )
    feed = ChannelFeedFactory(catalog=catalog, channel=channel, format=fmt)
    rows = table(body_of(fetch(client, feed)), fmt)
    assert len(rows) == 2_050
