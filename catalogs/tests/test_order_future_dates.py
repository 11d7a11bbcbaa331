"""An order line placed, shipped, delivered or cancelled, or a day of impressions dated, in the
future (a wrong year, a day and month read the wrong way) is refused at every entry: each
order file format, the app's CSV, the upload page, import_orders, import_impressions, the bulk
API and Django admin, naming the field. The rule itself is tested in test_rules.py; here,
that every entry keeps to it."""

from __future__ import annotations

from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from catalog_health.tenancy.roles import Role
from catalogs import order_files, order_uploads
from catalogs.models import DailyImpression, Order, Product
from catalogs.order_io import ORDER_COLUMNS
from catalogs.tests.export_samples import tiktok_csv, tiktok_row, xlsx_of
from catalogs.tests.order_factories import (
    DailyImpressionFactory,
    OrderFactory,
    impression_admin_data,
    order_admin_data,
)

# A year from now: a typo in the year, whenever the tests run
LATER = timezone.now().year + 1
ZONE = "America/Sao_Paulo"  # UTC-3: the refusal names a time in the tenant's zone


@pytest.fixture
def catalog(tenant_a, catalog):
    tenant_a.time_zone = ZONE
    tenant_a.save(update_fields=["time_zone"])
    return catalog


# The times of a line that tell what has happened to it (catalogs.rules.HAPPENED_TIMES): each
# is refused a year from now. A ship-by lies ahead of every open order and is not checked.
HAPPENED = ("placed_at", "shipped_at", "delivered_at", "cancelled_at")


def _line_times(field: str, later: str, placed: str, shipped: str) -> dict[str, str]:
    """A line's placed, shipped, delivered and cancelled times with field at later: shipped
    when it is delivered, neither shipped nor delivered when it is cancelled or placed later."""
    times = {"placed_at": placed, "shipped_at": shipped, "delivered_at": "", "cancelled_at": ""}
    if field in ("placed_at", "cancelled_at"):
        times["shipped_at"] = ""
    times[field] = later
    return times


def _app_csv(field: str) -> bytes:
    times = _line_times(
        field, f"{LATER}-03-01T10:00:00Z", "2026-03-01T10:00:00Z", "2026-03-02T10:00:00Z"
    )
    ship_by = times["placed_at"].replace("-03-01T", "-03-03T")
    reason = "other" if times["cancelled_at"] else ""
    first = ["A-1", "SKU-1", "1", "10.00", "0", "2026-03-01T10:00:00Z", "2026-03-03T10:00:00Z"]
    rows = [
        ",".join([*first, "", "", "", "", ""]),
        ",".join(["A-2", "SKU-2", "1", "10.00", "0", times.pop("placed_at"), ship_by])
        + ","
        + ",".join([*times.values(), reason, ""]),
    ]
    return ("\n".join([",".join(ORDER_COLUMNS), *rows]) + "\n").encode()


def _tiktok_csv(field: str) -> bytes:
    times = _line_times(
        field, f"03/14/{LATER} 9:05:11 PM", "03/14/2026 9:05:11 PM", "03/15/2026 10:00:00 AM"
    )
    return tiktok_csv(
        tiktok_row(order_id="576461413040000001"),
        tiktok_row(
            order_id="576461413040000002",
            seller_sku="SKU-2",
            status="Cancelled" if times["cancelled_at"] else "Shipped",
            created=times["placed_at"],
            paid=times["placed_at"],
            shipped=times["shipped_at"],
            delivered=times["delivered_at"],
            cancelled=times["cancelled_at"],
        ),
    )


def _shopify_csv(field: str) -> bytes:
    placed = "2026-03-01 10:00:00 -0500"
    times = _line_times(field, f"{LATER}-03-01 10:00:00 -0500", placed, placed)
    status = "fulfilled" if times["shipped_at"] else "unfulfilled"
    header = (
        "Name,Created at,Fulfillment Status,Fulfilled at,Cancelled at,Lineitem quantity,"
        "Lineitem name,Lineitem price,Lineitem sku"
    )
    rows = [
        f"#1001,{placed},,,,1,Shirt,40.00,SKU-1",
        ",".join(["#1002", times["placed_at"], status, times["shipped_at"], times["cancelled_at"]])
        + ",1,Shirt,40.00,SKU-2",
    ]
    return ("\n".join([header, *rows]) + "\n").encode()


MAPPED_HEADER = [
    "Bestellung",
    "Artikel",
    "Preis",
    "Bestellt am",
    "Versendet",
    "Zugestellt",
    "Storniert",
]


