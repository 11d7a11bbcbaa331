# SQL below is built only from quoted table/column names of our own models and the per-run
# staging table name (an integer id); every value goes through parameters.
# ruff: noqa: S608
"""Fetch, parse and stage one run (the steps before it applies)."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import time
from datetime import timedelta
from functools import partial

import numpy as np
from django.conf import settings
from django.db import (
    connection,
)
from django.utils import timezone

from catalog_health.tenancy.models import Tenant
from catalog_health.tenancy.services import audit_record
from catalogs.models import Catalog, Product
from feeds import crypto
from feeds.decompress import Limits, check_expansion, open_decompressed
from feeds.fetching import fetch
from feeds.ingest.apply import _apply_and_finish, _store_row_errors
from feeds.ingest.context import _Ctx, _phase, _save, _Unchanged
from feeds.ingest.download import StreamedDownload
from feeds.ingest.merge import _changed_since, _products_version
from feeds.ingest.staging import (
    _analyze_stage,
    _create_stage,
    _is_pg,
    _qn,
    _stage_table,
    _store_columns,
    _store_seen,
)
from feeds.ingest.writers import _ProductWriter, _StageWriter
from feeds.models import (
    FeedRowError,
    FeedRun,
    FeedSettings,
    Phase,
    ProductSource,
    RunStatus,
    Trigger,
    UpdateMode,
)
from feeds.outbound import FetchPolicy, FetchResult
from feeds.parsing import (
    FORMAT_XML,
    FeedError,
    ValidationState,
    detect_compression,
    detect_format,
)
from feeds.readers import RecordMatcher, ReparseNeeded, parse_feed_tables
from feeds.records import rules_version

log = logging.getLogger(__name__)

_DEFER_SECONDS = 5


def _tenant_at_limit(*, tenant: Tenant, run: FeedRun, fs: FeedSettings) -> bool:
    """True when the tenant already runs its share of pulls (fair workers: one tenant's slow
    sources cannot hold every worker). The tenant row is locked so that two workers starting
    two of its runs at once count each other. Runs without a fresh heartbeat (dead workers,
    left to the reaper) do not count; an import_feed command is never deferred."""
    limit = fs.max_concurrent_runs_per_tenant
    if not limit or run.trigger == Trigger.COMMAND or settings.CELERY_TASK_ALWAYS_EAGER:
        return False
    # NO KEY UPDATE: serializes the starts of one tenant's runs without waiting for the
    # transactions that insert its rows (a first pull holds its tenant for KEY SHARE)
    Tenant.objects.select_for_update(no_key=True).filter(pk=tenant.pk).first()
    fresh = timezone.now() - timedelta(minutes=fs.stuck_run_minutes)
    running = (
        FeedRun.objects.for_tenant(tenant)
        .filter(status=RunStatus.RUNNING, heartbeat_at__gte=fresh)
        .exclude(pk=run.pk)
        .count()
    )
    return running >= limit


def _fetch_policy(fs: FeedSettings) -> FetchPolicy:
    cidrs = [c for c in fs.fetch_allow_list.split() if c.strip()]
    cidrs += list(getattr(settings, "FEEDS_FETCH_ALLOW_LIST", []))
    return FetchPolicy.with_allow_list(
        cidrs,
        max_bytes=fs.max_feed_bytes,
        connect_timeout=fs.connect_timeout_seconds,
        read_timeout=fs.read_timeout_seconds,
        total_timeout=fs.total_timeout_seconds,
        max_redirects=fs.max_redirects,
    )


def _obtain_file(ctx: _Ctx) -> str:
    """Fetch the URL or take the uploaded/local file; return a local path whose expansion
    was checked (a compression bomb fails here, before a row is parsed)."""
    path = _local_file(ctx) if ctx.run.file_path else _take_download(ctx, _download(ctx))
    _check_expansion(ctx, path)
    return path


def _may_skip_unchanged_file(ctx: _Ctx) -> bool:
    """Whether a file the source's validators call unchanged (a 304, an equal sftp stat, the
    same whole-file hash) may end the run unread: not when forced, nor when the last good
    pull was read by other reading rules (what they stored may read differently now)."""
    source = ctx.source
    return source is not None and not ctx.run.force and source.last_rules_version == rules_version()


def _check_expansion(ctx: _Ctx, path: str) -> None:
    run, source = ctx.run, ctx.source
    identical = _may_skip_unchanged_file(ctx) and run.content_sha256 == source.last_sha256
    if not identical:  # an identical file ends as unchanged without being read
        limits = Limits(max_expanded_bytes=ctx.fs.max_feed_bytes)
        compression = source.compression if source is not None else "auto"
        check_expansion(path, compression or "auto", limits)


def _local_file(ctx: _Ctx) -> str:
    run = ctx.run
    if not ctx.keep_file:
        ctx.temp_files.append(run.file_path)
    if not os.path.exists(run.file_path):
        raise FeedError("missing_file", "The feed file could not be found.")
    size = os.path.getsize(run.file_path)
    if size > ctx.fs.max_feed_bytes:
        raise FeedError("too_large", "The feed file is larger than the size limit.")
    h = hashlib.sha256()
    with open(run.file_path, "rb") as fh:
        for block in iter(lambda: fh.read(1024 * 1024), b""):
            h.update(block)
    run.bytes_downloaded = size
    run.content_sha256 = h.hexdigest()
    _save(run, "bytes_downloaded", "content_sha256")
    return run.file_path


def _download(ctx: _Ctx, on_body=None, on_progress=None) -> FetchResult:
    """Download the run's URL (``on_body``/``on_progress``: see fetch)."""
    run, source = ctx.run, ctx.source
    url = run.location
    password = ""
    username = ""
    if source is not None:
        username = source.username
        password = crypto.decrypt(run.one_time_password_encrypted or source.password_encrypted)
        if run.one_time_password_encrypted:  # used once, then forgotten
            run.one_time_password_encrypted = ""
            _save(run, "one_time_password_encrypted")
    conditional = _may_skip_unchanged_file(ctx)
    return fetch(
        url,
        policy=_fetch_policy(ctx.fs),
        username=username,
        password=password,
        etag=source.last_etag if conditional else "",
        last_modified=source.last_modified if conditional else "",
        on_progress=on_progress or _progress_saver(run),
        host_key_type=source.host_key_type if source is not None else "",
        host_key_fingerprint=source.host_key_fingerprint if source is not None else "",
        temp_prefix=_temp_prefix(run),
        on_body=on_body,
    )


