"""Writing an order export's typed lines into catalogs_order on PostgreSQL: staged by COPY
into a temp table chunk by chunk, then merged set-based in one transaction (the usual
UPDATE + INSERT … ON CONFLICT, or, for a load larger than the table, into the bare table
with its indexes built again at the end); a tenant's first load is written into the bare
table chunk by chunk as the file is read (_FirstLoad). See docs/orders.md (Benchmark)."""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from django.db import IntegrityError, OperationalError, connection, transaction

from catalogs.order_io import ORDER_COLUMNS, RowError

if TYPE_CHECKING:
    import pyarrow as pa

UNKNOWN_SKU_LINES = 20  # lines listed per unknown sku
UNKNOWN_SKUS_LISTED = 200


def count_lines(result, lines, errors, read: int, order_ids: set | None) -> None:
    """Add one chunk's typed lines and row errors to an import's or preview's counts (and
    its order ids to order_ids, unless None: the import counts them in the staging table,
    so that its memory does not grow with the file)."""
    result.lines += read
    result.errors.extend(errors)
    if order_ids is not None:
        order_ids.update(lines["order_id"].unique())
    result.shipped += int(lines["shipped_at"].notna().sum())
    result.cancelled += int(lines["cancelled_at"].notna().sum())


# Times are staged as microseconds since the epoch (UTC): pyarrow writes integers ten times
# faster than formatted timestamps, and the merge turns them back exactly (STAGED_VALUES).
STAGE_COLUMNS = (
    "line int, order_id text, sku text, quantity bigint, item_price numeric(12,2), "
    "shipping_fee numeric(12,2), placed_at bigint, ship_by bigint, "
    "shipped_at bigint, delivered_at bigint, cancelled_at bigint, "
    "cancel_reason text, tracking_number text, repeated boolean"
)
STAGED_TIMES = ("placed_at", "ship_by", "shipped_at", "delivered_at", "cancelled_at")
# what a line carries besides its key (order_id, sku, and the catalog imported into)
ORDER_VALUE_COLUMNS = ORDER_COLUMNS[2:]


def _phase(result, name: str, since: float) -> float:
    now = time.perf_counter()
    result.timings[name] = round(now - since, 3)
    return now


STAGE = "order_import_stage"


def orders_import_postgres(result, order_file, *, tenant, catalog, progress) -> None:
    """Stage the file's chunks (COPY) and merge them in one transaction; or, once a tenant
    without orders has brought BULK_MIN_LINES lines, stream the rest straight into the
    table (_FirstLoad), each chunk written while the next is typed."""
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS pg_temp.{STAGE}")
        # a partition a chunk: a first load inserts each chunk's lines from its own
        cur.execute(f"CREATE TEMP TABLE {STAGE} ({STAGE_COLUMNS}) PARTITION BY RANGE (line)")
        try:
            with contextlib.ExitStack() as in_transaction:
                first_load = _FirstLoad(result, cur, tenant=tenant, catalog=catalog)
                staged, opened = 0, False
                for lines, errors, read, block in read_ahead(_staged_chunks(order_file)):
                    count_lines(result, lines, errors, read, None)
                    if block is not None:
                        first, last = int(lines["line"].min()), int(lines["line"].max())
                        chunk = _stage_chunk(cur, block, first=first, last=last)
                        if first_load.started:
                            first_load.write(chunk, first=first, last=last)
                        else:
                            first_load.staged_lines(first, last)
                        staged += len(lines)
                    if first_load.may_start(staged):
                        _transaction_open(cur, in_transaction)
                        opened = True
                        first_load.start()
                    if progress:
                        progress(result.lines)
                mark = _phase(result, "read, typed and staged", started)
                if not opened:
                    _transaction_open(cur, in_transaction)
                _staged_count(result, cur, stage=STAGE, tenant=tenant, catalog=catalog)
                mark = _phase(result, "counted", mark)
                if first_load.started:
                    first_load.finish()
                else:
                    _orders_merge(result, cur, tenant=tenant, catalog=catalog)
                mark = _phase(result, "merged", mark)
            _phase(result, "committed", mark)
        finally:
            cur.execute(f"DROP TABLE IF EXISTS pg_temp.{STAGE}")


