"""Order and impressions files as sellers in Europe save them: dates written 24.12.2026 10:00
(de, at, ch, pl, ru …) or 24-12-2026 10:00 (nl), counts written 1.200 (de), 1 200 (fr) or
1'200 (ch). Each entry that reads such files: every order export format (preview and import),
the upload page, import_orders, and daily impressions exports on the upload page. The rules
themselves are tested in test_order_european_values.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from catalog_health.tenancy.roles import Role
from catalogs import order_files, order_uploads
from catalogs.models import DailyImpression, Order
from catalogs.order_io import DateOrderNeeded
from catalogs.tests.export_samples import tiktok_csv, tiktok_row, xlsx_of

ZONE = "Europe/Berlin"  # UTC+1 in winter, UTC+2 in summer

GERMAN_HEADER = ["Bestellung", "Artikel", "Menge", "Preis", "Bestellt am", "Versendet am"]
DUTCH_HEADER = ["Bestelling", "Artikel", "Aantal", "Prijs", "Besteld op"]


def _german_csv(*rows: str) -> bytes:
    """What Excel saves in a German locale: semicolons, decimal commas, day.month.year."""
    return (";".join(GERMAN_HEADER) + "\r\n" + "".join(r + "\r\n" for r in rows)).encode()


GERMAN = _german_csv(
    "B-1;SKU-1;1.200;19,90;01.03.2026 10:00;02.03.2026 09:30",
    "B-2;SKU-2;2;1.234,50;03.04.2026;",
)
DUTCH = (
    ";".join(DUTCH_HEADER) + "\r\n"
    "N-1;SKU-1;1.200;19,90;01-03-2026 10:00\r\n"
    "N-2;SKU-2;2;1.234,50;03-04-2026 00:00\r\n"
    "N-3;SKU-2;1;9,90;24-02-2026 10:00\r\n"  # a day above 12: the file is day-first
).encode()
TIKTOK_GERMAN = tiktok_csv(
    tiktok_row(
        order_id="576461413040000001",
        quantity="1.200",
        created="01.03.2026 10:00:00",
        paid="01.03.2026 10:01:00",
        shipped="02.03.2026 09:30:00",
    ),
    tiktok_row(
        order_id="576461413040000002",
        seller_sku="SKU-2",
        quantity="2",
        price="BRL 1.234,50",
        created="03.04.2026 00:00:00",
        paid="03.04.2026 00:00:00",
        shipped="",
    ),
)

# each file: its first line of SKU-1, 1200 of it placed on 1 March 10:00 (Berlin), and its
# line of SKU-2 placed on 3 April (not 4 March)
FILES = {
    "a mapped German export": GERMAN,
    "a mapped Dutch export": DUTCH,
    "a TikTok Shop CSV": TIKTOK_GERMAN,
    "a TikTok Shop XLSX": xlsx_of(TIKTOK_GERMAN),
}
FIRST_PLACED = datetime(2026, 3, 1, 9, tzinfo=UTC)
SECOND_PLACED = datetime(2026, 4, 2, 22, tzinfo=UTC)


@pytest.fixture
def catalog(tenant_a, catalog):
    tenant_a.time_zone = ZONE
    tenant_a.save(update_fields=["time_zone"])
    for name, header, names in (
        ("Shop DE", GERMAN_HEADER, GERMAN_HEADER),
        ("Shop NL", DUTCH_HEADER, [*DUTCH_HEADER, None]),
    ):
        fields = ("order_id", "sku", "quantity", "item_price", "placed_at", "shipped_at")
        order_uploads.mapping_preset_save(
            tenant=tenant_a,
            actor=None,
            kind="orders",
            name=name,
            header=header,
            columns={f: column for f, column in zip(fields, names, strict=True) if column},
        )
    return catalog


def _lines(tenant) -> list[tuple]:
    rows = Order.objects.for_tenant(tenant).values_list("sku", "quantity", "placed_at")
    return sorted(rows)


@pytest.mark.django_db
@pytest.mark.parametrize("source", FILES)
def test_every_order_file_format_reads_european_dates_and_counts(tenant_a, catalog, source):
    data = FILES[source]

    preview = order_files.orders_preview(tenant=tenant_a, catalog=catalog, data=data)
    result = order_files.orders_import_file(tenant=tenant_a, catalog=catalog, data=data, actor=None)

    for read in (preview, result):
        assert read.errors == []
        assert (read.date_order, read.date_order_source) == ("dmy", "file")
    first, *_ = _lines(tenant_a)
    assert first == ("SKU-1", 1200, FIRST_PLACED)
    assert ("SKU-2", 2, SECOND_PLACED) in _lines(tenant_a)


@pytest.mark.django_db
def test_a_dotted_date_is_day_first_whatever_the_tenant_s_date_order(tenant_a, catalog):
    tenant_a.date_order = "mdy"
    tenant_a.save(update_fields=["date_order"])

    order_files.orders_import_file(tenant=tenant_a, catalog=catalog, data=GERMAN, actor=None)

    assert ("SKU-2", 2, SECOND_PLACED) in _lines(tenant_a)


@pytest.mark.django_db
def test_dashed_dates_that_cannot_tell_ask_for_the_date_order(tenant_a, catalog):
    """03-04-2026 is 3 April in the Netherlands and March 4 in a US export: never guessed."""
    tenant_a.date_order = ""
    tenant_a.save(update_fields=["date_order"])
    data = DUTCH.rsplit(b"N-3", 1)[0]

    with pytest.raises(DateOrderNeeded):
        order_files.orders_preview(tenant=tenant_a, catalog=catalog, data=data)
    result = order_files.orders_import_file(
        tenant=tenant_a, catalog=catalog, data=data, actor=None, date_order="dmy"
    )

    assert result.errors == []
    assert ("SKU-2", 2, SECOND_PLACED) in _lines(tenant_a)


@pytest.mark.django_db
def test_a_count_grouped_by_points_in_a_decimal_point_file_is_refused(tenant_a, catalog):
    """Shopify writes 40.00: there 1.200 is 1.2, not a whole number, and is never read as 1."""
    header = "Name,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku"
    rows = [
        "#1001,2026-03-01 10:00:00 -0500,1.200,Shirt,40.00,SKU-1",
        "#1002,2026-03-01 10:00:00 -0500,1.000,Shirt,40.00,SKU-2",
        '#1003,2026-03-01 10:00:00 -0500,"1,200",Shirt,40.00,SKU-2',
    ]
    data = ("\n".join([header, *rows]) + "\n").encode()

    result = order_files.orders_import_file(tenant=tenant_a, catalog=catalog, data=data, actor=None)

    assert [(e.line, e.column) for e in result.errors] == [(2, "quantity"), (3, "quantity")]
    assert result.errors[0].message == "must be a whole number (got '1.200')"
    assert [(sku, n) for sku, n, _ in _lines(tenant_a)] == [("SKU-2", 1200)]


@pytest.mark.django_db
def test_import_orders_reads_a_german_export(tmp_path, tenant_a, catalog, capsys):
    path = tmp_path / "bestellungen.csv"
    path.write_bytes(GERMAN)

    call_command("import_orders", "--catalog", str(catalog.pk), str(path), "--no-score")

    assert "line" not in capsys.readouterr().err
    assert _lines(tenant_a) == [
        ("SKU-1", 1200, FIRST_PLACED),
        ("SKU-2", 2, SECOND_PLACED),
    ]
    shipped = Order.objects.for_tenant(tenant_a).get(order_id="B-1").shipped_at
    assert shipped == datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


def _upload(client, catalog, data: bytes, kind: str, name: str = "f.csv"):
    url = reverse(
        "catalogs:catalog_upload",
        kwargs={"tenant_slug": catalog.tenant.slug, "catalog_id": catalog.pk},
    )
    return client.post(url, {"kind": kind, "file": SimpleUploadedFile(name, data)}, follow=True)


@pytest.mark.django_db
def test_the_upload_page_previews_and_imports_a_german_export(client, member, tenant_a, catalog):
    client.force_login(member(tenant_a, Role.SELLER))
    # no day above 12: the points alone tell that the day comes first
    data = _german_csv(
        "B-1;SKU-1;1.200;19,90;01.03.2026 10:00;02.03.2026 09:30",
        "B-2;SKU-2;1;9,90;03.04.2026;",
    )

    page = _upload(client, catalog, data, "orders")
    body = " ".join(page.content.decode().split())
    client.post(page.request["PATH_INFO"], {"date_order": ""})

    assert page.context["preview"]["errors"] == []
    assert "Dates read day first (a date in the file tells" in body
    assert ">Import 2 lines</button>" in body
    assert _lines(tenant_a) == [("SKU-1", 1200, FIRST_PLACED), ("SKU-2", 1, SECOND_PLACED)]


# --- daily impressions ----------------------------------------------------------------------

NBSP, NARROW_NBSP = "\u00a0", "\u202f"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("day", "counts"),
    [
        ("24.02.2026", ["1.200", "12.345", "980"]),  # de
        ("24.02.2026", [f"1{NBSP}200", f"12{NARROW_NBSP}345", "980"]),  # fr
        ("24.02.2026", ["1'200", "12’345", "980"]),  # ch
        ("24-02-2026", ["1.200", "12.345", "980"]),  # nl
    ],
)
def test_the_upload_page_reads_a_european_impressions_export(
    client, member, tenant_a, catalog, day, counts
):
    client.force_login(member(tenant_a, Role.SELLER))
    first, second, third = counts
    data = (
        "Item ID;Day;Impr.;Clicks\r\n"
        f"SKU-1;{day};{first};12\r\n"
        f"SKU-2;{day};{second};{first}\r\n"
        f"SKU-2;{day.replace('24', '03')};{third};4\r\n"
    ).encode()

    page = _upload(client, catalog, data, "impressions", "ads.csv")
    client.post(page.request["PATH_INFO"], {"date_order": ""})

    assert page.context["preview"]["errors"] == []
    stored = DailyImpression.objects.for_tenant(tenant_a)
    assert sorted(stored.values_list("sku", "date", "impressions", "clicks")) == [
        ("SKU-1", datetime(2026, 2, 24).date(), 1200, 12),
        ("SKU-2", datetime(2026, 2, 3).date(), 980, 4),
        ("SKU-2", datetime(2026, 2, 24).date(), 12345, 1200),
    ]
