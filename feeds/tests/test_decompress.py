"""Bomb-safe gzip/zip handling, table-driven."""

from __future__ import annotations

import gzip
import io
import zipfile

import pytest

from feeds.decompress import Limits, open_decompressed
from feeds.parsing import FeedError

FEED = b"id,title\n1,a\n2,b\n"


def _write(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in members.items():
            z.writestr(n, d)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "compression"),
    [
        (FEED, "auto"),
        (FEED, "none"),
        (gzip.compress(FEED), "auto"),
        (gzip.compress(FEED), "gzip"),
        (_zip({"feed.csv": FEED}), "auto"),
        (_zip({"dir/": b"", "dir/feed.csv": FEED, "__MACOSX/._feed.csv": b"x"}), "zip"),
    ],
)
def test_open_decompressed_ok(tmp_path, data, compression):
    with open_decompressed(_write(tmp_path, "f", data), compression) as s:
        assert s.read() == FEED


SMALL = Limits(max_expanded_bytes=10_000, max_ratio=20, max_members=3, ratio_grace_bytes=1000)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (gzip.compress(b"0" * 200_000), "too_large"),  # over the expanded cap
        (gzip.compress(b"0" * 9_000), "compression"),  # ratio ~ 300x > 20x
        (_zip({"a.csv": FEED, "b.csv": FEED}), "compression"),  # two feeds
        (_zip({f"{i}.txt": b"" for i in range(5)}), "compression"),  # too many members
        (_zip({"../evil.csv": FEED}), "compression"),  # traversal
        (_zip({"/abs.csv": FEED}), "compression"),
        (_zip({"dir/": b""}), "empty"),
        (gzip.compress(FEED)[:-6], "compression"),  # truncated gzip
        (b"PK\x03\x04garbage", "compression"),
    ],
)
def test_hostile_archives(tmp_path, data, code):
    with (
        pytest.raises(FeedError) as exc,
        open_decompressed(_write(tmp_path, "f", data), "auto", SMALL) as s,
    ):
        while s.read(4096):
            pass
    assert exc.value.code == code


def test_zip_declared_size_lie_is_caught(tmp_path):
    """A member whose header claims a small size but inflates more is stopped on real bytes."""
    data = bytearray(_zip({"f.csv": b"1" * 50_000}))
    # patch the declared uncompressed size in local header and central directory to 10
    lh = data.index(b"PK\x03\x04")
    data[lh + 22 : lh + 26] = (10).to_bytes(4, "little")
    cd = data.index(b"PK\x01\x02")
    data[cd + 24 : cd + 28] = (10).to_bytes(4, "little")
    with (
        pytest.raises(FeedError),
        open_decompressed(_write(tmp_path, "f", bytes(data)), "auto", SMALL) as s,
    ):
        while s.read(4096):
            pass


def test_declared_gzip_that_is_not(tmp_path):
    with pytest.raises(FeedError):
        open_decompressed(_write(tmp_path, "f", FEED), "gzip")


def _workbook() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["id", "title", "price", "availability"])
    wb.active.append(["A1", "Hat", "9.99 USD", "in stock"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_workbook(), id="xlsx"),
        pytest.param(
            _zip(
                {
                    "mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
                    "content.xml": b"<office:document-content/>",
                    "META-INF/manifest.xml": b"<manifest/>",
                }
            ),
            id="ods",
        ),
    ],
)
def test_a_spreadsheet_is_named_as_one(tmp_path, data):
    """A workbook is a zip of several XML parts: the seller is told to save the sheet as
    CSV, not to put "just one file" in the zip."""
    with pytest.raises(FeedError) as exc:
        open_decompressed(_write(tmp_path, "feed.xlsx", data), "auto")
    assert exc.value.code == "format"
    assert "spreadsheet" in exc.value.message and "CSV" in exc.value.message


def test_a_zipped_xml_feed_named_content_xml_is_still_a_feed(tmp_path):
    with open_decompressed(_write(tmp_path, "f", _zip({"content.xml": FEED})), "auto") as s:
        assert s.read() == FEED