def _transaction_open(cur, stack: contextlib.ExitStack) -> None:
    """Open the import's one transaction on stack (a first load opens it while reading)."""
    stack.enter_context(transaction.atomic())
    # sorts and hash tables of 1M lines in memory (the DISTINCT ON, the counts)
    cur.execute("SET LOCAL work_mem = '256MB'")


def _stage_chunk(cur, block, *, first: int, last: int) -> str:
    """COPY one chunk's lines (numbered first to last) into a new partition of the stage;
    returns its name."""
    partition = f"{STAGE}_{first}"
    cur.execute(
        f"CREATE TEMP TABLE {partition} PARTITION OF {STAGE} "
        f"FOR VALUES FROM ({first}) TO ({last + 1})"
    )
    with cur.cursor.copy(
        # a tracking number left unknown is written unquoted (NULL), a known empty one as ""
        f"COPY {partition} FROM STDIN (FORMAT csv, FORCE_NOT_NULL (order_id, sku, cancel_reason))"
    ) as copy:
        copy.write(block)
    return partition


def _staged_count(result, cur, *, stage: str, tenant, catalog) -> None:
    """Count the staged lines' orders and list their unknown skus (errors, one a line).
    The stage is not ANALYZEd: the planner sizes its partitions from their pages, which is
    all these queries and the merge's need (ANALYZE samples every partition: ~2 s at 1M)."""
    # a hash aggregate: a third faster than count(DISTINCT …), which sorts
    cur.execute(
        f"SELECT count(*) FROM (SELECT order_id FROM {stage} GROUP BY order_id) t"  # noqa: S608
    )
    result.orders = cur.fetchone()[0]
    cur.execute(
        f"SELECT s.sku, array_agg(s.line ORDER BY s.line) FROM {stage} s "  # noqa: S608
        "WHERE NOT EXISTS (SELECT 1 FROM catalogs_product p WHERE p.tenant_id = %s "
        'AND p.catalog_id = %s AND p.sku = s.sku COLLATE "C") GROUP BY s.sku ORDER BY 1',
        [tenant.pk, catalog.pk],
    )
    for sku, lines in cur.fetchall():
        if len(result.unknown_skus) < UNKNOWN_SKUS_LISTED:
            result.unknown_skus[sku] = lines[:UNKNOWN_SKU_LINES]
        result.errors.extend(
            RowError(line, "sku", f"{sku!r} is not a product of {catalog.name}") for line in lines
        )


def _staged_chunks(order_file):
    """(lines, errors, rows read, the lines as the staging table's CSV or None) per chunk. A
    line that a later line of its chunk repeats (same order id and sku) is staged as
    `repeated`."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    for lines, errors, read in order_file.chunks():
        staged = None
        if len(lines):
            repeated = lines.duplicated(["order_id", "sku"], keep="last").to_numpy()
            # pyarrow's CSV writer: several times faster than DataFrame.to_csv
            sink = pa.BufferOutputStream()
            pa_csv.write_csv(
                _stage_table(lines, repeated), sink, pa_csv.WriteOptions(include_header=False)
            )
            staged = memoryview(sink.getvalue())
        yield lines, errors, read, staged


READ_AHEAD_CHUNKS = 1


def read_ahead(chunks: Iterator, depth: int = READ_AHEAD_CHUNKS) -> Iterator:
    """The items of chunks, produced by a thread up to depth items ahead: the file is read
    and typed (pandas, pyarrow: no database) while the caller's COPY of the previous chunk
    runs in PostgreSQL, on the other core. Memory: depth chunks. The producer's exception
    is raised here; a consumer that stops early stops the producer."""
    items: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in chunks:
                if not put((None, item)):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            put((exc, None))
            return
        put((None, done))

    thread = threading.Thread(target=produce, name="order-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            exc, item = items.get()
            if exc is not None:
                raise exc
            if item is done:
                return
            yield item
    finally:
        stop.set()
        thread.join()


def _stage_table(lines, repeated) -> pa.Table:
    """Typed order lines as the staging table's columns (times as epoch microseconds)."""
    import pyarrow as pa

    table = pa.Table.from_pandas(lines, preserve_index=False)
    i = table.schema.get_field_index("tracking_number")  # all None: pyarrow's null type
    table = table.set_column(i, "tracking_number", table.column(i).cast(pa.string()))
    for name in STAGED_TIMES:
        i = table.schema.get_field_index(name)
        table = table.set_column(i, name, table.column(i).cast(pa.timestamp("us", "UTC")))
        table = table.set_column(i, name, table.column(i).cast(pa.int64()))
    return table.append_column("repeated", pa.array(repeated))