def _progress_saver(run: FeedRun):
    last_save = [0.0]

    def progress(n: int) -> None:
        run.bytes_downloaded = n
        if time.monotonic() - last_save[0] > 0.5:
            last_save[0] = time.monotonic()
            _save(run, "bytes_downloaded")

    return progress


def _take_download(ctx: _Ctx, result: FetchResult) -> str:
    """Record a finished download on the run (and pin an sftp server's key on first use);
    return the file's path."""
    run, source = ctx.run, ctx.source
    if source is not None and result.host_key_fingerprint and not source.host_key_fingerprint:
        # trust on first use: the first pull that logged in and read the file pins the key
        pinned = (
            ProductSource.objects.for_tenant(ctx.tenant)
            .filter(pk=source.pk, host_key_fingerprint="")
            .update(
                host_key_type=result.host_key_type,
                host_key_fingerprint=result.host_key_fingerprint,
            )
        )
        if pinned:
            audit_record(
                tenant=ctx.tenant,
                actor=None,
                action="feed_source.host_key_pinned",
                target=source,
                changes={"host_key": f"{result.host_key_type} {result.host_key_fingerprint}"},
            )
    if result.not_modified:
        raise _Unchanged
    ctx.temp_files.append(result.path)
    run.bytes_downloaded = result.size
    run.content_sha256 = result.sha256
    run.etag = result.etag[:500]
    run.last_modified = result.last_modified[:100]
    run.incomplete_reason = (
        result.unframed if result.unframed and not _format_proves_end(result.path, source) else ""
    )
    _save(run, "bytes_downloaded", "content_sha256", "etag", "last_modified", "incomplete_reason")
    return result.path


def _temp_prefix(run: FeedRun) -> str:
    """Downloads of a run are named feed-<run id>-*.bin, so the reaper can find them."""
    return f"feed-{run.pk}-"


