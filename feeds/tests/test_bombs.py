"""Bombs stop fast: the expanded size and the ratio are checked as the bytes stream, before
any row is parsed (no wall clock here: the tests count the bytes inflated and the rows)."""

from __future__ import annotations

import gzip
import io
import zipfile

import pytest

from catalogs.tests.factories import CatalogFactory
from feeds import services
from feeds.decompress import Limits, _CappedReader, check_expansion, open_decompressed
from feeds.models import FeedSettings, RunStatus, Trigger
from feeds.parsing import FeedError
from feeds.tests.factories import ProductSourceFactory

ROWS = b"".join(b"S%07d,x\n" % (i % 10) for i in range(100_000))  # short rows, ~1 MB


def gzip_bomb(path, expanded: int) -> int:
    """A multi-member gzip of short rows that inflates to ``expanded`` bytes (each member
    is the same compressed megabyte: written in a blink, valid for every gzip reader)."""
    member = gzip.compress(ROWS, compresslevel=9)
    n = expanded // len(ROWS)
    with open(path, "wb") as out:
        out.write(gzip.compress(b"id,title\n"))
        for _ in range(n):
            out.write(member)
    return n * len(ROWS)


def test_an_8_gib_gzip_of_short_rows_stops_in_its_first_megabytes(tmp_path):
    path = tmp_path / "bomb.csv.gz"
    gzip_bomb(path, 8 * 1024**3)
    assert path.stat().st_size < 40 * 1024**2
    stream = open_decompressed(str(path), "auto", Limits(max_expanded_bytes=512 * 1024**2))
    reader = stream.raw
    assert isinstance(reader, _CappedReader)
    with pytest.raises(FeedError) as exc:
        while stream.read(1024 * 1024):
            pass
    stream.close()
    assert exc.value.code == "compression" and "bomb" in exc.value.message
    # stopped at the ratio check after the grace output, not at the 512 MB cap
    assert reader.produced <= Limits().ratio_grace_bytes + 2 * 1024 * 1024


def test_a_zip_bomb_stops_in_its_first_megabytes(tmp_path):
    path = tmp_path / "bomb.zip"
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z,
        z.open("feed.csv", "w", force_zip64=True) as member,
    ):
        for _ in range(100):  # 100 MB of short rows, ~0.1 MB compressed
            member.write(ROWS)
    with pytest.raises(FeedError) as exc:
        check_expansion(str(path), "auto", Limits(max_expanded_bytes=4 * 1024**3))
    assert exc.value.code == "compression"


def test_check_expansion_measures_real_feeds(tmp_path):
    data = b"id,title\n" + b"".join(b"SKU-%d,Shoe number %d\n" % (i, i) for i in range(50_000))
    gz = tmp_path / "f.gz"
    gz.write_bytes(gzip.compress(data))
    assert check_expansion(str(gz)) == len(data)
    plain = tmp_path / "f.csv"
    plain.write_bytes(data)
    assert check_expansion(str(plain)) == len(data)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("feed.csv", data)
    zp = tmp_path / "f.zip"
    zp.write_bytes(buf.getvalue())
    assert check_expansion(str(zp)) == len(data)


@pytest.mark.django_db
def test_a_bomb_run_fails_before_parsing_a_row(tenant_a, tmp_path):
    """Before: a 512 MB cap was reached only after parsing millions of rows (183 s)."""
    fs = FeedSettings.load()
    fs.max_feed_bytes = 512 * 1024**2
    fs.save()
    catalog = CatalogFactory(tenant=tenant_a)
    source = ProductSourceFactory(catalog=catalog)
    path = services.upload_path_for("bomb.csv.gz")
    gzip_bomb(path, 2 * 1024**3)
    run, _ = services.feed_run_request(
        tenant=tenant_a,
        source=source,
        actor=None,
        trigger=Trigger.UPLOAD,
        file_path=path,
        file_name="bomb.csv.gz",
    )
    run = services.feed_run_execute(tenant_id=tenant_a.pk, run_id=run.pk)
    assert run.status == RunStatus.FAILED and run.error_code == "compression"
    assert run.rows_done == 0 and run.received == 0