def _staged_value(column: str) -> str:
    if column in STAGED_TIMES:  # exact: integer microseconds, no floating point
        return (
            f"to_timestamp(s.{column} / 1000000) "
            f"+ mod(s.{column}, 1000000) * interval '1 microsecond' AS {column}"
        )
    return f"s.{column}"


# A line whose source did not say its tracking number (NULL: Shopify's export has no such
# column) keeps the number the table has (typed in Manage Orders, or from another file).
KEPT_WHEN_UNKNOWN = ("tracking_number",)


def _incoming(column: str, new: str, old: str) -> str:
    """The value an import writes into column: the new line's (alias new), or for a column
    of KEPT_WHEN_UNKNOWN left unknown, the stored line's (alias old)."""
    if column in KEPT_WHEN_UNKNOWN:
        return f"coalesce({new}.{column}, {old}.{column})"
    return f"{new}.{column}"


def _known_lines_sql() -> str:
    """The staged lines whose sku is a product of the catalog, one per (order id, sku): the
    file's last line wins, as in orders_parse. Sorted byte-wise (COLLATE "C": the same
    groups, equality being byte equality, without the locale's slower comparisons)."""
    values = ", ".join(_staged_value(c) for c in ORDER_VALUE_COLUMNS)
    return f"""
        SELECT DISTINCT ON (s.order_id COLLATE "C", s.sku COLLATE "C")
            p.id AS product_id, s.order_id, s.sku, {values}
        FROM {STAGE} s
        JOIN catalogs_product p ON p.tenant_id = %(tenant)s AND p.catalog_id = %(catalog)s
            AND p.sku = s.sku COLLATE "C"
        ORDER BY s.order_id COLLATE "C", s.sku COLLATE "C", s.line DESC"""  # noqa: S608


# An import bringing at least this many new lines, more than the order table holds (a
# first load, an install's early days), rebuilds the table's indexes instead of maintaining
# them row by row; see _orders_merge.
BULK_MIN_LINES = 100_000
BULK_LOCK_TIMEOUT = "3s"


def _orders_table_smaller_than(cur, lines: int) -> bool:
    """Whether catalogs_order holds fewer rows than `lines` (counting at most that many)."""
    cur.execute("SELECT count(*) FROM (SELECT 1 FROM catalogs_order LIMIT %s) t", [lines])
    return cur.fetchone()[0] < lines


class _NotFirstLoad(Exception):
    """The tenant has order lines after all (written meanwhile): not a first load."""


def _tenant_has_orders(cur, tenant_id: int) -> bool:
    cur.execute("SELECT EXISTS (SELECT 1 FROM catalogs_order WHERE tenant_id = %s)", [tenant_id])
    return cur.fetchone()[0]


