"""Order files separated by tabs or semicolons: Excel's "Unicode Text" (UTF-16 with its byte
order mark, tab-separated), UTF-8 TSV and the "CSV" Excel saves in most European locales
(semicolons between columns, a decimal comma) import exactly as the same orders saved as
CSV, on the upload page (preview and import) and by import_orders."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from catalog_health.tenancy.roles import Role
from catalogs import order_uploads
from catalogs.models import DailyImpression, Order
from catalogs.order_io import ORDER_COLUMNS, csv_delimiter
from catalogs.tests.export_samples import SHOPIFY_ORDERS, tiktok_csv, tiktok_row
from catalogs.tests.factories import CatalogFactory, ProductFactory

APP_CSV = (
    ",".join(ORDER_COLUMNS) + "\n"
    "A-1,SKU-1,2,10.00,1.50,2026-03-01T10:00:00Z,2026-03-03T10:00:00Z,"
    "2026-03-02T09:00:00Z,,,,BR123456789\n"
    'A-2,"KIT,2",1,"5.00",0,2026-03-01T11:00:00Z,2026-03-04T11:00:00Z,,,'
    "2026-03-01T12:00:00Z,out_of_stock,\n"
).encode()

TIKTOK_CSV = tiktok_csv(
    tiktok_row(),
    tiktok_row(order_id="3", seller_sku="NOPE", shipped="", tracking=""),
    tiktok_row(order_id="5", seller_sku="SKU-2", quantity="3", price="BRL 1.234,50"),
)

MAPPED_HEADER = ["Order", "Item", "Qty", "Price, BRL", "Ordered", "Why", "Cancelled"]
MAPPED_CSV = (
    b'Order,Item,Qty,"Price, BRL",Ordered,Why,Cancelled\n'
    b'B-1,SKU-1,2,"19,90",2026-03-01 10:00,,\n'
    b'B-2,"KIT,2",1,"9,90",2026-03-01 11:00,"Sem estoque, fornecedor",2026-03-01 12:00\n'
)

EXPORTS = {
    "the app's own CSV": APP_CSV,
    "TikTok Shop": TIKTOK_CSV,
    "Shopify": SHOPIFY_ORDERS,
    "a mapped export": MAPPED_CSV,
}


def _cells(data: bytes) -> list[list[str]]:
    import csv
    import io

    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _tab_separated(data: bytes, *, quote_commas: bool = False) -> str:
    """The CSV's cells separated by tabs, lines ended by CRLF as Excel writes them; a cell
    holding a tab, quote or line break quoted (with quote_commas, one holding a comma too)."""
    special = '\t"\r\n' + ("," if quote_commas else "")

    def cell(text: str) -> str:
        if any(c in text for c in special):
            return '"' + text.replace('"', '""') + '"'
        return text

    return "".join("\t".join(map(cell, row)) + "\r\n" for row in _cells(data))


def _unicode_text(data: bytes) -> bytes:
    """Excel's File > Save As > Unicode Text: UTF-16 LE with its byte order mark."""
    return _tab_separated(data, quote_commas=True).encode("utf-16")


def _utf8_tsv(data: bytes) -> bytes:
    return _tab_separated(data).encode()


# an amount written with a decimal point, alone in its cell (10.00, 1.50): what a European
# Excel writes with a decimal comma
_POINT_AMOUNT = re.compile(r"^(\d+)\.(\d{1,2})$")


def _semicolon_separated(data: bytes) -> str:
    """The CSV as Excel saves it in a European locale (de, fr, es, it, nl, pt-BR): cells
    separated by semicolons, amounts with a decimal comma, lines ended by CRLF; only a cell
    holding a semicolon, quote or line break is quoted (one holding a comma is not)."""

    def cell(text: str) -> str:
        text = _POINT_AMOUNT.sub(r"\1,\2", text)
        if any(c in text for c in ';"\r\n'):
            return '"' + text.replace('"', '""') + '"'
        return text

    return "".join(";".join(map(cell, row)) + "\r\n" for row in _cells(data))


def _excel_csv_utf8(data: bytes) -> bytes:
    """Excel's "CSV UTF-8": with its byte order mark."""
    return ("\ufeff" + _semicolon_separated(data)).encode()


def _excel_csv_windows(data: bytes) -> bytes:
    """Excel's plain "CSV" on Windows: Windows-1252."""
    return _semicolon_separated(data).encode("cp1252")


