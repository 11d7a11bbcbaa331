"""Fixtures shared by the feeds tests."""

import pytest

from catalog_health.tenancy.models import Role
from catalogs.tests.factories import CatalogFactory
from feeds.tests.feedserver import FeedServer


@pytest.fixture
def catalog(tenant_a):
    return CatalogFactory(tenant=tenant_a)


@pytest.fixture
def owner(member, tenant_a):
    return member(tenant_a, Role.OWNER)


@pytest.fixture
def server(settings):
    """A local HTTP feed server on 127.0.0.1, allow-listed for fetching."""
    settings.FEEDS_FETCH_ALLOW_LIST = ["127.0.0.0/8"]
    s = FeedServer()
    yield s
    s.close()
