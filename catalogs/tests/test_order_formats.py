"""Pure tests of the export readers: recognising a file, reading its values (tables of
cases, hypothesis for dates and amounts) and TikTok / Shopify rows to order lines."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalogs.order_formats import (
    ColumnMapping,
    cancel_reason_map,
    clean_text,
    date_order_detect,
    decimal_comma_detect,
    detect_format,
    order_file_open,
    parse_count,
    parse_money,
    parse_times,
)
from catalogs.order_io import FileError
from catalogs.tests.export_samples import (
    SHOPIFY_HEADER,
    SHOPIFY_ORDERS,
    SHOPIFY_PARTIAL,
    TIKTOK_DESCRIPTIONS,
    TIKTOK_HEADER,
    lines_of,
    tiktok_csv,
    tiktok_row,
    xlsx_of,
)

# A WooCommerce product export's header as its exporter writes it (Products → Export)
WOOCOMMERCE_PRODUCTS_HEADER = [
    "ID", "Type", "SKU", "GTIN, UPC, EAN, or ISBN", "Name", "Published", "Is featured?",
    "Visibility in catalog", "Short description", "Description", "Date sale price starts",
    "Date sale price ends", "Tax status", "Tax class", "In stock?", "Stock",
    "Low stock amount", "Backorders allowed?", "Sold individually?", "Weight (kg)",
    "Sale price", "Regular price", "Categories", "Tags", "Images", "Parent", "Brands",
]  # fmt: skip


# --- recognising the source --------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "key"),
    [
        (TIKTOK_HEADER.split(","), "tiktok_orders"),
        ([h.upper() for h in TIKTOK_HEADER.split(",")], "tiktok_orders"),
        (SHOPIFY_ORDERS.decode().splitlines()[0].split(","), "shopify_orders"),
        (
            [
                "order_id",
                "sku",
                "quantity",
                "item_price",
                "shipping_fee",
                "placed_at",
                "ship_by",
                "shipped_at",
                "delivered_at",
                "cancelled_at",
                "cancel_reason",
                "tracking_number",
            ],
            "app_orders",
        ),
        (["sku", "date", "impressions", "clicks"], "app_impressions"),
        (["id", "title", "description", "link", "price", "availability"], "product_feed"),
        (["g:id", "g:title", "g:price"], "product_feed"),
        (["Handle", "Title", "Variant SKU", "Variant Price"], "shopify_products"),
        (WOOCOMMERCE_PRODUCTS_HEADER, "woocommerce_products"),
        # the exporter's columns a seller may leave out: still its id and two of its own
        (["ID", "Name", "Published", "Regular price"], "woocommerce_products"),
        (["sku", "name", "in stock?", "is featured?"], "woocommerce_products"),
        (["ID", "Name", "Regular price"], "unknown"),  # one of its own columns: too little
        (["sku_id", "title", "description", "availability", "price", "link"], "product_feed"),
        (["retailer_id", "title", "availability", "price", "link"], "product_feed"),
        (["Order", "Item", "When"], "unknown"),
        ([], "unknown"),
    ],
)
def test_detect_format(header, key):
    assert detect_format(header).key == key


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (
            b"id,title,link,price,availability\nA,Shirt,https://x/a,9.99 USD,in stock\n",
            "product feed",
        ),
        (b"Handle,Title,Variant SKU,Variant Price\nshirt,Shirt,S-1,9.99\n", "Shopify products"),
        (
            ",".join(f'"{h}"' for h in WOOCOMMERCE_PRODUCTS_HEADER).encode() + b"\n",
            "WooCommerce products export, not order lines: upload it as a product source",
        ),
        (
            b"id,title,description,link,image_link,price,availability\n",
            "Google Merchant Center, Meta or TikTok product feed, not order lines",
        ),
        (
            b"sku_id,title,description,availability,condition,price,link,image_link,brand\n",
            "Google Merchant Center, Meta or TikTok product feed",
        ),
        (
            b"g:id,g:title,g:price,g:availability,g:link\n",
            "Google Merchant Center, Meta or TikTok product feed",
        ),
        (b"sku,date,impressions,clicks\nA,2026-03-01,10,1\n", "impressions CSV"),
        (b"Order,Item,When\n1,A,today\n", "map its columns"),
        (b"", "empty"),
        (b"\x00\x01PK", "NUL"),
    ],
)
def test_wrong_files_are_refused_saying_what_they_look_like(data, fragment):
    with pytest.raises(FileError, match=fragment):
        order_file_open(data)


# --- values ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("576461413040442221\t", "576461413040442221"),
        ("  A-1 ", "A-1"),
        ('="00123"', "00123"),
        ("'00123", "00123"),
        ("", ""),
    ],
)
def test_clean_text(raw, clean):
    assert clean_text(pd.Series([raw]))[0] == clean


@pytest.mark.parametrize(
    ("values", "order"),
    [
        (["03/04/2026 10:00:00"], None),
        (["03/04/2026", "13/04/2026 10:00:00"], "dmy"),
        (["04/13/2026 1:00:00 PM"], "mdy"),
        (["2026-03-04 10:00:00"], None),
        ([""], None),
    ],
)
def test_date_order_detect(values, order):
    assert date_order_detect(values) == order


def test_mixed_date_orders_are_refused():
    with pytest.raises(FileError, match="mixes"):
        date_order_detect(["13/01/2026", "01/13/2026"])


@pytest.mark.parametrize(
    ("raw", "order", "tz", "expected"),
    [
        ("03/14/2026 9:05:11 PM", "mdy", "UTC", datetime(2026, 3, 14, 21, 5, 11, tzinfo=UTC)),
        ("03/14/2026 12:05:11 AM", "mdy", "UTC", datetime(2026, 3, 14, 0, 5, 11, tzinfo=UTC)),
        ("03/14/2026 12:05:11 PM", "mdy", "UTC", datetime(2026, 3, 14, 12, 5, 11, tzinfo=UTC)),
        ("14/03/2026 21:05:11", "dmy", "UTC", datetime(2026, 3, 14, 21, 5, 11, tzinfo=UTC)),
        ("03/04/2026 10:00:00", "dmy", "UTC", datetime(2026, 4, 3, 10, tzinfo=UTC)),
        ("03/04/2026 10:00:00", "mdy", "UTC", datetime(2026, 3, 4, 10, tzinfo=UTC)),
        # tenant time zone when the file carries no offset
        (
            "14/03/2026 21:05:11",
            "dmy",
            "America/Sao_Paulo",
            datetime(2026, 3, 15, 0, 5, 11, tzinfo=UTC),
        ),
        (
            "2026-03-14 21:05:11",
            None,
            "Europe/Berlin",
            datetime(2026, 3, 14, 20, 5, 11, tzinfo=UTC),
        ),
        # the file's offset wins over the tenant's zone
        ("2026-03-01 10:00:00 -0500", None, "Europe/Berlin", datetime(2026, 3, 1, 15, tzinfo=UTC)),
        ("2026-03-01T10:00:00Z", None, "Asia/Tokyo", datetime(2026, 3, 1, 10, tzinfo=UTC)),
        ("14/03/2026", "dmy", "UTC", datetime(2026, 3, 14, tzinfo=UTC)),
        ("14/03/2026\t", "dmy", "UTC", datetime(2026, 3, 14, tzinfo=UTC)),
    ],
)
def test_parse_times(raw, order, tz, expected):
    parsed = parse_times(pd.Series([raw]), date_order=order, tz=tz)
    assert not parsed["bad"][0]
    assert parsed["at"][0].to_pydatetime() == expected


@pytest.mark.parametrize(
    ("raw", "order"),
    [
        ("31/02/2026 10:00:00", "dmy"),
        ("13/14/2026", "dmy"),
        ("03/14/2026 13:00:00 PM", "mdy"),
        ("yesterday", "mdy"),
        ("03/04/2026", None),  # no date order decided: never guessed
        ("1900-01-01", None),
    ],
)
def test_parse_times_bad(raw, order):
    parsed = parse_times(pd.Series([raw]), date_order=order, tz="UTC")
    assert parsed["bad"][0]
    assert pd.isna(parsed["at"][0])


def test_parse_times_empty_is_not_bad():
    parsed = parse_times(pd.Series(["", " "]), date_order="dmy", tz="UTC")
    assert not parsed["bad"].any()
    assert parsed["at"].isna().all()


moments = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2900, 12, 31)).map(
    lambda d: d.replace(microsecond=0)
)


@given(moments)
def test_us_and_day_first_times_round_trip(moment):
    hour12 = moment.hour % 12 or 12
    ampm = "AM" if moment.hour < 12 else "PM"
    us = f"{moment:%m/%d/%Y} {hour12}:{moment:%M:%S} {ampm}"
    day_first = f"{moment:%d/%m/%Y %H:%M:%S}"
    got_us = parse_times(pd.Series([us]), date_order="mdy", tz="UTC")["at"][0]
    got_dmy = parse_times(pd.Series([day_first]), date_order="dmy", tz="UTC")["at"][0]
    assert got_us.to_pydatetime() == moment.replace(tzinfo=UTC)
    assert got_dmy.to_pydatetime() == moment.replace(tzinfo=UTC)


@given(moments, st.integers(min_value=-12 * 60, max_value=14 * 60))
def test_offsets_are_kept(moment, minutes):
    sign = "-" if minutes < 0 else "+"
    offset = f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
    got = parse_times(
        pd.Series([f"{moment:%Y-%m-%d %H:%M:%S} {offset}"]), date_order=None, tz="Asia/Tokyo"
    )
    expected = moment.replace(tzinfo=UTC) - timedelta(minutes=minutes)
    if 1970 <= expected.year <= 2999:
        assert got["at"][0].to_pydatetime() == expected


@pytest.mark.parametrize(
    ("raw", "comma", "amount"),
    [
        ("BRL 35,91", True, "35.91"),
        ("R$ 1.234,56", True, "1234.56"),
        ("35,9", True, "35.90"),
        ("12", True, "12.00"),
        ("$1,234.50", False, "1234.50"),
        ("1234.5 USD", False, "1234.50"),
        ("€ 0.99", False, "0.99"),
        ("", False, ""),
    ],
)
def test_parse_money(raw, comma, amount):
    parsed = parse_money(pd.Series([raw]), decimal_comma=comma)
    assert not parsed["bad"][0]
    assert parsed["amount"][0] == amount


@pytest.mark.parametrize(
    ("raw", "comma"),
    [("1.999", False), ("abc", False), ("-5.00", False), ("1e99", False), ("99999999999", False)],
)
def test_parse_money_bad(raw, comma):
    assert parse_money(pd.Series([raw]), decimal_comma=comma)["bad"][0]


@given(
    st.decimals(min_value=0, max_value=Decimal("99999999.99"), places=2),
    st.sampled_from(["BRL ", "R$ ", "", "USD "]),
    st.booleans(),
    st.booleans(),
)
def test_money_round_trip(amount, prefix, comma, thousands):
    text = f"{amount:,.2f}" if thousands else f"{amount:.2f}"
    if comma:
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    parsed = parse_money(pd.Series([prefix + text]), decimal_comma=comma)
    assert not parsed["bad"][0]
    assert Decimal(parsed["amount"][0]) == amount


@pytest.mark.parametrize(
    ("values", "comma"),
    [(["BRL 35,91", "12"], True), (["$1,234.50"], False), (["12", "1,234"], None)],
)
def test_decimal_comma_detect(values, comma):
    assert decimal_comma_detect(pd.Series(values)) is comma


def test_decimal_comma_and_point_in_one_file_are_refused():
    with pytest.raises(FileError, match="mixes"):
        decimal_comma_detect(pd.Series(["35,91", "35.91"]))


@pytest.mark.parametrize(
    ("raw", "n", "bad"),
    [
        ("2", 2, False),
        ("2.0", 2, False),
        ("1,200", 1200, False),
        ("", None, False),
        ("x", None, True),
        ("-1", None, True),
    ],
)
def test_parse_count(raw, n, bad):
    parsed = parse_count(pd.Series([raw]))
    assert bool(parsed["bad"][0]) is bad
    assert (None if pd.isna(parsed["n"][0]) else int(parsed["n"][0])) == n


@pytest.mark.parametrize(
    ("raw", "too_large"),
    [
        ("2000000000", False),
        ("2000000001", True),
        ("2147483648", True),  # 2^31
        ("99999999999999999999", True),
        ("1,000,000,000,000", True),
        ("x", False),
        ("-3000000000", False),  # not a count at all
        ("", False),
    ],
)
def test_parse_count_tells_a_number_too_large(raw, too_large):
    parsed = parse_count(pd.Series([raw]))
    assert bool(parsed["too_large"][0]) is too_large
    assert bool(parsed["bad"][0]) is (too_large or raw not in ("", "2000000000"))


def test_a_quantity_too_large_says_so_with_the_limit():
    data = tiktok_csv(tiktok_row(quantity="2147483648"), tiktok_row(order_id="2", quantity="x"))
    _, errors = lines_of(order_file_open(data))
    assert [(e.line, e.column) for e in errors] == [(2, "quantity"), (3, "quantity")]
    assert errors[0].message == "is too large: at most 2,000,000,000 (got '2147483648')"
    assert errors[1].message.startswith("must be a whole number")


@pytest.mark.parametrize(
    ("reason", "by", "expected"),
    [
        ("Out of stock", "Seller", "out_of_stock"),
        ("Seller: product out of stock", "System", "out_of_stock"),
        ("Buyer: out of stock at delivery time", "Buyer", "out_of_stock"),
        ("Change of mind", "Buyer", "buyer_request"),
        ("No longer needed", "", "buyer_request"),
        ("Pricing error", "Seller", "other"),
        ("Package lost", "System", "other"),
        ("", "", "other"),
    ],
)
def test_cancel_reason_map(reason, by, expected):
    assert cancel_reason_map(pd.Series([reason]), pd.Series([by]))[0] == expected


# --- TikTok Shop -------------------------------------------------------------------------


def test_tiktok_export_to_order_lines():
    data = tiktok_csv(
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
        tiktok_row(order_id="3", status="Delivered", delivered="03/18/2026 3:00:00 PM"),
        tiktok_row(order_id="4", status="Unpaid", paid="", shipped="", tracking=""),
    )
    lines, errors = lines_of(order_file_open(data, tz="America/Sao_Paulo"))
    first = lines.iloc[0]
    assert first.order_id == "576461413040442221"  # the trailing tab is gone
    assert first.sku == "SKU-1"
    assert first.item_price == "35.91" and first.shipping_fee == "9.90"
    assert first.placed_at.to_pydatetime() == datetime(2026, 3, 15, 0, 5, 11, tzinfo=UTC)
    # no ship-by column: paid time + 3 days' handling
    assert first.ship_by.to_pydatetime() == datetime(2026, 3, 18, 0, 6, tzinfo=UTC)
    assert first.tracking_number == "BR123456789"
    cancelled = lines.iloc[1]
    assert cancelled.sku == "1729384756102938"  # SKU ID when Seller SKU is empty
    assert cancelled.cancel_reason == "out_of_stock"
    assert pd.isna(cancelled.shipped_at)
    assert lines.iloc[2].delivered_at.to_pydatetime() == datetime(2026, 3, 18, 18, tzinfo=UTC)
    assert [(e.line, e.message) for e in errors] == [(5, "skipped: unpaid order (not placed yet)")]


def test_tiktok_ship_by_from_created_time_and_handling_days():
    data = tiktok_csv(tiktok_row(paid="", shipped="", tracking="", status="Awaiting shipment"))
    lines, _ = lines_of(order_file_open(data, handling_days=5))
    assert lines.iloc[0].ship_by.to_pydatetime() == datetime(2026, 3, 19, 21, 5, 11, tzinfo=UTC)


def test_tiktok_day_first_is_read_from_the_file():
    data = tiktok_csv(
        tiktok_row(created="02/03/2026 10:00:00", paid="", shipped="", tracking=""),
        tiktok_row(order_id="9", created="25/03/2026 10:00:00", paid="", shipped="", tracking=""),
    )
    opened = order_file_open(data, date_order="mdy")  # the file settles it, not the setting
    assert opened.options.date_order == "dmy" and opened.date_order_source == "file"
    lines, _ = lines_of(opened)
    assert lines.iloc[0].placed_at.to_pydatetime() == datetime(2026, 3, 2, 10, tzinfo=UTC)


def test_ambiguous_dates_need_the_setting_and_are_never_guessed():
    data = tiktok_csv(tiktok_row(created="02/03/2026 10:00:00", paid="", shipped="", tracking=""))
    with pytest.raises(FileError, match="cannot tell"):
        order_file_open(data)
    opened = order_file_open(data, date_order="dmy")
    assert opened.date_order_source == "setting"
    lines, _ = lines_of(opened)
    assert lines.iloc[0].placed_at.to_pydatetime() == datetime(2026, 3, 2, 10, tzinfo=UTC)


def test_tiktok_return_after_delivery_is_not_a_cancellation():
    data = tiktok_csv(
        tiktok_row(
            status="Completed",
            cancel_type="Return/Refund",
            delivered="03/18/2026 3:00:00 PM",
            reason="Damaged",
            cancel_by="Buyer",
        )
    )
    lines, errors = lines_of(order_file_open(data))
    assert not errors
    assert lines.iloc[0].cancel_reason == "" and pd.isna(lines.iloc[0].cancelled_at)


def test_tiktok_bad_rows_are_named():
    data = tiktok_csv(
        tiktok_row(quantity="two"),
        tiktok_row(order_id="2", price="BRL 1,999"),
        tiktok_row(order_id="3", shipped="03/01/2026 10:00:00 AM"),
        tiktok_row(order_id="4", created="soon"),
        tiktok_row(order_id="5"),
    )
    lines, errors = lines_of(order_file_open(data))
    assert list(lines.order_id) == ["5"]
    got = {(e.line, e.column) for e in errors}
    assert got == {(2, "quantity"), (3, "item_price"), (4, "shipped_at"), (5, "placed_at")}
    assert "'two'" in next(e.message for e in errors if e.line == 2)


def test_tiktok_xlsx_reads_like_the_csv():
    csv_data = tiktok_csv(tiktok_row(), tiktok_row(order_id="2", seller_sku="SKU-2"))
    from_xlsx, _ = lines_of(order_file_open(xlsx_of(csv_data)))
    from_csv, _ = lines_of(order_file_open(csv_data))
    pd.testing.assert_frame_equal(from_xlsx, from_csv)


@pytest.mark.parametrize("xlsx", [False, True])
@pytest.mark.parametrize(
    ("engine", "chunk_rows"), [("pyarrow", 50), ("pandas", 50), ("pyarrow", 1)]
)
def test_tiktok_description_row_is_skipped(xlsx, engine, chunk_rows):
    """The row under a real export's header says what each column holds: not a line, not a
    problem; the lines after it keep the file's line numbers."""
    data = tiktok_csv(
        TIKTOK_DESCRIPTIONS,
        tiktok_row(),
        tiktok_row(order_id="2", quantity="two"),
        tiktok_row(order_id="3", seller_sku="SKU-2"),
    )
    data = xlsx_of(data) if xlsx else data
    order_file = order_file_open(data, engine=engine, chunk_rows=chunk_rows)
    read = 0
    frames, errors = [], []
    for lines, errs, rows in order_file.chunks():
        frames.append(lines)
        errors.extend(errs)
        read += rows
    lines = pd.concat(frames, ignore_index=True)
    assert list(lines.line) == [3, 5] and list(lines.order_id) == ["576461413040442221", "3"]
    assert [(e.line, e.column) for e in errors] == [(4, "quantity")]
    assert read == 3
    assert (order_file.options.date_order, order_file.options.decimal_comma) == ("mdy", True)


