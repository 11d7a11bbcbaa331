from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog_health.tenancy.roles import Role
from catalogs.models import Availability, ReviewStatus

from .factories import CatalogFactory, ProductFactory
from .order_factories import OrderFactory

pytestmark = pytest.mark.django_db


def _list_url(catalog):
    return reverse(
        "catalogs:catalog_detail",
        kwargs={"tenant_slug": catalog.tenant.slug, "catalog_id": catalog.pk},
    )


@pytest.fixture
def catalog(tenant_a):
    return CatalogFactory(tenant=tenant_a)


def test_product_list_uses_a_fixed_number_of_queries(client, member, catalog):
    ProductFactory.create_batch(210, catalog=catalog)
    client.force_login(member(catalog.tenant))
    client.get(_list_url(catalog))  # the first page of a tenant stores it in the session
    counts = {}
    for size in (25, 100, 200):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(_list_url(catalog), {"size": size, "sort": "-price"})
        assert len(response.context["page"].rows) == size
        counts[size] = len(queries)
    assert len(set(counts.values())) == 1, counts
    # session, user, membership, catalog, ECR banner, feed freshness, products, tenant
    # switcher: the session is written only when the tenant changes, not on every page
    assert counts[25] <= 8, [q["sql"][:120] for q in queries.captured_queries]


def test_keyset_pages_walk_every_product_once(client, member, catalog):
    made = {p.sku for p in ProductFactory.create_batch(60, catalog=catalog)}
    client.force_login(member(catalog.tenant))
    seen, cursor = [], None
    for _ in range(10):
        params = {"size": 25, "sort": "-price"}
        if cursor:
            params["cursor"] = cursor
        page = client.get(_list_url(catalog), params).context["page"]
        seen += [p.sku for p in page.rows]
        cursor = page.next_cursor
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 60
    assert set(seen) == made


def test_search_and_filters(client, member, catalog):
    ProductFactory(catalog=catalog, sku="ABC-1", title="Red Hoodie")
    ProductFactory(catalog=catalog, sku="XYZ-2", title="Blue Hoodie", availability="out_of_stock")
    ProductFactory(catalog=catalog, sku="XYZ-3", title="Tent", review_status="unavailable")
    client.force_login(member(catalog.tenant))

    def skus(**params):
        return {p.sku for p in client.get(_list_url(catalog), params).context["page"].rows}

    assert skus(q="hoodie") == {"ABC-1", "XYZ-2"}
    assert skus(q="xyz") == {"XYZ-2", "XYZ-3"}
    assert skus(availability=Availability.OUT_OF_STOCK) == {"XYZ-2"}
    assert skus(review_status=ReviewStatus.UNAVAILABLE) == {"XYZ-3"}


def test_garbage_cursor_and_sort_fall_back_to_first_page(client, member, catalog):
    ProductFactory.create_batch(3, catalog=catalog)
    client.force_login(member(catalog.tenant))
    response = client.get(_list_url(catalog), {"cursor": "%%%not-base64", "sort": "nope"})
    assert response.status_code == 200
    assert len(response.context["page"].rows) == 3


def test_script_in_a_title_is_escaped(client, member, catalog):
    product = ProductFactory(catalog=catalog, title="<script>alert(1)</script>")
    client.force_login(member(catalog.tenant))
    body = client.get(_list_url(catalog)).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    detail = client.get(
        reverse(
            "catalogs:product_detail",
            kwargs={
                "tenant_slug": catalog.tenant.slug,
                "catalog_id": catalog.pk,
                "product_id": product.pk,
            },
        )
    ).content.decode()
    assert "<script>alert(1)</script>" not in detail


def test_product_edit_shows_validation_errors(client, member, catalog):
    product = ProductFactory(catalog=catalog)
    client.force_login(member(catalog.tenant, "seller"))
    url = reverse(
        "catalogs:product_detail",
        kwargs={
            "tenant_slug": catalog.tenant.slug,
            "catalog_id": catalog.pk,
            "product_id": product.pk,
        },
    )
    response = client.post(
        url,
        {"price": "10", "sale_price": "15", "inventory_quantity": "3", "availability": "in_stock"},
    )
    assert response.status_code == 200
    assert "Sale price must be lower than the price." in response.content.decode()


def test_product_of_another_catalog_in_the_url_is_404(client, member, catalog, tenant_a):
    other = ProductFactory(catalog=CatalogFactory(tenant=tenant_a))
    client.force_login(member(tenant_a))
    url = reverse(
        "catalogs:product_detail",
        kwargs={"tenant_slug": tenant_a.slug, "catalog_id": catalog.pk, "product_id": other.pk},
    )
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("sort", ["price", "-price", "title", "changed", "sku"])
def test_keyset_walk_with_missing_prices_covers_every_product_once(client, member, catalog, sort):
    ProductFactory.create_batch(23, catalog=catalog)
    ProductFactory.create_batch(7, catalog=catalog, price=None)
    ProductFactory.create_batch(5, catalog=catalog, price="49.99")  # ties on the sort value
    client.force_login(member(catalog.tenant))
    seen, cursor = [], None
    for _ in range(20):
        params = {"size": 10, "sort": sort, **({"cursor": cursor} if cursor else {})}
        page = client.get(_list_url(catalog), params).context["page"]
        seen += [p.pk for p in page.rows]
        cursor = page.next_cursor
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 35


