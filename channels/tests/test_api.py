"""POST/GET/PATCH/DELETE /api/v1/channel-feeds/ and the rotate action."""

import pytest

from catalog_health.tenancy.models import AuditEvent
from catalog_health.tenancy.roles import Role
from catalogs.tests.factories import CatalogFactory
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
        ({"channel": "google", "format": "xml", "label_slot": 5}, "label_slot"),
    ],
)
def test_invalid_feeds_are_400_naming_the_field(api, catalog, payload, field):
    response = api.post(URL, {"catalog": catalog.pk, **payload}, format="json")
    assert response.status_code == 400
    assert field in response.json()


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