SAVED_AS = {
    "Unicode Text (UTF-16 TSV)": _unicode_text,
    "UTF-8 TSV": _utf8_tsv,
    "European CSV UTF-8 (semicolons, decimal comma)": _excel_csv_utf8,
    "European CSV, Windows-1252 (semicolons, decimal comma)": _excel_csv_windows,
}


# --- choosing the delimiter (pure) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("header_line", "delimiter"),
    [
        ("order_id,sku,quantity", ","),
        ("order_id\tsku\tquantity", "\t"),
        ("\ufefforder_id\tsku\r\n", "\t"),
        # names holding commas: the tabs between them separate
        ("Order\tPrice, BRL\tShipping, BRL\tQty", "\t"),
        ("Order\tPrice, BRL", "\t"),
        ('"Price, BRL"\t"Fee, BRL"\tSKU', "\t"),
        # a quoted name holding a tab does not make a CSV tab-separated
        ('Order,"Price\tBRL",SKU', ","),
        # TikTok's trailing tab is in its values, never in its header
        ("Order ID,SKU ID,Seller SKU", ","),
        # Excel's CSV in a European locale: semicolons between the names
        ("order_id;sku;quantity", ";"),
        ("\ufefforder_id;sku\r\n", ";"),
        # names holding commas: the semicolons between them separate
        ("Bestellung;Preis, EUR;Versand, EUR;Menge", ";"),
        ("Bestellung;Preis, EUR", ";"),
        ('"Preis; EUR";Menge;SKU', ";"),
        # a quoted name holding a semicolon does not make a CSV semicolon-separated
        ('Order,"Qty; box",SKU', ","),
        ('Order\t"Qty; box"\tSKU', "\t"),
        # the delimiter that separates more names wins
        ("Order,Qty;box,SKU", ","),
        ("Order\tPrice; BRL\tSKU", "\t"),
        ("sku", ","),
        ("", ","),
    ],
)
def test_the_delimiter_is_chosen_from_the_header_line(header_line, delimiter):
    assert csv_delimiter(header_line + "\nA,B\tC,D\n") == delimiter


# --- the same orders, whichever way they were saved ------------------------------------------


@pytest.fixture
def catalog(tenant_a):
    catalog = CatalogFactory(tenant=tenant_a, name="Shop", currency="BRL")
    for sku in ("SKU-1", "SKU-2", "KIT,2"):
        ProductFactory(tenant=tenant_a, catalog=catalog, sku=sku)
    order_uploads.mapping_preset_save(
        tenant=tenant_a,
        actor=None,
        kind="orders",
        name="Shop X",
        header=MAPPED_HEADER,
        columns={
            "order_id": "Order",
            "sku": "Item",
            "quantity": "Qty",
            "item_price": "Price, BRL",
            "placed_at": "Ordered",
            "cancel_reason": "Why",
            "cancelled_at": "Cancelled",
        },
    )
    return catalog


def _imported(tenant) -> list[tuple]:
    lines = Order.objects.for_tenant(tenant).values_list("product__sku", *ORDER_COLUMNS)
    return sorted(lines)


def _command_import(tmp_path, catalog, data: bytes, name: str) -> list[tuple]:
    Order.objects.for_tenant(catalog.tenant).delete()
    path = tmp_path / name
    path.write_bytes(data)
    call_command("import_orders", "--catalog", str(catalog.pk), str(path), "--no-score")
    return _imported(catalog.tenant)


@pytest.mark.django_db
@pytest.mark.parametrize("saved_as", SAVED_AS)
@pytest.mark.parametrize("export", EXPORTS)
def test_import_orders_reads_an_export_saved_otherwise_as_its_csv(
    tmp_path, catalog, export, saved_as
):
    as_csv = _command_import(tmp_path, catalog, EXPORTS[export], "orders.csv")
    saved = _command_import(tmp_path, catalog, SAVED_AS[saved_as](EXPORTS[export]), "orders.txt")

    assert len(as_csv) >= 2
    assert saved == as_csv


def _upload_page(
    client, catalog, data: bytes, name: str, kind: str = "orders"
) -> tuple[dict, list[tuple]]:
    """Upload a file on the catalog's page: its preview, then what its import wrote."""
    model = Order if kind == "orders" else DailyImpression
    model.objects.for_tenant(catalog.tenant).delete()
    url = reverse(
        "catalogs:catalog_upload",
        kwargs={"tenant_slug": catalog.tenant.slug, "catalog_id": catalog.pk},
    )
    page = client.post(url, {"kind": kind, "file": SimpleUploadedFile(name, data)}, follow=True)
    assert page.context["problem"] is None
    client.post(page.request["PATH_INFO"], {"date_order": ""})
    if kind == "orders":
        return page.context["preview"], _imported(catalog.tenant)
    impressions = DailyImpression.objects.for_tenant(catalog.tenant)
    return page.context["preview"], sorted(impressions.values_list("sku", "date", "impressions"))


