"""POST/GET/PATCH/DELETE /api/v1/channel-feeds/ and the rotate action."""

import base64
import json

import pytest
from django.test import Client

from catalog_health.tenancy.models import AuditEvent
from catalog_health.tenancy.roles import Role
from catalogs.models import ReviewStatus
from catalogs.tests.factories import CatalogFactory, ProductFactory
from channels import selectors, services
from channels.models import ChannelFeed

from .factories import ChannelFeedFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/channel-feeds/"


@pytest.fixture
def api(api_client_for, member, tenant_a):
    return api_client_for(member(tenant_a, Role.ADVERTISER), tenant_a)


def test_create_answers_201_with_the_feeds_absolute_url(api, catalog, products, client):
    response = api.post(
        URL,
        {"catalog": catalog.pk, "channel": "tiktok", "format": "csv", "flagged": "label"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["url"].startswith("http://testserver/channel-feeds/")
    assert body["url"].endswith("/tiktok.csv")
    feed = ChannelFeed.objects.get(pk=body["id"])
    assert feed.tenant_id == catalog.tenant_id and feed.flagged == "label"
    fetched = client.get(body["url"])
    assert fetched.status_code == 200
    assert b"".join(fetched.streaming_content).startswith(b"sku_id,title,")
    assert AuditEvent.objects.filter(action="channel_feed.created", target_id=str(feed.pk)).exists()


def test_another_tenants_catalog_is_refused_like_a_missing_one(api, tenant_b):
    foreign = CatalogFactory(tenant=tenant_b)
    answers = []
    for catalog_id in (foreign.pk, 987654321):
        response = api.post(
            URL,
            {"catalog": catalog_id, "channel": "google", "format": "xml", "flagged": "exclude"},
            format="json",
        )
        assert response.status_code == 400
        answers.append(response.json()["catalog"][0].replace(str(catalog_id), "N"))
    assert answers[0] == answers[1]
    assert not ChannelFeed.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"channel": "tiktok", "format": "xml"}, "format"),
        ({"channel": "google", "format": "csv"}, "format"),
        ({"channel": "bing", "format": "xml"}, "channel"),
        ({"channel": "google", "format": "xml", "flagged": "hide"}, "flagged"),
        (
            {
                "channel": "google",
                "format": "xml",
                "rules": [{"op": "set", "field": "id", "value": "x"}],
            },
            "rules",
        ),
        ({"channel": "google", "format": "xml", "rules": "drop table"}, "rules"),
        (
            {
                "channel": "meta",
                "format": "csv",
                "rules": [{"op": "set", "field": "availability", "value": "backorder"}],
            },
            "rules",
        ),
        ({"channel": "google", "format": "xml", "label_slot": 5}, "label_slot"),
    ],
)
def test_invalid_feeds_are_400_naming_the_field(api, catalog, payload, field):
    response = api.post(URL, {"catalog": catalog.pk, **payload}, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_a_rule_setting_a_price_to_text_is_400_naming_the_rule(api, catalog):
    rules = [{"op": "set", "field": "price", "value": "call us"}]
    response = api.post(
        URL,
        {"catalog": catalog.pk, "channel": "google", "format": "xml", "rules": rules},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["rules"] == [
        "Rule 1 (set): price must be an amount and a currency code, such as 12.99 USD "
        "(got 'call us')."
    ]


def test_list_retrieve_patch_rotate_delete(api, catalog, tenant_b, client):
    feed = ChannelFeedFactory(catalog=catalog)
    ChannelFeedFactory(catalog=CatalogFactory(tenant=tenant_b))  # another tenant's
    listed = api.get(URL).json()
    assert [row["id"] for row in listed["results"]] == [feed.pk]
    assert api.get(f"{URL}{feed.pk}/").json()["url"].endswith(f"/{feed.token}/google.xml")

    patched = api.patch(
        f"{URL}{feed.pk}/",
        {"flagged": "ignore", "rules": [{"op": "set", "field": "brand", "value": "Acme"}]},
        format="json",
    )
    assert patched.status_code == 200, patched.content
    feed.refresh_from_db()
    assert feed.flagged == "ignore" and feed.rules[0]["value"] == "Acme"
    assert api.patch(f"{URL}{feed.pk}/", {"format": "csv"}, format="json").status_code == 400

    old_url = api.get(f"{URL}{feed.pk}/").json()["url"]
    rotated = api.post(f"{URL}{feed.pk}/rotate/")
    assert rotated.status_code == 200
    assert rotated.json()["url"] != old_url
    assert client.get(old_url).status_code == 404
    assert AuditEvent.objects.filter(action="channel_feed.rotated").count() == 1

    assert api.delete(f"{URL}{feed.pk}/").status_code == 204
    assert not ChannelFeed.objects.filter(pk=feed.pk).exists()


def test_viewers_read_but_do_not_write(api_client_for, member, tenant_a, catalog):
    viewer = api_client_for(member(tenant_a, Role.VIEWER), tenant_a)
    feed = ChannelFeedFactory(catalog=catalog)
    assert viewer.get(URL).status_code == 200
    assert viewer.post(f"{URL}{feed.pk}/rotate/").status_code == 403
    assert (
        viewer.post(URL, {"catalog": catalog.pk, "channel": "google", "format": "xml"}).status_code
        == 403
    )


LEFT_OUT = ["included", "unavailable", "pending", "impacted", "labelled", "long_id"]
LEFT_OUT += ["long_value", "no_brand", "no_price", "no_image", "missing_value"]
LEFT_OUT += ["no_availability_date", "invalid_value"]


@pytest.mark.parametrize(
    ("channel", "fmt", "flagged", "expected"),
    [
        # TikTok requires a brand; its ids may be long
        (
            "tiktok",
            "csv",
            "exclude",
            {"included": 4, "unavailable": 1, "pending": 1, "impacted": 1, "no_brand": 1},
        ),
        # Google takes ids of up to 50 characters and no brand
        (
            "google",
            "xml",
            "label",
            {"included": 5, "unavailable": 1, "pending": 1, "labelled": 2, "long_id": 1},
        ),
    ],
)
def test_a_feeds_detail_says_how_many_products_it_leaves_out_and_why(
    api, catalog, products, channel, fmt, flagged, expected
):
    ProductFactory(catalog=catalog, sku="L" * 51, review_status=ReviewStatus.AVAILABLE)
    ProductFactory(catalog=catalog, sku="NB", brand="", review_status=ReviewStatus.AVAILABLE)
    feed = ChannelFeedFactory(catalog=catalog, channel=channel, format=fmt, flagged=flagged)
    left_out = api.get(f"{URL}{feed.pk}/").json()["left_out"]
    assert left_out == {key: expected.get(key, 0) for key in LEFT_OUT}
    # the numbers the feed's page shows
    assert left_out == vars(selectors.feed_left_out(feed))


def test_the_feed_list_does_not_count_each_feeds_products(api, catalog):
    ChannelFeedFactory(catalog=catalog)
    assert "left_out" not in api.get(URL).json()["results"][0]


def test_the_schema_describes_a_feeds_left_out_counts():
    schema = json.loads(Client().get("/api/schema/?format=json").content)
    answer = schema["paths"]["/api/v1/channel-feeds/{id}/"]["get"]["responses"]["200"]
    ref = answer["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    left_out = schema["components"]["schemas"][ref]["properties"]["left_out"]
    counts = schema["components"]["schemas"][left_out["allOf"][0]["$ref"].rsplit("/", 1)[1]]
    assert sorted(counts["required"]) == sorted(LEFT_OUT)
    for key in LEFT_OUT:
        assert counts["properties"][key]["type"] == "integer"
        assert counts["properties"][key]["description"]
    # the format's choice set keeps its name in both components (not a hash-named one)
    for component in ("ChannelFeed", ref):
        assert schema["components"]["schemas"][component]["properties"]["format"] == {
            "$ref": "#/components/schemas/ChannelFeedFormatEnum"
        }


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_http_basic_credentials_are_set_and_cleared_through_the_api(api, catalog, client):
    feed = ChannelFeedFactory(catalog=catalog)
    credentials = {"basic_username": "merchant", "basic_password": "s3cret-pass"}
    response = api.patch(f"{URL}{feed.pk}/", credentials, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["basic_auth"] is True and body["basic_username"] == "merchant"
    assert "basic_password" not in body and "s3cret-pass" not in response.content.decode()
    assert "s3cret-pass" not in api.get(f"{URL}{feed.pk}/").content.decode()
    feed.refresh_from_db()
    assert feed.basic_password_hash and "s3cret-pass" not in feed.basic_password_hash
    path = services.feed_path(feed)
    assert client.get(path).status_code == 401
    assert client.get(path, HTTP_AUTHORIZATION=_basic("merchant", "s3cret-pass")).status_code == 200
    assert AuditEvent.objects.filter(action="channel_feed.credentials_set").count() == 1

    # an empty user name removes them, as on the page
    cleared = api.patch(f"{URL}{feed.pk}/", {"basic_username": ""}, format="json")
    assert cleared.status_code == 200, cleared.content
    assert cleared.json()["basic_auth"] is False and cleared.json()["basic_username"] == ""
    assert client.get(path).status_code == 200
    assert AuditEvent.objects.filter(action="channel_feed.credentials_removed").count() == 1


def test_a_feed_is_created_with_http_basic_credentials(api, catalog):
    payload = {"catalog": catalog.pk, "channel": "google", "format": "xml"}
    payload |= {"basic_username": "merchant", "basic_password": "s3cret-pass"}
    response = api.post(URL, payload, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["basic_auth"] is True and "basic_password" not in response.json()
    assert ChannelFeed.objects.get().has_basic_auth


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"basic_username": "merchant", "basic_password": "short"}, "basic_password"),
        ({"basic_username": "merchant"}, "basic_password"),  # the password goes with the name
        ({"basic_username": "mer:chant", "basic_password": "s3cret-pass"}, "basic_username"),
        ({"basic_password": "s3cret-pass"}, "basic_username"),
        # nothing is half-saved: a refused password keeps the settings sent with it out too
        ({"flagged": "ignore", "basic_username": "m", "basic_password": "x"}, "basic_password"),
    ],
)
def test_refused_credentials_are_400_naming_the_field_and_change_nothing(
    api, catalog, payload, field
):
    feed = ChannelFeedFactory(catalog=catalog)
    response = api.patch(f"{URL}{feed.pk}/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    feed.refresh_from_db()
    assert not feed.has_basic_auth and feed.flagged == "exclude"
    # another channel: the catalog has its Google feed
    created = api.post(URL, {"catalog": catalog.pk, "channel": "meta", "format": "csv", **payload})
    assert created.status_code == 400 and field in created.json()
    assert ChannelFeed.objects.count() == 1


def test_another_tenants_feed_credentials_are_a_404(api, tenant_b):
    foreign = ChannelFeedFactory(catalog=CatalogFactory(tenant=tenant_b))
    credentials = {"basic_username": "merchant", "basic_password": "s3cret-pass"}
    assert api.patch(f"{URL}{foreign.pk}/", credentials, format="json").status_code == 404
    assert api.patch(f"{URL}987654321/", credentials, format="json").status_code == 404
    foreign.refresh_from_db()
    assert not foreign.has_basic_auth


def test_viewers_cannot_set_credentials(api_client_for, member, tenant_a, catalog):
    viewer = api_client_for(member(tenant_a, Role.VIEWER), tenant_a)
    feed = ChannelFeedFactory(catalog=catalog)
    credentials = {"basic_username": "merchant", "basic_password": "s3cret-pass"}
    assert viewer.patch(f"{URL}{feed.pk}/", credentials, format="json").status_code == 403
    feed.refresh_from_db()
    assert not feed.has_basic_auth


def test_the_schema_has_the_password_write_only():
    schema = json.loads(Client().get("/api/schema/?format=json").content)
    components = schema["components"]["schemas"]
    assert "basic_password" not in components["ChannelFeed"]["properties"]
    assert "basic_password" in components["PatchedChannelFeedRequest"]["properties"]
    assert "basic_username" in components["PatchedChannelFeedRequest"]["properties"]


def test_a_catalog_has_one_feed_per_channel(api, catalog):
    google = {"catalog": catalog.pk, "channel": "google", "format": "xml"}
    assert api.post(URL, google, format="json").status_code == 201
    again = api.post(URL, {**google, "format": "tsv"}, format="json")
    assert again.status_code == 400
    assert again.json()["channel"] == [
        "This catalog already has a Google Merchant Center feed (one feed per catalog and "
        "channel): change that feed instead."
    ]
    assert ChannelFeed.objects.count() == 1
    # another channel, or the same channel for another catalog, is a feed of its own
    meta = api.post(URL, {**google, "channel": "meta", "format": "csv"}, format="json")
    assert meta.status_code == 201
    other = CatalogFactory(tenant=catalog.tenant)
    assert api.post(URL, {**google, "catalog": other.pk}, format="json").status_code == 201
    # nor can a feed change to a channel its catalog already has a feed for
    moved = api.patch(
        f"{URL}{meta.json()['id']}/", {"channel": "google", "format": "xml"}, format="json"
    )
    assert moved.status_code == 400 and "channel" in moved.json()
    assert ChannelFeed.objects.get(pk=meta.json()["id"]).channel == "meta"
