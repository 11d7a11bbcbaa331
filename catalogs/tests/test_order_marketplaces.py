"""Order exports of Amazon Seller Central and Etsy, as sellers download them: recognised by
their header and read into the lines a seller expects (statuses, unit prices, dates), and
imported on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd
import pytest
from django.core.management import call_command

from catalogs import order_files
from catalogs.models import Order
from catalogs.order_formats import ColumnMapping, detect_format, order_file_open, read_header
from catalogs.order_io import ORDER_COLUMNS, FileError
from catalogs.tests.export_samples import (
    AMAZON_ALL_ORDERS_HEADER,
    AMAZON_SHIPMENTS_HEADER,
    EBAY_ORDERS_HEADER,
    ETSY_ORDER_ITEMS_HEADER,
    ETSY_ORDERS_HEADER,
    SHOPIFY_ORDERS,
    amazon_row,
    amazon_shipment_row,
    amazon_txt,
    ebay_csv,
    ebay_row,
    etsy_csv,
    etsy_row,
    lines_of,
    tiktok_csv,
    tiktok_row,
    xlsx_as_excel_saves,
)
from catalogs.tests.factories import CatalogFactory, ProductFactory


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "key"),
    [
        (AMAZON_ALL_ORDERS_HEADER.split("\t"), "amazon_orders"),
        (AMAZON_SHIPMENTS_HEADER.split("\t"), "amazon_shipments"),
        (ETSY_ORDER_ITEMS_HEADER.split(","), "etsy_order_items"),
        (EBAY_ORDERS_HEADER, "ebay_orders"),
    ],
)
def test_marketplace_exports_are_recognised(header, key):
    assert detect_format(header).key == key


# --- Amazon All Orders report ---------------------------------------------------------------


def test_amazon_all_orders_report_reads_statuses_and_unit_prices():
    data = amazon_txt(
        amazon_row(),
        amazon_row(
            order_id="112-0000000-0000002",
            order_status="Cancelled",
            item_status="Cancelled",
            updated="2026-03-15T01:00:00+00:00",
        ),
        amazon_row(order_id="112-0000000-0000003", order_status="Unshipped", item_status=""),
        amazon_row(order_id="112-0000000-0000004", order_status="Pending", item_status=""),
        # one order, one item shipped and the other cancelled
        amazon_row(order_id="112-0000000-0000005", order_status="Shipping", sku="SKU-1"),
        amazon_row(
            order_id="112-0000000-0000005",
            order_status="Shipping",
            item_status="Cancelled",
            sku="SKU-2",
        ),
    )
    lines, errors = lines_of(order_file_open(data, tz="America/New_York"))
    assert [(e.line, e.message) for e in errors] == [(5, "skipped: pending order (not paid yet)")]
    first = lines.iloc[0]
    assert first.order_id == "112-9739103-0000001" and first.sku == "SKU-1"
    # item-price is the price of the row's two units
    assert first.quantity == 2 and first.item_price == "29.95"
    assert first.shipping_fee == "4.99"
    assert first.placed_at.to_pydatetime() == at(2026, 3, 14, 21, 5, 11)
    assert first.shipped_at.to_pydatetime() == at(2026, 3, 15, 10)
    assert first.tracking_number is None  # the report has no tracking column: unknown
    cancelled = lines.iloc[1]
    assert pd.isna(cancelled.shipped_at)
    assert cancelled.cancelled_at.to_pydatetime() == at(2026, 3, 15, 1)
    assert cancelled.cancel_reason == "other"
    open_line = lines.iloc[2]
    assert pd.isna(open_line.shipped_at) and pd.isna(open_line.cancelled_at)
    assert list(zip(lines.iloc[3:].sku, lines.iloc[3:].cancel_reason, strict=True)) == [
        ("SKU-1", ""),
        ("SKU-2", "other"),
    ]
    assert pd.notna(lines.iloc[3].shipped_at) and pd.isna(lines.iloc[4].shipped_at)


# A cancelled item as the real report writes it: no units left and no amounts
def amazon_cancelled_row(**cells: str) -> str:
    return amazon_row(quantity="0", currency="", price="", shipping="", **cells)


@pytest.mark.parametrize(
    ("row", "note"),
    [
        (
            amazon_cancelled_row(
                order_status="Cancelled",
                item_status="Cancelled",
                updated="2026-03-15T01:00:00+00:00",
            ),
            "a whole cancelled order",
        ),
        (
            amazon_cancelled_row(
                order_status="Shipped",
                item_status="Cancelled",
                updated="2026-03-15T01:00:00+00:00",
            ),
            "one cancelled item of a shipped order",
        ),
    ],
)
def test_amazon_cancelled_items_as_the_report_writes_them(row, note):
    lines, errors = lines_of(order_file_open(amazon_txt(row)))
    assert not errors, note
    line = lines.iloc[0]
    assert line.cancelled_at.to_pydatetime() == at(2026, 3, 15, 1)
    assert line.cancel_reason == "other" and pd.isna(line.shipped_at)
    # no unit and no amount: nothing to weigh in a fee ratio, one line in the rates
    assert (line.quantity, line.item_price, line.shipping_fee) == (0, "0.00", "0.00")


def test_an_open_line_of_no_units_is_still_refused():
    data = amazon_txt(amazon_row(order_status="Unshipped", item_status="", quantity="0"))
    lines, errors = lines_of(order_file_open(data))
    assert lines.empty
    assert [(e.line, e.column, e.message) for e in errors] == [
        (2, "quantity", "must be at least 1")
    ]


def test_amazon_unit_price_rounds_to_the_cent():
    data = amazon_txt(amazon_row(quantity="3", price="10.00"))
    lines, errors = lines_of(order_file_open(data))
    assert not errors and lines.iloc[0].item_price == "3.33"


def amazon_shipments(*rows: str) -> bytes:
    return (AMAZON_SHIPMENTS_HEADER + "\n" + "\n".join(rows) + "\n").encode()


def test_amazon_fulfilled_shipments_give_shipment_times_and_tracking():
    data = amazon_shipments(
        amazon_shipment_row(),
        # one item's two units left in two shipments: one line of both
        amazon_shipment_row(
            order_id="503-8346168-3395065", shipment="DRwkrVYzk", sku="SKU-2", price="38880",
            shipping="175", shipped="2026-03-05T15:20:55+09:00", tracking="443658000001",
        ),
        amazon_shipment_row(order_id="249-0000000-0000001", sku="SKU-1", quantity="2"),
        amazon_shipment_row(
            order_id="503-8346168-3395065", shipment="DPwxr2Yzk", sku="SKU-2", price="38880",
            shipping="175", shipped="2026-03-05T13:22:09+09:00", tracking="443658000002",
        ),
    )  # fmt: skip
    opened = order_file_open(data, tz="Asia/Tokyo")
    assert opened.detected.label == "Amazon Fulfilled Shipments report"
    lines, errors = lines_of(opened)
    assert not errors
    assert list(zip(lines.order_id, lines.sku, lines.quantity, strict=True)) == [
        ("249-0814575-0394263", "SKU-1", 1),
        ("503-8346168-3395065", "SKU-2", 2),
        ("249-0000000-0000001", "SKU-1", 2),
    ]
    first = lines.iloc[0]
    assert first.item_price == "24732.00" and first.tracking_number == "443656408532"
    assert first.placed_at.to_pydatetime() == at(2026, 3, 4, 21, 57, 28)
    assert first.shipped_at.to_pydatetime() == at(2026, 3, 5, 10, 58, 19)
    both = lines.iloc[1]
    # shipped when its last unit left, with that parcel's number; its units' price each
    assert both.shipped_at.to_pydatetime() == at(2026, 3, 5, 6, 20, 55)
    assert both.tracking_number == "443658000001"
    assert both.item_price == "38880.00" and both.shipping_fee == "350.00"
    assert lines.iloc[2].item_price == "12366.00"  # item-price is of the row's two units


# --- Etsy Sold Order Items --------------------------------------------------------------------


def test_etsy_sold_order_items_read_month_first_two_digit_years():
    data = etsy_csv(
        etsy_row(),
        # 03/04/26 is 4 March: Etsy writes month first, whatever the tenant's setting
        etsy_row(sold="03/04/26", paid="03/04/26", shipped="", order_id="3002", sku=""),
    )
    lines, errors = lines_of(order_file_open(data, tz="America/Chicago", date_order=""))
    assert not errors
    first = lines.iloc[0]
    assert (first.order_id, first.sku, first.quantity) == ("3001", "SKU-1", 2)
    assert first.item_price == "34.00" and first.shipping_fee == "8.00"
    # days, in the tenant's time zone
    assert first.placed_at.to_pydatetime() == at(2026, 3, 14, 5)
    assert first.shipped_at.to_pydatetime() == at(2026, 3, 16, 5)
    second = lines.iloc[1]
    assert second.placed_at.to_pydatetime() == at(2026, 3, 4, 6)
    assert pd.isna(second.shipped_at)
    assert second.sku == "1501"  # the listing id when the listing has no SKU


def test_etsy_items_resaved_by_excel_keep_the_files_rule():
    data = etsy_csv(etsy_row(sold="14/03/2026", paid="14/03/2026", shipped="16/03/2026"))
    lines, errors = lines_of(order_file_open(data, tz="UTC"))
    assert not errors
    assert lines.iloc[0].placed_at.to_pydatetime() == at(2026, 3, 14)


def test_woocommerce_analytics_orders_is_refused_saying_why():
    # Analytics > Orders > Download: one row per order, its products by name in one cell
    data = (
        b"Date,Order #,Status,Customer,Customer type,Product(s),Items sold,Coupon(s),"
        b"Net Sales,Attribution\n"
        b'2026-03-14,1042,Completed,Jane Doe,new,"2x Mug, 1x Plate",3,,44.00,Direct\n'
    )
    with pytest.raises(FileError) as refused:
        order_file_open(data)
    message = str(refused.value)
    assert "WooCommerce Analytics" in message and "one row per order" in message
    assert "map its columns" not in message


def test_etsy_sold_orders_is_refused_naming_the_items_download():
    data = (ETSY_ORDERS_HEADER + "\n").encode()
    with pytest.raises(FileError) as refused:
        order_file_open(data)
    assert "Etsy's Sold Orders" in str(refused.value)
    assert "Sold Order Items" in str(refused.value)
    assert "map its columns" not in str(refused.value)  # no mapping form for it


# --- eBay Seller Hub Orders report ------------------------------------------------------------


def ebay_report() -> bytes:
    return ebay_csv(
        ebay_row(**{
            "Sales Record Number": "101", "Order Number": "12-10000-00001",
            "Item Number": "2650001", "Custom Label": "SKU-1", "Quantity": "2",
            "Sold For": "$19.99", "Shipping And Handling": "$4.50", "Total Price": "$44.48",
            "Sale Date": "Mar-14-26 10:15:00", "Paid On Date": "Mar-14-26",
            "Ship By Date": "Mar-17-26", "Shipped On Date": "Mar-15-26",
            "Tracking Number": "9400111899223344556677",
        }),
        # an order of two items: a row of the order's own first, then one per item
        ebay_row(**{
            "Sales Record Number": "102", "Order Number": "12-10000-00002",
            "Buyer Username": "bob", "Shipping And Handling": "$6.00", "Total Price": "$36.00",
            "Sale Date": "Mar-13-26", "Paid On Date": "Mar-13-26", "Ship By Date": "Mar-16-26",
        }),
        ebay_row(**{
            "Sales Record Number": "102", "Order Number": "12-10000-00002",
            "Item Number": "2650002", "Custom Label": "SKU-2", "Quantity": "1",
            "Sold For": "$10.00",
        }),
        ebay_row(**{
            "Sales Record Number": "102", "Order Number": "12-10000-00002",
            "Item Number": "1501", "Quantity": "1", "Sold For": "$20.00",
        }),
        records=2,
    )  # fmt: skip


def test_ebay_header_is_found_under_the_line_of_bare_commas():
    assert read_header(ebay_report())[:2] == ["Sales Record Number", "Order Number"]


def test_ebay_orders_report_as_downloaded():
    lines, errors = lines_of(order_file_open(ebay_report(), tz="America/New_York", date_order=""))
    # the rows of bare commas, the order's own row and the footer are no lines nor problems
    assert not errors
    assert list(zip(lines.line, lines.order_id, lines.sku, strict=True)) == [
        (4, "12-10000-00001", "SKU-1"),
        (6, "12-10000-00002", "SKU-2"),
        (7, "12-10000-00002", "1501"),  # the item number when the item has no custom label
    ]
    first = lines.iloc[0]
    assert first.quantity == 2 and first.item_price == "19.99" and first.shipping_fee == "4.50"
    # the seller's local times (New York, daylight saving time from 8 March)
    assert first.placed_at.to_pydatetime() == at(2026, 3, 14, 14, 15)
    # Ship By Date is a day: its end, in the seller's time zone
    assert first.ship_by.to_pydatetime() == at(2026, 3, 18, 3, 59, 59)
    assert first.shipped_at.to_pydatetime() == at(2026, 3, 15, 4)
    assert first.tracking_number == "9400111899223344556677"
    # the order's own row gives its items their times and its shipping
    for item in (lines.iloc[1], lines.iloc[2]):
        assert item.placed_at.to_pydatetime() == at(2026, 3, 13, 4)
        assert item.ship_by.to_pydatetime() == at(2026, 3, 17, 3, 59, 59)
        assert item.shipping_fee == "6.00"
        assert pd.isna(item.shipped_at) and item.tracking_number == ""


def ebay_open_line(ship_by: str) -> bytes:
    return ebay_csv(
        ebay_row(**{
            "Sales Record Number": "201", "Order Number": "12-10000-00201",
            "Item Number": "2650001", "Custom Label": "SKU-1", "Quantity": "1",
            "Sold For": "$19.99", "Sale Date": "Dec-05-26 14:00:00", "Paid On Date": "Dec-05-26",
            "Ship By Date": ship_by,
        })
    )  # fmt: skip


SAO_PAULO_DEC_8_END = at(2026, 12, 9, 2, 59, 59)  # 23:59:59 on 8 December, UTC-3

# A ship-by written as a day (no time of day) is due by the end of that day, in every file
# that has a ship-by column; one with a time keeps it
SHIP_BY_DAYS = [
    ("ebay_orders", "Dec-08-26", SAO_PAULO_DEC_8_END),
    ("ebay_orders", "08-Dec-26", SAO_PAULO_DEC_8_END),
    ("ebay_orders", "Dec-08-26 10:00:00", at(2026, 12, 8, 13)),
    ("mapped", "2026-12-08", SAO_PAULO_DEC_8_END),
    ("mapped", "08/12/2026", SAO_PAULO_DEC_8_END),
    ("mapped", "08.12.2026", SAO_PAULO_DEC_8_END),
    ("mapped", "08-12-2026", SAO_PAULO_DEC_8_END),
    ("mapped", "08/12/2026 10:00", at(2026, 12, 8, 13)),
    ("mapped", "2026-12-08T10:00:00Z", at(2026, 12, 8, 10)),
    ("app_orders", "2026-12-08", SAO_PAULO_DEC_8_END),
    ("app_orders", "2026-12-08T10:00:00+00:00", at(2026, 12, 8, 10)),
]


@pytest.mark.parametrize(("source", "ship_by", "due"), SHIP_BY_DAYS)
def test_a_ship_by_day_is_due_at_its_end(source, ship_by, due):
    mapping = None
    if source == "ebay_orders":
        data = ebay_open_line(ship_by)
    elif source == "mapped":
        data = f"Order,Item,Ordered,Due,Price\nA-1,SKU-1,05/12/2026 14:00,{ship_by},10.00\n"
        columns = {"order_id": "Order", "sku": "Item", "placed_at": "Ordered"}
        columns |= {"ship_by": "Due", "item_price": "Price"}
        mapping = ColumnMapping(columns=columns)
    else:
        line = {"order_id": "A-1", "sku": "SKU-1", "quantity": "1", "item_price": "10.00"}
        line |= {"placed_at": "2026-12-05T17:00:00Z", "ship_by": ship_by}
        data = ",".join(ORDER_COLUMNS) + "\n" + ",".join(line.get(c, "") for c in ORDER_COLUMNS)
    data = data.encode() if isinstance(data, str) else data
    opened = order_file_open(data, tz="America/Sao_Paulo", date_order="dmy", mapping=mapping)
    assert opened.detected.key == source
    lines, errors = lines_of(opened)
    assert not errors
    assert lines.iloc[0].ship_by.to_pydatetime() == due


def test_ebay_report_saved_as_xlsx_reads_like_the_csv():
    csv_lines, _ = lines_of(order_file_open(ebay_report(), tz="America/New_York"))
    data = xlsx_as_excel_saves(ebay_report())
    assert read_header(data)[:2] == ["Sales Record Number", "Order Number"]
    xlsx_lines, errors = lines_of(order_file_open(data, tz="America/New_York"))
    assert not errors
    pd.testing.assert_frame_equal(xlsx_lines, csv_lines)


@pytest.mark.parametrize("chunk_rows", [1, 2, 50])
def test_rows_of_bare_delimiters_around_an_export_are_not_lines(chunk_rows):
    # a spreadsheet saved again keeps empty rows as bare delimiters, above and below
    data = b",,,,\n" + SHOPIFY_ORDERS + b",,,,,,\n\n,,\n"
    opened = order_file_open(data, chunk_rows=chunk_rows)
    assert opened.detected.key == "shopify_orders"
    lines, errors = lines_of(opened)
    assert not errors
    assert list(lines.line) == [3, 4, 5]


# --- any other export, through a column mapping -----------------------------------------------

# "Advanced Order Export For WooCommerce" with its default columns (shortened)
WOOCOMMERCE_PLUGIN_HEADER = (
    '"Order Number","Order Status","Order Date","Customer Note","First Name (Billing)",'
    '"Item #",SKU,Name,"Product Variation",Quantity,"Quantity (- Refund)","Item Cost",'
    '"Order Shipping Amount","Order Total Amount"'
)


def test_a_mapped_status_column_ships_and_cancels_lines():
    rows = [
        ("1041", "Completed", "SKU-1"),
        ("1042", "Cancelled", "SKU-1"),
        ("1043", "Refunded", "SKU-2"),
        ("1044", "Processing", "SKU-1"),
        ("1045", "Pending payment", "SKU-1"),
        ("1046", "Partially refunded", "SKU-2"),
    ]
    data = "\n".join(
        [WOOCOMMERCE_PLUGIN_HEADER]
        + [
            f"{number},{status},2026-03-14 10:00,,Jane,1,{sku},Mug,,2,2,17.00,5.00,39.00"
            for number, status, sku in rows
        ]
    ).encode()
    mapping = ColumnMapping(
        columns={
            "order_id": "Order Number",
            "status": "Order Status",
            "placed_at": "Order Date",
            "sku": "SKU",
            "quantity": "Quantity",
            "item_price": "Item Cost",
            "shipping_fee": "Order Shipping Amount",
        }
    )
    lines, errors = lines_of(order_file_open(data, tz="UTC", mapping=mapping))
    assert [(e.line, e.message) for e in errors] == [(6, "skipped: unpaid order (not placed yet)")]
    by_id = lines.set_index("order_id")
    placed = at(2026, 3, 14, 10)
    # the file times neither: the placed time stands for both, so that a completed order
    # is not overdue and a cancelled one counts as cancelled
    assert by_id.loc["1041"].shipped_at.to_pydatetime() == placed
    for cancelled in ("1042", "1043"):
        assert by_id.loc[cancelled].cancelled_at.to_pydatetime() == placed
        assert by_id.loc[cancelled].cancel_reason == "other"
        assert pd.isna(by_id.loc[cancelled].shipped_at)
    for open_line in ("1044", "1046"):
        assert pd.isna(by_id.loc[open_line].shipped_at)
        assert pd.isna(by_id.loc[open_line].cancelled_at)


def test_a_mapped_status_keeps_the_files_own_times():
    data = (
        b"Order,Status,Ordered,Shipped,Cancelled,Item,Qty,Price\n"
        b"A-1,Shipped,2026-03-14 10:00,2026-03-16 09:00,,SKU-1,1,10.00\n"
        b"A-2,Canceled,2026-03-14 10:00,,2026-03-15 08:00,SKU-1,1,10.00\n"
    )
    columns = {"order_id": "Order", "status": "Status", "placed_at": "Ordered", "sku": "Item"}
    columns |= {"shipped_at": "Shipped", "cancelled_at": "Cancelled", "item_price": "Price"}
    lines, errors = lines_of(order_file_open(data, mapping=ColumnMapping(columns=columns)))
    assert not errors
    assert lines.iloc[0].shipped_at.to_pydatetime() == at(2026, 3, 16, 9)
    assert lines.iloc[1].cancelled_at.to_pydatetime() == at(2026, 3, 15, 8)


# --- files a spreadsheet saved again ---------------------------------------------------------


def test_ids_a_spreadsheet_shortened_are_refused_not_merged():
    # Excel shows an 18-digit TikTok order id as 5.76461E+17 and saves it so: two orders
    # become one id, and 12-digit tracking numbers lose their last digits
    data = tiktok_csv(
        tiktok_row(order_id="5.76461E+17"),
        tiktok_row(order_id="5.76461E+17", seller_sku="SKU-2"),
        tiktok_row(order_id="576461413040442222", tracking="4.43656E+11"),
        tiktok_row(order_id="576461413040442223", seller_sku="1E+05"),  # a SKU may read so
    )
    lines, errors = lines_of(order_file_open(data, tz="UTC"))
    assert list(lines.order_id) == ["576461413040442223"]
    assert [(e.line, e.column) for e in errors] == [
        (2, "order_id"),
        (3, "order_id"),
        (4, "tracking_number"),
    ]
    assert "a spreadsheet shortened" in errors[0].message
    assert "'5.76461E+17'" in errors[0].message


# --- on PostgreSQL ----------------------------------------------------------------------------


@pytest.fixture
def catalog(tenant_a):
    catalog = CatalogFactory(tenant=tenant_a, name="Shop", currency="USD")
    for sku in ("SKU-1", "SKU-2", "1501"):
        ProductFactory(tenant=tenant_a, catalog=catalog, sku=sku)
    return catalog


@pytest.mark.django_db
def test_amazon_report_imports_and_reimports_unchanged(tenant_a, catalog):
    data = amazon_txt(
        amazon_row(),
        amazon_row(order_id="112-0000000-0000002", order_status="Cancelled", item_status=""),
    )
    result = order_files.orders_import_file(tenant=tenant_a, catalog=catalog, data=data, actor=None)
    assert result.format_label == "Amazon All Orders report"
    assert (result.written, result.shipped, result.cancelled) == (2, 1, 1)
    line = Order.objects.for_tenant(tenant_a).get(order_id="112-9739103-0000001")
    assert line.item_price == Decimal("29.95") and line.quantity == 2
    assert line.tracking_number is None
    again = order_files.orders_import_file(tenant=tenant_a, catalog=catalog, data=data, actor=None)
    assert (again.written, again.unchanged) == (0, 2)


@pytest.mark.django_db
def test_amazon_cancellations_import(tenant_a, catalog):
    data = amazon_txt(
        amazon_row(order_id="112-0000000-0000011", order_status="Shipped"),
        amazon_cancelled_row(
            order_id="112-0000000-0000011", order_status="Shipped", item_status="Cancelled",
            sku="SKU-2",
        ),
        amazon_cancelled_row(
            order_id="112-0000000-0000012", order_status="Cancelled", item_status="Cancelled"
        ),
    )  # fmt: skip
    result = order_files.orders_import_file(tenant=tenant_a, catalog=catalog, data=data, actor=None)
    assert (result.written, result.refused, result.shipped, result.cancelled) == (3, 0, 1, 2)
    cancelled = Order.objects.for_tenant(tenant_a).filter(cancelled_at__isnull=False)
    assert sorted(cancelled.values_list("sku", "quantity", "item_price", "cancel_reason")) == [
        ("SKU-1", 0, Decimal("0.00"), "other"),
        ("SKU-2", 0, Decimal("0.00"), "other"),
    ]


@pytest.mark.django_db
def test_etsy_items_import(tenant_a, catalog):
    tenant_a.time_zone = "America/Chicago"
    tenant_a.date_order = "ask"
    tenant_a.save()
    data = etsy_csv(etsy_row(), etsy_row(order_id="3002", sku="", shipped=""))
    result = order_files.orders_import_file(tenant=tenant_a, catalog=catalog, data=data, actor=None)
    assert result.format_label == "Etsy Sold Order Items"
    assert (result.written, result.refused, result.shipped) == (2, 0, 1)
    line = Order.objects.for_tenant(tenant_a).get(order_id="3002")
    assert line.sku == "1501" and line.placed_at == at(2026, 3, 14, 5)


@pytest.mark.django_db
def test_ebay_report_imports(tenant_a, catalog):
    tenant_a.time_zone = "America/New_York"
    tenant_a.save()
    result = order_files.orders_import_file(
        tenant=tenant_a, catalog=catalog, data=ebay_report(), actor=None
    )
    assert result.format_label == "eBay Orders report"
    assert (result.lines, result.orders, result.written, result.refused) == (3, 2, 3, 0)
    assert result.shipped == 1


@pytest.mark.django_db
def test_an_ebay_line_due_today_is_overdue_only_tomorrow(client, member, tenant_a, catalog):
    from django.urls import reverse

    from catalog_health.tenancy.roles import Role
    from catalogs.selectors import order_search

    tenant_a.time_zone = "America/Sao_Paulo"
    tenant_a.save()
    data = ebay_open_line("Dec-08-26")
    order_files.orders_import_file(tenant=tenant_a, catalog=catalog, data=data, actor=None)
    line = Order.objects.for_tenant(tenant_a).get()
    assert line.ship_by == SAO_PAULO_DEC_8_END
    for now, overdue in (
        (at(2026, 12, 8, 12), False),  # 09:00 on its ship-by day
        (at(2026, 12, 9, 2, 59), False),  # 23:59 that day
        (at(2026, 12, 9, 3, 0, 1), True),  # the next day
    ):
        found = order_search(tenant=tenant_a, filters={"status": "overdue"}, now=now)
        assert found.exists() is overdue, now
    client.force_login(member(tenant_a, Role.SELLER))
    page = client.get(reverse("catalogs:order_list", kwargs={"tenant_slug": tenant_a.slug}))
    assert "2026-12-08 23:59" in page.content.decode()


@pytest.mark.django_db
def test_command_imports_the_amazon_txt_and_the_ebay_csv_as_downloaded(
    tmp_path, tenant_a, catalog, capsys
):
    amazon = tmp_path / "All Orders.txt"
    amazon.write_bytes(amazon_txt(amazon_row()))
    call_command("import_orders", "--catalog", str(catalog.pk), str(amazon), "--no-score")
    out, _ = capsys.readouterr()
    assert "Amazon All Orders report" in out and "1 order row saved, 0 unchanged" in out
    ebay = tmp_path / "eBay-OrdersReport-Mar-31-2026.csv"
    ebay.write_bytes(ebay_report())
    call_command("import_orders", "--catalog", str(catalog.pk), str(ebay), "--no-score")
    out, err = capsys.readouterr()
    assert "eBay Orders report" in out and "3 order rows saved" in out
    assert not err


@pytest.mark.django_db
def test_the_mapping_form_offers_the_order_status(client, member, tenant_a, catalog):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from catalog_health.tenancy.roles import Role

    client.force_login(member(tenant_a, Role.SELLER))
    data = (
        WOOCOMMERCE_PLUGIN_HEADER + "\n"
        "1041,Completed,2026-03-14 10:00,,Jane,1,SKU-1,Mug,,2,2,17.00,5.00,39.00\n"
        "1042,Cancelled,2026-03-14 11:00,,Jane,1,SKU-2,Plate,,1,1,9.00,5.00,14.00\n"
    ).encode()
    url = reverse(
        "catalogs:catalog_upload", kwargs={"tenant_slug": tenant_a.slug, "catalog_id": catalog.pk}
    )
    file = SimpleUploadedFile("orders-export.csv", data)
    response = client.post(url, {"kind": "orders", "file": file})
    body = client.get(response.url).content.decode()
    assert 'name="col_status"' in body and "Order status" in body
    form = {
        "save_mapping": "1",
        "name": "WooCommerce plugin",
        "col_order_id": "Order Number",
        "col_status": "Order Status",
        "col_placed_at": "Order Date",
        "col_sku": "SKU",
        "col_quantity": "Quantity",
        "col_item_price": "Item Cost",
        "col_shipping_fee": "Order Shipping Amount",
    }
    assert client.post(response.url, form).status_code == 302
    client.post(response.url, {"date_order": ""})
    lines = Order.objects.for_tenant(tenant_a)
    assert lines.get(order_id="1041").shipped_at == at(2026, 3, 14, 10)
    cancelled = lines.get(order_id="1042")
    assert cancelled.cancelled_at == at(2026, 3, 14, 11) and cancelled.cancel_reason == "other"