class _FirstLoad:
    """A bulk load (see _orders_merge) of a tenant without any order line yet, streamed:
    every line is new, so once the checks pass (may_start: BULK_MIN_LINES lines staged, the
    table holding fewer rows, the tenant none) the table is locked, its indexes dropped and
    the lines staged so far inserted (start); each later chunk's lines go from its partition
    of the stage into the table straight away (write), PostgreSQL writing them while the
    reading thread types the next chunk; finish builds the indexes. No temp table of
    known lines, no UPDATE, no anti-join, no DISTINCT ON: the lines go in file order (ids
    ascending) but for those a later line of their chunk repeats (staged `repeated`), and
    where an (order id, sku) repeats across chunks the earlier lines are deleted when the
    unique constraint finds them (_indexes_build): the file's last line wins, as in
    orders_parse. If the lock is not granted within BULK_LOCK_TIMEOUT, or the tenant has
    lines by then, the usual merge runs at the end. The lock is held while the rest of the
    file is read (~300,000 lines a second)."""

    def __init__(self, result, cur, *, tenant, catalog):
        self.result, self.cur = result, cur
        self.params = {"tenant": tenant.pk, "catalog": catalog.pk}
        self.tried = self.started = False
        self.next_check = BULK_MIN_LINES
        self.rebuild: list = []
        self.first: int | None = None  # the lines staged before the start
        self.last = 0

    def may_start(self, staged: int) -> bool:
        if self.tried or staged < self.next_check:
            return False
        if _tenant_has_orders(self.cur, self.params["tenant"]):
            self.tried = True  # for good: it will not have fewer
            return False
        if _orders_table_smaller_than(self.cur, staged):
            return True
        # the lines staged grow, the table does not: asked again once they have doubled,
        # so that a large table is counted (up to `staged` rows) a few times, not per chunk
        self.next_check = staged * 2
        return False

    def staged_lines(self, first: int, last: int) -> None:
        """Lines first to last were staged before the load could start."""
        self.first = min(first, self.first) if self.first is not None else first
        self.last = last

    def start(self) -> None:
        """In the caller's transaction: lock, drop the indexes, insert the staged lines."""
        self.tried = True
        mark = time.perf_counter()
        rebuild = _orders_lock_for_bulk(self.cur, empty_tenant=self.params["tenant"])
        if rebuild is None:
            return
        self.started, self.rebuild = True, rebuild
        self.result.bulk = True
        _phase(self.result, "merge: locked", mark)
        self.result.written = self._insert(STAGE, first=self.first, last=self.last)

    def write(self, chunk: str, *, first: int, last: int) -> None:
        """Insert the lines of one chunk (numbered first to last), staged in its partition."""
        self.result.written += self._insert(chunk, first=first, last=last)

    def _insert(self, source: str, *, first: int, last: int) -> int:
        """The lines of source whose sku is a product of the catalog, but for those
        repeated later in their chunk. Their ids follow their line numbers, from a block
        of ids taken from the table's sequence (nobody else inserts: the table is locked),
        so that ids keep file order without sorting the lines."""
        values = ", ".join(_staged_value(c) for c in ORDER_VALUE_COLUMNS)
        self.cur.execute(
            "SELECT setval(s, nextval(s) + %(span)s - 1) - %(span)s + 1 FROM "
            "pg_get_serial_sequence('catalogs_order', 'id') s",
            {"span": last - first + 1},
        )
        base = self.cur.fetchone()[0]
        self.cur.execute(
            f"""
            INSERT INTO catalogs_order (id, tenant_id, catalog_id, product_id, order_id, sku,
                {", ".join(ORDER_VALUE_COLUMNS)}, updated_at)
            SELECT %(base)s + s.line - %(first)s, %(tenant)s, %(catalog)s, p.id, s.order_id,
                s.sku, {values}, now()
            FROM {source} s
            JOIN catalogs_product p ON p.tenant_id = %(tenant)s
                AND p.catalog_id = %(catalog)s AND p.sku = s.sku COLLATE "C"
            WHERE NOT s.repeated
            """,  # noqa: S608 - identifiers are this module's constants
            {**self.params, "base": base, "first": first},
        )
        return self.cur.rowcount

    def finish(self) -> None:
        mark = time.perf_counter()
        self.result.unchanged = 0
        self.result.written -= _indexes_build(
            self.cur, self.rebuild, repeats_of_tenant=self.params["tenant"]
        )
        self.result.inserted = self.result.written  # the tenant had no line
        _phase(self.result, "merge: indexes built", mark)