def test_only_a_descriptive_row_under_the_tiktok_header_is_skipped():
    """An order line directly under the header is read (a bad one refused, as any other),
    and descriptive text further down is a bad line, not a description."""
    data = tiktok_csv(tiktok_row(quantity="two"), tiktok_row(order_id="2"), TIKTOK_DESCRIPTIONS)
    lines, errors = lines_of(order_file_open(data))
    assert list(lines.line) == [3]
    assert sorted({e.line for e in errors}) == [2, 4]


def test_chunks_give_the_same_lines():
    rows = [tiktok_row(order_id=str(i), seller_sku=f"S{i % 7}") for i in range(1, 40)]
    whole, _ = lines_of(order_file_open(tiktok_csv(*rows)))
    chunked, _ = lines_of(order_file_open(tiktok_csv(*rows), chunk_rows=4))
    pd.testing.assert_frame_equal(whole, chunked)


# --- Shopify -----------------------------------------------------------------------------


@pytest.mark.parametrize("chunk_rows", [1, 2, 50])
def test_shopify_order_level_fields_apply_to_every_line(chunk_rows):
    lines, errors = lines_of(
        order_file_open(SHOPIFY_ORDERS, tz="Europe/Berlin", chunk_rows=chunk_rows)
    )
    assert not errors
    assert list(zip(lines.order_id, lines.sku, strict=True)) == [
        ("#1001", "SKU-1"),
        ("#1001", "SKU-2"),
        ("#1002", "SKU-1"),
    ]
    second = lines.iloc[1]
    assert second.quantity == 2 and second.item_price == "10.00"
    # from the first row of #1001, with its own offset (not the tenant's zone)
    assert second.placed_at.to_pydatetime() == datetime(2026, 3, 1, 15, tzinfo=UTC)
    assert second.shipped_at.to_pydatetime() == datetime(2026, 3, 2, 14, tzinfo=UTC)
    assert second.ship_by.to_pydatetime() == datetime(2026, 3, 4, 15, 5, tzinfo=UTC)
    cancelled = lines.iloc[2]
    assert cancelled.cancel_reason == "other" and pd.isna(cancelled.shipped_at)


