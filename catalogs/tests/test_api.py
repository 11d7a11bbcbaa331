import pytest

from catalogs.models import Order

from .factories import CatalogFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_product_list_filters_and_cursor_pages(api_client_for, member, tenant_a):
    catalog = CatalogFactory(tenant=tenant_a)
    ProductFactory.create_batch(7, catalog=catalog)
    ProductFactory.create_batch(
        2, catalog=catalog, availability="out_of_stock", inventory_quantity=0
    )
    api = api_client_for(member(tenant_a), tenant_a)
    response = api.get("/api/v1/products/", {"availability": "out_of_stock"})
    assert [r["availability"] for r in response.json()["results"]] == ["out_of_stock"] * 2
    first = api.get("/api/v1/products/", {"page_size": 5}).json()
    assert len(first["results"]) == 5 and first["next"]
    second = api.get(first["next"]).json()
    assert len(second["results"]) == 4
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}


def test_patch_validates_and_returns_the_product(api_client_for, member, tenant_a):
    product = ProductFactory(catalog=CatalogFactory(tenant=tenant_a))
    api = api_client_for(member(tenant_a, "seller"), tenant_a)
    bad = api.patch(f"/api/v1/products/{product.pk}/", {"sale_price": "99"}, format="json")
    assert bad.status_code == 400
    assert "sale_price" in bad.json()
    ok = api.patch(f"/api/v1/products/{product.pk}/", {"shipping_fee": "0.00"}, format="json")
    assert ok.status_code == 200
    assert ok.json()["shipping_fee"] == "0.00"
    assert ok.json()["sku"] == product.sku


@pytest.mark.parametrize("qty", [99_999_999_999, 2_147_483_648])
def test_patch_refuses_an_inventory_past_the_column(api_client_for, member, tenant_a, qty):
    product = ProductFactory(catalog=CatalogFactory(tenant=tenant_a))
    api = api_client_for(member(tenant_a, "seller"), tenant_a)
    response = api.patch(
        f"/api/v1/products/{product.pk}/", {"inventory_quantity": qty}, format="json"
    )
    assert response.status_code == 400
    assert "inventory_quantity" in response.json()
    product.refresh_from_db()
    assert product.inventory_quantity == 10


def test_read_only_fields_are_ignored_on_patch(api_client_for, member, tenant_a):
    product = ProductFactory(catalog=CatalogFactory(tenant=tenant_a))
    api = api_client_for(member(tenant_a, "seller"), tenant_a)
    api.patch(f"/api/v1/products/{product.pk}/", {"sku": "HACKED", "title": "x"}, format="json")
    product.refresh_from_db()
    assert product.sku != "HACKED"


def test_revoked_token_is_refused(api_client_for, member, tenant_a):
    from catalog_health.tenancy.models import ApiToken
    from catalog_health.tenancy.services import api_token_revoke

    user = member(tenant_a)
    api = api_client_for(user, tenant_a)
    assert api.get("/api/v1/catalogs/").status_code == 200
    token = ApiToken.objects.for_tenant(tenant_a).get(user=user)
    api_token_revoke(tenant=tenant_a, token=token, actor=user)
    assert api.get("/api/v1/catalogs/").status_code == 401


def test_token_of_a_removed_member_no_longer_works(api_client_for, member, tenant_a):
    from catalog_health.tenancy.models import Membership

    user = member(tenant_a)
    api = api_client_for(user, tenant_a)
    Membership.objects.filter(user=user).delete()
    assert api.get("/api/v1/catalogs/").status_code == 404


