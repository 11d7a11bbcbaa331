"""Django admin as staff see it: logs are history (no add, change or delete, so nobody can
fabricate or erase a run's or a product's past), a settings row that is the one row of its
thresholds cannot be deleted, and every list is named in plain English."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from catalog_health.tenancy.models import AuditEvent
from channels.models import ChannelFeedFetch
from ecr.models import EcrEvent, ProductIssue, ReviewBatch, ReviewSettings
from feeds.models import FeedRowError, FeedRunChange, FeedSettings
from feeds.tests.factories import FeedRowErrorFactory
from flagged.models import FlagTransition, PolicyChange

pytestmark = pytest.mark.django_db

OURS = {"tenancy", "catalogs", "feeds", "flagged", "channels", "ecr"}

LOGS = [
    AuditEvent,
    FeedRowError,
    FeedRunChange,
    FlagTransition,
    PolicyChange,
    ChannelFeedFetch,
    EcrEvent,
    ReviewBatch,
    ProductIssue,
]
SINGLETONS = [FeedSettings, ReviewSettings]


@pytest.fixture
def staff_request(user_factory):
    request = RequestFactory().get("/admin/")
    request.user = user_factory("root", is_staff=True, is_superuser=True)
    return request


@pytest.mark.parametrize("model", LOGS, ids=lambda m: m.__name__)
def test_a_log_is_read_only_in_admin(staff_request, model):
    model_admin = admin.site._registry[model]
    assert not model_admin.has_add_permission(staff_request)
    assert not model_admin.has_change_permission(staff_request)
    assert not model_admin.has_delete_permission(staff_request)
    # staff still read it
    assert model_admin.has_view_permission(staff_request)


def test_a_run_row_error_has_no_add_link_nor_add_page(admin_client):
    FeedRowErrorFactory()
    changelist = admin_client.get(reverse("admin:feeds_feedrowerror_changelist"))
    assert changelist.status_code == 200
    assert reverse("admin:feeds_feedrowerror_add") not in changelist.content.decode()
    assert admin_client.get(reverse("admin:feeds_feedrowerror_add")).status_code == 403


@pytest.mark.parametrize("model", SINGLETONS, ids=lambda m: m.__name__)
def test_the_one_settings_row_cannot_be_deleted(staff_request, admin_client, model):
    row = model.load() if model is FeedSettings else model.current()  # the one row
    row.save()
    model_admin = admin.site._registry[model]
    assert not model_admin.has_delete_permission(staff_request)
    assert not model_admin.has_delete_permission(staff_request, row)
    assert not model_admin.has_add_permission(staff_request)  # there is one already
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    page = admin_client.get(reverse(f"{name}_change", args=[row.pk])).content.decode()
    assert reverse(f"{name}_delete", args=[row.pk]) not in page
    assert admin_client.post(reverse(f"{name}_delete", args=[row.pk])).status_code == 403
    assert model.objects.filter(pk=row.pk).exists()


# English plurals the default "add an s" gets wrong, and initialisms in lower case.
WRONG_PLURAL = re.compile(r"(ch|sh|ss|x)s\b|ys\b(?<![aeiou]ys)|\b(api|ecr|sku|csv|url)\b")


def _labels():
    for model in admin.site._registry:
        app = model._meta.app_label
        if app in OURS:
            yield pytest.param(model, id=f"{app}.{model.__name__}")


@pytest.mark.parametrize("model", list(_labels()))
def test_admin_names_each_list_in_plain_english(model):
    plural = str(model._meta.verbose_name_plural)
    assert not WRONG_PLURAL.search(plural), plural