def test_a_fulfilled_line_of_a_partly_fulfilled_shopify_order_is_shipped():
    lines, errors = lines_of(order_file_open(SHOPIFY_PARTIAL, tz="Europe/Berlin"))
    assert not errors
    fulfilled, pending = lines.iloc[0], lines.iloc[1]
    # Fulfilled at is empty until the whole order is: the order's creation, the one time
    # the export gives that the line's fulfilment cannot precede, stands for it
    assert fulfilled.sku == "SKU-1"
    assert fulfilled.shipped_at.to_pydatetime() == datetime(2026, 3, 4, 15, tzinfo=UTC)
    assert pending.sku == "SKU-2" and pd.isna(pending.shipped_at)


def shopify_order(name: str, financial: str, fulfillment: str, line_status: str, cancelled=""):
    """One line of a Shopify order created on 4 March 2026, as the export writes it."""
    fulfilled_at = "2026-03-05 09:00:00 -0500" if fulfillment == "fulfilled" else ""
    return (
        f"{name},c@example.com,{financial},,{fulfillment},{fulfilled_at},no,USD,40.00,5.00,0,"
        f"45.00,,0,Standard,2026-03-04 10:00:00 -0500,1,Shirt,40.00,,SKU-1,true,true,"
        f"{line_status},{cancelled},5003,"
    )


