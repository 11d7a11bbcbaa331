"""Importing order exports as downloaded, on PostgreSQL: the command, the service's
staging-table merge, previews and uploads."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from catalogs import order_files, order_uploads
from catalogs.models import (
    Catalog,
    ColumnMappingPreset,
    DailyImpression,
    Order,
    OrderUpload,
    UploadStatus,
)
from catalogs.order_formats import header_signature
from catalogs.order_io import FileError
from catalogs.tests.export_samples import (
    SHOPIFY_ORDERS,
    TIKTOK_DESCRIPTIONS,
    tiktok_csv,
    tiktok_row,
)
from catalogs.tests.factories import CatalogFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(tenant_a):
    catalog = CatalogFactory(tenant=tenant_a, name="Shop", currency="BRL")
    for sku in ("SKU-1", "SKU-2", "1729384756102938"):
        ProductFactory(tenant=tenant_a, catalog=catalog, sku=sku)
    return catalog


def tiktok_file():
    return tiktok_csv(
        tiktok_row(),
        tiktok_row(
            order_id="2",
            seller_sku="",
            status="Cancelled",
            shipped="",
            tracking="",
            cancelled="03/15/2026 1:00:00 AM",
            cancel_by="Seller",
            reason="Out of stock",
        ),
        tiktok_row(order_id="3", seller_sku="NOPE", shipped="", tracking=""),
        tiktok_row(order_id="4", seller_sku="NOPE", shipped="", tracking=""),
        tiktok_row(order_id="5", seller_sku="SKU-2", quantity="3"),
    )


def test_tiktok_import_writes_lines_and_lists_unknown_skus(tenant_a, catalog):
    result = order_files.orders_import_file(
        tenant=tenant_a, catalog=catalog, data=tiktok_file(), actor=None
    )
    assert result.format_label == "TikTok Shop order export"
    assert result.written == 3
    assert result.unknown_skus == {"NOPE": [4, 5]}
    assert {(e.line, e.column) for e in result.errors} == {(4, "sku"), (5, "sku")}
    first = Order.objects.for_tenant(tenant_a).get(order_id="576461413040442221")
    assert first.sku == "SKU-1" and first.item_price == Decimal("35.91")
    assert first.shipping_fee == Decimal("9.90") and first.tracking_number == "BR123456789"
    assert first.placed_at == datetime(2026, 3, 14, 21, 5, 11, tzinfo=UTC)
    assert first.ship_by == datetime(2026, 3, 17, 21, 6, tzinfo=UTC)
    cancelled = Order.objects.for_tenant(tenant_a).get(order_id="2")
    assert cancelled.sku == "1729384756102938" and cancelled.cancel_reason == "out_of_stock"
    assert Order.objects.for_tenant(tenant_a).get(order_id="5").quantity == 3


def test_reimport_of_the_same_export_changes_nothing(tenant_a, catalog):
    order_files.orders_import_file(tenant=tenant_a, catalog=catalog, data=tiktok_file(), actor=None)
    before = list(Order.objects.for_tenant(tenant_a).order_by("pk").values())
    again = order_files.orders_import_file(
        tenant=tenant_a, catalog=catalog, data=tiktok_file(), actor=None
    )
    assert again.written == 0 and again.unchanged == 3
    assert list(Order.objects.for_tenant(tenant_a).order_by("pk").values()) == before


def test_reimport_with_a_change_updates_that_line_only(tenant_a, catalog):
    order_files.orders_import_file(tenant=tenant_a, catalog=catalog, data=tiktok_file(), actor=None)
    changed = tiktok_csv(
        tiktok_row(delivered="03/18/2026 3:00:00 PM", status="Delivered"),
        tiktok_row(order_id="5", seller_sku="SKU-2", quantity="3"),
    )
    result = order_files.orders_import_file(
        tenant=tenant_a, catalog=catalog, data=changed, actor=None
    )
    assert result.written == 1 and result.unchanged == 1
    first = Order.objects.for_tenant(tenant_a).get(order_id="576461413040442221")
    assert first.delivered_at == datetime(2026, 3, 18, 15, tzinfo=UTC)


def test_the_same_order_id_and_sku_in_two_catalogs_are_two_lines(tenant_a, catalog):
    """Shopify numbers orders per store and stores share skus: the second store's #1001 of
    SKU-1 is another line than the first store's, whichever is imported last."""
    other = CatalogFactory(tenant=tenant_a, name="Second shop", currency="BRL")
    ProductFactory(tenant=tenant_a, catalog=other, sku="SKU-1")
    first = tiktok_csv(tiktok_row(order_id="#1001", quantity="1"))
    second = tiktok_csv(tiktok_row(order_id="#1001", quantity="2"))

    def lines():
        return sorted(
            Order.objects.for_tenant(tenant_a).values_list("catalog_id", "order_id", "quantity")
        )

    for shop, data in ((catalog, first), (other, second)):
        result = order_files.orders_import_file(
            tenant=tenant_a, catalog=shop, data=data, actor=None
        )
        assert (result.written, result.unchanged) == (1, 0)
    both = sorted([(catalog.pk, "#1001", 1), (other.pk, "#1001", 2)])
    assert lines() == both
    for shop, data in ((catalog, first), (other, second), (catalog, first)):
        again = order_files.orders_import_file(tenant=tenant_a, catalog=shop, data=data, actor=None)
        assert (again.written, again.unchanged) == (0, 1)
    assert lines() == both


