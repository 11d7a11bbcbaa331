"""A pull that reads every record (a first pull, a forced one) parses an uncompressed download
as it arrives (feeds.ingest.download) instead of after the whole file: with a real local HTTP
server that holds the rest of the file back, breaks off, or sends too much. Whatever the
download does, nothing is applied from a file that did not arrive whole."""

from __future__ import annotations

import glob
import gzip
import io
import os
import tempfile
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler

import pytest
from django.db import connection

from catalogs.models import Product
from catalogs.tests.factories import CatalogFactory
from feeds import csv_tables, records
from feeds.models import FeedRun, FeedSettings, RunStatus
from feeds.tests.feedserver import body, chunked
from feeds.tests.test_run_safety import feed, pull, url_source

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 3000


@pytest.fixture(autouse=True)
def fs(db):
    s = FeedSettings.load()
    s.manual_refresh_min_seconds = 0
    s.save()
    return s


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    """Blocks of 16 KB instead of 8 MB: a small feed is parsed in many of them."""
    monkeypatch.setattr(csv_tables, "BLOCK_SIZE", 16 << 10)
    monkeypatch.setattr(records, "BLOCK_BYTES", 16 << 10)


def products(catalog) -> list[tuple]:
    return list(
        Product.objects.for_tenant(catalog.tenant_id)
        .filter(catalog=catalog)
        .order_by("sku")
        .values_list("sku", "title", "price", "availability", "review_status")
    )


def leftover_downloads(run: FeedRun) -> list[str]:
    return glob.glob(os.path.join(tempfile.gettempdir(), f"feed-{run.pk}-*.bin"))


def held_back(data: bytes, *, until, send_rest: bool = True, wait: float = 20):
    """Sends the first half of ``data`` with a Content-Length of the whole, then waits up
    to ``wait`` seconds for ``until()`` before it sends the rest, or (``send_rest``
    False) closes the connection: the file breaks off. ``seen`` says whether ``until()``
    came true while the rest was held back, ``released`` that the hold is over."""
    seen, released = threading.Event(), threading.Event()

    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(len(data)))
        h.send_header("Connection", "close")
        h.end_headers()
        half = len(data) // 2
        h.wfile.write(data[:half])
        h.wfile.flush()
        try:
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                if until():
                    seen.set()
                    break
                time.sleep(0.05)
        finally:
            connection.close()  # this server thread's own
            released.set()
        if send_rest:
            h.wfile.write(data[half:])
            h.wfile.flush()
        h.close_connection = True

    handler.released = released
    return handler, seen


def rows_parsed() -> bool:
    """Whether a running pull has recorded parsed rows."""
    return FeedRun.objects.filter(status=RunStatus.RUNNING, rows_done__gt=0).exists()


def test_a_first_pull_parses_while_the_rest_of_the_file_downloads(tenant_a, server):
    data = feed(ROWS)
    handler, seen = held_back(data, until=rows_parsed)
    server.routes["/feed.csv"] = handler
    catalog = CatalogFactory(tenant=tenant_a)
    run = pull(tenant_a, url_source(catalog, server.url("/feed.csv")))
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert seen.is_set(), "no row was parsed before the whole file had arrived"
    assert run.created == ROWS and run.bytes_downloaded == len(data)
    assert not leftover_downloads(run)
    # the same catalog as the same file read once it is whole
    server.routes["/whole.csv"] = body(data)
    other = CatalogFactory(tenant=tenant_a)
    assert pull(tenant_a, url_source(other, server.url("/whole.csv"))).created == ROWS
    assert products(catalog) == products(other)


def test_a_download_that_breaks_off_mid_file_applies_nothing(tenant_a, server):
    """The server promises the whole length, sends half, waits until rows of that half
    were parsed and written, and closes: the run fails and the catalog stays empty."""
    data = feed(ROWS)
    handler, seen = held_back(data, until=rows_parsed, send_rest=False)
    server.routes["/feed.csv"] = handler
    catalog = CatalogFactory(tenant=tenant_a)
    run = pull(tenant_a, url_source(catalog, server.url("/feed.csv")))
    assert seen.is_set()
    assert run.status == RunStatus.FAILED
    assert run.error_code == "unreachable"
    assert "broke off" in run.error_message
    assert products(catalog) == []
    assert not leftover_downloads(run)


def test_a_chunked_download_without_its_last_chunk_applies_nothing(tenant_a, server):
    server.routes["/feed.csv"] = chunked(feed(ROWS), complete=False)
    catalog = CatalogFactory(tenant=tenant_a)
    run = pull(tenant_a, url_source(catalog, server.url("/feed.csv")))
    assert run.status == RunStatus.FAILED
    assert run.error_code == "unreachable"
    # in words, as a download cut short of its Content-Length (not "IncompleteRead(...)")
    assert run.error_message == "The download broke off before the end of the file."
    assert products(catalog) == []


def test_a_download_over_the_size_cap_fails_midway_and_applies_nothing(tenant_a, server, fs):
    """No length announced: the cap is found only as the bytes come, after rows of the
    first part were written."""
    data = feed(ROWS)
    fs.max_feed_bytes = len(data) * 3 // 4
    fs.save()
    server.routes["/feed.csv"] = chunked(data, size=16 << 10)
    catalog = CatalogFactory(tenant=tenant_a)
    run = pull(tenant_a, url_source(catalog, server.url("/feed.csv")))
    assert run.status == RunStatus.FAILED
    assert run.error_code == "too_large"
    assert products(catalog) == []
    assert not leftover_downloads(run)


