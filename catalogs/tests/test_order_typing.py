"""Typing a column through its distinct values (order_formats.values.by_unique) gives what
typing every value gives: the same values, errors and index, on columns and whole files."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from catalogs.order_formats import cancel_reason_map, clean_text, order_file_open, values
from catalogs.order_formats.values import by_unique, parse_count, parse_money, parse_times
from catalogs.tests.export_samples import tiktok_csv, tiktok_row

TEXTS = [
    "",
    " ",
    "BRL 35,91",
    "BRL 1.234,56",
    "12",
    "35,911",
    "R$ 0,5",
    "abc",
    "03/14/2026 9:05:11 PM",
    "14/03/2026 21:05:11",
    "13/13/2026 10:00:00",
    "2026-03-14T21:05:11+02:00",
    "2026-03-14 21:05",
    "02/30/2026 1:00:00 AM",
    "2\t",
    "2.0",
    "1,200",
    '="0012"',
    "'0012",
    "Out of stock",
    "Buyer changed mind",
]


def _column(n: int = 400, seed: int = 7) -> pd.Series:
    rng = random.Random(seed)
    # a shuffled index: spreading back must follow the index, not the position
    index = rng.sample(range(10 * n), n)
    return pd.Series([rng.choice(TEXTS) for _ in range(n)], index=index, dtype="str")


@pytest.mark.parametrize(
    ("parse", "kwargs"),
    [
        (values._parse_money, {"decimal_comma": True}),
        (values._parse_money, {"decimal_comma": False}),
        (values._parse_count, {}),
        (values._parse_times, {"date_order": "mdy", "tz": "America/Sao_Paulo"}),
        (values._parse_times, {"date_order": "dmy", "tz": "UTC"}),
        (values.clean_text, {}),
    ],
)
def test_a_column_typed_once_per_distinct_value_is_typed_alike(parse, kwargs):
    column = _column()
    seen = []

    def counted(vals, **kw):
        seen.append(len(vals))
        return parse(vals, **kw)

    once = by_unique(column, counted, **kwargs)
    assert seen == [column.nunique()]  # the distinct values only, once
    every = parse(column, **kwargs)
    if isinstance(every, pd.DataFrame):
        pd.testing.assert_frame_equal(once, every)
    else:
        pd.testing.assert_series_equal(once, every)


def test_the_public_parsers_read_a_repetitive_column_as_every_value():
    column = _column()
    plain = {"decimal_comma": True}
    pd.testing.assert_frame_equal(
        parse_money(column, **plain), values._parse_money(column, **plain)
    )
    pd.testing.assert_frame_equal(parse_count(column), values._parse_count(column))
    times = {"date_order": "dmy", "tz": "Europe/Berlin"}
    pd.testing.assert_frame_equal(
        parse_times(column, **times), values._parse_times(column, **times)
    )
    pd.testing.assert_series_equal(clean_text(column), values.clean_text(column))


def test_a_mostly_distinct_column_is_typed_value_by_value():
    column = pd.Series([f"BRL {i},{i % 100:02d}" for i in range(200)], dtype="str")
    seen = []

    def counted(vals, **kw):
        seen.append(len(vals))
        return values._parse_money(vals, **kw)

    by_unique(column, counted, decimal_comma=True)
    assert seen == [200]


def test_cancel_reasons_of_a_repetitive_column_map_alike():
    reason = _column(seed=3)
    by = _column(seed=4).replace({"abc": "Buyer", "12": "Seller"})
    mapped = cancel_reason_map(reason, by)
    text, who = reason.str.lower(), by.str.lower()
    expected = pd.Series("other", index=reason.index, dtype=object)
    expected[text.str.contains(values_words("BUYER")) | who.str.contains("buyer|customer")] = (
        "buyer_request"
    )
    expected[text.str.contains(values_words("OUT_OF_STOCK"))] = "out_of_stock"
    pd.testing.assert_series_equal(mapped, expected)


def values_words(name: str) -> str:
    from catalogs.order_formats import BUYER_WORDS, OUT_OF_STOCK_WORDS

    return {"BUYER": BUYER_WORDS, "OUT_OF_STOCK": OUT_OF_STOCK_WORDS}[name]


def _typed(data: bytes):
    frames, errors = [], []
    for lines, errs, _ in order_file_open(data, tz="America/Sao_Paulo").chunks():
        frames.append(lines)
        errors.extend(errs)
    return pd.concat(frames, ignore_index=True), errors


def test_a_repetitive_file_types_to_the_lines_of_value_by_value_typing(monkeypatch):
    rng = random.Random(20)
    rows = []
    for i in range(300):
        shipped = i % 3 != 0
        rows.append(
            tiktok_row(
                order_id=str(576461413040000000 + i // 2),
                seller_sku=rng.choice(["SKU-1", "SKU-2", " SKU-3\t", ""]),
                sku_id=str(1729384756100000 + i % 7),
                quantity=rng.choice(["1", "2", "x", "0", "3"]),
                price=rng.choice(["BRL 35,91", "BRL 12,00", "BRL 1.234,5", "BRL ,5", "oops"]),
                created=f"03/{1 + i % 27:02d}/2026 {1 + i % 12}:05:11 PM",
                paid=rng.choice(["", "03/14/2026 1:00:00 PM", "03/14/2026 13:00:00 PM", "soon"]),
                shipped="03/28/2026 10:00:00 AM" if shipped else "",
                status=rng.choice(["Shipped", "Cancelled", "To ship", "Unpaid"]),
                cancelled="" if shipped else rng.choice(["", "03/28/2026 11:00:00 PM"]),
                cancel_by=rng.choice(["", "Buyer", "Seller"]),
                reason=rng.choice(["", "Out of stock", "Changed mind", "Other"]),
                tracking=f"BR{i:09d}" if shipped else "",
            )
        )
    data = tiktok_csv(*rows)
    data = data if isinstance(data, bytes) else data.encode()
    fast_lines, fast_errors = _typed(data)
    monkeypatch.setattr(values, "UNIQUE_SHARE", 0.0)  # every value typed on its own
    plain_lines, plain_errors = _typed(data)
    assert len(fast_lines) and fast_errors
    pd.testing.assert_frame_equal(fast_lines, plain_lines)
    assert fast_errors == plain_errors


SLASH_TIMES = [
    "03/14/2026 9:05:11 PM",
    "3/4/2026 9:05:11 pm",
    "03/14/2026 09:05:11 AM",
    "03/14/2026 12:00:00 AM",
    "03/14/2026 0:05:11 AM",
    "03/14/2026 13:05:11 PM",
    "03/14/2026  9:05:11 PM",
    "03/14/2026 9:05:11PM",
    "02/30/2026 1:00:00 AM",
    "30/02/2026 1:00:00",
    "02/29/2024 10:00:00",
    "02/29/2025 10:00:00",
    "31/04/2026 10:00:00",
    "03/14/2026 9:05 PM",
    "03/14/2026 9:5:1 PM",
    "03/14/26 9:05:11 PM",
    "03/14/1969 9:05:11 PM",
    "003/14/2026 9:05:11 PM",
    "03/14/2026 23:05:11",
    "03/14/2026 24:05:11",
    "14/03/2026 23:05:11",
    "03/11/2029 1:30:00 AM",  # twice in New York: clocks back
    "03/08/2026 2:30:00 AM",  # never in New York: clocks forward
    "03/14/2026",
]


def _slash_time(order, day, month, year, hour, minute, second, twelve, space):
    clock = f"{hour % 12 or 12}:{minute:02d}:{second:02d} {'PM' if hour >= 12 else 'AM'}"
    if not twelve:
        clock = f"{hour}:{minute:02d}:{second:02d}"
    first, second_ = (month, f"{day:02d}") if order == "mdy" else (f"{day:02d}", month)
    return f"{first}/{second_}/{year}{space}{clock}"


@pytest.mark.parametrize("order", ["mdy", "dmy"])
@pytest.mark.parametrize("tz", ["UTC", "America/New_York"])
def test_plain_slash_times_read_by_pyarrow_as_by_pandas(monkeypatch, order, tz):
    rng = random.Random(order + tz)
    texts = SLASH_TIMES + [
        _slash_time(
            order,
            rng.randint(1, 31),
            rng.randint(1, 12),
            rng.choice([1969, 2026, 2028]),
            rng.randint(0, 23),
            rng.randint(0, 59),
            rng.randint(0, 59),
            rng.random() < 0.5,
            rng.choice([" ", " ", "  ", "T"]),
        )
        for _ in range(400)
    ]
    column = pd.Series(texts, dtype="str")
    strict = values._strict_slash_times(column, order)
    assert strict.notna().sum() > 150  # most go the pyarrow way
    fast = values._parse_times(column, date_order=order, tz=tz)
    monkeypatch.setattr(
        values, "_strict_slash_times", lambda text, _order: pd.Series(pd.NaT, index=text.index)
    )
    plain = values._parse_times(column, date_order=order, tz=tz)
    pd.testing.assert_frame_equal(fast, plain)


def test_recognising_a_header_loads_neither_pandas_nor_pyarrow():
    """The web process imports catalogs.order_formats for header checks (selectors, the
    upload views): pandas and pyarrow wait until a file is read."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import catalogs.order_formats as f\n"
        "assert f.detect_format(['Order ID', 'Order Status', 'SKU ID', 'Seller SKU',"
        " 'Quantity', 'Created Time']).key == 'tiktok_orders'\n"
        "f.header_signature(['a']); f.is_xlsx(b'PK')\n"
        "print(sorted(m for m in ('pandas', 'pyarrow', 'numpy') if m in sys.modules))\n"
        "f.parse_money\n"
        "print('pandas' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["[]", "True"]


