"""Browser: the pages a seller meets around order uploads — an empty catalog and empty
Manage Orders say what to do next, Manage Orders shows product titles and readable date
filters, a killed import is retried, column mappings are listed and removed, and the
product page says how long an edit lasts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog_health.tenancy.roles import Role
from catalogs import order_uploads
from catalogs.models import ColumnMappingPreset, Order, OrderUpload, UploadStatus
from catalogs.tests.export_samples import tiktok_csv, tiktok_row
from catalogs.tests.factories import CatalogFactory, ProductFactory
from catalogs.tests.order_factories import OrderFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seller(member, tenant_a, login):
    user = member(tenant_a, Role.SELLER, username="sam")
    user.set_password("s3cret-pass")
    user.save()
    login("sam", "s3cret-pass")
    return user


def test_empty_pages_say_what_to_do_next(page, live_server, screenshot, seller, tenant_a):
    catalog = CatalogFactory(tenant=tenant_a, name="New shop")
    base = f"{live_server.url}/t/{tenant_a.slug}"
    page.goto(f"{base}/catalogs/{catalog.pk}/")
    assert "no products yet" in page.locator("#catalog-empty").inner_text()
    screenshot("catalog-empty")
    page.goto(f"{base}/orders/")
    empty = page.locator("#orders-empty")
    assert "import_orders" not in page.content()
    empty.get_by_role("link", name="Upload orders to New shop").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/catalogs/{catalog.pk}/uploads/")
    page.goto(f"{base}/orders/?sku=MUG-1")
    screenshot("orders-empty-filtered")


def test_manage_orders_titles_and_dates(page, live_server, screenshot, seller, tenant_a):
    catalog = CatalogFactory(tenant=tenant_a, name="Shop")
    mug = ProductFactory(
        catalog=catalog, sku="MUG-1", title="Blue enamel mug, 350 ml", last_seen_at=timezone.now()
    )
    OrderFactory(product=mug, shipped_at=None, tracking_number="")
    OrderFactory(product=ProductFactory(catalog=catalog, sku="TEE-2", title="Organic tee"))
    page.goto(f"{live_server.url}/t/{tenant_a.slug}/orders/?sku=MUG-1&date_from=2026-12-01")
    assert "Blue enamel mug" in page.locator("#order-table").inner_text()
    date_from = page.locator("input[name=date_from]")
    # the date filter is wide enough to show its whole value (not "mm/dd/y")
    assert date_from.evaluate("e => e.scrollWidth <= e.clientWidth")
    screenshot("orders-titles")
    page.locator("#back-to-product a").click()
    page.wait_for_load_state()
    assert "Blue enamel mug" in page.locator("h2").inner_text()
    assert "lasts until the next pull" in page.locator("#edit-lasts").inner_text()
    screenshot("product-edit-lasts")


def test_a_killed_import_is_retried(page, live_server, screenshot, seller, tenant_a):
    catalog = CatalogFactory(tenant=tenant_a, name="Shop")
    ProductFactory(catalog=catalog, sku="SKU-1")
    upload = order_uploads.order_upload_create(
        tenant=tenant_a,
        catalog=catalog,
        actor=None,
        data=tiktok_csv(tiktok_row(), tiktok_row(order_id="2")),
        filename="tiktok.csv",
        kind="orders",
    )
    then = timezone.now() - timedelta(hours=1)
    OrderUpload.objects.filter(pk=upload.pk).update(
        status=UploadStatus.RUNNING, heartbeat_at=then, created_at=then
    )
    order_uploads.order_uploads_reap()
    page.goto(f"{live_server.url}/t/{tenant_a.slug}/catalogs/{catalog.pk}/uploads/{upload.pk}/")
    assert "stopped without finishing" in page.locator("#upload-result").inner_text()
    screenshot("order-upload-failed-retry")
    page.get_by_role("button", name="Retry the import").click()
    page.wait_for_load_state()
    assert "2 lines saved or changed" in page.locator("#upload-result").inner_text()
    assert Order.objects.count() == 2


def test_column_mappings_page(page, live_server, screenshot, seller, tenant_a):
    ColumnMappingPreset.objects.create(
        tenant=tenant_a,
        kind="orders",
        name="Shop ERP export",
        header=["Bestellnr", "Artikel", "Menge"],
        columns={"order_id": "Bestellnr", "sku": "Artikel", "quantity": "Menge"},
        cancel_values={"Kein Bestand": "out_of_stock"},
    )
    page.goto(f"{live_server.url}/t/{tenant_a.slug}/orders/mappings/")
    assert "Shop ERP export" in page.locator("#mapping-presets").inner_text()
    screenshot("mapping-presets")
    page.get_by_role("button", name="Remove Shop ERP export").click()
    page.wait_for_load_state()
    assert page.locator("#no-presets").is_visible()
    assert not ColumnMappingPreset.objects.exists()


def test_enter_in_a_tracking_box_ships_that_row(page, live_server, screenshot, seller, tenant_a):
    """Manage Orders is one form with a Mark shipped button per row: Enter in a row's
    tracking box must ship that row, not the form's first one."""
    catalog = CatalogFactory(tenant=tenant_a, name="Shop")
    late = timezone.now() - timedelta(days=2)
    first, second = (
        OrderFactory(
            product=ProductFactory(catalog=catalog, sku=sku),
            order_id=order_id,
            placed_at=late - timedelta(days=1, minutes=i),
            ship_by=late,
            shipped_at=None,
            tracking_number="",
        )
        for i, (sku, order_id) in enumerate((("MUG-1", "1001"), ("TEE-2", "1002")))
    )
    page.goto(f"{live_server.url}/t/{tenant_a.slug}/orders/")
    rows = page.locator("#order-table tbody tr")
    assert rows.count() == 2
    box = page.get_by_label("Tracking number for 1002")
    box.fill("1Z999AA10123456784")
    with page.expect_navigation():
        box.press("Enter")
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.shipped_at is not None and second.tracking_number == "1Z999AA10123456784"
    assert first.shipped_at is None and first.tracking_number == ""
    screenshot("orders-enter-ships-its-row")


def test_a_product_its_feed_removed_is_shown_read_only(
    page, live_server, screenshot, seller, tenant_a
):
    catalog = CatalogFactory(tenant=tenant_a, name="Shop")
    mug = ProductFactory(
        catalog=catalog,
        sku="MUG-1",
        title="Blue enamel mug, 350 ml",
        price="12.00",
        removed_at=timezone.now() - timedelta(days=2),
    )
    page.goto(f"{live_server.url}/t/{tenant_a.slug}/catalogs/{catalog.pk}/products/{mug.pk}/")
    assert "The feed removed this product" in page.locator("#product-removed").inner_text()
    fields = page.locator("#product-edit-fields").locator("input, select")
    assert fields.count() >= 4
    assert all(fields.nth(i).is_disabled() for i in range(fields.count()))
    assert page.get_by_role("button", name="Save").count() == 0
    screenshot("product-removed-read-only")