def test_a_feed_that_fails_to_parse_stops_its_download(tenant_a, server):
    """A file that is no feed fails as soon as its head is read: the run ends while the
    server still holds the rest back, and the download is dropped with its temp file."""
    junk = b"\x00\x01binary junk\n" * 20000
    done = threading.Event()
    handler, _ = held_back(junk, until=done.is_set)
    server.routes["/feed.csv"] = handler
    catalog = CatalogFactory(tenant=tenant_a)
    run = pull(tenant_a, url_source(catalog, server.url("/feed.csv")))
    ended_first = not handler.released.is_set()
    done.set()
    assert run.status == RunStatus.FAILED
    assert ended_first, "the run waited for the rest of a file it could not read"
    assert not leftover_downloads(run)
    assert products(catalog) == []


def test_a_gzip_feed_is_read_once_it_is_whole(tenant_a, server):
    """A compressed feed's expansion is checked before a row is parsed (bombs): it waits
    for the whole file."""
    data = gzip.compress(feed(ROWS), mtime=0)
    handler, seen = held_back(data, until=rows_parsed, wait=3)
    server.routes["/feed.csv.gz"] = handler
    catalog = CatalogFactory(tenant=tenant_a)
    run = pull(tenant_a, url_source(catalog, server.url("/feed.csv.gz")))
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert not seen.is_set()  # nothing parsed while the rest was held back
    assert run.created == ROWS


def test_a_cut_off_gzip_fails_with_the_download_error(tenant_a, server):
    data = gzip.compress(feed(ROWS), mtime=0)
    handler, _ = held_back(data, until=rows_parsed, send_rest=False)
    server.routes["/feed.csv.gz"] = handler
    catalog = CatalogFactory(tenant=tenant_a)
    run = pull(tenant_a, url_source(catalog, server.url("/feed.csv.gz")))
    assert run.status == RunStatus.FAILED
    assert run.error_code == "unreachable"
    assert products(catalog) == []


def test_a_zip_feed_is_read_once_it_is_whole(tenant_a, server):
    """A zip's directory is at its end: its run waits for the whole file."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("feed.csv", feed(ROWS))
    handler, seen = held_back(buf.getvalue(), until=rows_parsed, wait=3)
    server.routes["/feed.zip"] = handler
    catalog = CatalogFactory(tenant=tenant_a)
    started = time.monotonic()
    run = pull(tenant_a, url_source(catalog, server.url("/feed.zip")))
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert run.created == ROWS
    assert not seen.is_set()  # nothing parsed while the rest was held back
    assert time.monotonic() - started >= 3


def test_a_re_pull_waits_for_the_whole_file_and_skips_an_identical_one(tenant_a, server):
    """With products there, unchanged records are skipped by their fingerprints and an
    identical file is not read at all, as before: only once the file is whole."""
    data = feed(ROWS)
    server.routes["/feed.csv"] = body(data, ETag='"v1"')
    catalog = CatalogFactory(tenant=tenant_a)
    source = url_source(catalog, server.url("/feed.csv"))
    assert pull(tenant_a, source).status == RunStatus.SUCCEEDED
    server.routes["/feed.csv"] = body(data, ETag='"v2"')  # same bytes, new validator
    run = pull(tenant_a, source)
    assert run.status == RunStatus.UNCHANGED, run.error_message
    changed = feed(ROWS, version=2)
    server.routes["/feed.csv"] = body(changed, ETag='"v3"')
    run = pull(tenant_a, source)
    assert run.status == RunStatus.SUCCEEDED and run.updated == ROWS


def with_changes(data: bytes, every: int) -> bytes:
    """``data`` with the title of every ``every``th product changed."""
    lines = data.split(b"\n")
    for k in range(1, len(lines), every):
        lines[k] = lines[k].replace(b" v1,", b" v1 new,")
    return b"\n".join(lines)


def test_a_re_pull_whose_download_breaks_off_removes_nothing(tenant_a, server):
    """Replace mode: the products after the break must not read as gone, though the server
    promised the whole length and the fingerprints skip what arrived."""
    data = feed(ROWS)
    server.routes["/feed.csv"] = body(data, ETag='"v1"')
    catalog = CatalogFactory(tenant=tenant_a)
    source = url_source(catalog, server.url("/feed.csv"))
    assert pull(tenant_a, source).created == ROWS
    before = products(catalog)
    handler, _ = held_back(
        with_changes(data, every=10), until=lambda: False, send_rest=False, wait=1
    )
    server.routes["/feed.csv"] = handler
    run = pull(tenant_a, source)
    assert run.status == RunStatus.FAILED and run.error_code == "unreachable"
    assert products(catalog) == before
    assert not leftover_downloads(run)


def test_a_gzip_bomb_on_a_first_pull_fails_before_a_row_is_parsed(tenant_a, server, tmp_path):
    from feeds.tests.test_bombs import gzip_bomb

    path = tmp_path / "bomb.csv.gz"
    gzip_bomb(path, 2 * 1024**3)
    server.routes["/feed.csv.gz"] = body(path.read_bytes())
    catalog = CatalogFactory(tenant=tenant_a)
    run = pull(tenant_a, url_source(catalog, server.url("/feed.csv.gz")))
    assert run.status == RunStatus.FAILED
    assert run.error_code == "compression"
    assert run.rows_done == 0 and run.received == 0
    assert products(catalog) == []
    assert not leftover_downloads(run)