def test_import_uses_the_tenant_time_zone_and_catalog_handling_days(tenant_a, catalog):
    tenant_a.time_zone = "America/Sao_Paulo"
    tenant_a.save()
    catalog.handling_days = 1
    catalog.save()
    order_files.orders_import_file(tenant=tenant_a, catalog=catalog, data=tiktok_file(), actor=None)
    first = Order.objects.for_tenant(tenant_a).get(order_id="576461413040442221")
    assert first.placed_at == datetime(2026, 3, 15, 0, 5, 11, tzinfo=UTC)
    assert first.ship_by == datetime(2026, 3, 16, 0, 6, tzinfo=UTC)


def test_shopify_import(tenant_a, catalog):
    result = order_files.orders_import_file(
        tenant=tenant_a, catalog=catalog, data=SHOPIFY_ORDERS, actor=None
    )
    assert result.written == 3 and not result.errors
    socks = Order.objects.for_tenant(tenant_a).get(order_id="#1001", sku="SKU-2")
    assert socks.placed_at == datetime(2026, 3, 1, 15, tzinfo=UTC)
    assert socks.shipped_at == datetime(2026, 3, 2, 14, tzinfo=UTC)


def test_ambiguous_dates_use_the_tenant_setting_or_are_refused(tenant_a, catalog):
    data = tiktok_csv(tiktok_row(created="02/03/2026 10:00:00", paid="", shipped="", tracking=""))
    with pytest.raises(FileError, match="cannot tell"):
        order_files.orders_import_file(tenant=tenant_a, catalog=catalog, data=data, actor=None)
    assert not Order.objects.for_tenant(tenant_a).exists()
    tenant_a.date_order = "dmy"
    tenant_a.save()
    order_files.orders_import_file(tenant=tenant_a, catalog=catalog, data=data, actor=None)
    order = Order.objects.for_tenant(tenant_a).get()
    assert order.placed_at == datetime(2026, 3, 2, 10, tzinfo=UTC)


def test_the_command_names_its_flag_when_the_date_order_is_needed(tenant_a, catalog, tmp_path):
    """The upload page asks for the date order; the command says which flag answers."""
    path = tmp_path / "tt.csv"
    path.write_bytes(
        tiktok_csv(tiktok_row(created="02/03/2026 10:00:00", paid="", shipped="", tracking=""))
    )
    args = ("import_orders", "--catalog", str(catalog.pk), str(path), "--no-score")
    with pytest.raises(
        CommandError, match=r"cannot tell.*--date-order dmy or --date-order mdy"
    ) as refused:
        call_command(*args)
    assert "upload it again" not in str(refused.value)
    call_command(*args, "--date-order", "dmy")
    assert Order.objects.for_tenant(tenant_a).get().placed_at == datetime(
        2026, 3, 2, 10, tzinfo=UTC
    )