@pytest.mark.parametrize("bad", [{"size": "abc"}, {"size": "999999"}, {"sort": "nope"}])
def test_one_bad_filter_keeps_the_others(client, member, catalog, bad):
    """A hand-edited link with an odd page size or sort still filters by what is valid: the
    page must not list every product under a filter that reads Out of stock."""
    ProductFactory(catalog=catalog, sku="IN-1")
    ProductFactory(catalog=catalog, sku="OUT-1", availability="out_of_stock")
    client.force_login(member(catalog.tenant))
    params = {"availability": Availability.OUT_OF_STOCK, **bad}
    response = client.get(_list_url(catalog), params)
    assert {p.sku for p in response.context["page"].rows} == {"OUT-1"}


def test_orders_with_a_bad_date_keep_the_other_filters(client, member, catalog):
    now = timezone.now()
    product = ProductFactory(catalog=catalog)
    overdue = OrderFactory(product=product, ship_by=now - timedelta(days=1), shipped_at=None)
    OrderFactory(product=product)  # shipped
    client.force_login(member(catalog.tenant, Role.SELLER))
    url = reverse("catalogs:order_list", kwargs={"tenant_slug": catalog.tenant.slug})
    response = client.get(url, {"status": "overdue", "date_from": "2026-13-45"})
    assert [o.pk for o in response.context["page"].rows] == [overdue.pk]
    assert response.context["filter_form"].errors["date_from"]


def _product_url(product):
    return reverse(
        "catalogs:product_detail",
        kwargs={
            "tenant_slug": product.tenant.slug,
            "catalog_id": product.catalog_id,
            "product_id": product.pk,
        },
    )


def _edit_form_as_shown(client, product) -> dict:
    """The product page's edit form as the browser posts it back untouched: every input,
    hidden ones included."""
    import re

    body = client.get(_product_url(product)).content.decode()
    start = body.index('id="product-edit-form"')
    form = body[start : body.index("</form>", start)]
    data = dict(re.findall(r'<input[^>]*?name="([^"]+)"[^>]*?value="([^"]*)"', form))
    selected = r'<select[^>]*name="([^"]+)".*?<option value="([^"]*)" selected'
    data.update(re.findall(selected, form, re.S))
    return data


def test_saving_a_stale_product_form_keeps_what_a_pull_changed_meanwhile(client, member, catalog):
    """A seller opens the product page, a pull changes the price, the seller saves the
    inventory they typed: the price they never touched stays the feed's new one."""
    from decimal import Decimal

    from catalogs.models import Product

    product = ProductFactory(catalog=catalog, price=Decimal("10.00"), inventory_quantity=5)
    client.force_login(member(catalog.tenant, Role.SELLER))
    data = _edit_form_as_shown(client, product)
    assert data["price"] == "10.00"
    Product.objects.filter(pk=product.pk).update(price=Decimal("12.00"))  # a pull meanwhile

    response = client.post(_product_url(product), {**data, "inventory_quantity": "7"})

    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.inventory_quantity, product.price) == (7, Decimal("12.00"))


def test_a_stale_product_form_still_writes_the_field_the_seller_changed(client, member, catalog):
    from decimal import Decimal

    from catalogs.models import Product

    product = ProductFactory(catalog=catalog, price=Decimal("10.00"), inventory_quantity=5)
    client.force_login(member(catalog.tenant, Role.SELLER))
    data = _edit_form_as_shown(client, product)
    Product.objects.filter(pk=product.pk).update(price=Decimal("12.00"))

    client.post(_product_url(product), {**data, "price": "11.50", "sale_price": "9.00"})

    product.refresh_from_db()
    assert (product.price, product.sale_price) == (Decimal("11.50"), Decimal("9.00"))


def test_a_refused_product_edit_keeps_what_the_seller_first_saw(client, member, catalog):
    """Shown again with its errors, the form still remembers the values first shown, so a
    corrected save writes only what the seller changed."""
    from decimal import Decimal

    from catalogs.models import Product

    product = ProductFactory(catalog=catalog, price=Decimal("10.00"), inventory_quantity=5)
    client.force_login(member(catalog.tenant, Role.SELLER))
    data = _edit_form_as_shown(client, product)
    Product.objects.filter(pk=product.pk).update(price=Decimal("12.00"))
    refused = client.post(_product_url(product), {**data, "inventory_quantity": "-1"})
    assert refused.status_code == 200
    body = refused.content.decode()
    assert 'name="initial-price" value="10.00"' in body

    client.post(_product_url(product), {**data, "inventory_quantity": "8"})

    product.refresh_from_db()
    assert (product.inventory_quantity, product.price) == (8, Decimal("12.00"))