def _format_proves_end(path: str, source: ProductSource | None) -> bool:
    """Whether the file's format has an end the reader insists on, so a cut-off body fails
    instead of reading as a shorter feed: gzip (end-of-stream marker and CRC), zip (central
    directory at the end) and XML (the closing root element). CSV and TSV have none."""
    with open(path, "rb") as fh:
        head = fh.read(65536)
    if detect_compression(head) in ("gzip", "zip"):
        return True
    fmt = source.format if source is not None else "auto"
    if fmt in ("csv", "tsv"):
        return False
    if fmt == FORMAT_XML:
        return True
    try:
        return detect_format(head, source.encoding or None if source else None) == FORMAT_XML
    except FeedError:
        return False


def _ingest(ctx: _Ctx) -> None:
    run, source, fs = ctx.run, ctx.source, ctx.fs
    download = stream = None
    with _phase(run, Phase.FETCHING):
        # the fingerprints of the last pull are read on another connection while the file
        # downloads (not inside an outer transaction, e.g. a test's, which it could not see)
        background = None
        if not run.force and _is_pg() and not connection.in_atomic_block:
            background = _BackgroundMatcher(ctx.catalog)
        matcher: RecordMatcher | None = None
        try:
            if _may_stream(ctx):
                download = StreamedDownload(
                    partial(_download, ctx), on_progress=_progress_saver(run)
                )
                # every record is read (no fingerprints to skip by): no need for the end
                if run.force or not _has_fingerprints(ctx.catalog):
                    head = download.wait_for_head(_STREAM_HEAD_BYTES)
                    if head is not None:
                        stream = _streamed_body(ctx, download, head)
            if stream is None:
                if download is not None:
                    path = _take_download(ctx, download.result())
                    _check_expansion(ctx, path)
                else:
                    path = _obtain_file(ctx)
                if (
                    _may_skip_unchanged_file(ctx)
                    and source.last_sha256
                    and run.content_sha256 == source.last_sha256
                    and not _changed_since(ctx.catalog, source.last_success_at)
                ):
                    # an identical file over the catalog it last applied to: nothing to
                    # parse (after another source's run or an edit, it is applied again)
                    raise _Unchanged
        except BaseException:
            if background is not None:
                background.cancel()
            if download is not None:
                download.cancel()
            raise
        if stream is not None:
            if background is not None:
                background.cancel()
        elif background is not None:
            # parsing starts now; it waits for the fingerprints only where it needs them
            # (an empty catalog has none: its pull may write straight into the products)
            matcher = background if _has_fingerprints(ctx.catalog) else background.result()
        elif not run.force:
            matcher = _unchanged_record_matcher(ctx.catalog)
    with _phase(run, Phase.PARSING):
        try:
            if stream is not None:  # every record is read, as the file arrives
                state, rejected_skus = _parse_into_stage(ctx, "", None, stream=stream)
                _take_download(ctx, download.result())
            else:
                state, rejected_skus = _parse_into_stage(ctx, path, matcher)
        except ReparseNeeded:  # an edge case the shortcut cannot decide: read everything
            log.info("feed run %s: parsing every record again", run.pk)
            FeedRowError.objects.filter(run=run).delete()
            matcher = None
            state, rejected_skus = _parse_into_stage(ctx, path, None)
        except BaseException:
            if download is not None:
                download.cancel()
            if matcher is background and background is not None:
                background.cancel()
            raise
        if matcher is background and background is not None:
            matcher = background.result()
    with _phase(run, Phase.VALIDATING):
        run.rows_total = state.received
        _save(run, "rows_total")
        if state.received == 0:
            raise FeedError("empty", "The feed has a header but no products.")
        share = state.rejected / state.received
        if share > fs.rejected_share_threshold:
            raise FeedError(
                "rejected_share",
                f"{state.rejected} of {state.received} rows ({share:.0%}) were rejected, more "
                f"than the {fs.rejected_share_threshold:.0%} allowed; nothing was applied. "
                "See the run's row errors.",
            )
        if state.cut_off_line and run.mode == UpdateMode.REPLACE and not run.incomplete_reason:
            # its products after the cut would read as removed: the removals are held
            run.incomplete_reason = (
                f"The file ends in the middle of line {state.cut_off_line}: that last row has "
                "fewer fields than the header and no line end, so the file looks cut off."
            )
            _save(run, "incomplete_reason")
        if ctx.direct is None:
            _store_seen(run, rejected_skus)  # the unread ones only if the apply needs them
            ctx.matcher = matcher
            _analyze_stage(run)
    _apply_and_finish(ctx)


