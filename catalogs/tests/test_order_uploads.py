"""Order uploads after their preview: a worker killed mid-import, retries, the retention of
unimported files and the cached preview."""

from __future__ import annotations

import codecs
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from catalog_health.tenancy.roles import Role
from catalogs import order_uploads
from catalogs.models import Order, OrderUpload, UploadStatus
from catalogs.tests.export_samples import tiktok_csv, tiktok_row
from catalogs.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def _file() -> bytes:
    return tiktok_csv(
        tiktok_row(),
        tiktok_row(order_id="3", seller_sku="NOPE", shipped="", tracking=""),
        tiktok_row(order_id="5", seller_sku="SKU-2", quantity="3"),
    )


def _upload(tenant, catalog, data=None) -> OrderUpload:
    return order_uploads.order_upload_create(
        tenant=tenant,
        catalog=catalog,
        actor=None,
        data=data or _file(),
        filename="o.csv",
        kind="orders",
    )


def _killed_mid_run(upload: OrderUpload, *, minutes_ago: int) -> None:
    """What a worker killed while importing leaves: RUNNING, last progress long ago (the
    merge is one transaction, so no order of it was written)."""
    then = timezone.now() - timedelta(minutes=minutes_ago)
    OrderUpload.objects.filter(pk=upload.pk).update(
        status=UploadStatus.RUNNING, heartbeat_at=then, rows_done=1, rows_total=3
    )
    OrderUpload.objects.filter(pk=upload.pk).update(created_at=then)


def test_reaper_fails_an_import_whose_worker_died_and_keeps_its_file(tenant_a, catalog):
    dead, alive = _upload(tenant_a, catalog), _upload(tenant_a, catalog)
    _killed_mid_run(dead, minutes_ago=31)
    _killed_mid_run(alive, minutes_ago=5)  # still making progress
    assert order_uploads.order_uploads_reap()["failed"] == 1
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.status == UploadStatus.FAILED and "retry" in dead.message
    assert dead.retryable and bytes(dead.data) == _file()
    assert alive.status == UploadStatus.RUNNING
    assert not Order.objects.exists()  # the catalog is as it was
    assert order_uploads.order_uploads_reap()["failed"] == 0  # idempotent


def test_reaper_fails_a_queued_import_whose_message_was_lost(tenant_a, catalog):
    upload = _upload(tenant_a, catalog)
    then = timezone.now() - timedelta(hours=2)
    OrderUpload.objects.filter(pk=upload.pk).update(
        status=UploadStatus.QUEUED, heartbeat_at=then, created_at=then
    )
    order_uploads.order_uploads_reap()
    upload.refresh_from_db()
    assert upload.status == UploadStatus.FAILED and upload.retryable


def test_retry_imports_a_reaped_upload_once(tenant_a, tenant_b, catalog):
    upload = _upload(tenant_a, catalog)
    _killed_mid_run(upload, minutes_ago=60)
    order_uploads.order_uploads_reap()
    upload.refresh_from_db()
    with pytest.raises(OrderUpload.DoesNotExist):
        order_uploads.order_upload_retry(tenant=tenant_b, upload=upload, actor=None)
    assert order_uploads.order_upload_retry(tenant=tenant_a, upload=upload, actor=None) is False
    upload.refresh_from_db()
    assert upload.status == UploadStatus.DONE and upload.written == 2 and upload.message == ""
    assert Order.objects.for_tenant(tenant_a).count() == 2
    # done: a second retry does nothing
    assert order_uploads.order_upload_retry(tenant=tenant_a, upload=upload, actor=None) is True
    assert Order.objects.for_tenant(tenant_a).count() == 2


def test_an_unreadable_file_is_not_retryable(tenant_a, catalog):
    upload = _upload(tenant_a, catalog, data=b"id,title,price,link\n1,a,1,x\n")
    order_uploads.order_upload_start(tenant=tenant_a, upload=upload, actor=None)
    upload.refresh_from_db()
    assert upload.status == UploadStatus.FAILED and not upload.retryable
    order_uploads.order_upload_retry(tenant=tenant_a, upload=upload, actor=None)
    upload.refresh_from_db()
    assert upload.status == UploadStatus.FAILED


