"""Browser: a seller uploads a TikTok Shop export, reads the preview, imports it."""

import csv
import io

import pytest

from catalog_health.tenancy.roles import Role
from catalogs.models import Order
from catalogs.tests.export_samples import tiktok_csv, tiktok_row
from catalogs.tests.factories import CatalogFactory, ProductFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_upload_preview_import(page, live_server, login, screenshot, member, tenant_a, tmp_path):
    user = member(tenant_a, Role.SELLER, username="sam")
    user.set_password("s3cret-pass")
    user.save()
    catalog = CatalogFactory(tenant=tenant_a, name="Loja", currency="BRL")
    for sku in ("SKU-1", "SKU-2"):
        ProductFactory(catalog=catalog, sku=sku)
    path = tmp_path / "tiktok-orders.csv"
    path.write_bytes(
        tiktok_csv(
            tiktok_row(),
            tiktok_row(
                order_id="2",
                seller_sku="SKU-2",
                status="Cancelled",
                shipped="",
                tracking="",
                cancelled="03/15/2026 1:00:00 AM",
                cancel_by="Seller",
                reason="Out of stock",
            ),
            tiktok_row(order_id="3", seller_sku="OLD-9", shipped="", tracking=""),
            tiktok_row(order_id="4", status="Awaiting shipment", shipped="", tracking=""),
        )
    )
    login("sam", "s3cret-pass")
    page.goto(f"{live_server.url}/t/{tenant_a.slug}/catalogs/{catalog.pk}/uploads/")
    page.set_input_files("input[name=file]", str(path))
    page.get_by_role("button", name="Upload and preview").click()
    page.wait_for_load_state()
    assert page.locator("#detected-format").inner_text() == "TikTok Shop order export"
    assert page.locator("#count-unknown").inner_text() == "1"
    screenshot("order-upload-preview")
    assert not Order.objects.exists()
    page.get_by_role("button", name="Import 3 lines").click()  # OLD-9 is refused
    page.wait_for_load_state()
    assert "3 lines saved or changed" in page.locator("#upload-result").inner_text()
    screenshot("order-upload-done")
    assert Order.objects.count() == 3


def test_excel_unicode_text_upload_previews_as_its_csv(
    page, live_server, login, screenshot, member, tenant_a, tmp_path
):
    """Excel's File > Save As > Unicode Text: UTF-16 with a byte order mark, tabs between
    the columns. The seller can pick the .txt file and it reads as the export it holds."""
    user = member(tenant_a, Role.SELLER, username="sam")
    user.set_password("s3cret-pass")
    user.save()
    catalog = CatalogFactory(tenant=tenant_a, name="Loja", currency="BRL")
    ProductFactory(catalog=catalog, sku="SKU-1")
    csv_text = tiktok_csv(tiktok_row(), tiktok_row(order_id="2")).decode("utf-8-sig")
    tsv = io.StringIO(newline="")
    # as Excel writes it: cells holding a tab (TikTok appends one to long ids) are quoted
    csv.writer(tsv, delimiter="\t").writerows(csv.reader(io.StringIO(csv_text, newline="")))
    path = tmp_path / "orders.txt"
    path.write_text(tsv.getvalue(), encoding="utf-16", newline="")
    login("sam", "s3cret-pass")
    page.goto(f"{live_server.url}/t/{tenant_a.slug}/catalogs/{catalog.pk}/uploads/")
    assert ".txt" in page.locator("input[name=file]").get_attribute("accept")
    page.set_input_files("input[name=file]", str(path))
    page.get_by_role("button", name="Upload and preview").click()
    page.wait_for_load_state()
    assert page.locator("#detected-format").inner_text() == "TikTok Shop order export"
    screenshot("order-upload-unicode-text-preview")
    page.get_by_role("button", name="Import 2 lines").click()
    page.wait_for_load_state()
    assert "2 lines saved or changed" in page.locator("#upload-result").inner_text()
    assert Order.objects.count() == 2