def _indexes_build(cur, indexes: list, *, repeats_of_tenant: int | None = None) -> int:
    """Build again what _orders_lock_for_bulk dropped (the unique one checking uniqueness).

    With repeats_of_tenant (a first load: every line of that tenant came from this file, in
    file order, but those repeated later in their own chunk), an (order id, sku) that
    still repeats (across chunks: rare, an order's lines sit together in an export) fails
    the unique one; its earlier lines (the lower ids) are then deleted and it is built
    again: the file's last line wins. Returns how many lines were deleted."""
    deleted = 0
    for _index, definition, constraint, condef in indexes:
        if not constraint:
            cur.execute(definition)
            continue
        add = f'ALTER TABLE catalogs_order ADD CONSTRAINT "{constraint}" {condef}'
        if repeats_of_tenant is None or not condef.startswith("UNIQUE"):
            cur.execute(add)
            continue
        try:
            with transaction.atomic():  # a savepoint: a failed build rolls back to here only
                cur.execute(add)
        except IntegrityError:
            cur.execute(
                """
                DELETE FROM catalogs_order WHERE ctid = ANY (ARRAY(
                    SELECT ctid FROM (
                        SELECT ctid, row_number() OVER (
                            PARTITION BY catalog_id, order_id, sku ORDER BY id DESC) AS nth
                        FROM catalogs_order WHERE tenant_id = %(tenant)s
                    ) r WHERE nth > 1))
                """,
                {"tenant": repeats_of_tenant},
            )
            deleted = cur.rowcount
            cur.execute(add)
    return deleted


def _orders_lock_for_bulk(cur, *, empty_tenant: int | None = None) -> list | None:
    """Lock catalogs_order and drop its indexes, primary key and unique constraint for a bulk
    load; returns what _orders_merge builds again at its end, or None (nothing done) when
    the lock is not granted within BULK_LOCK_TIMEOUT (long readers: the usual merge runs).

    Other tenants' order queries wait for the commit, hence only for loads the table is
    small against. In the caller's transaction: a failure anywhere later leaves the table
    and its indexes as they were."""
    try:
        with transaction.atomic():  # a savepoint: a lock timeout rolls back to here only
            cur.execute(f"SET LOCAL lock_timeout = '{BULK_LOCK_TIMEOUT}'")
            cur.execute("LOCK TABLE catalogs_order IN ACCESS EXCLUSIVE MODE")
            if empty_tenant is not None and _tenant_has_orders(cur, empty_tenant):
                raise _NotFirstLoad  # rolls back to the savepoint: the lock goes too
    except (OperationalError, _NotFirstLoad):
        return None
    cur.execute("SET LOCAL lock_timeout = 0")
    cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
    cur.execute(
        """
        SELECT i.relname, pg_get_indexdef(i.oid), c.conname, pg_get_constraintdef(c.oid)
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
        LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid
        WHERE x.indrelid = 'catalogs_order'::regclass
        ORDER BY i.relname
        """
    )
    indexes = cur.fetchall()
    for index, _definition, constraint, _condef in indexes:
        if constraint:
            cur.execute(f'ALTER TABLE catalogs_order DROP CONSTRAINT "{constraint}"')
        else:
            cur.execute(f'DROP INDEX "{index}"')
    return indexes