def test_unimported_previews_are_deleted_after_the_retention(tenant_a, catalog, settings):
    settings.ORDER_UPLOAD_RETENTION_HOURS = 24
    old, recent, old_failed = (_upload(tenant_a, catalog) for _ in range(3))
    long_ago = timezone.now() - timedelta(hours=25)
    OrderUpload.objects.filter(pk__in=[old.pk, old_failed.pk]).update(created_at=long_ago)
    OrderUpload.objects.filter(pk=old_failed.pk).update(status=UploadStatus.FAILED)
    counts = order_uploads.order_uploads_reap()
    assert counts["expired"] == 1 and counts["files_dropped"] == 1
    assert not OrderUpload.objects.filter(pk=old.pk).exists()
    assert bytes(OrderUpload.objects.get(pk=recent.pk).data) == _file()
    old_failed.refresh_from_db()
    assert bytes(old_failed.data) == b"" and not old_failed.retryable


def test_the_beat_schedule_runs_the_reaper():
    from django.conf import settings

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "catalogs.reap_order_uploads" in tasks


# --- pages -------------------------------------------------------------------------------


def _detail_url(tenant, catalog, upload) -> str:
    return reverse(
        "catalogs:catalog_upload_detail",
        kwargs={"tenant_slug": tenant.slug, "catalog_id": catalog.pk, "upload_id": upload.pk},
    )


def test_the_preview_is_read_once_and_kept(client, member, tenant_a, catalog):
    client.force_login(member(tenant_a, Role.SELLER))
    upload = _upload(tenant_a, catalog)
    url = _detail_url(tenant_a, catalog, upload)
    first = client.get(url).content.decode()
    assert 'id="count-lines">3<' in first and 'id="count-unknown">1<' in first
    # the file changes under it: the page still shows the kept preview, not a re-read
    OrderUpload.objects.filter(pk=upload.pk).update(data=tiktok_csv(tiktok_row()))
    again = client.get(url).content.decode()
    assert 'id="count-lines">3<' in again
    # what the preview depends on changes (the unknown SKU becomes a product): read again
    ProductFactory(tenant=tenant_a, catalog=catalog, sku="NOPE")
    fresh = client.get(url).content.decode()
    assert 'id="count-lines">1<' in fresh and 'id="count-unknown">0<' in fresh


def test_the_import_button_counts_the_lines_that_will_be_imported(
    client, member, tenant_a, catalog
):
    """Three lines, one of an unknown SKU: the button imports two, the refused one is named
    beside it; a kept preview from before the count existed is read again."""
    client.force_login(member(tenant_a, Role.SELLER))
    upload = _upload(tenant_a, catalog)
    url = _detail_url(tenant_a, catalog, upload)
    page = client.get(url).content.decode()
    assert ">Import 2 lines</button>" in page
    assert 'id="import-refused">1 line will not be imported' in page
    preview = OrderUpload.objects.get(pk=upload.pk).preview
    preview["result"].pop("importable")
    preview["depends"].pop("summary")
    OrderUpload.objects.filter(pk=upload.pk).update(preview=preview)
    assert ">Import 2 lines</button>" in client.get(url).content.decode()
    ProductFactory(tenant=tenant_a, catalog=catalog, sku="NOPE")
    page = client.get(url).content.decode()
    assert ">Import 3 lines</button>" in page and 'id="import-refused"' not in page