def _mapped_csv(field: str) -> bytes:
    times = _line_times(field, f"{LATER}-03-01 10:00", "2026-03-01 10:00", "2026-03-02 10:00")
    return (
        ";".join(MAPPED_HEADER) + "\n"
        "B-1;SKU-1;19,90;2026-03-01 10:00;;;\n"
        f"B-2;SKU-2;19,90;{';'.join(times.values())}\n"
    ).encode()


# each file: line 2 placed in March 2026, line 3 placed (or shipped, delivered, cancelled) a
# year from now, in the fields the format has; what line 3's refusal names (naive times are
# the tenant's, an offset is kept and shown in the tenant's zone)
FILES = {
    "the app's CSV": (_app_csv, HAPPENED, f"{LATER}-03-01 07:00"),
    "TikTok Shop CSV": (_tiktok_csv, HAPPENED, f"{LATER}-03-14 21:05"),
    "TikTok Shop XLSX": (
        lambda field: xlsx_of(_tiktok_csv(field)),
        ("placed_at", "shipped_at"),
        f"{LATER}-03-14 21:05",
    ),
    "Shopify CSV": (
        _shopify_csv,
        ("placed_at", "shipped_at", "cancelled_at"),
        f"{LATER}-03-01 12:00",
    ),
    "a mapped export": (_mapped_csv, HAPPENED, f"{LATER}-03-01 10:00"),
}


@pytest.fixture
def mapping(tenant_a):
    fields = ("order_id", "sku", "item_price", *HAPPENED)
    order_uploads.mapping_preset_save(
        tenant=tenant_a,
        actor=None,
        kind="orders",
        name="Shop X",
        header=MAPPED_HEADER,
        columns=dict(zip(fields, MAPPED_HEADER, strict=True)),
    )


def _refusal_named(errors, line: int, column: str, named: str) -> bool:
    return [(e.line, e.column) for e in errors] == [(line, column)] and (
        errors[0].message.startswith(f"{named} is in the future: after ")
        and f"({ZONE})" in errors[0].message
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("source", "field"),
    [(source, field) for source, (_, fields, _) in FILES.items() for field in fields],
)
def test_every_order_file_format_refuses_a_line_dated_in_the_future(
    tenant_a, catalog, mapping, source, field
):
    make, _, named = FILES[source]
    data = make(field)

    preview = order_files.orders_preview(tenant=tenant_a, catalog=catalog, data=data)
    result = order_files.orders_import_file(tenant=tenant_a, catalog=catalog, data=data, actor=None)

    for read in (preview, result):
        assert _refusal_named(read.errors, 3, field, named), read.errors
    assert list(Order.objects.for_tenant(tenant_a).values_list("sku", flat=True)) == ["SKU-1"]


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["placed_at", "delivered_at"])
def test_import_orders_lists_a_line_dated_in_the_future(tmp_path, tenant_a, catalog, capsys, field):
    path = tmp_path / "orders.csv"
    path.write_bytes(_tiktok_csv(field))

    call_command("import_orders", "--catalog", str(catalog.pk), str(path), "--no-score")

    assert f"line 3, {field}: {LATER}-03-14 21:05 is in the future" in capsys.readouterr().err
    assert Order.objects.for_tenant(tenant_a).count() == 1


def _upload(client, catalog, data: bytes, kind: str):
    url = reverse(
        "catalogs:catalog_upload",
        kwargs={"tenant_slug": catalog.tenant.slug, "catalog_id": catalog.pk},
    )
    return client.post(url, {"kind": kind, "file": SimpleUploadedFile("f.csv", data)}, follow=True)


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["placed_at", "shipped_at"])
@pytest.mark.parametrize("source", ["the app's CSV", "TikTok Shop CSV"])
def test_the_upload_page_previews_and_refuses_a_line_dated_in_the_future(
    client, member, tenant_a, catalog, source, field
):
    client.force_login(member(tenant_a, Role.SELLER))
    make, _, named = FILES[source]

    page = _upload(client, catalog, make(field), "orders")
    client.post(page.request["PATH_INFO"], {"date_order": ""})

    [error] = page.context["preview"]["errors"]
    assert (error["line"], error["column"]) == (3, field)
    assert error["message"].startswith(f"{named} is in the future")
    assert page.context["preview"]["importable"] == 1
    assert list(Order.objects.for_tenant(tenant_a).values_list("sku", flat=True)) == ["SKU-1"]


# --- daily impressions ----------------------------------------------------------------------


def _tomorrow_and_after():
    """The tenant's tomorrow (allowed: a marketplace may already be on it) and the day after."""
    today = timezone.localdate(timezone=ZoneInfo(ZONE))
    return today + timedelta(days=1), today + timedelta(days=2)


