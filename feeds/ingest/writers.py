# SQL below is built only from quoted table/column names of our own models and the per-run
# staging table name (an integer id); every value goes through parameters.
# ruff: noqa: S608
"""Threaded writers that COPY parsed chunks into staging (or a first pull's products)."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import queue
import threading

import pyarrow as pa
import pyarrow.csv as pacsv
from django.utils import timezone

from catalogs.models import Catalog, Product
from catalogs.sort_keys import (
    sort_keys_attach_partition,
    sort_keys_build_indexes,
    sort_keys_defer,
    sort_keys_drop_unattached,
    sort_keys_fill_new_partition,
    sort_keys_finish_partition,
    sort_keys_index_builds,
    sort_keys_new_partition_table,
)
from feeds import pgcopy
from feeds.ingest.changes import _created_changes
from feeds.ingest.context import _Ctx, _Steps
from feeds.ingest.merge import _link_created_products_sql
from feeds.ingest.staging import (
    _STAGE_TYPES,
    DIFF_FIELDS,
    PRODUCT_COLUMNS,
    STAGED_COLUMNS,
    _has_products_sql,
    _nulls_for_numbers,
    _qn,
    _second_connection,
    _with_line_hash,
)
from feeds.models import (
    ChangeKind,
    FeedRun,
    FeedRunChange,
)

log = logging.getLogger(__name__)


class _StageWriter:
    """One COPY into the staging table on its own connection, fed block by block from a
    bounded queue by the parsing thread (at most two blocks in flight)."""

    def __init__(self, run: FeedRun):
        self.conn = _second_connection(autocommit=True)
        self._start(run.stage_table, STAGED_COLUMNS)

    copy_format = "csv"

    def _start(self, table: str, cols: list[str]) -> None:
        self.cols = cols
        self.sql = (
            f"COPY {_qn(table)} ({', '.join(_qn(c) for c in cols)}) "
            f"FROM STDIN (FORMAT {self.copy_format})"
        )
        self.queue: queue.Queue = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._loop, name="feeds-copy", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        ended = False  # the producer's None was taken: nothing more will be queued
        try:
            with self.conn.cursor() as cur, cur.copy(self.sql) as copy:
                while (buf := self.queue.get()) is not None:
                    copy.write(buf)
                ended = True
        except BaseException as exc:  # the server may refuse the data as the COPY ends
            self.error = exc
            while not ended and self.queue.get() is not None:  # unblock the producer
                pass

    def put(self, table: pa.Table) -> None:
        if self.error is not None:
            raise self.error
        if table.num_rows == 0:
            return
        self.queue.put(self._encode(self._rows(_nulls_for_numbers(_with_line_hash(table)))))

    def _rows(self, table: pa.Table) -> pa.Table:
        return table.select(self.cols)

    def _encode(self, table: pa.Table) -> bytes:
        buf = io.BytesIO()
        pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False))
        return buf.getvalue()

    def _end_of_data(self) -> bytes:
        return b""

    def finish_copy(self) -> None:
        """Wait for the COPY to take the last block."""
        if end := self._end_of_data():
            self.queue.put(end)
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        try:
            self.finish_copy()
        finally:
            self.conn.close()

    def abort(self) -> None:
        """Stop the COPY and drop the connection (an open transaction rolls back)."""
        self.queue.put(None)
        self.thread.join(timeout=60)
        with contextlib.suppress(Exception):
            self.conn.close()


# how the direct first pull's binary COPY encodes each products column (text otherwise)
_PRODUCT_COPY_KINDS = {
    **{c: pgcopy.KIND_OF_TYPE[t] for c, t in _STAGE_TYPES.items() if t in pgcopy.KIND_OF_TYPE},
    **dict.fromkeys(("feed_line_hash", "tenant_id", "catalog_id", "last_seen_run_id"), "int8"),
    # a timestamptz's binary form is an int8 of microseconds since 2000-01-01 UTC
    **dict.fromkeys(("id", "reviewed_at"), "int8"),
}


class _ProductWriter(_StageWriter):
    """A first pull into an empty catalog skips staging: validated blocks go by COPY
    straight into catalogs_product on a second connection while this thread parses on, in
    one transaction that holds the catalog's apply lock and commits only when the run
    succeeds (``commit``); anything else rolls it back (``abort``, or the connection's end
    if the worker dies). PostgreSQL maintains the product indexes (most of a first pull's
    time) while Python parses, instead of after it, and no row is written twice. The COPY
    is binary (feeds.pgcopy): the backend is the bottleneck here, so values arrive ready
    rather than as CSV text for it to split and parse.

    With ECR on, each block is reviewed before it is written (ecr.services.
    feed_block_reviewer): the products carry their ids and review status, their issues
    follow them in a COPY of their own, and the ids shared in the catalog are settled
    before the COMMIT. No review pass over the products follows."""

    copy_format = "binary"

    @classmethod
    def open(cls, ctx: _Ctx) -> _ProductWriter | None:
        """A writer holding the catalog's lock, or None when the catalog has products."""
        conn = _second_connection(autocommit=False)
        try:
            # NO KEY UPDATE: conflicts with another apply's FOR UPDATE, but lets rows that
            # reference the catalog (runs, row errors) be written meanwhile
            locked = conn.execute(
                f"SELECT 1 FROM {_qn(Catalog._meta.db_table)} WHERE tenant_id = %s AND id = %s "
                "FOR NO KEY UPDATE",
                [ctx.tenant.pk, ctx.catalog.pk],
            ).fetchone()
            row = conn.execute(_has_products_sql(), [ctx.tenant.pk, ctx.catalog.pk]).fetchone()
            # a catalog that is gone (or not the tenant's) takes the staged path, whose
            # foreign key checks fail it; an empty one we hold is written without them
            direct = locked is not None and not row[0]
            fk_checks_skipped = direct and _skip_foreign_key_checks(conn)
            reviewer = sort_keys = None
            if direct:  # the list's sort keys are built in bulk
                with conn.cursor() as cur:
                    sort_keys_defer(cur)
                reviewer = _block_reviewer(ctx, conn)
                if reviewer is not None:  # the ids are known as the rows are written
                    sort_keys = _SortKeyWriter.open(ctx, conn, reviewer.pg_timestamp)
        except BaseException:
            conn.close()
            raise
        if not direct:
            conn.close()
            return None
        return cls(
            ctx, conn, fk_checks_skipped=fk_checks_skipped, reviewer=reviewer, sort_keys=sort_keys
        )

    def __init__(self, ctx: _Ctx, conn, *, fk_checks_skipped: bool, reviewer=None, sort_keys=None):
        run = ctx.run
        self.conn = conn
        self.sort_keys: _SortKeyWriter | None = sort_keys  # None: built from the rows at commit
        self.fk_checks_skipped = fk_checks_skipped
        self.reviewer = reviewer  # None with ECR off: the products are written Pending
        self.run = run
        self.rows_written = 0
        self.sample_limit = ctx.fs.max_stored_changes
        self.sample: list[dict] = []  # the first created products, for the run's diff
        self.sample_written = False  # queued as soon as it is full, else at the commit
        # the bookkeeping times of a new product (first seen, changed, ...) are left to
        # their database default, now(): the start of this transaction for every row
        # (catalogs migration 0007; six timestamps per row cost ~7 s to parse at 1M rows)
        self.constants = {
            "tenant_id": pa.scalar(run.tenant_id, pa.int64()),
            "catalog_id": pa.scalar(run.catalog_id, pa.int64()),
            "last_seen_run_id": pa.scalar(run.pk, pa.int64()),
            "review_status": pa.scalar("pending", pa.string()),
        }
        cols = [*PRODUCT_COLUMNS, "feed_line_hash", *self.constants]
        if reviewer is not None:
            del self.constants["review_status"]
            cols = [*PRODUCT_COLUMNS, "feed_line_hash", *self.constants, *_REVIEWED_COLUMNS]
        self.copy_kinds = [_PRODUCT_COPY_KINDS.get(c, "text") for c in cols]
        self.issues = None  # the last block's issues, COPYed after its products
        self.steps = _Steps("write")
        if reviewer is not None:
            self.issue_kinds = [_ISSUE_COPY_KINDS.get(c, "text") for c in reviewer.issue_columns]
        self._start(Product._meta.db_table, cols)
        # a block is reviewed and encoded in a thread of its own while the parser reads
        # and validates the next one (the parser was the pull's critical path)
        self.blocks: queue.Queue = queue.Queue(maxsize=1)
        self.block_error: BaseException | None = None
        self.aborted = False  # the blocks still handed over are dropped
        self.preparer = threading.Thread(target=self._prepare, name="feeds-blocks", daemon=True)
        self.preparer.start()

    def put(self, table: pa.Table) -> None:
        """Hand a validated block to the writer (the error of an earlier block is raised)."""
        if self.block_error is not None:
            raise self.block_error
        if table.num_rows == 0:
            return
        with self.steps("handoff_wait"):
            self.blocks.put(table)

    def _prepare(self) -> None:
        self.block_error = _consume(self.blocks, self._write_block)

    def _end_blocks(self, timeout: float | None = None) -> None:
        """Wait for the blocks handed over to be queued for their COPY."""
        if self.preparer.is_alive():
            self.blocks.put(None, timeout=timeout)
            self.preparer.join(timeout)

    def _write_block(self, table: pa.Table) -> None:
        """One COPY per block on the writer's connection: its products, then their issues
        (ECR on), so that both are written while the parser reads the next block."""
        if self.aborted:
            return
        if self.error is not None:
            raise self.error
        step = self.steps
        rows = self._rows(_nulls_for_numbers(_with_line_hash(table)))
        if self.sort_keys is not None:
            with step("encode_sort_keys"):
                if not self.sort_keys.put_rows(rows):  # built from the rows at commit instead
                    self.sort_keys.abort()
                    self.sort_keys = None
        with step("encode"):
            rows = self._encode(rows)
        with step("queue_wait"):
            self.queue.put((self.sql, b"".join((pgcopy.SIGNATURE, rows, pgcopy.TRAILER))))
        if self.issues is not None and self.issues.num_rows:
            with step("encode_issues"):
                data = pgcopy.encode_rows(self.issues, self.issue_kinds)
            with step("queue_wait"):
                self.queue.put(
                    (self.reviewer.copy_sql, b"".join((pgcopy.SIGNATURE, data, pgcopy.TRAILER)))
                )
        self.issues = None
        if not self.sample_written and len(self.sample) >= self.sample_limit:
            with step("queue_wait"):  # written while parsing, not at the commit
                self.queue.put(self._sample_copy())
            self.sample_written = True

    def _loop(self) -> None:
        with self.conn.cursor() as cur:

            def write(item: tuple[str, bytes]) -> None:
                sql, data = item
                with cur.copy(sql) as copy:
                    copy.write(data)

            self.error = _consume(self.queue, write)

    def _rows(self, table: pa.Table) -> pa.Table:
        n = table.num_rows
        need = self.sample_limit - len(self.sample)
        sampled = table.slice(0, max(need, 0)).select(["sku", *DIFF_FIELDS]).to_pylist()
        self.rows_written += n
        table = table.select([*PRODUCT_COLUMNS, "line_hash"]).rename_columns(
            [*PRODUCT_COLUMNS, "feed_line_hash"]
        )
        for name, value in self.constants.items():
            table = table.append_column(name, pa.repeat(value, n))
        if self.reviewer is not None and n:
            ids = self.reviewer.take_ids(n)
            for row, pid in zip(sampled, ids[: len(sampled)].tolist(), strict=True):
                row["product_id"] = pid
            with self.steps("review"):
                statuses, self.issues = self.reviewer.review_block(table, ids)
            reviewed_at = self.reviewer.pg_timestamp(timezone.now())
            table = (
                table.append_column("id", pa.array(ids))
                .append_column("review_status", statuses)
                .append_column("reviewed_at", pa.repeat(pa.scalar(reviewed_at, pa.int64()), n))
            )
        self.sample += sampled
        return table

    def _encode(self, table: pa.Table) -> bytes:
        return pgcopy.encode_rows(table, self.copy_kinds)

    def commit(self) -> None:
        """The run's diff sample and counts, in the products' transaction; then COMMIT
        (the catalog foreign key's deferred checks run here)."""
        run, step = self.run, self.steps
        with self.conn.cursor() as cur:
            if self.fk_checks_skipped:  # the rest of the transaction is checked as usual
                cur.execute("SET LOCAL session_replication_role = origin")
            if self.reviewer is not None:  # the ids shared in the whole catalog
                with step("settle"):
                    self.reviewer.settle(cur)
                step.times.update(getattr(self.reviewer, "times", {}))
            # statistics first (ANALYZE counts this transaction's rows): with those of an
            # empty catalog the planner linked 1,000 diff rows to a million products by
            # scanning the products for each one (33 s instead of milliseconds). Only the
            # columns the link and the review hand-off filter on (0.24 s against 0.75 s for
            # all of them at 1M); autovacuum analyzes the rest after the COMMIT.
            with step("analyze"):
                cur.execute(
                    f"ANALYZE {_qn(Product._meta.db_table)} "
                    "(tenant_id, catalog_id, sku, review_status, removed_at)"
                )
            if not self.sample_written:  # fewer products than the sample holds
                sql, data = self._sample_copy()
                with step("sample"), cur.copy(sql) as copy:
                    copy.write(data)
            if self.reviewer is None:  # ids from the column default: linked by sku
                with step("link"):
                    cur.execute(*_link_created_products_sql(run))
            cur.execute(
                f"UPDATE {_qn(FeedRun._meta.db_table)} SET created = %s, updated = 0, "
                "unchanged = %s, removed = 0 WHERE id = %s",
                [run.created, run.unchanged, run.pk],
            )
            # last: its ATTACH locks the sort keys' default partition until the COMMIT
            with step("sort_keys"):
                if self.sort_keys is not None and not self.sort_keys.built():
                    self.sort_keys = None  # dropped: built from the rows instead
                if self.sort_keys is not None:
                    sort_keys_attach_partition(
                        cur, tenant_id=run.tenant_id, catalog_id=run.catalog_id
                    )
                else:
                    sort_keys_fill_new_partition(
                        cur, tenant_id=run.tenant_id, catalog_id=run.catalog_id
                    )
        with step("commit"):
            self.conn.commit()
        self.conn.close()
        if self.sort_keys is not None:  # attached and committed: no abort may drop it now
            sort_keys, self.sort_keys = self.sort_keys, None
            sort_keys.conn.close()
        step.log(run)

    def _sample_copy(self) -> tuple[str, bytes]:
        """The COPY of the run's diff sample (the created products, with their ids when
        they were taken ahead), as CSV."""
        run, rows = self.run, self.sample
        k = len(rows)
        table = pa.table(
            {
                "tenant_id": pa.repeat(pa.scalar(run.tenant_id, pa.int64()), k),
                "run_id": pa.repeat(pa.scalar(run.pk, pa.int64()), k),
                "kind": pa.repeat(pa.scalar(ChangeKind.CREATED.value, pa.string()), k),
                "product_id": pa.array([r.get("product_id") for r in rows], pa.int64()),
                "sku": pa.array([r["sku"] for r in rows], pa.string()),
                "changes": pa.array([json.dumps(_created_changes(r)) for r in rows], pa.string()),
            }
        )
        cols = ", ".join(table.column_names)
        sql = f"COPY {_qn(FeedRunChange._meta.db_table)} ({cols}) FROM STDIN (FORMAT csv)"
        buf = io.BytesIO()
        pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False))
        return sql, buf.getvalue()

    def finish_copy(self) -> None:
        """Wait for the COPY to take the last block; the sort key partition's indexes are
        then built on its own connection while this one settles and analyzes."""
        self._end_blocks()
        if self.block_error is not None:
            raise self.block_error
        if self.sort_keys is not None:
            self.sort_keys.finish_and_build()
        super().finish_copy()

    def abort(self) -> None:
        self.aborted = True
        with contextlib.suppress(queue.Full):
            self._end_blocks(timeout=60)
        super().abort()
        if self.sort_keys is not None:
            self.sort_keys.abort()
        if self.reviewer is not None:
            self.reviewer.close()

    def reviewed(self):
        """The review done while writing (for ecr.services.review_after_feed_run), or None
        with ECR off."""
        return self.reviewer.review if self.reviewer is not None else None