# Financial Status pending: not paid yet (payment terms, a manual payment awaited). Such an
# open order is skipped and listed, as TikTok's Unpaid and Amazon's Pending are, so that an
# order on payment terms is not overdue; a line of it that shipped or was cancelled happened
SHOPIFY_PENDING = [
    # (financial, fulfillment, line fulfillment, cancelled at) -> skipped, shipped, cancelled
    (("pending", "", "", ""), (True, False, False)),
    (("pending", "unfulfilled", "pending", ""), (True, False, False)),
    (("pending", "fulfilled", "fulfilled", ""), (False, True, False)),
    (("pending", "partial", "fulfilled", ""), (False, True, False)),
    (("pending", "", "", "2026-03-06 10:00:00 -0500"), (False, False, True)),
    (("authorized", "", "", ""), (False, False, False)),
    (("paid", "", "", ""), (False, False, False)),
    (("partially_paid", "", "", ""), (False, False, False)),
]


@pytest.mark.parametrize(("order", "expected"), SHOPIFY_PENDING)
def test_a_pending_shopify_order_is_skipped_while_open(order, expected):
    data = (SHOPIFY_HEADER + "\n" + shopify_order("#1004", *order) + "\n").encode()
    lines, errors = lines_of(order_file_open(data, tz="Europe/Berlin"))
    skipped, shipped, cancelled = expected
    if skipped:
        assert [(e.line, e.message) for e in errors] == [
            (2, "skipped: pending order (not paid yet)")
        ]
        assert lines.empty
        return
    assert not errors
    [line] = lines.itertuples()
    assert (pd.notna(line.shipped_at), pd.notna(line.cancelled_at)) == (shipped, cancelled)


