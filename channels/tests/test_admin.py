"""Django admin saves a channel feed only through the service's validation: rules the API
refuses are refused there too, with the same messages."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

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


def test_a_catalog_of_another_tenant_is_refused_in_admin(admin_client, catalog):
    from catalogs.tests.factories import CatalogFactory

    feed = ChannelFeedFactory(catalog=catalog)
    foreign = CatalogFactory()  # another tenant's
    assert foreign.tenant_id != feed.tenant_id
    url = reverse("admin:channels_channelfeed_change", args=[feed.pk])
    response = admin_client.post(url, _form(feed, catalog=foreign.pk))
    assert response.context["adminform"].form.errors["catalog"] == [
        "This catalog belongs to another tenant."
    ]
    feed.refresh_from_db()
    assert feed.catalog_id == catalog.pk


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