class _SortKeyWriter(_StageWriter):
    """The product list's sort keys of a first pull, written beside its products: a new
    partition table filled by one binary COPY on a connection of its own as the blocks
    come, committed unattached and then indexed once the last block is written (half of
    its indexes on a second connection, while the products' connection settles and
    analyzes), and attached by the products' transaction just before its COMMIT. It takes
    the place of building the partition from the products table after them
    (catalogs.sort_keys.sort_keys_fill_new_partition), which remains the fallback: when
    this writer fails, its table is dropped and the products' transaction builds the
    partition itself. A table left unattached by a pull that failed after it was committed
    is dropped by the catalog's next first pull."""

    copy_format = "binary"
    columns = ["tenant_id", "product_id", "catalog_id", "title", "price", "last_changed_at"]
    kinds = ["int8", "int8", "int8", "text", "numeric2", "int8"]

    @classmethod
    def open(cls, ctx: _Ctx, products_conn, pg_timestamp) -> _SortKeyWriter | None:
        """A writer, or None (the catalog has a partition: its products were deleted).
        ``pg_timestamp``: a time as a timestamptz's binary COPY value (the reviewer's)."""
        # the products' own default for last_changed_at: their transaction's start
        changed_at = products_conn.execute("SELECT now()").fetchone()[0]
        conn = _second_connection(autocommit=False)
        try:
            with conn.cursor() as cur:
                table = sort_keys_new_partition_table(
                    cur, tenant_id=ctx.run.tenant_id, catalog_id=ctx.run.catalog_id
                )
        except BaseException:
            conn.close()
            raise
        if table is None:
            conn.close()
            return None
        return cls(ctx, conn, table, pg_timestamp(changed_at))

    def __init__(self, ctx: _Ctx, conn, table: str, changed_at: int):
        self.conn = conn
        self.table = table
        run = ctx.run
        self.catalog_id = run.catalog_id
        self.changed_at = pa.scalar(changed_at, pa.int64())
        self.started = False
        self.builder: threading.Thread | None = None
        self.committed = False  # the filled table is committed, unattached
        self.indexed = False  # and its indexes are built: ready to attach
        self.helper_conn = None  # the second connection of the index builds
        self._start(table, self.columns)

    def put_rows(self, products: pa.Table) -> bool:
        """The sort keys of a block of products (with their ids); False once the COPY
        failed."""
        if self.error is not None:
            log.warning("sort keys beside a first pull failed: %r", self.error)
            return False
        table = products.select(["tenant_id", "id", "catalog_id", "title", "price"])
        table = table.append_column("last_changed_at", pa.repeat(self.changed_at, len(table)))
        data = pgcopy.encode_rows(table, self.kinds)
        self.queue.put(data if self.started else pgcopy.SIGNATURE + data)
        self.started = True
        return True

    def _end_of_data(self) -> bytes:
        return pgcopy.TRAILER if self.started else pgcopy.SIGNATURE + pgcopy.TRAILER

    def finish_and_build(self) -> None:
        """End the COPY, then index and commit the table in the background."""
        try:
            self.finish_copy()
        except Exception:  # kept in self.error: built() says False
            return
        self.builder = threading.Thread(target=self._build, name="feeds-sort-keys", daemon=True)
        self.builder.start()

    def _build(self) -> None:
        try:
            # committed before its indexes are built: PostgreSQL builds a btree with
            # parallel workers only on a table not created in the same transaction, and
            # another connection can build half of them at the same time (at a million
            # products 1.9-2.1 s for the four against 2.4-2.6 s one after the other):
            # the sort keys' builds are the pull's tail, with a core otherwise idle
            self.conn.commit()
            self.committed = True
            own, other = sort_keys_index_builds(self.table)
            # opened here, not in its thread: an abort can then always cancel it
            self.helper_conn = _second_connection(autocommit=False)
            helper = threading.Thread(
                target=self._build_beside, args=(other,), name="feeds-sort-keys-2", daemon=True
            )
            helper.start()
            try:
                with self.conn.cursor() as cur:
                    sort_keys_build_indexes(cur, own)
            except BaseException:
                with contextlib.suppress(Exception):  # its half is of no use now
                    self.helper_conn.cancel()
                raise
            finally:
                helper.join()
            if self.error is not None:
                raise self.error
            with self.conn.cursor() as cur:
                sort_keys_finish_partition(cur, self.table)
            self.conn.commit()
            self.indexed = True
        except BaseException as exc:
            self.error = self.error or exc

    def _build_beside(self, builds: list[str]) -> None:
        """Some of the index builds, committed on the second connection, then closed."""
        try:
            with self.helper_conn.cursor() as cur:
                sort_keys_build_indexes(cur, builds)
            self.helper_conn.commit()
        except BaseException as exc:
            self.error = exc
        finally:
            with contextlib.suppress(Exception):
                self.helper_conn.close()

    def built(self) -> bool:
        """Whether the table is ready to attach (else it is dropped: see the class)."""
        if self.builder is not None:
            self.builder.join()
        if self.indexed and self.error is None:
            return True
        log.warning("sort keys beside a first pull failed, built after it: %r", self.error)
        self.abort()
        return False

    def abort(self) -> None:
        """Roll back the table, or drop it once committed (a failed pull leaves none)."""
        if self.builder is not None:
            for conn in (self.conn, self.helper_conn):
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.cancel()
            self.builder.join(timeout=60)
        else:
            super().abort()
        with contextlib.suppress(Exception):
            if self.committed:
                self.conn.rollback()  # a failed index build's transaction
                with self.conn.cursor() as cur:
                    sort_keys_drop_unattached(cur, catalog_id=self.catalog_id)
                self.conn.commit()
                self.committed = False
        with contextlib.suppress(Exception):
            self.conn.close()