def test_a_failed_upload_page_offers_retry_to_writers_only(client, member, tenant_a, catalog):
    upload = _upload(tenant_a, catalog)
    _killed_mid_run(upload, minutes_ago=60)
    order_uploads.order_uploads_reap()
    url = _detail_url(tenant_a, catalog, upload)
    client.force_login(member(tenant_a, Role.VIEWER))
    assert 'id="retry-form"' not in client.get(url).content.decode()
    assert client.post(url, {"retry": "1"}).status_code == 403
    client.force_login(member(tenant_a, Role.SELLER))
    page = client.get(url).content.decode()
    assert 'id="retry-form"' in page and "stopped without finishing" in page
    done = client.post(url, {"retry": "1"}, follow=True).content.decode()
    assert "2 lines saved or changed" in done
    assert Order.objects.for_tenant(tenant_a).count() == 2


# --- column mappings page and admin ----------------------------------------------------


def _preset(tenant, name="Mine"):
    from catalogs.models import ColumnMappingPreset

    return ColumnMappingPreset.objects.create(
        tenant=tenant,
        kind="orders",
        name=name,
        header=["Bestellnr", "Artikel"],
        columns={"order_id": "Bestellnr", "sku": "Artikel"},
        cancel_values={"Kein Bestand": "out_of_stock"},
    )


def test_mapping_presets_page_lists_and_deletes_for_writers(client, member, tenant_a, tenant_b):
    from catalogs.models import ColumnMappingPreset

    mine, theirs = _preset(tenant_a, "<b>Mine</b>"), _preset(tenant_b, "Theirs")
    url = reverse("catalogs:mapping_preset_list", kwargs={"tenant_slug": tenant_a.slug})
    delete = reverse(
        "catalogs:mapping_preset_delete",
        kwargs={"tenant_slug": tenant_a.slug, "preset_id": mine.pk},
    )
    client.force_login(member(tenant_a, Role.VIEWER))
    page = client.get(url).content.decode()
    assert "&lt;b&gt;Mine&lt;/b&gt;" in page and "Theirs" not in page and "Kein Bestand" in page
    assert delete not in page
    assert client.post(delete).status_code == 403
    client.force_login(member(tenant_a, Role.ADVERTISER))  # catalogs, not orders
    assert client.post(delete).status_code == 403
    client.force_login(member(tenant_a, Role.SELLER))
    assert delete in client.get(url).content.decode()
    foreign = reverse(
        "catalogs:mapping_preset_delete",
        kwargs={"tenant_slug": tenant_a.slug, "preset_id": theirs.pk},
    )
    assert client.post(foreign).status_code == 404
    assert client.post(delete).status_code == 302
    assert list(ColumnMappingPreset.objects.values_list("name", flat=True)) == ["Theirs"]
    assert 'id="no-presets"' in client.get(url).content.decode()


def test_admin_lists_uploads_and_presets_without_the_file(admin_client, tenant_a, catalog):
    upload = _upload(tenant_a, catalog)
    preset = _preset(tenant_a)
    for name, obj in (("orderupload", upload), ("columnmappingpreset", preset)):
        changelist = admin_client.get(reverse(f"admin:catalogs_{name}_changelist"))
        assert changelist.status_code == 200
        change = admin_client.get(reverse(f"admin:catalogs_{name}_change", args=[obj.pk]))
        assert change.status_code == 200
    page = admin_client.get(reverse("admin:catalogs_orderupload_change", args=[upload.pk]))
    assert b"Order ID" not in page.content  # the file's text is not shown
    catalog_page = admin_client.get(reverse("admin:catalogs_catalog_change", args=[catalog.pk]))
    assert b'name="handling_days"' in catalog_page.content


# --- the orders table's schema ---------------------------------------------------------


def test_orders_have_no_fk_checks_but_keep_their_indexes_and_cascades(tenant_a, catalog):
    from django.db import connection

    from catalogs.models import Product
    from catalogs.tests.order_factories import OrderFactory

    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'catalogs_order'::regclass "
            "AND contype = 'f'"
        )
        assert cur.fetchone()[0] == 0  # no per-row checks at commit
        cur.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'catalogs_order'")
        indexes = {row[0] for row in cur.fetchall()}
    # what flagged scoring, the details page and Manage Orders read through
    assert {"order_product_idx", "order_tenant_list_idx"} <= indexes
    assert "order_tenant_placed_idx" not in indexes  # order_tenant_list_idx serves its queries
    product = Product.objects.get(sku="SKU-1")
    OrderFactory(product=product)
    product.delete()  # Django cascades without the database constraint
    assert not Order.objects.exists()