def test_another_tenants_catalog_is_refused(tenant_a, tenant_b, catalog):
    with pytest.raises(Catalog.DoesNotExist):
        order_files.orders_import_file(
            tenant=tenant_b, catalog=catalog, data=tiktok_file(), actor=None
        )


def test_preview_counts_without_saving(tenant_a, catalog):
    preview = order_files.orders_preview(
        tenant=tenant_a, catalog=catalog, data=tiktok_file(), rows=2
    )
    assert not Order.objects.for_tenant(tenant_a).exists()
    assert (preview.lines, preview.orders, preview.shipped, preview.cancelled) == (5, 5, 2, 1)
    assert preview.unknown_skus == {"NOPE": [4, 5]}
    assert len(preview.first_rows) == 2 and preview.first_rows[0]["sku"] == "SKU-1"
    assert "Product Name" in preview.unmapped_columns
    assert preview.date_order == "mdy" and preview.date_order_source == "file"


def test_tiktok_description_row_is_neither_a_line_nor_a_problem(tenant_a, catalog):
    data = tiktok_csv(
        TIKTOK_DESCRIPTIONS, tiktok_row(), tiktok_row(order_id="5", seller_sku="NOPE")
    )
    preview = order_files.orders_preview(tenant=tenant_a, catalog=catalog, data=data, rows=5)
    assert (preview.lines, preview.orders, preview.refused) == (2, 2, 1)
    assert preview.unknown_skus == {"NOPE": [4]}
    assert [row["line"] for row in preview.first_rows] == [3, 4]
    result = order_files.orders_import_file(tenant=tenant_a, catalog=catalog, data=data, actor=None)
    assert result.written == 1 and [(e.line, e.column) for e in result.errors] == [(4, "sku")]


def test_mapping_preset_is_picked_for_the_same_header(tenant_a, tenant_b, catalog):
    data = (
        b"Order,Item,Qty,Price,Ordered,Shipped\n"
        b"B-1,SKU-1,2,19.90,2026-03-01 10:00,2026-03-02 10:00\n"
    )
    with pytest.raises(FileError, match="map its columns"):
        order_files.orders_preview(tenant=tenant_a, catalog=catalog, data=data)
    header = ["Order", "Item", "Qty", "Price", "Ordered", "Shipped"]
    columns = {
        "order_id": "Order",
        "sku": "Item",
        "quantity": "Qty",
        "item_price": "Price",
        "placed_at": "Ordered",
        "shipped_at": "Shipped",
    }
    # another tenant's preset is not used
    ColumnMappingPreset.objects.create(
        tenant=tenant_b,
        kind="orders",
        name="B",
        header=header,
        header_key=header_signature(header),
        columns=columns,
    )
    with pytest.raises(FileError, match="map its columns"):
        order_files.orders_preview(tenant=tenant_a, catalog=catalog, data=data)
    ColumnMappingPreset.objects.create(
        tenant=tenant_a,
        kind="orders",
        name="Mine",
        header=header,
        header_key=header_signature(header),
        columns=columns,
    )
    result = order_files.orders_import_file(tenant=tenant_a, catalog=catalog, data=data, actor=None)
    assert result.written == 1
    assert Order.objects.for_tenant(tenant_a).get().quantity == 2


# --- the command -------------------------------------------------------------------------


def test_command_imports_a_tiktok_export(tmp_path, tenant_a, catalog, capsys):
    path = tmp_path / "orders.csv"
    path.write_bytes(tiktok_file())
    call_command("import_orders", "--catalog", str(catalog.pk), str(path), "--no-score")
    out, err = capsys.readouterr()
    assert "TikTok Shop order export" in out and "3 order rows saved" in out
    assert "'NOPE': line(s) 4, 5" in err
    call_command("import_orders", "--catalog", str(catalog.pk), str(path), "--no-score")
    out, _ = capsys.readouterr()
    assert "0 order rows saved, 3 unchanged" in out


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (
            b"id,title,link,price,availability\nA,Shirt,https://x/a,9.99 USD,in stock\n",
            "product feed",
        ),
        (b"sku,date,impressions,clicks\nSKU-1,2026-03-01,10,1\n", "impressions"),
    ],
)
def test_command_refuses_other_files_saying_what_they_look_like(tmp_path, catalog, data, fragment):
    path = tmp_path / "feed.csv"
    path.write_bytes(data)
    with pytest.raises(CommandError, match=fragment):
        call_command("import_orders", "--catalog", str(catalog.pk), str(path), "--no-score")