@pytest.mark.parametrize(
    "pasted",
    [
        pytest.param("\u200eSKU-1\u200f", id="a web page's direction marks"),
        pytest.param("\ufeffSKU-1", id="a spreadsheet's byte order mark"),
        pytest.param("SKU-1\u200b\t", id="a zero width space and a tab"),
    ],
)
def test_manage_orders_finds_a_pasted_sku_and_order_id(client, member, catalog, pasted):
    """SKUs and order ids are pasted from exports and web pages, with the invisible
    characters they carry around them: the filters trim them as every entry of orders does."""
    product = ProductFactory(catalog=catalog, sku="SKU-1")
    line = OrderFactory(product=product, order_id="SKU-1")
    OrderFactory(product=ProductFactory(catalog=catalog, sku="SKU-2"), order_id="O-2")
    client.force_login(member(catalog.tenant, Role.SELLER))
    url = reverse("catalogs:order_list", kwargs={"tenant_slug": catalog.tenant.slug})

    for field in ("sku", "order_id"):
        response = client.get(url, {field: pasted})

        assert [o.pk for o in response.context["page"].rows] == [line.pk], field
    assert response.context["filter_form"]["order_id"].value() == pasted


def test_manage_orders_names_an_invisible_character_inside_a_filter(client, member, catalog):
    OrderFactory(product=ProductFactory(catalog=catalog, sku="SKU-1"))
    client.force_login(member(catalog.tenant, Role.SELLER))
    url = reverse("catalogs:order_list", kwargs={"tenant_slug": catalog.tenant.slug})

    response = client.get(url, {"sku": "SKU\u200b-1"})

    assert "U+200B ZERO WIDTH SPACE at character 4" in response.content.decode()


# --- a product its feed removed ----------------------------------------------------------


def _removed_product(catalog):
    """A product a pull no longer listed on 5 March 2026, late evening in São Paulo."""
    from datetime import UTC, datetime
    from decimal import Decimal

    catalog.tenant.time_zone = "America/Sao_Paulo"
    catalog.tenant.save(update_fields=["time_zone"])
    return ProductFactory(
        catalog=catalog,
        price=Decimal("10.00"),
        inventory_quantity=5,
        review_status=ReviewStatus.AVAILABLE,
        removed_at=datetime(2026, 3, 6, 1, 30, tzinfo=UTC),  # 22:30 on the 5th there
    )


def test_a_removed_product_page_says_so_and_shows_its_fields_read_only(client, member, catalog):
    product = _removed_product(catalog)
    client.force_login(member(catalog.tenant, Role.SELLER))

    response = client.get(_product_url(product))

    assert response.status_code == 200
    body = response.content.decode()
    assert "The feed removed this product on 2026-03-05" in body
    assert 'id="product-edit-form"' not in body and ">Save<" not in body
    start = body.index('id="product-edit-fields"')
    fields = body[body.rindex("<fieldset", 0, start) : body.index("</fieldset>", start)]
    assert "disabled" in fields.split(">", 1)[0]
    assert 'name="price"' in fields and 'value="10.00"' in fields


def test_a_post_to_a_removed_product_is_refused_and_changes_nothing(client, member, catalog):
    """The page was opened before the pull that removed the product; the seller saves."""
    from decimal import Decimal

    from catalog_health.tenancy.models import AuditEvent
    from catalogs.models import Product

    product = _removed_product(catalog)
    removed_at = product.removed_at
    Product.objects.filter(pk=product.pk).update(removed_at=None)
    client.force_login(member(catalog.tenant, Role.SELLER))
    data = _edit_form_as_shown(client, product)
    Product.objects.filter(pk=product.pk).update(removed_at=removed_at)  # the pull meanwhile
    before = Product.objects.values().get(pk=product.pk)

    response = client.post(_product_url(product), {**data, "price": "8.00"}, follow=True)

    body = response.content.decode()
    assert "Nothing was saved" in body
    assert "The feed removed this product on 2026-03-05" in body
    assert Product.objects.values().get(pk=product.pk) == before
    assert Product.objects.get(pk=product.pk).price == Decimal("10.00")
    assert not AuditEvent.objects.filter(action="product.updated").exists()


def test_a_save_racing_the_pull_that_removes_the_product_is_refused(
    client, member, catalog, monkeypatch
):
    """The pull commits between the page reading the product and the save locking it."""
    from catalogs.models import Product
    from catalogs.views import ProductDetailView

    product = _removed_product(catalog)
    removed_at = product.removed_at
    Product.objects.filter(pk=product.pk).update(removed_at=None)
    client.force_login(member(catalog.tenant, Role.SELLER))
    data = _edit_form_as_shown(client, product)
    read = ProductDetailView.get_product

    def read_then_pull(view):
        found = read(view)
        Product.objects.filter(pk=product.pk).update(removed_at=removed_at)
        return found

    monkeypatch.setattr(ProductDetailView, "get_product", read_then_pull)
    before = Product.objects.values().get(pk=product.pk) | {"removed_at": removed_at}

    response = client.post(_product_url(product), {**data, "price": "8.00"}, follow=True)

    assert "Nothing was saved. The feed removed this product on 2026-03-05" in (
        response.content.decode()
    )
    assert Product.objects.values().get(pk=product.pk) == before