# --- any other export, through a mapping -------------------------------------------------


def test_mapped_export():
    data = (
        b"Bestellung;Artikel;Menge;Preis, EUR;Bestellt am;Storniert am;Grund\n"
        b"B-1;SKU-1;2;19,90;2026-03-01 10:00;;\n"
        b"B-2;SKU-1;1;1.234,50;2026-03-01 11:00;2026-03-01 12:00;Kein Bestand\n"
    )
    mapping = ColumnMapping(
        columns={
            "order_id": "Bestellung",
            "sku": "Artikel",
            "quantity": "Menge",
            "item_price": "Preis, EUR",
            "placed_at": "Bestellt am",
            "cancelled_at": "Storniert am",
            "cancel_reason": "Grund",
        },
        cancel_values={"Kein Bestand": "out_of_stock"},
    )
    # Excel's CSV in a German locale: semicolons between the columns, a decimal comma
    opened = order_file_open(data, mapping=mapping)
    assert opened.unmapped_columns == []
    assert opened.options.decimal_comma
    lines, errors = lines_of(opened)
    assert not errors
    assert list(lines.item_price) == ["19.90", "1234.50"]
    assert list(lines.cancel_reason) == ["", "out_of_stock"]


def test_mapped_export_comma_separated():
    data = (
        b"Order,Item,Qty,Price,Ordered,Cancelled,Why\n"
        b"B-1,SKU-1,2,19.90,2026-03-01 10:00,,\n"
        b"B-2,SKU-1,1,19.90,2026-03-01 10:00,2026-03-01 12:00,Kein Bestand\n"
    )
    mapping = ColumnMapping(
        columns={
            "order_id": "Order",
            "sku": "Item",
            "quantity": "Qty",
            "item_price": "Price",
            "placed_at": "Ordered",
            "cancelled_at": "Cancelled",
            "cancel_reason": "Why",
        },
        cancel_values={"kein bestand": "out_of_stock"},
    )
    opened = order_file_open(data, mapping=mapping)
    assert opened.unmapped_columns == []
    lines, errors = lines_of(opened)
    assert not errors
    assert list(lines.cancel_reason) == ["", "out_of_stock"]


