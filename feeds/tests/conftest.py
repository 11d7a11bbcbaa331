"""Fixtures shared by the feeds tests."""

import pytest

from catalog_health.tenancy.models import Role
from catalogs.tests.factories import CatalogFactory


@pytest.fixture
def catalog(tenant_a):
    return CatalogFactory(tenant=tenant_a)


@pytest.fixture
def owner(member, tenant_a):
    return member(tenant_a, Role.OWNER)