# enough of a body to tell whether it is compressed (then it is read once whole)
_STREAM_HEAD_BYTES = 8


def _may_stream(ctx: _Ctx) -> bool:
    """Whether the run's download may be read as it arrives: a URL (not an uploaded file),
    on PostgreSQL outside an outer transaction (the writers' second connection must see
    the run's rows)."""
    return not ctx.run.file_path and _is_pg() and not connection.in_atomic_block


def _has_fingerprints(catalog: Catalog) -> bool:
    """Whether the catalog's active products carry the fingerprints a pull skips unchanged
    records by (else the pull reads every record)."""
    return (
        Product.objects.for_tenant(catalog.tenant_id)
        .filter(catalog=catalog, removed_at__isnull=True, feed_line_hash__isnull=False)
        .exists()
    )


def _streamed_body(ctx: _Ctx, download: StreamedDownload, head: bytes):
    """The feed read from the download as it arrives, or None when it must be whole first:
    a compressed file, whose expansion is checked before a row is parsed (a bomb's first
    megabytes would otherwise be parsed as rows), and a zip's directory is at its end. A
    run whose download fails fails when its reader reaches the break, before anything is
    applied."""
    source = ctx.source
    if (source.compression if source is not None else "") not in ("", "auto", "none"):
        return None
    if detect_compression(head) != "none":
        return None
    assert download.path is not None
    ctx.temp_files.append(download.path)
    return download.reader()


