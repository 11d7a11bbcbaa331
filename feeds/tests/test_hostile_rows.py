"""A problem in one row stays in that row: the row is rejected and named by its line, the
rest of the feed applies (issue: trustworthy ingest, "row-local failures stay row-local"
and "encoding")."""

from __future__ import annotations

import pytest

from catalogs.tests.factories import CatalogFactory
from feeds import parsing, records
from feeds.models import FeedRowError, FeedSettings, RunStatus
from feeds.tests.factories import ProductSourceFactory
from feeds.tests.test_services import products, upload_run

pytestmark = pytest.mark.django_db(transaction=True)

HEADER = b"id,title,price\n"


@pytest.fixture(autouse=True)
def fs(db):
    FeedSettings.objects.update_or_create(
        pk=1, defaults={"manual_refresh_min_seconds": 0, "rejected_share_threshold": 0.9}
    )


@pytest.fixture
def source(tenant_a):
    return ProductSourceFactory(catalog=CatalogFactory(tenant=tenant_a))


def run_feed(tenant, source, body: bytes):
    run = upload_run(tenant, source, body)
    assert run.status == RunStatus.SUCCEEDED, (run.error_code, run.error_message)
    errors = {
        (e.line, e.sku, e.field)
        for e in FeedRowError.objects.filter(run=run, severity="error").order_by("line")
    }
    return run, errors


def titles(source):
    return dict(products(source.catalog).values_list("sku", "title"))


def rows(n: int, title: str = "Café crème") -> list[bytes]:
    return [f"S{i},{title} {i},{i + 1}.00 USD\n".encode() for i in range(n)]


def test_one_bad_byte_rejects_its_row_and_the_file_stays_utf8(tenant_a, source):
    body = rows(6)
    body[3] = b"S3,Caf\xe9 cr\xe8me 3,4.00 USD\n"  # Windows-1252 bytes in a UTF-8 file
    _run, errors = run_feed(tenant_a, source, HEADER + b"".join(body))
    assert errors == {(5, "S3", "row")}
    assert titles(source) == {f"S{i}": f"Café crème {i}" for i in (0, 1, 2, 4, 5)}


def test_a_bad_byte_after_the_first_64_kib(tenant_a, source):
    body = rows(3000)
    body[2500] = b"S2500,bad \xff byte,1.00 USD\n"
    run, errors = run_feed(tenant_a, source, HEADER + b"".join(body))
    assert errors == {(2502, "S2500", "row")} and run.created == 2999


def test_a_windows_1252_file_is_read_as_such():
    head = HEADER + "S1,Café crème,1.00 USD\nS2,Crêpe,2 USD\n".encode("cp1252")
    assert parsing.detect_encoding(head) == "cp1252"
    mostly = HEADER + "S1,Café crème,1.00 USD\n".encode() + b"S2,Cr\xeape,2 USD\n"
    assert parsing.detect_encoding(mostly) == "utf-8"


def test_a_nul_byte_rejects_its_row(tenant_a, source):
    body = rows(4)
    body[1] = b"S1,Hat\x00,2.00 USD\n"
    run, errors = run_feed(tenant_a, source, HEADER + b"".join(body))
    assert errors == {(3, "S1", "row")} and run.created == 3


def test_a_field_over_the_limit_rejects_its_row(tenant_a, source):
    body = rows(4)
    body[2] = b"S2,Hat,2.00 USD," + b"x" * (10 << 20) + b"\n"  # one 10 MB field
    body[3] = b"S3,Cap,3.00 USD\n"
    run, errors = run_feed(tenant_a, source, HEADER + b"".join(body))
    assert errors == {(4, "S2", "row")} and run.created == 3


def test_a_64_kib_custom_attribute_is_a_row_error(tenant_a, source):
    head = b"id,title,price,note\n"
    body = [b"S0,Hat,1 USD,short\n", b"S1,Cap,2 USD," + b"y" * 70_000 + b"\n", b"S2,Bag,3 USD,\n"]
    run, errors = run_feed(tenant_a, source, head + b"".join(body))
    assert errors == {(3, "S1", "note")} and run.created == 2


def test_a_bare_cr_rejects_its_row_and_keeps_later_line_numbers(tenant_a, source):
    body = rows(6)
    body[1] = b"S1,Hat\rRed,2.00 USD\n"
    body[4] = b"S4,Bad price,ten dollars\n"
    run, errors = run_feed(tenant_a, source, HEADER + b"".join(body))
    assert errors == {(3, "S1", "row"), (6, "S4", "price")}
    assert run.created == 4


