"""Each role sees and may do exactly what DESIGN.md says."""

import pytest
from django.urls import reverse

from catalog_health.tenancy.models import Membership
from catalog_health.tenancy.roles import Perm, Role, has_perm, roles_with
from catalogs.models import Catalog, Product
from catalogs.tests.factories import CatalogFactory, ProductFactory

EXPECTED = {
    # perm: roles that hold it
    Perm.VIEW: {"owner", "admin", "advertiser", "seller", "viewer"},
    Perm.MANAGE_CATALOGS: {"owner", "admin", "advertiser"},
    Perm.MANAGE_SOURCES: {"owner", "admin", "advertiser"},
    Perm.EDIT_PRODUCTS: {"owner", "admin", "advertiser", "seller"},
    Perm.MANAGE_ORDERS: {"owner", "admin", "seller"},
    Perm.MANAGE_MEMBERS: {"owner", "admin"},
}


@pytest.mark.parametrize("perm", list(Perm))
@pytest.mark.parametrize("role", Role.values)
def test_role_permission_table(role, perm):
    assert has_perm(role, perm) == (role in EXPECTED[perm])


def test_unknown_role_has_nothing():
    assert not any(has_perm("hacker", p) for p in Perm)


def test_roles_with_names_roles_for_the_403_page():
    assert roles_with(Perm.MANAGE_MEMBERS) == ["Owner", "Admin"]


@pytest.mark.django_db
@pytest.mark.parametrize("role", Role.values)
def test_everyone_in_the_tenant_sees_catalogs_and_products(client, member, tenant_a, role):
    product = ProductFactory(catalog=CatalogFactory(tenant=tenant_a))
    client.force_login(member(tenant_a, role))
    for url in (
        reverse("catalogs:catalog_list", kwargs={"tenant_slug": tenant_a.slug}),
        reverse(
            "catalogs:product_detail",
            kwargs={
                "tenant_slug": tenant_a.slug,
                "catalog_id": product.catalog_id,
                "product_id": product.pk,
            },
        ),
    ):
        assert client.get(url).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "allowed"),
    [("owner", True), ("admin", True), ("advertiser", True), ("seller", True), ("viewer", False)],
)
def test_product_edit_by_role(client, member, tenant_a, role, allowed):
    product = ProductFactory(catalog=CatalogFactory(tenant=tenant_a), inventory_quantity=5)
    client.force_login(member(tenant_a, role))
    url = reverse(
        "catalogs:product_detail",
        kwargs={
            "tenant_slug": tenant_a.slug,
            "catalog_id": product.catalog_id,
            "product_id": product.pk,
        },
    )
    response = client.post(
        url,
        {
            "inventory_quantity": 42,
            "price": "49.99",
            "shipping_fee": "4.99",
            "availability": "in_stock",
        },
    )
    product.refresh_from_db()
    if allowed:
        assert response.status_code == 302
        assert product.inventory_quantity == 42
    else:
        assert response.status_code == 403
        assert b"Owner, Admin, Advertiser, Seller" in response.content
        assert product.inventory_quantity == 5


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "allowed"),
    [("owner", True), ("admin", True), ("advertiser", True), ("seller", False), ("viewer", False)],
)
def test_catalog_create_by_role(client, member, tenant_a, role, allowed):
    client.force_login(member(tenant_a, role))
    url = reverse("catalogs:catalog_list", kwargs={"tenant_slug": tenant_a.slug})
    response = client.post(url, {"name": "Spring", "country": "US", "currency": "USD"})
    assert response.status_code == (302 if allowed else 403)
    assert Catalog.objects.for_tenant(tenant_a).filter(name="Spring").exists() == allowed


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "allowed"),
    [("owner", True), ("admin", True), ("advertiser", False), ("seller", False), ("viewer", False)],
)
def test_inviting_members_by_role(client, member, tenant_a, role, allowed):
    client.force_login(member(tenant_a, role))
    url = reverse("tenancy:members", kwargs={"tenant_slug": tenant_a.slug})
    response = client.post(url, {"username": "newbie", "email": "n@example.com", "role": "seller"})
    assert response.status_code == (302 if allowed else 403)
    assert Membership.objects.filter(tenant=tenant_a, user__username="newbie").exists() == allowed


@pytest.mark.django_db
def test_admin_cannot_grant_owner_but_owner_can(client, member, tenant_a):
    target = member(tenant_a, Role.VIEWER, username="target")
    url = reverse("tenancy:members", kwargs={"tenant_slug": tenant_a.slug})
    membership = Membership.objects.get(user=target)
    client.force_login(member(tenant_a, Role.ADMIN))
    client.post(url, {"membership_id": membership.pk, "role": "owner"})
    membership.refresh_from_db()
    assert membership.role == Role.VIEWER
    client.force_login(member(tenant_a, Role.OWNER, username="boss"))
    client.post(url, {"membership_id": membership.pk, "role": "admin"})
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "status"),
    [("owner", 200), ("seller", 200), ("advertiser", 200), ("viewer", 403)],
)
def test_api_product_update_by_role(api_client_for, member, tenant_a, role, status):
    product = ProductFactory(catalog=CatalogFactory(tenant=tenant_a), inventory_quantity=1)
    api = api_client_for(member(tenant_a, role), tenant_a)
    response = api.patch(
        f"/api/v1/products/{product.pk}/", {"inventory_quantity": 9}, format="json"
    )
    assert response.status_code == status
    product.refresh_from_db()
    assert product.inventory_quantity == (9 if status == 200 else 1)
    if status == 403:
        assert "Seller" in response.json()["detail"]


@pytest.mark.django_db
def test_api_read_is_open_to_viewers(api_client_for, member, tenant_a):
    ProductFactory.create_batch(3, catalog=CatalogFactory(tenant=tenant_a))
    api = api_client_for(member(tenant_a, Role.VIEWER), tenant_a)
    response = api.get("/api/v1/products/")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 3
    assert Product.objects.count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("email", "added"),
    [
        ("bob@shop-a.example", False),  # another person who chose the same username
        ("", False),
        ("Bob@Agency.example", True),  # the account's own address: the same person
    ],
)
def test_an_existing_account_is_added_only_with_its_own_email(
    client, member, tenant_a, tenant_b, email, added
):
    bob = member(tenant_b, Role.ADMIN, username="bob")
    bob.email = "bob@agency.example"
    bob.save()
    client.force_login(member(tenant_a, Role.OWNER))
    url = reverse("tenancy:members", kwargs={"tenant_slug": tenant_a.slug})
    response = client.post(url, {"username": "bob", "email": email, "role": "viewer"})
    assert Membership.objects.filter(tenant=tenant_a, user=bob).exists() == added
    if not added:
        assert response.status_code == 200
        page = response.content.decode()
        assert "A different account already has the username bob" in page
        assert "bob@agency.example" not in page  # never shows the account's address