def test_command_still_reads_the_app_csv(tmp_path, tenant_a, catalog, capsys):
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,sku,quantity,item_price,shipping_fee,placed_at,ship_by,shipped_at,"
        "delivered_at,cancelled_at,cancel_reason,tracking_number\n"
        "A-1,SKU-1,1,10.00,0,2026-03-01T10:00:00Z,2026-03-03T10:00:00Z,,,,,\n"
    )
    call_command("import_orders", "--catalog", str(catalog.pk), str(path), "--no-score")
    assert Order.objects.for_tenant(tenant_a).get().order_id == "A-1"


ACCENTED = (
    tiktok_csv(tiktok_row(), tiktok_row(order_id="2", seller_sku="AÇÚCAR-1"))
    .decode("utf-8-sig")
    .replace("Shirt, blue", "Camiseta Básica")
)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(ACCENTED.encode("utf-16"), id="UTF-16 with its byte order mark"),
        pytest.param(codecs.BOM_UTF16_BE + ACCENTED.encode("utf-16-be"), id="UTF-16 BE"),
        pytest.param(ACCENTED.encode("cp1252"), id="Windows-1252 (Excel's CSV)"),
    ],
)
def test_command_reads_an_export_saved_in_another_encoding(tmp_path, tenant_a, catalog, data):
    """As the upload page does: the same export, whatever encoding the spreadsheet chose."""
    ProductFactory(tenant=tenant_a, catalog=catalog, sku="AÇÚCAR-1")
    path = tmp_path / "orders.csv"
    path.write_bytes(data)
    call_command("import_orders", "--catalog", str(catalog.pk), str(path), "--no-score")
    skus = Order.objects.for_tenant(tenant_a).values_list("sku", flat=True)
    assert sorted(skus) == ["AÇÚCAR-1", "SKU-1"]
    assert path.read_bytes() == data


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "cp1252"])
def test_command_reads_impressions_saved_in_another_encoding(tmp_path, tenant_a, catalog, encoding):
    ProductFactory(tenant=tenant_a, catalog=catalog, sku="AÇÚCAR-1")
    text = "sku,date,impressions,clicks\nSKU-1,2026-03-01,120,4\nAÇÚCAR-1,2026-03-01,7,0\n"
    bom = codecs.BOM_UTF16_BE if encoding == "utf-16-be" else b""
    path = tmp_path / "impressions.csv"
    path.write_bytes(bom + text.encode(encoding))
    call_command("import_impressions", "--catalog", str(catalog.pk), str(path), "--no-score")
    rows = DailyImpression.objects.for_tenant(tenant_a).values_list("sku", "impressions")
    assert sorted(rows) == [("AÇÚCAR-1", 7), ("SKU-1", 120)]


# --- uploads -----------------------------------------------------------------------------


def test_upload_imports_once(tenant_a, catalog, monkeypatch):
    upload = order_uploads.order_upload_create(
        tenant=tenant_a,
        catalog=catalog,
        actor=None,
        data=tiktok_file(),
        filename="o.csv",
        kind="orders",
    )
    queued = order_uploads.order_upload_start(tenant=tenant_a, upload=upload, actor=None)
    assert queued is False  # small: imported now
    upload.refresh_from_db()
    assert upload.status == UploadStatus.DONE and upload.written == 3 and upload.refused == 2
    assert upload.rows_done == 5 and bytes(upload.data) == b""
    # a second start or a second delivery of the task does nothing
    assert order_uploads.order_upload_start(tenant=tenant_a, upload=upload, actor=None) is True
    assert order_uploads.order_upload_run(tenant_id=tenant_a.pk, upload_id=upload.pk) is None
    assert Order.objects.for_tenant(tenant_a).count() == 3