def test_schema_and_docs_are_served_locally(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/products/" in schema.content
    docs = client.get("/api/docs/").content.decode()
    assert "cdn" not in docs.lower() and "unpkg" not in docs.lower()
    assert "/static/drf_spectacular_sidecar/" in docs


def test_bulk_orders_keep_one_line_per_catalog(api_client_for, member, tenant_a):
    """Shopify numbers orders per store and stores share skus: catalog 2's #1001 of SKU-1
    is another line than catalog 1's."""
    shops = [CatalogFactory(tenant=tenant_a) for _ in range(2)]
    for shop in shops:
        ProductFactory(catalog=shop, sku="SKU-1")
    api = api_client_for(member(tenant_a, "seller"), tenant_a)

    def post(shop, quantity, written=1):
        line = {
            "order_id": "#1001",
            "sku": "SKU-1",
            "quantity": quantity,
            "item_price": "20.00",
            "placed_at": "2026-03-01T10:00:00Z",
            "ship_by": "2026-03-04T10:00:00Z",
        }
        response = api.post(
            "/api/v1/orders/bulk/", {"catalog": shop.pk, "orders": [line]}, format="json"
        )
        assert response.status_code == 200, response.content
        assert response.json()["written"] == written

    def lines():
        return sorted(Order.objects.for_tenant(tenant_a).values_list("catalog_id", "quantity"))

    post(shops[0], 1)
    post(shops[1], 2)
    assert lines() == [(shops[0].pk, 1), (shops[1].pk, 2)]
    post(shops[0], 1, written=0)  # the same line again: unchanged
    assert lines() == [(shops[0].pk, 1), (shops[1].pk, 2)]


def _line(**extra) -> dict:
    return {
        "order_id": "#1001",
        "sku": "SKU-1",
        "item_price": "20.00",
        "placed_at": "2026-03-01T10:00:00Z",
        "ship_by": "2026-03-04T10:00:00Z",
        "shipped_at": "2026-03-02T10:00:00Z",
        **extra,
    }


def test_bulk_orders_tracking_is_unknown_unless_the_line_says(api_client_for, member, tenant_a):
    """Without the tracking_number key (or null) a line does not say: unknown (null), and a
    number already known is kept; "" says it has none."""
    shop = CatalogFactory(tenant=tenant_a)
    ProductFactory(catalog=shop, sku="SKU-1")
    api = api_client_for(member(tenant_a, "seller"), tenant_a)

    def post(**extra):
        response = api.post(
            "/api/v1/orders/bulk/", {"catalog": shop.pk, "orders": [_line(**extra)]}, format="json"
        )
        assert response.status_code == 200, response.content
        return Order.objects.for_tenant(tenant_a).get().tracking_number

    assert post() is None
    listed = api.get("/api/v1/orders/").json()["results"]
    assert listed[0]["tracking_number"] is None
    assert post(tracking_number="1ZA") == "1ZA"
    assert post() == "1ZA"
    assert post(tracking_number=None) == "1ZA"
    assert post(tracking_number="") == ""
    assert post(tracking_number=None) == ""


def test_bulk_orders_count_what_was_written(api_client_for, member, tenant_a):
    """An identical re-post writes nothing and says so; a changed line is updated, a new
    one inserted."""
    shop = CatalogFactory(tenant=tenant_a)
    ProductFactory(catalog=shop, sku="SKU-1")
    api = api_client_for(member(tenant_a, "seller"), tenant_a)

    def post(*lines):
        response = api.post(
            "/api/v1/orders/bulk/", {"catalog": shop.pk, "orders": list(lines)}, format="json"
        )
        assert response.status_code == 200, response.content
        body = response.json()
        return tuple(body[k] for k in ("written", "inserted", "updated", "unchanged", "refused"))

    a, b = _line(order_id="A", tracking_number="1Z"), _line(order_id="B")
    assert post(a, b, _line(sku="NOPE")) == (2, 2, 0, 0, 1)
    assert post(a, b) == (0, 0, 0, 2, 0)
    # the same instant in another zone, the same amount written otherwise: unchanged
    assert post({**a, "placed_at": "2026-03-01T07:00:00-03:00", "item_price": "20"}, b) == (
        0,
        0,
        0,
        2,
        0,
    )
    assert post({**a, "quantity": 2}, b, _line(order_id="C")) == (2, 1, 1, 1, 0)


def test_patch_of_a_product_its_feed_removed_is_404_and_changes_nothing(
    api_client_for, member, tenant_a
):
    from datetime import UTC, datetime

    product = ProductFactory(
        catalog=CatalogFactory(tenant=tenant_a), removed_at=datetime(2026, 3, 5, tzinfo=UTC)
    )
    api = api_client_for(member(tenant_a, "seller"), tenant_a)
    response = api.patch(f"/api/v1/products/{product.pk}/", {"price": "1.00"}, format="json")
    assert response.status_code == 404
    product.refresh_from_db()
    assert str(product.price) != "1.00"


def test_patch_racing_the_pull_that_removes_the_product_is_404(
    api_client_for, member, tenant_a, monkeypatch
):
    """The pull commits between the API reading the product and the save locking it."""
    from datetime import UTC, datetime

    from catalogs.api import ProductViewSet
    from catalogs.models import Product

    product = ProductFactory(catalog=CatalogFactory(tenant=tenant_a))
    read = ProductViewSet.get_object

    def read_then_pull(viewset):
        found = read(viewset)
        Product.objects.filter(pk=product.pk).update(removed_at=datetime(2026, 3, 5, tzinfo=UTC))
        return found

    monkeypatch.setattr(ProductViewSet, "get_object", read_then_pull)
    api = api_client_for(member(tenant_a, "seller"), tenant_a)
    response = api.patch(f"/api/v1/products/{product.pk}/", {"price": "1.00"}, format="json")
    assert response.status_code == 404
    product.refresh_from_db()
    assert str(product.price) != "1.00"