def _impressions(header: str) -> bytes:
    tomorrow, after = _tomorrow_and_after()
    return (
        f"{header}\nSKU-1,2026-03-01,120,4\nSKU-1,{tomorrow},80,2\n"
        f"SKU-2,{after},7,0\nSKU-2,{LATER}-03-01,9,1\n"
    ).encode()


def _stored_impressions(tenant) -> list[tuple]:
    rows = DailyImpression.objects.for_tenant(tenant).values_list("sku", "date")
    return sorted((sku, day.isoformat()) for sku, day in rows)


def _expected_impressions() -> list[tuple]:
    tomorrow, _ = _tomorrow_and_after()
    return [("SKU-1", "2026-03-01"), ("SKU-1", tomorrow.isoformat())]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header", ["sku,date,impressions,clicks", "Item ID,Day,Impr.,Clicks"], ids=["app", "export"]
)
def test_the_upload_page_refuses_impressions_dated_after_tomorrow(
    client, member, tenant_a, catalog, header
):
    client.force_login(member(tenant_a, Role.SELLER))
    _, after = _tomorrow_and_after()

    page = _upload(client, catalog, _impressions(header), "impressions")
    if header.startswith("sku"):  # the app's CSV is imported at once
        errors = [(e.line, e.column, e.message) for e in page.context["result"].errors]
    else:
        client.post(page.request["PATH_INFO"], {"date_order": ""})
        errors = [(e["line"], e["column"], e["message"]) for e in page.context["preview"]["errors"]]

    assert [(line, column) for line, column, _ in errors] == [(4, "date"), (5, "date")]
    assert errors[0][2].startswith(f"{after.isoformat()} is in the future: after ")
    assert errors[1][2].startswith(f"{LATER}-03-01 is in the future: after ")
    assert _stored_impressions(tenant_a) == _expected_impressions()


@pytest.mark.django_db
def test_import_impressions_refuses_a_day_after_tomorrow(tmp_path, tenant_a, catalog, capsys):
    path = tmp_path / "ads.csv"
    path.write_bytes(_impressions("sku,date,impressions,clicks"))

    call_command("import_impressions", "--catalog", str(catalog.pk), str(path), "--no-score")

    assert f"line 5, date: {LATER}-03-01 is in the future" in capsys.readouterr().err
    assert _stored_impressions(tenant_a) == _expected_impressions()


# --- the bulk API ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("field", HAPPENED)
def test_the_api_refuses_an_order_line_dated_in_the_future(
    api_client_for, member, tenant_a, catalog, field
):
    api = api_client_for(member(tenant_a, "seller"), tenant_a)
    times = _line_times(
        field, f"{LATER}-03-01T10:00:00Z", "2026-03-01T10:00:00Z", "2026-03-02T10:00:00Z"
    )
    later = {name: value or None for name, value in times.items()}
    later["ship_by"] = times["placed_at"].replace("-03-01T", "-03-03T")
    later["cancel_reason"] = "other" if later["cancelled_at"] else ""
    placed = {"item_price": "10.00", "placed_at": "2026-03-01T10:00:00Z"}
    lines = [
        {"order_id": "A1", "sku": "SKU-1", **placed, "ship_by": "2026-03-03T10:00:00Z"},
        {"order_id": "A2", "sku": "SKU-2", "item_price": "10.00", **later},
    ]

    body = api.post(
        "/api/v1/orders/bulk/", {"catalog": catalog.pk, "orders": lines}, format="json"
    ).json()

    assert (body["written"], body["refused"]) == (1, 1)
    [error] = body["errors"]
    assert (error["index"], error["field"]) == (1, field)
    assert error["message"].startswith(f"{LATER}-03-01 07:00 is in the future: after ")
    assert list(Order.objects.for_tenant(tenant_a).values_list("order_id", flat=True)) == ["A1"]


@pytest.mark.django_db
def test_the_api_refuses_impressions_dated_after_tomorrow(
    api_client_for, member, tenant_a, catalog
):
    api = api_client_for(member(tenant_a, "seller"), tenant_a)
    tomorrow, after = _tomorrow_and_after()
    rows = [
        {"sku": "SKU-1", "date": day, "impressions": 10}
        for day in ("2026-03-01", tomorrow.isoformat(), after.isoformat())
    ]

    body = api.post(
        "/api/v1/impressions/bulk/", {"catalog": catalog.pk, "impressions": rows}, format="json"
    ).json()

    assert (body["written"], body["refused"]) == (2, 1)
    [error] = body["errors"]
    assert (error["index"], error["field"]) == (2, "date")
    assert error["message"].startswith(f"{after.isoformat()} is in the future: after ")
    assert _stored_impressions(tenant_a) == _expected_impressions()