def test_upload_run_is_tenant_scoped(tenant_a, tenant_b, catalog):
    upload = order_uploads.order_upload_create(
        tenant=tenant_a,
        catalog=catalog,
        actor=None,
        data=tiktok_file(),
        filename="o.csv",
        kind="orders",
    )
    OrderUpload.objects.filter(pk=upload.pk).update(status=UploadStatus.QUEUED)
    assert order_uploads.order_upload_run(tenant_id=tenant_b.pk, upload_id=upload.pk) is None
    assert not Order.objects.exists()


def test_failed_upload_says_why(tenant_a, catalog):
    upload = order_uploads.order_upload_create(
        tenant=tenant_a,
        catalog=catalog,
        actor=None,
        data=b"id,title,price,link\n1,a,1,x\n",
        filename="feed.csv",
        kind="orders",
    )
    order_uploads.order_upload_start(tenant=tenant_a, upload=upload, actor=None)
    upload.refresh_from_db()
    assert upload.status == UploadStatus.FAILED and "product feed" in upload.message


# --- pages -------------------------------------------------------------------------------


def test_upload_page_previews_then_imports(client, member, tenant_a, catalog):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from catalog_health.tenancy.roles import Role

    client.force_login(member(tenant_a, Role.SELLER))
    url = reverse(
        "catalogs:catalog_upload", kwargs={"tenant_slug": tenant_a.slug, "catalog_id": catalog.pk}
    )
    response = client.post(
        url, {"kind": "orders", "file": SimpleUploadedFile("tt.csv", tiktok_file())}
    )
    assert response.status_code == 302
    preview = client.get(response.url)
    body = preview.content.decode()
    assert "TikTok Shop order export" in body and "NOPE" in body
    assert 'id="count-lines">5<' in body and 'id="count-unknown">1<' in body
    assert not Order.objects.for_tenant(tenant_a).exists()
    done = client.post(response.url, {"date_order": ""}, follow=True)
    assert Order.objects.for_tenant(tenant_a).count() == 3
    assert "3 lines saved or changed" in done.content.decode()
    assert 'id="count-unchanged">0 unchanged<' in done.content.decode()
    # the same file again: nothing to write, and the page says what was already there
    again = client.post(
        url, {"kind": "orders", "file": SimpleUploadedFile("tt.csv", tiktok_file())}
    )
    done = client.post(again.url, {"date_order": ""}, follow=True).content.decode()
    assert "0 lines saved or changed" in done
    assert 'id="count-unchanged">3 unchanged<' in done


def test_ambiguous_upload_asks_for_the_date_order(client, member, tenant_a, catalog):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from catalog_health.tenancy.roles import Role

    client.force_login(member(tenant_a, Role.SELLER))
    data = tiktok_csv(tiktok_row(created="02/03/2026 10:00:00", paid="", shipped="", tracking=""))
    url = reverse(
        "catalogs:catalog_upload", kwargs={"tenant_slug": tenant_a.slug, "catalog_id": catalog.pk}
    )
    response = client.post(url, {"kind": "orders", "file": SimpleUploadedFile("tt.csv", data)})
    body = client.get(response.url).content.decode()
    assert "cannot tell" in body and 'id="date-order-form"' in body
    # the page asks for the date order and previews again: no second upload
    assert "upload it again" not in body and "Preview again" in body
    body = client.get(response.url + "?date_order=dmy").content.decode()
    assert "2026-03-02 10:00" in body
    client.post(response.url, {"date_order": "dmy"})
    assert Order.objects.for_tenant(tenant_a).get().placed_at == datetime(
        2026, 3, 2, 10, tzinfo=UTC
    )


def _upload(client, tenant, catalog, data, kind="orders", name="export.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    url = reverse(
        "catalogs:catalog_upload", kwargs={"tenant_slug": tenant.slug, "catalog_id": catalog.pk}
    )
    return client.post(url, {"kind": kind, "file": SimpleUploadedFile(name, data)})


