"""Django admin saves a channel feed only through the service's validation: rules the API
refuses are refused there too, with the same messages."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from catalog_health.tenancy.models import AuditEvent

from .factories import ChannelFeedFactory

pytestmark = pytest.mark.django_db

BAD_RULES = [
    {"op": "set", "field": "Bad Column!", "value": "x"},
    {"op": "rename", "from": "id", "to": "title"},
]


def _form(feed, **changes) -> dict:
    data = {
        "tenant": feed.tenant_id,
        "catalog": feed.catalog_id,
        "name": feed.name,
        "channel": feed.channel,
        "format": feed.format,
        "flagged": feed.flagged,
        "label_slot": feed.label_slot,
        "rules": json.dumps(feed.rules),
        "basic_username": feed.basic_username,
        "created_by": "",
    }
    return {**data, **changes}


def test_rules_the_api_refuses_are_refused_in_admin(admin_client, catalog):
    feed = ChannelFeedFactory(catalog=catalog)
    url = reverse("admin:channels_channelfeed_change", args=[feed.pk])
    response = admin_client.post(url, _form(feed, rules=json.dumps(BAD_RULES)))
    assert response.status_code == 200  # the form again, not a redirect
    errors = response.context["adminform"].form.errors
    assert errors["rules"] == [
        "Rule 1 (set): column names are lowercase letters, digits and _ (got 'Bad Column!').",
        "Rule 2 (rename): the id column cannot be changed.",
    ]
    assert "the id column cannot be changed" in response.content.decode()
    feed.refresh_from_db()
    assert feed.rules == []


def test_a_format_the_channel_does_not_read_is_refused_in_admin(admin_client, catalog):
    feed = ChannelFeedFactory(catalog=catalog, channel="tiktok", format="csv")
    url = reverse("admin:channels_channelfeed_change", args=[feed.pk])
    response = admin_client.post(url, _form(feed, format="xml"))
    assert response.context["adminform"].form.errors["format"] == ["TikTok feeds are csv."]
    feed.refresh_from_db()
    assert feed.format == "csv"


def test_valid_rules_are_saved_in_admin(admin_client, catalog):
    feed = ChannelFeedFactory(catalog=catalog)
    url = reverse("admin:channels_channelfeed_change", args=[feed.pk])
    rules = [{"op": "set", "field": "brand", "value": "Kestrel"}]
    response = admin_client.post(url, _form(feed, rules=json.dumps(rules)))
    assert response.status_code == 302
    feed.refresh_from_db()
    assert feed.rules == rules


def test_a_feed_stays_with_its_catalog_in_admin(admin_client, catalog):
    """As in the API: moving it would publish another catalog's (or tenant's) products at
    the URL the channel was given."""
    from catalogs.tests.factories import CatalogFactory

    feed = ChannelFeedFactory(catalog=catalog)
    foreign = CatalogFactory()  # another tenant's
    assert foreign.tenant_id != feed.tenant_id
    url = reverse("admin:channels_channelfeed_change", args=[feed.pk])
    response = admin_client.post(url, _form(feed, tenant=foreign.tenant_id, catalog=foreign.pk))
    assert response.status_code == 302
    feed.refresh_from_db()
    assert (feed.tenant_id, feed.catalog_id) == (catalog.tenant_id, catalog.pk)


def test_feeds_are_not_added_in_admin(admin_client):
    """Only the service gives a feed its secret token (an admin-added one had none)."""
    assert admin_client.get(reverse("admin:channels_channelfeed_add")).status_code == 403


def test_a_channel_changed_in_admin_keeps_its_old_url_as_a_redirect(admin_client, client, catalog):
    from channels import services

    feed = ChannelFeedFactory(catalog=catalog, channel="google", format="xml")
    given = services.feed_path(feed)
    url = reverse("admin:channels_channelfeed_change", args=[feed.pk])
    response = admin_client.post(url, _form(feed, channel="meta", format="csv"))
    assert response.status_code == 302
    feed.refresh_from_db()
    assert client.get(given)["Location"].endswith(services.feed_path(feed))


def test_a_feed_changed_in_admin_is_audited_with_the_staff_member(admin_client, catalog):
    feed = ChannelFeedFactory(catalog=catalog, name="Google")
    url = reverse("admin:channels_channelfeed_change", args=[feed.pk])
    response = admin_client.post(url, _form(feed, name="Google main", flagged="ignore"))
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="channel_feed.updated")
    assert event.changes == {"name": ["Google", "Google main"], "flagged": ["exclude", "ignore"]}
    assert (event.tenant_id, event.actor.username) == (catalog.tenant_id, "admin")


def test_credentials_are_not_changed_in_admin(admin_client, catalog):
    """A user name goes with its password, which only the feed's page and the API take
    (hashed, and audited)."""
    feed = ChannelFeedFactory(catalog=catalog, basic_username="merchant")
    feed.basic_password_hash = "stored-hash"
    feed.save()
    url = reverse("admin:channels_channelfeed_change", args=[feed.pk])
    assert admin_client.post(url, _form(feed, basic_username="")).status_code == 302
    feed.refresh_from_db()
    assert (feed.basic_username, feed.basic_password_hash) == ("merchant", "stored-hash")


def test_a_feed_deleted_in_admin_is_audited(admin_client, catalog):
    feed = ChannelFeedFactory(catalog=catalog)
    url = reverse("admin:channels_channelfeed_delete", args=[feed.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    event = AuditEvent.objects.get(action="channel_feed.deleted")
    assert (event.target_id, event.actor.username) == (str(feed.pk), "admin")


def test_feeds_deleted_from_the_admin_list_are_audited(admin_client, catalog):
    feeds = [ChannelFeedFactory(catalog=catalog) for _ in range(2)]
    action = {
        "action": "delete_selected",
        "_selected_action": [f.pk for f in feeds],
        "post": "yes",
    }
    response = admin_client.post(reverse("admin:channels_channelfeed_changelist"), action)
    assert response.status_code == 302
    audited = AuditEvent.objects.filter(action="channel_feed.deleted")
    assert sorted(audited.values_list("target_id", flat=True)) == sorted(str(f.pk) for f in feeds)


def test_a_channel_the_catalog_has_a_feed_for_is_refused_in_admin(admin_client, catalog):
    ChannelFeedFactory(catalog=catalog, channel="google", format="xml")
    meta = ChannelFeedFactory(catalog=catalog, channel="meta", format="csv")
    url = reverse("admin:channels_channelfeed_change", args=[meta.pk])
    response = admin_client.post(url, _form(meta, channel="google", format="xml"))
    assert response.status_code == 200  # the form again, not a redirect
    assert "already has a Google Merchant Center feed" in str(
        response.context["adminform"].form.errors
    )
    meta.refresh_from_db()
    assert meta.channel == "meta"