class _BackgroundMatcher:
    """_unchanged_record_matcher in a thread with its own connection; cancel() stops its
    query (a 304 or an identical file needs no fingerprints).

    It stands in for the matcher it loads: the parser splits and hashes the file's first
    blocks while ``ready()`` is false, and its first lookup waits for the fingerprints
    (with none, every record is parsed)."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.pg = None
        self.cancelled = False
        self.value: RecordMatcher | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="feeds-matcher", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            connection.ensure_connection()
            self.pg = connection.connection
            if not self.cancelled:
                self.value = _unchanged_record_matcher(self.catalog)
        except BaseException as exc:
            self.error = exc
        finally:
            connection.close()

    def result(self) -> RecordMatcher | None:
        self.thread.join()
        if self.error is not None:
            raise self.error
        return self.value

    def ready(self) -> bool:
        return not self.thread.is_alive()

    def __call__(self, block, hashes: np.ndarray, state) -> np.ndarray:
        matcher = self.result()
        return matcher(block, hashes, state) if matcher is not None else np.ones(len(block), bool)

    def parsed_before_matched(self, errors) -> bool:
        matcher = self.result()
        return matcher is not None and matcher.parsed_before_matched(errors)

    def cancel(self) -> None:
        self.cancelled = True
        # a cancel request that reaches the server between two of the thread's queries
        # is lost, and the next one ran to its end (a second at a million products, on
        # every 304): sent again until the thread ends
        while self.thread.is_alive():
            if self.pg is not None:
                with contextlib.suppress(Exception):
                    self.pg.cancel()
            self.thread.join(0.05)


def _unchanged_record_matcher(catalog: Catalog) -> RecordMatcher | None:
    """The fingerprints of the raw records behind the catalog's active products, for the
    parser to skip the records that come back byte for byte (None when there are none)."""
    if not _is_pg():
        return None  # the embedded SQLite default parses every record (small catalogs)
    version = _products_version(catalog)  # read before the fingerprints it describes
    import psycopg

    connection.ensure_connection()
    # binary results need a server-binding cursor (Django's are client-side binding)
    with psycopg.Cursor(connection.connection) as cur:
        # one row, two aggregates fed by the same scan in the same order: the hashes packed
        # and the skus (a million rows fetched one by one cost seconds in Python)
        cur.execute(  # binary: psycopg reads a million-element array in C
            "SELECT string_agg(int8send(feed_line_hash), ''::bytea), array_agg(sku) "
            f"FROM {_qn(Product._meta.db_table)} "
            "WHERE tenant_id = %s AND catalog_id = %s AND removed_at IS NULL "
            "AND feed_line_hash IS NOT NULL",
            [catalog.tenant_id, catalog.pk],
            binary=True,
        )
        packed, skus = cur.fetchone()
    if not packed:
        return None
    hashes = np.frombuffer(bytes(packed), dtype=">i8").astype(np.int64)
    order = np.argsort(hashes, kind="stable")
    known = hashes[order]
    # one take of an object array: a list comprehension over a million indexes costs
    # 0.24 s of the matcher, this 0.09 s
    skus = np.array(skus, dtype=object)[order].tolist()

    def lookup(new: np.ndarray) -> np.ndarray:
        # searched in ascending order, each search starts where the last ended (NumPy's
        # binary search): half the time of searching a block's hashes as they come
        order = np.argsort(new)
        at = np.empty(len(new), dtype=np.intp)
        at[order] = np.searchsorted(known, new[order])
        at = np.minimum(at, len(known) - 1)
        return np.where(known[at] == new, at, -1)

    return RecordMatcher(lookup, skus, products_version=version)


def _parse_into_stage(
    ctx: _Ctx, path: str, matcher: RecordMatcher | None, *, stream=None
) -> tuple[ValidationState, set[str]]:
    """Stream, validate and stage the feed's rows (all of them, or with a matcher only the
    records that changed since the last pull); row errors are stored as they come. The
    feed is the file at ``path``, or ``stream`` (a download read as it arrives)."""
    run, source, fs = ctx.run, ctx.source, ctx.fs
    state = ValidationState(
        default_currency=ctx.catalog.currency,
        country=ctx.catalog.country,
        partial=run.mode != UpdateMode.REPLACE,
    )
    fmt = source.format if source else "auto"
    compression = source.compression if source else "auto"
    encoding = (source.encoding or None) if source else None
    # The mode is part of a record's fingerprint: the same line means other values in replace
    # mode (absent columns reset) than in update mode (absent columns kept).
    context = (fmt or "auto", ctx.catalog.currency, ctx.catalog.country, run.mode)
    stored_errors = 0
    rejected_skus: set[str] = set()
    # what a confirmation applies later was read now, by these rules (see _finish)
    run.rules_version = rules_version()
    _save(run, "rules_version")
    _create_stage(run)
    pg = _is_pg()
    if stream is None:
        limits = Limits(max_expanded_bytes=fs.max_feed_bytes)
        stream = open_decompressed(path, compression, limits)
    # PostgreSQL: a second connection COPYs block N while this one parses block N+1
    # (not inside an outer transaction, e.g. a test's: the other connection could not
    # see the uncommitted staging table); straight into the products on a first pull
    writer = None
    try:
        if pg and not connection.in_atomic_block:
            if matcher is None:
                writer = ctx.direct = _ProductWriter.open(ctx)
            writer = writer or _StageWriter(run)
        for good, errs in parse_feed_tables(
            stream,
            fmt=fmt,
            encoding=encoding,
            state=state,
            context=context,
            matcher=matcher,
        ):
            if writer is not None:
                writer.put(good)
            else:
                _stage_table(run, good)
            rejected_skus.update(e.sku for e in errs if e.severity == "error" and e.sku)
            if errs and stored_errors < fs.max_stored_row_errors:
                keep = errs[: fs.max_stored_row_errors - stored_errors]
                _store_row_errors(run, keep)
                stored_errors += len(keep)
            run.rows_done = state.received
            run.received, run.rejected, run.warnings = (
                state.received,
                state.rejected,
                state.warnings,
            )
            _save(run, "rows_done", "received", "rejected", "warnings")
        _store_columns(run, state.columns)
        if writer is not None:
            if writer is ctx.direct:  # its transaction stays open until the run succeeds
                with writer.steps("copy_tail"):
                    writer.finish_copy()
            else:
                writer.close()
            writer = None
    finally:
        stream.close()
        if writer is not None:
            writer.abort()
            ctx.direct = None
    return state, rejected_skus
