"""feeds.pgcopy: Arrow columns to PostgreSQL's binary COPY format, read back by the real
server (what it stores is what the CSV COPY of the same values stores)."""

from __future__ import annotations

import json
from decimal import Decimal

import pyarrow as pa
import pytest
from django.db import connection, transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds import pgcopy

pytestmark = pytest.mark.django_db

COLUMNS = "t text, v varchar(5), j jsonb, i4 integer, i8 bigint, n numeric(14,2)"
KINDS = ["text", "text", "jsonb", "int4", "int8", "numeric2"]


def _copy_back(table: pa.Table, kinds=KINDS, columns=COLUMNS) -> list[tuple]:
    """COPY the encoded rows into a temporary table and read them back in order (the
    test's transaction, or the savepoint of a failure, takes the table away)."""
    data = pgcopy.SIGNATURE + pgcopy.encode_rows(table, kinds) + pgcopy.TRAILER
    names = [c.split()[0] for c in columns.split(", ")]
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"CREATE TEMPORARY TABLE binary_copy (seq serial, {columns})")
        with cur.cursor.copy(
            f"COPY binary_copy ({', '.join(names)}) FROM STDIN (FORMAT binary)"
        ) as cp:
            cp.write(data)
        select = ", ".join(f"{n}::text" if n == "j" else n for n in names)
        cur.execute(f"SELECT {select} FROM binary_copy ORDER BY seq")  # noqa: S608 (test names)
        rows = cur.fetchall()
        cur.execute("DROP TABLE binary_copy")
    j = names.index("j") if "j" in names else None
    return [
        tuple(json.loads(v) if i == j and v is not None else v for i, v in enumerate(row))
        for row in rows
    ]


def _table(**columns) -> pa.Table:
    return pa.table({name: pa.array(values, pa.string()) for name, values in columns.items()})


def test_every_kind_and_null_reads_back_as_written():
    table = _table(
        t=["Café crème 50 cl", "", None, "日本語 ✓", "tab\tand\nnewline", 'quote " and \\'],
        v=["abcde", "", None, "ü", "x", "y"],
        j=['{"color": "Navy"}', "[]", None, '["https://s.example/a.jpg"]', "{}", '{"a": [1, 2]}'],
        i4=["12", "", None, "-7", "2147483647", "0"],
        i8=["9007199254740993", "", None, "-1", "0", "42"],
        n=["12.99", "", None, "0.00", "99999999.99", "10000.01"],
    )
    assert _copy_back(table) == [
        ("Café crème 50 cl", "abcde", {"color": "Navy"}, 12, 9007199254740993, Decimal("12.99")),
        ("", "", [], None, None, None),
        (None, None, None, None, None, None),
        ("日本語 ✓", "ü", ["https://s.example/a.jpg"], -7, -1, Decimal("0.00")),
        ("tab\tand\nnewline", "x", {}, 2147483647, 0, Decimal("99999999.99")),
        ('quote " and \\', "y", {"a": [1, 2]}, 0, 42, Decimal("10000.01")),
    ]


def test_integer_columns_may_be_typed_already():
    table = pa.table(
        {"i4": pa.array([1, None], pa.int32()), "i8": pa.array([None, 2**40], pa.int64())}
    )
    rows = _copy_back(table, ["int4", "int8"], "i4 integer, i8 bigint")
    assert rows == [(1, None), (None, 2**40)]


@pytest.mark.parametrize("bad", ["12.9", "12", "-1.00", "123456789.00", "1e3", "12.99 USD", "1,50"])
def test_a_price_outside_the_parsers_shape_is_refused_not_misread(bad):
    with pytest.raises(ValueError, match="two places"):
        pgcopy.encode_rows(_table(n=[bad]), ["numeric2"])


@pytest.mark.parametrize(
    ("values", "kind"), [(["2147483648"], "int4"), (["-2147483649"], "int4"), ([2**40], "int4")]
)
def test_an_integer_out_of_range_is_refused_not_wrapped(values, kind):
    column = pa.array(values, pa.int64() if isinstance(values[0], int) else pa.string())
    with pytest.raises(ValueError, match="out of range for int4"):
        pgcopy.encode_rows(pa.table({"i": column}), [kind])


def test_the_server_still_checks_what_it_would_check_in_csv():
    from psycopg.errors import DataError  # the COPY runs on psycopg's own cursor

    with pytest.raises(DataError):  # varchar(5) holds five characters, not six
        _copy_back(_table(v=["abcdef"]), ["text"], "v varchar(5)")
    with pytest.raises(DataError):  # jsonb is parsed by the server as it is from CSV
        _copy_back(_table(j=["{not json"]), ["jsonb"], "j jsonb")


def test_kinds_must_match_the_columns():
    with pytest.raises(ValueError, match="one kind per column"):
        pgcopy.encode_rows(_table(t=["a"]), ["text", "text"])
    with pytest.raises(ValueError, match="no binary COPY encoding"):
        pgcopy.encode_rows(_table(t=["a"]), ["date"])
    assert pgcopy.encode_rows(_table(t=[]), ["text"]) == b""


@settings(max_examples=60, deadline=None)
@given(
    texts=st.lists(
        st.one_of(st.none(), st.text(st.characters(codec="utf-8", exclude_characters="\x00"))),
        min_size=1,
        max_size=20,
    ),
    cents=st.lists(st.one_of(st.none(), st.integers(0, 9_999_999_999)), min_size=1, max_size=20),
)
def test_any_text_and_price_round_trip(texts, cents):
    n = min(len(texts), len(cents))
    texts, cents = texts[:n], cents[:n]
    prices = [None if c is None else f"{c // 100}.{c % 100:02d}" for c in cents]
    rows = _copy_back(_table(t=texts, n=prices), ["text", "numeric2"], "t text, n numeric(14,2)")
    assert rows == [
        (t, None if c is None else Decimal(c).scaleb(-2)) for t, c in zip(texts, cents, strict=True)
    ]