def test_a_bare_cr_after_a_stray_quote_gets_the_bare_cr_message(tenant_a, source):
    """The stray quote on line 3 runs over the next lines, which are then read one by one:
    line 4's bare CR is named as a bare CR is anywhere else, with its row's id."""
    body = rows(5)
    body[1] = b'S1,"Hat,2.00 USD\n'
    body[2] = b"S2,Cap\rRed,3.00 USD\n"
    run, errors = run_feed(tenant_a, source, HEADER + b"".join(body))
    assert errors == {(3, "S1", "row"), (4, "S2", "row")}
    message = FeedRowError.objects.get(run=run, line=4).message
    assert message == records.CR_MESSAGE
    assert set(titles(source)) == {"S0", "S3", "S4"}


def test_a_bare_cr_after_a_quote_inside_a_value_is_a_bare_cr(tenant_a, source):
    """The quote is a character (it opens no quoted value), so the CR after it on the same
    line is outside quotes: one row error at its line, and the later rows keep theirs."""
    body = rows(5)
    body[1] = b'S1,TV 55" screen\rRed,2.00 USD\n'
    body[3] = b"S3,Bad price,ten dollars\n"
    run, errors = run_feed(tenant_a, source, HEADER + b"".join(body))
    assert errors == {(3, "S1", "row"), (5, "S3", "price")}
    assert FeedRowError.objects.get(run=run, line=3).message == records.CR_MESSAGE
    assert set(titles(source)) == {"S0", "S2", "S4"}


def test_an_inch_mark_in_an_unquoted_title_loses_no_rows(tenant_a, source):
    """A quote inside an unquoted value is a character: it opens no quoted value, so the
    rows after it (more than a row's 1 MiB of them) are read, and a replace run removes
    none of them."""
    body = rows(50_000)
    upload_run(tenant_a, source, HEADER + b"".join(body))
    body[100] = b'S100,TV 55" screen,101.00 USD\n'
    run, errors = run_feed(tenant_a, source, HEADER + b"".join(body))
    assert errors == set()
    assert (run.received, run.updated, run.removed) == (50_000, 1, 0)
    assert products(source.catalog).get(sku="S100").title == 'TV 55" screen'


def test_a_quoted_cr_and_crlf_line_endings_are_fine(tenant_a, source):
    body = b'id,title,price\r\nS0,"Two\rlines",1 USD\r\nS1,Cap,2 USD\r\n'
    _run, errors = run_feed(tenant_a, source, body)
    assert errors == set() and titles(source) == {"S0": "Two\rlines", "S1": "Cap"}


def test_an_unclosed_quote_rejects_its_row_only(tenant_a, source):
    body = rows(5)
    body[1] = b'S1,"Hat,2.00 USD\n'
    _run, errors = run_feed(tenant_a, source, HEADER + b"".join(body))
    assert (3, "S1", "row") in errors
    assert set(titles(source)) == {"S0", "S2", "S3", "S4"}


def test_an_ascii_head_leaves_the_encoding_to_the_first_other_bytes(tenant_a, source):
    # a 70 KB row (rejected) fills the first 64 KiB with ASCII; the Windows-1252 rows after
    # it are read as such, not as bad UTF-8
    body = [b"S0,Hat,1 USD," + b"x" * 70_000 + b"\n"]
    body += ["S1,Café crème,2 USD,\nS2,Zoë,3 USD,\n".encode("cp1252")]
    _run, errors = run_feed(tenant_a, source, b"id,title,price,note\n" + b"".join(body))
    assert errors == {(2, "S0", "note")}
    assert titles(source) == {"S1": "Café crème", "S2": "Zoë"}


def test_a_nul_in_a_utf16_feed_rejects_its_row(tenant_a, source):
    text = "id,title,price\nS0,Hat,1 USD\nS1,Cap\x00,2 USD\nS2,Bag,3 USD\n"
    _, errors = run_feed(tenant_a, source, text.encode("utf-16"))
    assert errors == {(3, "S1", "title")}
    assert set(titles(source)) == {"S0", "S2"}