# --- impressions from any export ---------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "columns"),
    [
        (
            ["sku", "date", "impressions", "clicks"],
            {"sku": "sku", "date": "date", "impressions": "impressions", "clicks": "clicks"},
        ),
        (
            ["Item ID", "Day", "Impr.", "Clicks", "Cost"],
            {"sku": "Item ID", "date": "Day", "impressions": "Impr.", "clicks": "Clicks"},
        ),
        (
            ["Product ID", "Date", "Impressions"],
            {"sku": "Product ID", "date": "Date", "impressions": "Impressions"},
        ),
        (["Campaign", "Date", "Impressions"], None),
    ],
)
def test_impression_mapping_guess(header, columns):
    from catalogs.order_formats import impression_mapping_guess

    guessed = impression_mapping_guess(header)
    assert (guessed.columns if guessed else None) == columns


def test_impressions_read_with_errors_named():
    from datetime import date

    from catalogs.order_formats import impression_file_open

    opened = impression_file_open(
        b"Item ID,Day,Impr.,Clicks\nA,13/03/2026,100,3\nB,14/03/2026,x,1\n"
        b"C,15/03/2026,5,9\n,16/03/2026,1,0\n"
    )
    assert opened.date_order == "dmy"
    frames = list(opened.chunks())
    rows, errors = frames[0][0], frames[0][1]
    assert list(rows.sku) == ["A"] and rows.date[0] == date(2026, 3, 13)
    assert {(e.line, e.column) for e in errors} == {(3, "impressions"), (4, "clicks"), (5, "sku")}


