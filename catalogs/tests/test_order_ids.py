"""An order's id and SKU keep to the rule tracking numbers keep to (catalogs.rules): outer
blanks and invisible characters are trimmed, one inside refuses the line naming it, at every
entry of orders (the API and the order CSV parser, every order file format, Django admin).
An id holding one would match no order and a SKU no product."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from django.urls import reverse
from hypothesis import example, given
from hypothesis import strategies as st

from catalogs import order_files
from catalogs.models import Order, Product
from catalogs.order_formats import ColumnMapping, impression_file_open, order_file_open, values
from catalogs.order_io import ORDER_COLUMNS, impression_row_parse, order_row_parse
from catalogs.rules import identifier_error, invisible_trim
from catalogs.tests.export_samples import csv_cell, tiktok_csv, tiktok_row, xlsx_of
from catalogs.tests.order_factories import (
    DailyImpressionFactory,
    OrderFactory,
    impression_admin_data,
    order_admin_data,
)

# (id, as typed or exported, as stored (None: refused), what the refusal names)
IDS = [
    ("plain", "576461413040442221", "576461413040442221", ""),
    ("Shopify's order name", "#1001", "#1001", ""),
    ("letters beyond ASCII", "pedido-ç-日本", "pedido-ç-日本", ""),
    ("inner space", "SKU 1", "SKU 1", ""),
    ("outer spaces", "  SKU-1  ", "SKU-1", ""),
    ("a spreadsheet's byte order mark", "\ufeffSKU-1", "SKU-1", ""),
    ("direction marks copied from a page", "\u200eSKU-1\u200f", "SKU-1", ""),
    ("zero-width space at the end", "SKU-1\u200b", "SKU-1", ""),
    ("DEL at the end", "SKU-1\x7f", "SKU-1", ""),
    ("no-break spaces around", "\u00a0SKU-1\u3000", "SKU-1", ""),
    ("64 characters", "A" * 64, "A" * 64, ""),
    ("64 characters and a byte order mark", "\ufeff" + "A" * 64, "A" * 64, ""),
    ("DEL inside", "SKU\x7f1", None, "U+007F DELETE at character 4"),
    ("zero-width space inside", "SKU\u200b1", None, "U+200B ZERO WIDTH SPACE at character 4"),
    ("byte order mark inside", "SKU\ufeff1", None, "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
    ("direction mark inside", "SKU\u200e1", None, "U+200E LEFT-TO-RIGHT MARK"),
    ("C1 control inside", "SKU\x851", None, "U+0085 NEXT LINE"),
    ("soft hyphen inside", "SKU\u00ad1", None, "U+00AD SOFT HYPHEN"),
    ("tab inside", "SKU\t1", None, "U+0009 TAB"),
    ("65 characters", "A" * 65, None, "longer than 64 characters"),
]
IDS_NAMES = [e[0] for e in IDS]
# what cleans to nothing: the line has no id, which is required
NOTHING = [("spaces", "   "), ("zero-width space only", "\u200b"), ("DEL", "\x7f")]


@pytest.mark.parametrize(("typed", "stored", "named"), [e[1:] for e in IDS], ids=IDS_NAMES)
def test_the_rule(typed, stored, named):
    cleaned = invisible_trim(typed)
    error = identifier_error(cleaned, max_length=64)
    if stored is None:
        assert error is not None and named in error
    else:
        assert (cleaned, error) == (stored, None)


@given(st.text(max_size=80))
def test_what_the_rule_accepts_holds_no_invisible_character_and_no_outer_blank(text):
    cleaned = invisible_trim(text)
    if identifier_error(cleaned, max_length=100) is None:
        assert cleaned == cleaned.strip()
        assert not re.search(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]", cleaned)


# --- the column check of order files: a byte scan, then one match, then the rule -------------


@given(st.lists(st.text(max_size=12), max_size=20))
@example([" "])  # printable ASCII: the byte scan's fast path still trims outer blanks
@example(["A1 ", " SKU-2"])
def test_the_column_check_is_the_rule(texts):
    column = pd.Series(texts, dtype="str")
    cleaned, problems = values.identifiers_check(column, max_length=64)
    for text, got, problem in zip(texts, cleaned, problems, strict=True):
        expected = invisible_trim(text)
        assert got == expected
        assert (problem if isinstance(problem, str) else None) == identifier_error(
            expected, max_length=64
        )


def test_the_column_check_reads_every_chunk_of_a_sliced_column():
    import pyarrow as pa

    chunked = pa.chunked_array([["SKU-1", "é"], ["SKU\u200b3", "a\x00b"], ["\ufeffSKU-4"]])
    column = pd.Series(pd.arrays.ArrowStringArray(chunked)).iloc[1:]
    cleaned, problems = values.identifiers_check(column, max_length=64)
    assert list(cleaned) == ["é", "SKU\u200b3", "a\x00b", "SKU-4"]
    assert [p if isinstance(p, str) else None for p in problems] == [
        None,
        identifier_error("SKU\u200b3", max_length=64),
        identifier_error("a\x00b", max_length=64),
        None,
    ]


def test_a_printable_ascii_column_skips_the_rule(monkeypatch):
    def refuse(_text):
        raise AssertionError("a printable ASCII value went through the rule one by one")

    monkeypatch.setattr(values, "invisible_trim", refuse)
    column = pd.Series([f"SKU-{i}" for i in range(1000)] + [" #1001"], dtype="str")
    cleaned, problems = values.identifiers_check(column, max_length=64)
    assert cleaned.iloc[0] == "SKU-0" and problems.isna().all()


def test_only_values_with_invisible_characters_go_through_the_rule(monkeypatch):
    seen = []

    def trim(text):
        seen.append(text)
        return invisible_trim(text)

    monkeypatch.setattr(values, "invisible_trim", trim)
    column = pd.Series(["pedido-ç", "日本", "SKU\u200b1", "SKU-1\ufeff"] * 50, dtype="str")
    values.identifiers_check(column, max_length=64)
    assert set(seen) == {"SKU\u200b1", "SKU-1\ufeff"}


# --- entries ---------------------------------------------------------------------------------


def _api_line(**changes) -> dict:
    return {
        "order_id": "A1",
        "sku": "SKU-1",
        "item_price": "10.00",
        "placed_at": "2026-03-01T10:00:00Z",
        "ship_by": "2026-03-03T10:00:00Z",
        **changes,
    }


@pytest.mark.parametrize("column", ["order_id", "sku"])
@pytest.mark.parametrize(("typed", "stored", "named"), [e[1:] for e in IDS], ids=IDS_NAMES)
def test_an_api_or_csv_line(column, typed, stored, named):
    if column == "sku" and "longer than 64" in named:
        stored = typed  # a SKU may have 100 characters
    parsed = order_row_parse(2, _api_line(**{column: typed}), tz="UTC")
    if stored is None:
        assert isinstance(parsed, list)
        assert [e.column for e in parsed] == [column]
        assert named in parsed[0].message
    else:
        assert not isinstance(parsed, list), parsed
        assert getattr(parsed, column) == stored


@pytest.mark.parametrize("typed", [n[1] for n in NOTHING], ids=[n[0] for n in NOTHING])
def test_an_id_that_cleans_to_nothing_is_missing(typed):
    parsed = order_row_parse(2, _api_line(sku=typed), tz="UTC")
    assert [(e.column, e.message) for e in parsed] == [("sku", "is required")]


# NUL aside (a file holding one is not text), and short enough for both columns
FILE_IDS = [e for e in IDS if "\x00" not in e[1] and len(e[1]) <= 64]


def _lines(data: bytes, **options) -> tuple[pd.DataFrame, dict]:
    frames, errors = [], []
    for lines, errs, _ in order_file_open(data, **options).chunks():
        frames.append(lines)
        errors.extend(errs)
    return pd.concat(frames, ignore_index=True), {e.line: e for e in errors}


def _app_csv(column: str) -> bytes:
    rows = [
        ",".join(
            [
                csv_cell(typed) if column == "order_id" else f"O{i}",
                csv_cell(typed) if column == "sku" else "SKU-1",
                "1",
                "10.00",
                "0",
                "2026-03-01T10:00:00Z",
                "2026-03-03T10:00:00Z",
                *[""] * 5,
            ]
        )
        for i, (_, typed, _, _) in enumerate(FILE_IDS)
    ]
    return ("\n".join([",".join(ORDER_COLUMNS), *rows]) + "\n").encode()


def _tiktok_csv(column: str) -> bytes:
    rows = [
        # unquoted: TikTok ends the cell with a tab
        tiktok_row(order_id=typed, seller_sku=f"S{i}")
        if column == "order_id"
        else tiktok_row(order_id=f"57646141304000{i:04d}", seller_sku=csv_cell(typed))
        for i, (_, typed, _, _) in enumerate(FILE_IDS)
    ]
    return tiktok_csv(*rows)


def _shopify_csv(column: str) -> bytes:
    header = "Name,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku"
    rows = [
        ",".join(
            [
                csv_cell(typed) if column == "order_id" else f"#{1000 + i}",
                "2026-03-01 10:00:00 -0500",
                "1",
                "Shirt",
                "40.00",
                csv_cell(typed) if column == "sku" else f"S{i}",
            ]
        )
        for i, (_, typed, _, _) in enumerate(FILE_IDS)
    ]
    return ("\n".join([header, *rows]) + "\n").encode()


MAPPING = ColumnMapping(
    columns={
        "order_id": "order_id",
        "sku": "sku",
        "quantity": "quantity",
        "item_price": "item_price",
        "placed_at": "placed_at",
        "ship_by": "ship_by",
    }
)
FILES = {
    "app CSV": (_app_csv, {}),
    "mapped CSV": (_app_csv, {"mapping": MAPPING}),
    "TikTok CSV": (_tiktok_csv, {}),
    "TikTok XLSX": (lambda column: xlsx_of(_tiktok_csv(column)), {}),
    "Shopify CSV": (_shopify_csv, {}),
    "TikTok CSV read by pandas": (_tiktok_csv, {"engine": "pandas"}),
}


@pytest.mark.parametrize("column", ["order_id", "sku"])
@pytest.mark.parametrize("source", FILES)
def test_every_order_file_format(source, column):
    make, options = FILES[source]
    lines, refused = _lines(make(column), **options)
    stored = list(lines[column])
    for i, (name, _, expected, named) in enumerate(FILE_IDS):
        line = i + 2
        if expected is None:
            assert refused[line].column == column, name
            assert named in refused[line].message, name
        else:
            assert line not in refused, (name, refused.get(line))
            assert expected in stored, name
    assert len(refused) == sum(e[2] is None for e in FILE_IDS)


@pytest.mark.django_db(transaction=True)
def test_an_upload_matches_a_sku_copied_with_invisible_characters(tenant_a, catalog):
    data = tiktok_csv(
        tiktok_row(order_id="576461413040000001", seller_sku=csv_cell("\ufeffSKU-1\u200b")),
        tiktok_row(order_id="576461413040000002", seller_sku=csv_cell("SKU\u200b-2")),
        tiktok_row(order_id="\u200e576461413040000003\x7f", seller_sku="SKU-2"),
    )
    result = order_files.orders_import_file(tenant=tenant_a, catalog=catalog, data=data, actor=None)
    assert result.written == 2
    [error] = result.errors
    assert (error.line, error.column) == (3, "sku")
    assert "U+200B ZERO WIDTH SPACE at character 4" in error.message
    stored = Order.objects.for_tenant(tenant_a).order_by("order_id")
    assert [(o.order_id, o.sku, o.product.sku) for o in stored] == [
        ("576461413040000001", "SKU-1", "SKU-1"),
        ("576461413040000003", "SKU-2", "SKU-2"),
    ]


@pytest.mark.django_db
def test_the_api_trims_and_refuses_ids(api_client_for, member, tenant_a, catalog):
    api = api_client_for(member(tenant_a, "seller"), tenant_a)
    lines = [
        _api_line(order_id="A\u200b1"),
        _api_line(order_id="A2", sku="SKU\x7f-1"),
        _api_line(order_id="\ufeffA3", sku="SKU-1\u200b"),
    ]
    body = api.post(
        "/api/v1/orders/bulk/", {"catalog": catalog.pk, "orders": lines}, format="json"
    ).json()
    assert (body["written"], body["refused"]) == (1, 2)
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(0, "order_id"), (1, "sku")]
    assert "U+200B ZERO WIDTH SPACE at character 2" in body["errors"][0]["message"]
    assert "U+007F DELETE at character 4" in body["errors"][1]["message"]
    stored = Order.objects.for_tenant(tenant_a).get()
    assert (stored.order_id, stored.sku, stored.product.sku) == ("A3", "SKU-1", "SKU-1")


def test_the_sku_of_daily_impressions_keeps_to_the_rule_too():
    data = (
        "sku,date,impressions,clicks\n"
        "\ufeffSKU-1\u200b,2026-03-13,100,3\n"
        "SKU\u200b2,2026-03-13,5,1\n"
    )
    [(rows, errors, _)] = impression_file_open(data.encode()).chunks()
    assert list(rows.sku) == ["SKU-1"]
    assert [(e.line, e.column) for e in errors] == [(3, "sku")]
    assert "U+200B ZERO WIDTH SPACE at character 4" in errors[0].message
    parsed = impression_row_parse(2, {"sku": "SKU\x7f2", "date": "2026-03-13", "impressions": 1})
    assert [(e.column, "U+007F DELETE" in e.message) for e in parsed] == [("sku", True)]


# --- Django admin ----------------------------------------------------------------------------


ADMIN_REFUSED = [
    ("order_id", "A\u200b1", "U+200B ZERO WIDTH SPACE at character 2"),
    ("sku", "SKU\x7f1", "U+007F DELETE at character 4"),
    ("tracking_number", "1Z\u200b999", "U+200B ZERO WIDTH SPACE at character 3"),
    ("tracking_number", "1Z\u202e999", "U+202E RIGHT-TO-LEFT OVERRIDE"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "typed", "named"), ADMIN_REFUSED)
def test_admin_refuses_an_invisible_character_inside(staff_client, catalog, field, typed, named):
    order = OrderFactory(product=Product.objects.get(catalog=catalog, sku="SKU-1"))
    before = Order.objects.values().get(pk=order.pk)
    url = reverse("admin:catalogs_order_change", args=[order.pk])
    response = staff_client.post(url, order_admin_data(order, **{field: typed}))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field]
    assert named in errors[field][0]
    assert Order.objects.values().get(pk=order.pk) == before


@pytest.mark.django_db
def test_admin_trims_outer_invisible_characters(staff_client, catalog):
    order = OrderFactory(product=Product.objects.get(catalog=catalog, sku="SKU-1"))
    url = reverse("admin:catalogs_order_change", args=[order.pk])
    data = order_admin_data(
        order, order_id="\ufeffA1\u200b", sku="\u200eSKU-1", tracking_number="\u00a01Z999\t"
    )
    assert staff_client.post(url, data).status_code == 302
    order.refresh_from_db()
    assert (order.order_id, order.sku, order.tracking_number) == ("A1", "SKU-1", "1Z999")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "stored"), [("", None), ("\u200b", None), ("\u00a0\u3000", None)]
)
def test_admin_reads_a_tracking_number_of_only_blanks_as_none_given(
    staff_client, catalog, typed, stored
):
    order = OrderFactory(product=Product.objects.get(catalog=catalog, sku="SKU-1"))
    url = reverse("admin:catalogs_order_change", args=[order.pk])
    assert staff_client.post(url, order_admin_data(order, tracking_number=typed)).status_code == 302
    order.refresh_from_db()
    assert order.tracking_number == stored


@pytest.mark.django_db
def test_admin_asks_for_an_id_that_cleans_to_nothing(staff_client, catalog):
    order = OrderFactory(product=Product.objects.get(catalog=catalog, sku="SKU-1"))
    url = reverse("admin:catalogs_order_change", args=[order.pk])
    response = staff_client.post(url, order_admin_data(order, order_id="\u200b"))
    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["order_id"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "named"),
    [
        ("SKU\u200b1", "U+200B ZERO WIDTH SPACE at character 4"),
        ("SKU\x7f1", "U+007F DELETE at character 4"),
        ("\u200b", "required"),
        ("\u00a0\u3000", "required"),
    ],
)
def test_impression_admin_refuses_a_sku_as_order_admin_does(staff_client, catalog, typed, named):
    impression = DailyImpressionFactory(product=Product.objects.get(catalog=catalog, sku="SKU-1"))
    url = reverse("admin:catalogs_dailyimpression_change", args=[impression.pk])
    response = staff_client.post(url, impression_admin_data(impression, sku=typed))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["sku"]
    assert named in errors["sku"][0]
    impression.refresh_from_db()
    assert impression.sku == "SKU-1"


@pytest.mark.django_db
def test_impression_admin_trims_a_sku(staff_client, catalog):
    impression = DailyImpressionFactory(product=Product.objects.get(catalog=catalog, sku="SKU-1"))
    url = reverse("admin:catalogs_dailyimpression_change", args=[impression.pk])
    data = impression_admin_data(impression, sku="\ufeffSKU-1\u200e\t")
    assert staff_client.post(url, data).status_code == 302
    impression.refresh_from_db()
    assert impression.sku == "SKU-1"
