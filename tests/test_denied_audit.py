"""Denied actions are audited: every role 403 (pages and API) leaves an AuditEvent with the
user, the tenant, the action and the object; rate-limited so it cannot flood the log."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalog_health.tenancy.models import AuditEvent, Membership
from catalog_health.tenancy.roles import Role
from catalog_health.tenancy.services import DENIED_ACTION
from catalogs.tests.factories import CatalogFactory, ProductFactory
from feeds.tests.factories import FeedRunFactory, ProductSourceFactory

from .urlwalk import api_routes, tenant_routes

pytestmark = pytest.mark.django_db


def denied(tenant, user=None):
    qs = AuditEvent.objects.for_tenant(tenant).filter(action=DENIED_ACTION)
    return qs.filter(actor=user) if user is not None else qs


def test_page_403_is_audited_with_user_tenant_action_and_object(client, member, tenant_a):
    product = ProductFactory(catalog=CatalogFactory(tenant=tenant_a))
    viewer = member(tenant_a, Role.VIEWER)
    client.force_login(viewer)
    url = reverse(
        "catalogs:product_detail",
        kwargs={
            "tenant_slug": tenant_a.slug,
            "catalog_id": product.catalog_id,
            "product_id": product.pk,
        },
    )
    assert client.post(url, {"inventory_quantity": 1}).status_code == 403
    event = denied(tenant_a).get()
    assert event.actor == viewer and event.tenant == tenant_a
    assert (event.target_type, event.target_id) == ("product", str(product.pk))
    assert event.changes == {
        "action": "catalogs:product_detail",
        "permission": "edit_products",
        "method": "POST",
    }


def test_api_403_is_audited(api_client_for, member, tenant_a):
    source = ProductSourceFactory(catalog__tenant=tenant_a)
    seller = member(tenant_a, Role.SELLER)
    api = api_client_for(seller, tenant_a)
    response = api.post(f"/api/v1/sources/{source.pk}/refresh/", {}, format="json")
    assert response.status_code == 403
    event = denied(tenant_a).get()
    assert event.actor == seller
    assert (event.target_type, event.target_id) == ("productsource", str(source.pk))
    assert event.changes["action"] == "api:productsource-refresh"
    assert event.changes["permission"] == "manage_sources"


def test_denied_audit_is_rate_limited(client, member, tenant_a, settings):
    settings.AUDIT_DENIED_MAX_PER_WINDOW = 5
    viewer = member(tenant_a, Role.VIEWER)
    other = member(tenant_a, Role.SELLER)
    catalog = CatalogFactory(tenant=tenant_a)
    products = ProductFactory.create_batch(8, catalog=catalog)

    def post(user, product):
        client.force_login(user)
        url = reverse(
            "catalogs:product_detail",
            kwargs={
                "tenant_slug": tenant_a.slug,
                "catalog_id": catalog.pk,
                "product_id": product.pk,
            },
        )
        assert client.post(url, {}).status_code == 403

    for _ in range(30):  # the same attempt again and again: one event
        post(viewer, products[0])
    assert denied(tenant_a, viewer).count() == 1
    for product in products:  # distinct objects: at most the limit per window
        post(viewer, product)
    assert denied(tenant_a, viewer).count() == 5
    # the limit is per user: a second member's denial is still recorded
    member_url = reverse("tenancy:members", kwargs={"tenant_slug": tenant_a.slug})
    client.force_login(other)
    assert client.post(member_url, {"membership_id": 1, "role": "owner"}).status_code == 403
    assert denied(tenant_a, other).count() == 1


def test_every_role_403_leaves_an_audit_event(client, api_client_for, member, tenant_a, settings):
    """A viewer POSTs every page and calls every API write operation: each 403 is audited."""
    settings.AUDIT_DENIED_MAX_PER_WINDOW = 10_000
    viewer = member(tenant_a, Role.VIEWER)
    catalog = CatalogFactory(tenant=tenant_a)
    product = ProductFactory(catalog=catalog)
    source = ProductSourceFactory(catalog=catalog)
    run = FeedRunFactory(source=source)
    values = {
        "tenant_slug": tenant_a.slug,
        "catalog_id": catalog.pk,
        "product_id": product.pk,
        "source_id": source.pk,
        "run_id": run.pk,
    }
    client.force_login(viewer)
    forbidden = 0
    for route in tenant_routes():
        if not set(route.kwargs) <= values.keys():
            continue
        if route.name == "tenancy:member_leave":  # any member may leave: it would end the walk
            continue
        url = reverse(route.name, kwargs={k: values[k] for k in route.kwargs})
        before = denied(tenant_a).count()
        response = client.post(url, {})
        if response.status_code == 403:
            forbidden += 1
            assert denied(tenant_a).count() == before + 1, f"POST {url} ({route.name})"
    api = api_client_for(viewer, tenant_a)
    objects = {"catalog": catalog, "product": product, "productsource": source}
    for route in api_routes():
        model = route.callback.cls.queryset.model._meta.model_name
        kwargs = {}
        if "pk" in route.kwargs:
            if model not in objects:
                continue
            kwargs["pk"] = objects[model].pk
        url = reverse(route.name, kwargs=kwargs)
        for method in list(route.callback.actions):
            if method in ("get", "head", "options"):
                continue
            before = denied(tenant_a).count()
            response = getattr(api, method)(url, {}, format="json")
            if response.status_code == 403:
                forbidden += 1
                assert denied(tenant_a).count() == before + 1, f"{method.upper()} {url}"
    assert forbidden >= 20
    assert set(denied(tenant_a).values_list("actor", flat=True)) == {viewer.pk}
    assert Membership.objects.filter(user=viewer).count() == 1