# --- Django admin ---------------------------------------------------------------------------


def _placed(order: Order, placed_at) -> dict:
    """The order's change form, placed at placed_at (due two days later)."""
    placed_at = placed_at.astimezone(UTC)
    ship_by = placed_at + timedelta(days=2)
    return order_admin_data(
        order,
        placed_at_0=placed_at.date().isoformat(),
        placed_at_1=placed_at.strftime("%H:%M:%S"),
        ship_by_0=ship_by.date().isoformat(),
        ship_by_1=ship_by.strftime("%H:%M:%S"),
        shipped_at_0="",
        shipped_at_1="",
    )


@pytest.mark.django_db
def test_admin_refuses_an_order_line_placed_in_the_future(staff_client, tenant_a, catalog):
    order = OrderFactory(product=Product.objects.get(catalog=catalog, sku="SKU-1"))
    before = Order.objects.values().get(pk=order.pk)
    url = reverse("admin:catalogs_order_change", args=[order.pk])
    later = timezone.now().replace(second=0, microsecond=0) + timedelta(days=400)

    response = staff_client.post(url, _placed(order, later))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["placed_at"]
    named = later.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%d %H:%M")
    assert errors["placed_at"][0].startswith(f"{named} is in the future: after ")
    assert Order.objects.values().get(pk=order.pk) == before
    # placed now, or a few hours ahead (another time zone's marketplace), it is saved
    soon = timezone.now().replace(microsecond=0) + timedelta(hours=20)
    assert staff_client.post(url, _placed(order, soon)).status_code == 302
    assert Order.objects.get(pk=order.pk).placed_at == soon


@pytest.mark.django_db
@pytest.mark.parametrize("field", HAPPENED[1:])
def test_admin_refuses_a_line_shipped_delivered_or_cancelled_in_the_future(
    staff_client, tenant_a, catalog, field
):
    order = OrderFactory(product=Product.objects.get(catalog=catalog, sku="SKU-1"))
    before = Order.objects.values().get(pk=order.pk)
    url = reverse("admin:catalogs_order_change", args=[order.pk])
    placed = timezone.now().replace(second=0, microsecond=0) - timedelta(days=2)
    later = timezone.now().replace(second=0, microsecond=0) + timedelta(days=400)
    data = _placed(order, placed)
    times = _line_times(field, "later", "placed", "placed")
    for name, when in times.items():
        moment = {"later": later, "placed": placed}.get(when)
        data[f"{name}_0"] = moment.date().isoformat() if moment else ""
        data[f"{name}_1"] = moment.strftime("%H:%M:%S") if moment else ""
    data["cancel_reason"] = "other" if times["cancelled_at"] else ""

    response = staff_client.post(url, data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field]
    named = later.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%d %H:%M")
    assert errors[field][0].startswith(f"{named} is in the future: after ")
    assert Order.objects.values().get(pk=order.pk) == before


@pytest.mark.django_db
def test_admin_refuses_impressions_dated_after_tomorrow(staff_client, tenant_a, catalog):
    impression = DailyImpressionFactory(product=Product.objects.get(catalog=catalog, sku="SKU-1"))
    url = reverse("admin:catalogs_dailyimpression_change", args=[impression.pk])
    tomorrow, after = _tomorrow_and_after()

    response = staff_client.post(url, impression_admin_data(impression, date=after.isoformat()))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["date"]
    assert errors["date"][0].startswith(f"{after.isoformat()} is in the future: after ")
    taken = impression_admin_data(impression, date=tomorrow.isoformat())
    assert staff_client.post(url, taken).status_code == 302
    assert DailyImpression.objects.get(pk=impression.pk).date == tomorrow


@pytest.mark.django_db
def test_a_kept_preview_is_read_again_on_a_later_day(
    client, member, monkeypatch, tenant_a, catalog
):
    """A line placed 30 hours from now is refused today and taken two days later: the preview
    kept on the upload must not go on refusing it."""
    client.force_login(member(tenant_a, Role.SELLER))
    soon = (timezone.now() + timedelta(hours=30)).astimezone(ZoneInfo(ZONE))
    placed = soon.strftime("%m/%d/%Y %I:%M:%S %p")
    data = tiktok_csv(
        tiktok_row(order_id="576461413040000001"),
        tiktok_row(order_id="576461413040000002", created=placed, paid=placed, shipped=""),
    )
    page = _upload(client, catalog, data, "orders")
    assert ">Import 1 line</button>" in page.content.decode()

    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(days=2))

    assert ">Import 2 lines</button>" in client.get(page.request["PATH_INFO"]).content.decode()