def test_a_file_the_preview_cannot_read_is_not_read_again(client, member, tenant_a, catalog):
    client.force_login(member(tenant_a, Role.SELLER))
    upload = _upload(tenant_a, catalog, data=b"id,title,price,link\n1,a,1,x\n")
    url = _detail_url(tenant_a, catalog, upload)
    assert "product feed" in client.get(url).content.decode()
    OrderUpload.objects.filter(pk=upload.pk).update(data=_file())
    assert "product feed" in client.get(url).content.decode()  # kept, not re-read
    # asking for another date order is another preview: read again
    assert 'id="count-lines">3<' in client.get(url, {"date_order": "mdy"}).content.decode()


TIKTOK_TEXT = _file().decode("utf-8-sig").replace("Shirt, blue", "Camiseta Básica")


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(TIKTOK_TEXT.encode("utf-16"), id="UTF-16 with its byte order mark"),
        pytest.param(codecs.BOM_UTF16_BE + TIKTOK_TEXT.encode("utf-16-be"), id="UTF-16 BE"),
        pytest.param(TIKTOK_TEXT.encode("cp1252"), id="Windows-1252 (Excel's CSV)"),
        pytest.param(codecs.BOM_UTF8 + TIKTOK_TEXT.encode("utf-8"), id="UTF-8 with a BOM"),
    ],
)
def test_an_order_export_saved_in_another_encoding_is_previewed(
    client, member, tenant_a, catalog, data
):
    client.force_login(member(tenant_a, Role.SELLER))
    url = reverse(
        "catalogs:catalog_upload", kwargs={"tenant_slug": tenant_a.slug, "catalog_id": catalog.pk}
    )
    upload = SimpleUploadedFile("orders.csv", data)

    page = client.post(url, {"kind": "orders", "file": upload}, follow=True)

    assert page.context["problem"] is None
    # read as the UTF-8 file is: three lines, the one shipped without a time refused
    assert (page.context["preview"]["lines"], page.context["preview"]["refused"]) == (3, 1)


def test_own_impressions_in_utf16_are_imported(client, member, tenant_a, catalog):
    client.force_login(member(tenant_a, Role.SELLER))
    url = reverse(
        "catalogs:catalog_upload", kwargs={"tenant_slug": tenant_a.slug, "catalog_id": catalog.pk}
    )
    data = "sku,date,impressions,clicks\nSKU-1,2026-03-01,120,4\n".encode("utf-16")

    page = client.post(url, {"kind": "impressions", "file": SimpleUploadedFile("i.csv", data)})

    assert page.context["result"].written == 1


def test_the_import_button_counts_a_repeated_line_once(client, member, tenant_a, catalog):
    """An export that lists a line twice (the same order id and SKU) imports it once, the
    last one: the button counts what will be imported, and says why lines are fewer."""
    data = tiktok_csv(
        tiktok_row(),
        tiktok_row(quantity="2"),  # the same line again: this one is kept
        tiktok_row(order_id="3", seller_sku="NOPE"),
        tiktok_row(order_id="3", seller_sku="NOPE"),  # unknown SKU: refused, not repeated
        tiktok_row(order_id="5", seller_sku="SKU-2"),
    )
    upload = _upload(tenant_a, catalog, data)
    client.force_login(member(tenant_a, Role.SELLER))
    url = _detail_url(tenant_a, catalog, upload)

    page = client.get(url).content.decode()

    assert ">Import 2 lines</button>" in page
    assert 'id="import-repeated">1 line repeats an earlier line' in page
    client.post(url)
    assert Order.objects.filter(tenant=tenant_a).count() == 2
    assert Order.objects.get(tenant=tenant_a, sku="SKU-1").quantity == 2