def test_a_quoted_line_break_in_a_row_with_a_field_too_many_is_one_row_error(tenant_a, source):
    """Found by the feed fuzz drill: the record spans two lines but no row hides in it, so it
    is one rejected row, not one per line."""
    body = HEADER + b',,,"\n"\n' + b"".join(rows(3))
    _run, errors = run_feed(tenant_a, source, body)
    assert [line for line, _sku, _field in errors] == [2]
    assert set(titles(source)) == {"S0", "S1", "S2"}


@pytest.mark.parametrize(
    "record, errors, kept",
    [
        pytest.param(  # the line after the break has as many fields as the header
            b'S1,"Cap","Blue\nfelt",https://example.com/img/cap,w_100,2.00 USD\n',
            {(3, "S1", "row", "the row has 6 fields, the header 4")},
            {"S0", "S2"},
            id="quoted-line-break-two-fields-too-many",
        ),
        pytest.param(
            b'S1,"Cap","Blue\nwool,felt,linen,silk\nlined",https://example.com/c,w_1,2 USD\n',
            {(3, "S1", "row", "the row has 6 fields, the header 4")},
            {"S0", "S2"},
            id="a-middle-line-reads-as-a-row",
        ),
        pytest.param(  # a quote opened by mistake, closed by an inch mark two rows down
            b'S1,"Cap,Blue,2.00 USD\nS5,Scarf,Red,5.00 USD\nS6,TV 55",Black,6 USD,x\n',
            {
                (3, "S1", "row", "the row has a quote that is never closed"),
                (5, "S6", "row", "the row has 5 fields, the header 4"),
            },
            {"S0", "S2", "S5"},
            id="stray-quote-closed-by-an-inch-mark",
        ),
    ],
)
def test_a_row_with_a_quoted_line_break_and_the_wrong_field_count(
    tenant_a, source, record, errors, kept
):
    """A well-formed row whose quoted value holds a line break, with fields too many, is
    one row error with its real field count: no "quote never closed", and no product made
    of a line of its value. A quote opened by mistake still gives back the rows it ran over."""
    head = b"id,title,description,price\n"
    body = head + b"S0,Hat,Red,1.00 USD\n" + record + b"S2,Bag,Green,3.00 USD\n"
    run, _ = run_feed(tenant_a, source, body)
    found = FeedRowError.objects.filter(run=run, severity="error")
    assert {(e.line, e.sku, e.field, e.message) for e in found} == errors
    assert set(titles(source)) == kept


def test_a_quote_never_closed_in_a_rows_last_field_gives_back_the_rows_after_it(tenant_a, source):
    """The quote opens the last field of line 3 and nothing closes it: the reader would take
    every later line into that one value (and a replace run would remove their products).
    Line 3 is a row error; the lines after it are read on their own."""
    head = b"id,title,price,color\n"
    whole = [b"S0,Hat,1.00 USD,red\n", b"S1,Cap,2.00 USD,\n", b"S2,Bag,3.00 USD,blue\n"]
    run_feed(tenant_a, source, head + b"".join(whole))
    broken = [whole[0], b'S1,Cap,2.00 USD,"never closed\n', whole[2], b"S3,Box,4.00 USD,\n"]
    run, errors = run_feed(tenant_a, source, head + b"".join(broken))
    assert errors == {(3, "S1", "row")}
    assert FeedRowError.objects.get(run=run, line=3).message == (
        "the row has a quote that is never closed"
    )
    assert set(titles(source)) == {"S0", "S1", "S2", "S3"}  # S1 is kept as it was
    assert (run.created, run.removed) == (1, 0)
    color = products(source.catalog).get(sku="S2").custom_attributes
    assert color == {"color": "blue"}


def test_a_file_cut_inside_a_quoted_value_holds_its_removals(tenant_a, source):
    """Cut in the middle of a quoted description, with no line end: the file looks cut off,
    so the products after the cut are not removed without a confirmation."""
    head = b"id,title,description,price\n"
    whole = [f'S{i},Hat {i},"Wool, warm",{i + 1}.00 USD\n'.encode() for i in range(8)]
    run_feed(tenant_a, source, head + b"".join(whole))
    cut = head + b"".join(whole[:4]) + b'S4,Hat 4,"Wool, wa'
    run = upload_run(tenant_a, source, cut)
    assert run.status == RunStatus.NEEDS_CONFIRMATION, (run.error_code, run.error_message)
    assert "line 6" in run.incomplete_reason
    assert set(titles(source)) == {f"S{i}" for i in range(8)}