@pytest.mark.django_db
@pytest.mark.parametrize("saved_as", SAVED_AS)
@pytest.mark.parametrize("export", EXPORTS)
def test_the_upload_page_previews_and_imports_an_export_saved_otherwise_as_its_csv(
    client, member, catalog, export, saved_as
):
    client.force_login(member(catalog.tenant, Role.SELLER))
    csv_preview, as_csv = _upload_page(client, catalog, EXPORTS[export], "orders.csv")
    saved_preview, saved = _upload_page(
        client, catalog, SAVED_AS[saved_as](EXPORTS[export]), "orders.txt"
    )

    assert len(as_csv) >= 2
    assert saved_preview == csv_preview
    assert saved == as_csv


@pytest.mark.django_db
@pytest.mark.parametrize("delimiter", ["\t", ";"])
def test_an_export_separated_otherwise_keeps_the_commas_of_its_cells(
    tmp_path, tenant_a, catalog, delimiter
):
    cells = [
        ["Order", "Item", "Qty", "Price, BRL", "Ordered", "Why", "Cancelled"],
        [
            "B-2",
            "KIT,2",
            "1",
            "1.234,50",
            "2026-03-01 11:00",
            "Sem estoque, fornecedor",
            "2026-03-01 12:00",
        ],
    ]
    path = tmp_path / "orders.csv"
    path.write_bytes("".join(delimiter.join(row) + "\n" for row in cells).encode())

    call_command("import_orders", "--catalog", str(catalog.pk), str(path), "--no-score")

    line = Order.objects.for_tenant(tenant_a).get()
    assert (line.sku, str(line.item_price), line.cancel_reason) == (
        "KIT,2",
        "1234.50",
        "out_of_stock",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("saved_as", SAVED_AS)
def test_daily_impressions_saved_otherwise_are_imported(
    client, member, tenant_a, catalog, saved_as
):
    client.force_login(member(tenant_a, Role.SELLER))
    url = reverse(
        "catalogs:catalog_upload", kwargs={"tenant_slug": tenant_a.slug, "catalog_id": catalog.pk}
    )
    data = SAVED_AS[saved_as](
        b'sku,date,impressions,clicks\nSKU-1,2026-03-01,120,4\n"KIT,2",2026-03-01,7,0\n'
    )

    client.post(url, {"kind": "impressions", "file": SimpleUploadedFile("ads.txt", data)})

    rows = DailyImpression.objects.for_tenant(tenant_a).values_list("sku", "impressions", "clicks")
    assert sorted(rows) == [("KIT,2", 7, 0), ("SKU-1", 120, 4)]


@pytest.mark.django_db
@pytest.mark.parametrize("saved_as", SAVED_AS)
def test_an_impressions_export_saved_otherwise_previews_and_imports_as_its_csv(
    client, member, catalog, saved_as
):
    client.force_login(member(catalog.tenant, Role.SELLER))
    export = b'Item ID,Day,Impr.,Clicks\nSKU-1,2026-03-01,120,4\n"KIT,2",2026-03-02,7,0\n'
    csv_preview, as_csv = _upload_page(client, catalog, export, "ads.csv", kind="impressions")
    saved_preview, saved = _upload_page(
        client, catalog, SAVED_AS[saved_as](export), "ads.txt", kind="impressions"
    )

    assert len(as_csv) == 2
    assert saved_preview == csv_preview
    assert saved == as_csv


@pytest.mark.django_db
def test_the_upload_page_offers_tab_separated_files(client, member, tenant_a, catalog):
    """Excel names a Unicode Text file *.txt: the file picker must not hide it."""
    client.force_login(member(tenant_a, Role.SELLER))
    url = reverse(
        "catalogs:catalog_upload", kwargs={"tenant_slug": tenant_a.slug, "catalog_id": catalog.pk}
    )
    body = client.get(url).content.decode()
    accept = re.search(r'<input[^>]*name="file"[^>]*accept="([^"]*)"', body).group(1).split(",")
    assert {".csv", ".tsv", ".txt", ".xlsx"} <= set(accept)