def test_impressions_too_large_say_so_with_the_limit():
    from catalogs.order_formats import impression_file_open

    opened = impression_file_open(
        b"Item ID,Day,Impr.,Clicks\nA,13/03/2026,3000000000,3\nB,14/03/2026,9,2147483648\n"
    )
    errors = next(iter(opened.chunks()))[1]
    assert [(e.line, e.column, e.message) for e in errors] == [
        (2, "impressions", "is too large: at most 2,000,000,000"),
        (3, "clicks", "is too large: at most 2,000,000,000"),
    ]


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (TIKTOK_HEADER.encode() + b"\n", "TikTok Shop order export, not daily impressions"),
        (b"id,title,link,price\n1,a,x,1\n", "product feed"),
        (
            b"SKU,Name,Published,Regular price,Stock\nA,Hat,1,9,3\n",
            "WooCommerce products export, not daily impressions",
        ),
        (b"Campaign,Spend\nA,1\n", "map its columns"),
        (b"sku,date,impressions\nA,03/04/2026,1\n", "cannot tell"),
    ],
)
def test_impression_files_refused(data, fragment):
    from catalogs.order_formats import impression_file_open

    with pytest.raises(FileError, match=fragment):
        impression_file_open(data)


def test_a_path_reads_like_the_bytes(tmp_path):
    data = tiktok_csv(*(tiktok_row(order_id=str(i)) for i in range(1, 12)))
    path = tmp_path / "orders.csv"
    path.write_bytes(data)
    from_path, _ = lines_of(order_file_open(path, chunk_rows=4))
    from_bytes, _ = lines_of(order_file_open(data, chunk_rows=4))
    pd.testing.assert_frame_equal(from_path, from_bytes)
    (tmp_path / "empty.csv").write_bytes(b"  \n")
    with pytest.raises(FileError, match="empty"):
        order_file_open(tmp_path / "empty.csv")


def test_an_xlsx_bomb_is_refused_before_it_is_unpacked():
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (401 * 1024 * 1024))
    with pytest.raises(FileError, match="unpacks to"):
        order_file_open(buffer.getvalue())


def test_a_broken_xlsx_is_refused():
    with pytest.raises(FileError, match="XLSX"):
        order_file_open(b"PK\x03\x04not really a zip")


def test_blanks_are_exactly_pythons_whitespace_class():
    """The literal class replacing \\s (so that pyarrow runs the patterns) matches the same
    characters as Python's \\s."""
    import re

    from catalogs.order_formats import BLANKS

    python_s = {chr(c) for c in range(0x110000) if re.match(r"\s", chr(c))}
    assert set(BLANKS) == python_s
    assert "]" not in BLANKS and "\\" not in BLANKS and "^" not in BLANKS