def _orders_merge(result, cur, *, tenant, catalog) -> None:
    """Write the staged lines that are new or differ, set-based. A line is keyed by (tenant,
    catalog, order id, sku): each shop numbers its own orders (Shopify's #1001 in every
    store), so another catalog's line of that order id and sku is another line. The known
    lines (one per order id and sku) go into a temp table; one join with the order table
    keeps those that are new or differ there (the delta: a second temp table, empty for a
    re-import). Then one UPDATE of the delta's lines that exist and one INSERT of the others
    (ON CONFLICT for a line another writer, the API, inserted meanwhile). The unchanged
    lines are not touched, not even locked, so a re-import writes nothing. (1M changed
    lines: 20.8 s of UPDATE, every row's five indexes written again; 22.1 s through ON
    CONFLICT.)

    When the new lines are at least BULK_MIN_LINES and more than the table holds, it is a
    bulk load: the table is locked and its indexes dropped (_orders_lock_for_bulk), so no
    unique index to conflict on: the UPDATE and INSERT take every known line, by key, after
    the lock; all indexes are built again at the end (the unique one checking
    uniqueness)."""
    mark = time.perf_counter()
    params = {"tenant": tenant.pk, "catalog": catalog.pk}
    updated = ["product_id", *ORDER_VALUE_COLUMNS]
    file_values = ", ".join(_incoming(c, "k", "o") for c in updated)
    cur.execute("DROP TABLE IF EXISTS pg_temp.order_import_known")
    cur.execute(f"CREATE TEMP TABLE order_import_known AS {_known_lines_sql()}", params)
    known = cur.rowcount
    cur.execute("ANALYZE order_import_known")  # the join below is planned on its figures
    cur.execute("DROP TABLE IF EXISTS pg_temp.order_import_delta")
    cur.execute(
        f"""
        CREATE TEMP TABLE order_import_delta AS
        SELECT k.*, o.id IS NOT NULL AS existing
        FROM order_import_known k
        LEFT JOIN catalogs_order o ON o.tenant_id = %(tenant)s AND o.order_id = k.order_id
            AND o.sku = k.sku AND o.catalog_id = %(catalog)s
        WHERE ({", ".join(f"o.{c}" for c in updated)}) IS DISTINCT FROM ({file_values})
        """,  # noqa: S608
        params,
    )
    cur.execute("ANALYZE order_import_delta")
    rebuild = None
    if known >= BULK_MIN_LINES:
        cur.execute("SELECT count(*) FROM order_import_delta WHERE NOT existing")
        new = cur.fetchone()[0]
        if new >= BULK_MIN_LINES and _orders_table_smaller_than(cur, new):
            rebuild = _orders_lock_for_bulk(cur)
    result.bulk = rebuild is not None
    mark = _phase(result, "merge: known lines", mark)
    insert = f"""
        INSERT INTO catalogs_order AS o (tenant_id, catalog_id, product_id, order_id, sku,
            {", ".join(ORDER_VALUE_COLUMNS)}, updated_at)
        SELECT %(tenant)s, %(catalog)s, k.product_id, k.order_id, k.sku,
            {", ".join(f"k.{c}" for c in ORDER_VALUE_COLUMNS)}, now()
        FROM {{}} k"""  # noqa: S608
    # Without the bulk lock: the new and changed lines (the delta), by key, ON CONFLICT
    # for a line another writer inserted meanwhile. With it: the flags were read before the
    # lock, so every known line, by key again, now that nobody writes.
    source = "order_import_delta" if rebuild is None else "order_import_known"
    cur.execute(
        # identifiers are this module's constants; values are parameters
        f"""
        UPDATE catalogs_order o SET
            {", ".join(f"{c} = {_incoming(c, 'k', 'o')}" for c in updated)},
            updated_at = now()
        FROM {source} k
        WHERE o.tenant_id = %(tenant)s AND o.order_id = k.order_id AND o.sku = k.sku
            AND o.catalog_id = %(catalog)s
            AND ({", ".join(f"o.{c}" for c in updated)}) IS DISTINCT FROM ({file_values})
        """,  # noqa: S608
        params,
    )
    changed = cur.rowcount
    on_conflict = (
        ""
        if rebuild is not None
        else f"""
        ON CONFLICT (tenant_id, order_id, sku, catalog_id) DO UPDATE SET
            {", ".join(f"{c} = {_incoming(c, 'EXCLUDED', 'o')}" for c in updated)},
            updated_at = EXCLUDED.updated_at
        WHERE ({", ".join(f"o.{c}" for c in updated)})
            IS DISTINCT FROM ({", ".join(_incoming(c, "EXCLUDED", "o") for c in updated)})"""
    )
    # The delta knows which of its lines existed when it was made: only those are looked
    # up again (one gone since is inserted). An anti-join of every line instead was planned
    # on the order table's figures, and on a table that was empty when last analyzed (a new
    # deployment's first import) it scanned the table for each line, the rows this very
    # INSERT writes included: 60,000 lines took 32 s. With the bulk lock every known line
    # is looked up (its flag was read before the lock), in the table without its indexes.
    missing = "NOT k.existing OR " if rebuild is None else ""
    cur.execute(
        f"""{insert.format(source)}
        WHERE {missing}NOT EXISTS (SELECT 1 FROM catalogs_order x WHERE x.tenant_id = %(tenant)s
            AND x.order_id = k.order_id AND x.sku = k.sku AND x.catalog_id = %(catalog)s)
        {on_conflict}
        """,  # noqa: S608
        params,
    )
    result.written = changed + cur.rowcount
    result.updated, result.inserted = changed, cur.rowcount
    result.unchanged = known - result.written
    cur.execute("DROP TABLE pg_temp.order_import_known, pg_temp.order_import_delta")
    mark = _phase(result, "merge: written", mark)
    if rebuild is not None:
        _indexes_build(cur, rebuild)
        _phase(result, "merge: indexes built", mark)