@pytest.mark.parametrize("dtype", ["str", object])
def test_the_invisible_character_scan_never_misses_what_is_not_printable_ascii(dtype):
    texts = ["SKU-1", "pedido-ç", "日本", "a\x00b", "tab\tinside", "\x1f", "", "x" * 70]
    column = pd.Series(texts * 3, dtype=dtype)
    for start in range(len(column)):
        for stop in (start + 1, start + 4, len(column)):
            part = column.iloc[start:stop]
            found = bool(part.str.contains(r"[^\x20-\x7e]", regex=True).any())
            assert values.may_have_invisible_characters(part) == found, (start, stop)


def test_the_invisible_character_scan_reads_every_chunk_of_a_column():
    import pyarrow as pa

    chunked = pa.chunked_array([["SKU-1", "SKU-2"], ["SKU-3", "a\x00b"], ["SKU-4"]])
    column = pd.Series(pd.arrays.ArrowStringArray(chunked))
    assert values.may_have_invisible_characters(column)
    assert not values.may_have_invisible_characters(column.iloc[:3])
    assert values.may_have_invisible_characters(column.iloc[3:4])
    assert not values.may_have_invisible_characters(column.iloc[4:])


def test_a_control_character_inside_an_id_refuses_its_line_naming_it():
    data = tiktok_csv(
        tiktok_row(order_id="576461413040000001", seller_sku="SKU\x01A"),
        tiktok_row(order_id="576461413040000002", seller_sku="SKU-B"),
    )
    lines, errors = _typed(data)
    assert list(lines["sku"]) == ["SKU-B"]
    assert [(e.line, e.column) for e in errors] == [(2, "sku")]
    assert "U+0001 CONTROL CHARACTER at character 4" in errors[0].message