MAPPED = (
    b"Order,Item,Qty,Price,Ordered,Why,Cancelled\n"
    b"B-1,SKU-1,2,19.90,2026-03-01 10:00,,\n"
    b"B-2,SKU-2,1,9.90,2026-03-01 11:00,Kein Bestand,2026-03-01 12:00\n"
)


def test_unknown_export_gets_a_mapping_form_saved_as_a_preset(client, member, tenant_a, catalog):
    from catalog_health.tenancy.roles import Role

    client.force_login(member(tenant_a, Role.SELLER))
    response = _upload(client, tenant_a, catalog, MAPPED, name="shop-x.csv")
    body = client.get(response.url).content.decode()
    assert 'id="mapping-form"' in body
    form = {
        "save_mapping": "1",
        "name": "Shop X",
        "col_order_id": "Order",
        "col_sku": "Item",
        "col_quantity": "Qty",
        "col_item_price": "Price",
        "col_placed_at": "Ordered",
        "col_cancelled_at": "Cancelled",
        "col_cancel_reason": "Why",
        "cancel_values": "Kein Bestand = out_of_stock",
    }
    # a mapping naming a required field's column wrongly is refused
    bad = client.post(response.url, {**form, "col_sku": ""})
    assert bad.status_code == 200 and not ColumnMappingPreset.objects.exists()
    saved = client.post(response.url, form)
    assert saved.status_code == 302
    preset = ColumnMappingPreset.objects.for_tenant(tenant_a).get()
    assert preset.name == "Shop X" and preset.cancel_values == {"Kein Bestand": "out_of_stock"}
    body = client.get(response.url).content.decode()
    assert 'id="count-lines">2<' in body and "export read through a column mapping" in body
    # the next file with the same header is picked up without asking
    again = _upload(client, tenant_a, catalog, MAPPED, name="shop-x-2.csv")
    client.post(again.url, {"date_order": ""})
    cancelled = Order.objects.for_tenant(tenant_a).get(order_id="B-2")
    assert cancelled.cancel_reason == "out_of_stock"


def test_impressions_from_any_export(client, member, tenant_a, catalog):
    from catalog_health.tenancy.roles import Role
    from catalogs.models import DailyImpression

    client.force_login(member(tenant_a, Role.SELLER))
    data = b"Item ID,Day,Impr.,Clicks,Cost\nSKU-1,13/03/2026,100,3,1.2\nSKU-9,14/03/2026,5,1,0\n"
    response = _upload(client, tenant_a, catalog, data, kind="impressions", name="ads.csv")
    body = client.get(response.url).content.decode()
    assert "SKU-9" in body and "2026-03-13" in body
    client.post(response.url, {"date_order": ""})
    row = DailyImpression.objects.for_tenant(tenant_a).get()
    assert (row.sku, str(row.date), row.impressions, row.clicks) == ("SKU-1", "2026-03-13", 100, 3)


def test_orders_uploaded_as_impressions_are_refused(client, member, tenant_a, catalog):
    from catalog_health.tenancy.roles import Role

    client.force_login(member(tenant_a, Role.SELLER))
    response = _upload(client, tenant_a, catalog, tiktok_file(), kind="impressions")
    body = client.get(response.url).content.decode()
    assert "looks like a TikTok Shop order export, not daily impressions" in body


def test_a_queued_upload_shows_its_progress(client, member, tenant_a, catalog):
    from catalog_health.tenancy.roles import Role

    client.force_login(member(tenant_a, Role.SELLER))
    response = _upload(client, tenant_a, catalog, tiktok_file())
    OrderUpload.objects.update(status=UploadStatus.RUNNING, rows_total=200, rows_done=50)
    page = client.get(response.url).content.decode()
    assert 'id="upload-progress"' in page and 'http-equiv="refresh"' in page
    assert 'aria-valuenow="25"' in page and "50 of about 200 lines read" in page


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_large_upload_is_imported_by_a_worker(
    celery_worker_process, client, member, tenant_a, catalog, monkeypatch
):
    import time

    from catalog_health.tenancy.roles import Role

    monkeypatch.setattr(order_uploads, "BACKGROUND_BYTES", 10)  # every file is "large"
    client.force_login(member(tenant_a, Role.SELLER))
    response = _upload(client, tenant_a, catalog, tiktok_file())
    client.post(response.url, {"date_order": ""})
    upload = OrderUpload.objects.get()
    deadline = time.monotonic() + 60
    while upload.status in (UploadStatus.QUEUED, UploadStatus.RUNNING):
        assert time.monotonic() < deadline, celery_worker_process()
        time.sleep(0.2)
        upload.refresh_from_db()
    assert upload.status == UploadStatus.DONE, (upload.message, celery_worker_process())
    assert Order.objects.for_tenant(tenant_a).count() == 3
    page = client.get(response.url).content.decode()
    assert "3 lines saved or changed" in page and 'http-equiv="refresh"' not in page