def _consume(items: queue.Queue, handle) -> BaseException | None:
    """Pass each queued item to ``handle`` until the producer's None. After a failure the
    items still coming are taken and dropped until that None, so that the producer never
    waits on a full queue; the failure is returned."""
    try:
        while (item := items.get()) is not None:
            handle(item)
    except BaseException as exc:
        while items.get() is not None:
            pass
        return exc
    return None


# the binary COPY of the issues: ids, and created_at as a timestamptz (int8 microseconds)
_ISSUE_COPY_KINDS = dict.fromkeys(("tenant_id", "catalog_id", "product_id", "created_at"), "int8")
# what a reviewed first pull writes besides the feed's columns and the constants
_REVIEWED_COLUMNS = ("id", "review_status", "reviewed_at")


def _block_reviewer(ctx: _Ctx, conn):
    """ECR's reviewer of this run's blocks (None with ECR off or not installed). Products
    are pending since this transaction's start, their review_requested_at."""
    from feeds.ingest.apply import _review_entry

    entry = _review_entry("feed_block_reviewer")
    if entry is None:
        return None
    requested_at = conn.execute("SELECT now()").fetchone()[0]
    return entry(tenant=ctx.tenant, catalog=ctx.catalog, requested_at=requested_at)


def _skip_foreign_key_checks(conn) -> bool:
    """Turn off the foreign key checks of the rows this transaction writes, where the
    database role may (a superuser, or PostgreSQL 15+ `GRANT SET ON PARAMETER
    session_replication_role`): checking that each of a million new products belongs to
    its tenant's catalog costs 6-10 s (queued per row, run at COMMIT), and a first pull
    holds that one catalog row locked (FOR NO KEY UPDATE: it can be neither deleted nor
    re-keyed until the COMMIT) and writes its tenant and id into every row itself. Other
    roles keep the checks; the run is the same, only slower."""
    import psycopg

    conn.execute("SAVEPOINT fk_checks")  # a refusal must leave the transaction usable
    try:
        conn.execute("SET LOCAL session_replication_role = replica")
    except psycopg.errors.InsufficientPrivilege:
        conn.execute("ROLLBACK TO SAVEPOINT fk_checks")
        return False
    conn.execute("RELEASE SAVEPOINT fk_checks")
    return True