def test_queueing_fails_visibly_when_the_broker_is_down(
    client, member, tenant_a, catalog, monkeypatch, django_capture_on_commit_callbacks, request
):
    from catalog_health.tenancy.roles import Role

    monkeypatch.setattr(order_uploads, "BACKGROUND_BYTES", 10)
    client.force_login(member(tenant_a, Role.SELLER))
    response = _upload(client, tenant_a, catalog, tiktok_file())
    request.getfixturevalue("dead_broker")  # the broker goes down after the upload
    with django_capture_on_commit_callbacks(execute=True):
        client.post(response.url, {"date_order": ""})
    assert OrderUpload.objects.get().status == UploadStatus.FAILED
    page = client.get(response.url).content.decode()
    assert "could not be queued" in page


def test_the_app_csv_is_previewed_by_the_parser_that_imports_it(tenant_a, catalog):
    data = (
        b"order_id,sku,quantity,item_price,shipping_fee,placed_at,ship_by,shipped_at,"
        b"delivered_at,cancelled_at,cancel_reason,tracking_number\n"
        b"A-1,SKU-1,1,10.00,0,2026-03-01T10:00:00Z,2026-03-03T10:00:00Z,,,,,\n"
        b"A-2,SKU-1,1,10.00,0,2026-03-01T10:00:00Z,,,,,,\n"
        b"A-3,SKU-1,1,10.00,0,2026-03-01T10:00:00Z,2026-03-03T10:00:00Z,,,2026-03-02,lost,\n"
        b"A-4,NOPE,1,10.00,0,2026-03-01T10:00:00Z,2026-03-03T10:00:00Z,,,,,\n"
    )
    preview = order_files.orders_preview(tenant=tenant_a, catalog=catalog, data=data)
    assert preview.format_label == "Catalog Health order CSV"
    assert (preview.lines, preview.orders) == (4, 3)
    # A-2 has no ship-by: it gets one from the catalog's handling time
    assert {(e.line, e.column) for e in preview.errors} == {(4, "cancel_reason"), (5, "sku")}
    assert preview.unknown_skus == {"NOPE": [5]}
    result = order_files.orders_import_file(tenant=tenant_a, catalog=catalog, data=data, actor=None)
    assert result.written == 2 and result.refused == preview.refused


def test_the_app_csv_preview_counts_a_repeated_line_once(tenant_a, catalog):
    data = (
        b"order_id,sku,quantity,item_price,shipping_fee,placed_at,ship_by,shipped_at,"
        b"delivered_at,cancelled_at,cancel_reason,tracking_number\n"
        b"A-1,SKU-1,1,10.00,0,2026-03-01T10:00:00Z,2026-03-03T10:00:00Z,,,,,\n"
        b"A-1,SKU-1,2,10.00,0,2026-03-01T10:00:00Z,2026-03-03T10:00:00Z,,,,,\n"
        b"A-4,NOPE,1,10.00,0,2026-03-01T10:00:00Z,2026-03-03T10:00:00Z,,,,,\n"
        b"A-4,NOPE,1,10.00,0,2026-03-01T10:00:00Z,2026-03-03T10:00:00Z,,,,,\n"
    )
    preview = order_files.orders_preview(tenant=tenant_a, catalog=catalog, data=data)
    assert preview.lines == 4 and preview.repeated
    result = order_files.orders_import_file(tenant=tenant_a, catalog=catalog, data=data, actor=None)
    assert result.written == preview.lines - preview.refused - preview.repeated
