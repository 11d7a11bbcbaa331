"""Review while a feed run writes: the rules engine over each validated block of a run
before its products are written, so a product is written once, with its review status.

A first pull reviews every block the parser yields (:class:`FeedBlockReviewer`): the run
COPYs the products with their status already set and the issues after them, in the same
transaction. The one rule that needs the whole catalog, duplicate ids, cannot be decided
block by block: the blocks are reviewed as if no id were shared, and once every product is
written (still inside the run's transaction) the ids shared in the catalog are read with the
query the whole-catalog review uses, and only the products that carry one are reviewed
again with them. The result is what :func:`ecr.review.products_review` would give the same
products after the run.

No ORM here for the products: the run's own connection (psycopg, its transaction) does
the writes; a connection of the reviewer's own fetches product ids from the table's
sequence ahead of the parser.
"""

from __future__ import annotations

import contextlib
import io
import json
import queue
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from catalog_health.steps import StepTimes
from catalog_health.tenancy.models import Tenant
from catalogs.models import Catalog, Product, ReviewStatus

from . import rules
from .models import ProductIssue, ReviewBatch, ReviewLane, ReviewSettings
from .review import _BLOCK_SQL, _TEXT_FIELDS, ISSUE_COLUMNS, ReviewResult, policy_terms

_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_PRODUCTS = Product._meta.db_table
_ISSUES = ProductIssue._meta.db_table
# The duplicate-id query of ecr.review.duplicate_ids (Lower(Trim(sku)) grouped), in SQL of
# its own because it runs on the run's connection, inside its uncommitted transaction.
_COPY_ISSUES_SQL = f"COPY {_ISSUES} ({', '.join(ISSUE_COLUMNS)}) FROM STDIN (FORMAT csv)"
_COPY_ISSUES_BINARY_SQL = _COPY_ISSUES_SQL.replace("csv", "binary")
_DUPLICATES_SQL = (
    f"SELECT LOWER(TRIM(sku)) FROM {_PRODUCTS} "  # noqa: S608 - model table name
    "WHERE tenant_id = %s AND catalog_id = %s AND removed_at IS NULL "
    "GROUP BY 1 HAVING count(*) > 1"
)


def _sku_collation(cur) -> str | None:
    cur.execute(
        "SELECT collation_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = %s AND column_name = 'sku'",
        [_PRODUCTS],
    )
    row = cur.fetchone()
    return row[0] if row else None


def pg_timestamp(when: datetime) -> int:
    """Microseconds since 2000-01-01 UTC: a timestamptz in PostgreSQL's binary COPY format
    (the same eight bytes as an int8)."""
    delta = when - _PG_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def block_from_feed(table: pa.Table) -> pa.Table:
    """The engine's block (:data:`ecr.rules.BLOCK_SCHEMA`) from a feed run's validated
    block, whose columns are the product fields as text the way the products table stores
    them (prices as "D.DD", links and attributes as JSON text). It reads each value as the
    whole-catalog review reads it back from PostgreSQL (ecr.review._BLOCK_SQL)."""
    n = table.num_rows
    cols = {name: table.column(name) for name in _TEXT_FIELDS}
    for name in ("price", "sale_price", "shipping_fee"):  # "D.DD", as numeric::text gives it
        value = table.column(name)
        cols[name] = pc.if_else(pc.equal(value, ""), None, value)
    # the stored integer, written back as text ("007" is stored as 7)
    qty = table.column("inventory_quantity")
    qty = pc.cast(pc.if_else(pc.equal(qty, ""), None, qty), pa.int64())
    cols["inventory_quantity"] = pc.cast(qty, pa.string())
    cols["additional_image_links"] = _lists(
        table.column("additional_image_links"), "[]", _image_links, n
    )
    # Only the variant attributes among the keys count (the one rule that reads them): the
    # attributes whose lower-cased text names none, and has no escape that could spell
    # one, are left unread.
    cols["attribute_keys"] = _lists(
        table.column("custom_attributes"), "{}", _attribute_keys, n, _MAY_NAME_A_VARIANT
    )
    return pa.table(cols).select(rules.BLOCK_SCHEMA.names).cast(rules.BLOCK_SCHEMA)


_MAY_NAME_A_VARIANT = "|".join(
    [*(re.escape(a) for a in sorted(rules.VARIANT_ATTRIBUTES)), re.escape("\\")]
)


def _lists(column, empty: str, parse, n: int, may_matter: str = "") -> pa.Array:
    """A list per row from JSON text: null for ``empty`` (most rows, no Python) and, with
    ``may_matter``, for the rows whose lower-cased text does not match it; parsed for the
    others."""
    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    keep = pc.not_equal(column, empty)
    if may_matter:
        keep = pc.and_(keep, pc.match_substring_regex(pc.utf8_lower(column), may_matter))
    some = np.flatnonzero(pc.fill_null(keep, False).to_numpy(zero_copy_only=False))
    values: list = [None] * n
    for i, text in zip(some.tolist(), pc.take(column, pa.array(some)).to_pylist(), strict=True):
        values[i] = parse(text)
    return pa.array(values, pa.list_(pa.string()))


def _jsonb_text(v) -> str:
    """An element as jsonb_array_elements_text gives it."""
    if isinstance(v, str):
        return v
    if v is None:
        return "None"  # the review reads a JSON null as the text PostgreSQL's query gives
    return json.dumps(v, ensure_ascii=False, separators=(", ", ": "))


def _image_links(text: str | None) -> list[str] | None:
    value = json.loads(text) if text else None
    if isinstance(value, list):
        return ["None" if v is None else _jsonb_text(v) for v in value] or None
    if isinstance(value, str):
        return [x for x in value.split(",") if x.strip()] or None
    if value is None or value in (False, 0, {}, ""):
        return None
    return [json.dumps(value, ensure_ascii=False, separators=(", ", ": "))]


def _attribute_keys(text: str | None) -> list[str] | None:
    value = json.loads(text) if text else None
    if not isinstance(value, dict):
        return None
    return [str(k).lower() for k in value] or None


@dataclass(frozen=True)
class KnownCounts:
    """The review counts of a catalog that a first pull wrote whole (every active product
    is one it reviewed), as ecr.selectors.review_counts and issue_counts_by_code would
    count them once it committed: ECR's evaluation after the run takes them instead of
    reading a million products and issues again, while the catalog's diagnostics version
    is still the one the run left (``changed_at``: the last_changed_at of its products)."""

    active: int
    available: int
    unavailable: int
    issue_counts: dict[str, int]
    changed_at: datetime


def _code_counts(issues: pa.Table, row: str = "row") -> dict[str, int]:
    """Products per issue code among ``issues`` (a product counted once per code)."""
    if not issues.num_rows:
        return {}
    pairs = issues.select([row, "code"]).group_by([row, "code"]).aggregate([])
    counts = pc.value_counts(pairs.column("code"))
    return dict(
        zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True)
    )


def _add_counts(total: dict[str, int], counts: dict[str, int], sign: int = 1) -> None:
    for code, n in counts.items():
        total[code] = total.get(code, 0) + sign * n


@dataclass
class FeedReview:
    """What a run's own review did: handed to :func:`ecr.services.review_after_feed_run`,
    which records it as a review batch instead of reviewing again."""

    result: ReviewResult = field(default_factory=ReviewResult)
    started_at: datetime = field(default_factory=timezone.now)
    wait_seconds: float = 0.0  # from the run's start to each product's review, summed
    wait_max: float | None = None
    known: KnownCounts | None = None  # a first pull's counts (see KnownCounts)


class FeedBlockReviewer:
    """Reviews a feed run's blocks as they are written (see the module's docstring).

    ``review_block`` gives the statuses of a block whose product ids were taken from the
    sequence (``take_ids``), and its issues as a table of ``issue_columns`` for a binary
    COPY by ``copy_sql`` (ids and ``created_at`` as int8: a timestamptz in binary), written
    after the block's products; ``settle`` reviews again, on the run's connection before
    it commits, the products whose id another product of the catalog shares."""

    copy_sql = _COPY_ISSUES_BINARY_SQL
    issue_columns = ISSUE_COLUMNS

    def __init__(self, *, tenant: Tenant, catalog: Catalog, requested_at: datetime):
        settings = ReviewSettings.current()
        self.tenant_id, self.catalog_id = tenant.pk, catalog.pk
        self.settings = settings
        self.terms = policy_terms()
        self.currency = catalog.currency
        self.ctx = self._context(frozenset())
        self.requested_at = requested_at
        self.review = FeedReview()
        self._id_source = _IdSource()
        self._keys: list[pa.Array] = []
        self._ids: list[np.ndarray] = []
        self._unavailable: list[np.ndarray] = []
        self._code_counts: dict[str, int] = {}
        self.times: dict[str, float] = {}

    def _context(self, duplicate_ids: frozenset[str]) -> rules.ReviewContext:
        s = self.settings
        return rules.ReviewContext(
            currency=self.currency,
            terms=self.terms,
            title_max_length=s.title_max_length,
            description_max_length=s.description_max_length,
            caps_min_letters=s.caps_min_letters,
            duplicate_ids=duplicate_ids,
        )

    pg_timestamp = staticmethod(pg_timestamp)

    def take_ids(self, n: int) -> np.ndarray:
        """``n`` new product ids from the products' sequence (as the table's default would
        give them), so the issues can name their product before it is written."""
        return self._id_source.take(n)

    def review_block(self, table: pa.Table, ids: np.ndarray) -> tuple[pa.Array, pa.Table]:
        """The review statuses of a validated feed block whose products get ``ids``, and
        its issues (see the class)."""
        now = timezone.now()
        verdict = rules.review_block(block_from_feed(table), self.ctx)
        issues = self._issue_table(verdict.issues, ids, pa.scalar(pg_timestamp(now), pa.int64()))
        # kept as plain arrays: a ChunkedArray made of ChunkedArrays is built element by
        # element in Python (0.56 s at a million keys), of arrays in no time
        keys = pc.utf8_lower(pc.utf8_trim_whitespace(table.column("sku")))
        self._keys += keys.chunks if isinstance(keys, pa.ChunkedArray) else [keys]
        self._ids.append(ids)
        self._unavailable.append(verdict.unavailable)
        _add_counts(self._code_counts, _code_counts(verdict.issues))
        result = self.review.result
        n, bad = len(ids), int(verdict.unavailable.sum())
        result.reviewed += n
        result.unavailable += bad
        result.available += n - bad
        result.issues += verdict.issues.num_rows
        wait = max(0.0, (now - self.requested_at).total_seconds())
        self.review.wait_seconds += wait * n
        self.review.wait_max = max(self.review.wait_max or 0.0, wait)
        statuses = pc.if_else(
            pa.array(verdict.unavailable),
            ReviewStatus.UNAVAILABLE.value,
            ReviewStatus.AVAILABLE.value,
        )
        return statuses, issues

    def _issue_table(self, issues: pa.Table, ids: np.ndarray, created: pa.Scalar) -> pa.Table:
        rows = issues.column("row").to_numpy()
        k = len(rows)
        return pa.table(
            {
                "tenant_id": pa.array(np.full(k, self.tenant_id, dtype=np.int64)),
                "catalog_id": pa.array(np.full(k, self.catalog_id, dtype=np.int64)),
                "product_id": pa.array(ids[rows]),
                **{c: issues.column(c) for c in ISSUE_COLUMNS[3:-1]},
                "created_at": pa.repeat(created, k),
            }
        )

    def _issue_csv(self, issues: pa.Table, ids: np.ndarray, now: datetime) -> bytes:
        if not issues.num_rows:
            return b""
        buf = io.BytesIO()
        table = self._issue_table(issues, ids, pa.scalar(now.isoformat(), pa.string()))
        pa_csv.write_csv(table, buf, pa_csv.WriteOptions(include_header=False))
        return buf.getvalue()

    def settle(self, cur) -> None:
        """On the run's psycopg cursor, once all its products and issues are written:
        review again, with the ids shared in the catalog, the products that carry one."""
        steps = StepTimes("settle")  # for the run's step log
        self.close()
        steps.lap("ids_closed")
        shared = self._shared_ids(cur)
        steps.lap("shared_ids")
        if shared and self._ids:
            self._settle_duplicates(cur, shared)
        steps.lap("rereview")
        self.times = steps.times
        self._keys, self._ids, self._unavailable = [], [], []
        result = self.review.result
        self.review.known = KnownCounts(
            active=result.reviewed,
            available=result.available,
            unavailable=result.unavailable,
            issue_counts={c: n for c, n in self._code_counts.items() if n},
            changed_at=self.requested_at,
        )

    def _shared_ids(self, cur) -> frozenset[str]:
        """The ids shared in the catalog, as ecr.review.duplicate_ids finds them: the
        query groups LOWER(TRIM(sku)) of every active product (~2 s at a million).

        The run wrote every product of the catalog (a first pull), and this block's keys
        are their ids whitespace-trimmed and lower-cased (utf8_lower). On a column of
        collation "C", LOWER is ASCII-only and TRIM takes spaces, so two ids the query
        groups have equal keys here: only products whose key another shares can be in a
        shared group, and the query needs to group them alone (none: no query)."""
        params: list = [self.tenant_id, self.catalog_id]
        sql = _DUPLICATES_SQL
        if self._ids and _sku_collation(cur) == "C":
            keys = pa.chunked_array(self._keys, pa.string()).combine_chunks()
            twice = _repeated(keys)
            if not len(twice):
                return frozenset()
            ids = np.concatenate(self._ids)
            maybe = ids[np.asarray(pc.is_in(keys, value_set=twice).to_numpy(False), dtype=bool)]
            sql = _DUPLICATES_SQL.replace("GROUP BY", "AND id = ANY(%s) GROUP BY")
            params.append(maybe.tolist())
        cur.execute(sql, params)
        return frozenset(rules.normalize_id(r[0]) for r in cur.fetchall())

    def _settle_duplicates(self, cur, shared: frozenset[str]) -> None:
        keys = pa.chunked_array(self._keys, pa.string())
        ids = np.concatenate(self._ids)
        before = np.concatenate(self._unavailable)
        hit = np.asarray(
            pc.fill_null(pc.is_in(keys, value_set=pa.array(sorted(shared))), False).to_numpy(
                zero_copy_only=False
            ),
            dtype=bool,
        )
        if not hit.any():
            return
        result = self.review.result
        for start in range(0, int(hit.sum()), 10_000):
            part = np.flatnonzero(hit)[start : start + 10_000]
            self._rereview(cur, ids[part], before[part], shared, result)

    def _rereview(self, cur, ids, before, shared, result: ReviewResult) -> None:
        names = (*_TEXT_FIELDS, *_BLOCK_SQL)
        select = ", ".join(["id", *_TEXT_FIELDS, *_BLOCK_SQL.values()])
        cur.execute(
            f"SELECT {select} FROM {_PRODUCTS} "  # noqa: S608 - constants
            "WHERE tenant_id = %s AND catalog_id = %s AND id = ANY(%s) ORDER BY id",
            [self.tenant_id, self.catalog_id, ids.tolist()],
        )
        rows = cur.fetchall()
        cols = list(zip(*rows, strict=True))
        schema = rules.BLOCK_SCHEMA
        block = pa.table(
            {n: pa.array(c, schema.field(n).type) for n, c in zip(names, cols[1:], strict=True)}
        ).select(schema.names)
        got = np.array(cols[0], dtype=np.int64)
        old_bad = dict(zip(ids.tolist(), before.tolist(), strict=True))
        verdict = rules.review_block(block, self._context(shared))
        cur.execute(
            f"DELETE FROM {_ISSUES} WHERE tenant_id = %s AND product_id = ANY(%s) "  # noqa: S608
            "RETURNING product_id, code",
            [self.tenant_id, got.tolist()],
        )
        old = cur.fetchall()
        result.issues += verdict.issues.num_rows - len(old)
        if old:
            old_pairs = pa.table({"product_id": [r[0] for r in old], "code": [r[1] for r in old]})
            _add_counts(self._code_counts, _code_counts(old_pairs, "product_id"), -1)
        _add_counts(self._code_counts, _code_counts(verdict.issues))
        if data := self._issue_csv(verdict.issues, got, timezone.now()):
            with cur.copy(_COPY_ISSUES_SQL) as cp:
                cp.write(data)
        bad = verdict.unavailable
        statuses = [
            ReviewStatus.UNAVAILABLE.value if b else ReviewStatus.AVAILABLE.value for b in bad
        ]
        cur.execute(
            f"UPDATE {_PRODUCTS} AS p SET review_status = v.status "  # noqa: S608
            "FROM unnest(%s::bigint[], %s::text[]) AS v(id, status) "
            "WHERE p.tenant_id = %s AND p.catalog_id = %s AND p.id = v.id",
            [got.tolist(), statuses, self.tenant_id, self.catalog_id],
        )
        was = sum(old_bad[i] for i in got.tolist())
        now_bad = int(bad.sum())
        result.unavailable += now_bad - was
        result.available -= now_bad - was

    def close(self) -> None:
        """Stop fetching ids (the ids fetched ahead and not used are left as a gap)."""
        self._id_source.close()


def _repeated(keys: pa.Array) -> pa.Array:
    """The values that occur more than once in ``keys``: equal values are neighbours once
    sorted (a sort and a comparison of neighbours take a third of what counting every
    value in a hash table does, at a million keys)."""
    if len(keys) < 2:
        return pa.array([], pa.string())
    ordered = keys.take(pc.array_sort_indices(keys))
    same = pc.equal(ordered.slice(1), ordered.slice(0, len(ordered) - 1))
    if not pc.any(same).as_py():
        return pa.array([], pa.string())
    return pc.unique(ordered.slice(1).filter(same))


class _IdSource:
    """Product ids from the products' sequence, fetched ahead on a connection of its own
    while the run parses (the parsing thread would otherwise wait for them). The sequence
    is named once, as a constant of the statement: nextval(pg_get_serial_sequence(...))
    looked it up again for every id, 3.3 µs an id against 0.5 µs, ~2.8 s of a core at a
    million ids on a machine whose two cores the run keeps busy."""

    batch = 20_000
    _SQL = (  # the ids packed as big-endian int8s: one value back
        "SELECT string_agg(int8send(nextval(%s::regclass)), ''::bytea) FROM generate_series(1, %s)"
    )

    def __init__(self):
        self.queue: queue.Queue = queue.Queue(maxsize=2)
        self.stopped = threading.Event()
        self.buffer = np.empty(0, dtype=np.int64)
        self.thread: threading.Thread | None = None

    def _run(self) -> None:
        conn = connections.create_connection(DEFAULT_DB_ALIAS)
        try:
            conn.ensure_connection()
            with conn.connection.cursor() as cur:
                cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", [_PRODUCTS])
                sequence = cur.fetchone()[0]
                while not self.stopped.is_set():
                    cur.execute(self._SQL, [sequence, self.batch])
                    packed = cur.fetchone()[0]
                    self.queue.put(np.frombuffer(bytes(packed), dtype=">i8").astype(np.int64))
        except BaseException as exc:  # handed to the caller in take()
            self.queue.put(exc)
        finally:
            conn.close()

    def take(self, n: int) -> np.ndarray:
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name="ecr-ids", daemon=True)
            self.thread.start()
        while len(self.buffer) < n:
            got = self.queue.get()
            if isinstance(got, BaseException):
                raise got
            self.buffer = np.concatenate([self.buffer, got])
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def close(self) -> None:
        self.stopped.set()
        while self.thread is not None and self.thread.is_alive():
            with contextlib.suppress(queue.Empty):  # unblock a put(): it sees it is stopped
                self.queue.get(timeout=0.05)
        self.thread = None


def feed_review_record(
    *, tenant: Tenant, catalog: Catalog, review: FeedReview, trigger: str, run=None
) -> ReviewBatch | None:
    """The review batch of a run's own review (what products_review records for its)."""
    result = review.result
    if not result.reviewed:
        return None
    result.batch = ReviewBatch.objects.create(
        tenant=tenant,
        catalog=catalog,
        lane=ReviewLane.FAST,
        trigger=trigger,
        run_id=getattr(run, "pk", None),
        run_started_at=getattr(run, "started_at", None) or review.started_at,
        started_at=review.started_at,
        finished_at=timezone.now(),
        reviewed=result.reviewed,
        available=result.available,
        unavailable=result.unavailable,
        issues=result.issues,
        wait_count=result.reviewed,
        wait_total_seconds=review.wait_seconds,
        wait_max_seconds=review.wait_max,
    )
    return result.batch


class DeltaReviewer:
    """Reviews a re-pull's created and changed rows before its merge writes them, so the
    merge writes each product once, with its status, and only those products' issues are
    replaced after it (see docs/review-and-ecr.md, "Review inside the feed run").

    ``review`` reads the rows as the merge will write them (``rows_sql``: the product's
    columns and ``product_id``, null for a new product) with the expressions the
    whole-catalog review reads them with, and the ids shared in the catalog as it will be
    after the merge (``skus_sql``: (sku, w) rows whose weights sum to each sku's number of
    active products then); ``stage`` COPYs
    the (sku, status) pairs for the merge to join; ``write_issues`` replaces the issues once
    the products exist."""

    def __init__(self, *, tenant: Tenant, catalog: Catalog, requested_at: datetime):
        # the engine's context and issue rows of a first pull's reviewer (it takes no ids)
        self._blocks = FeedBlockReviewer(tenant=tenant, catalog=catalog, requested_at=requested_at)
        self.tenant_id, self.catalog_id = tenant.pk, catalog.pk
        self.requested_at = requested_at
        self.review = FeedReview()
        self.skus: list[str] = []
        self.product_ids: list[int | None] = []
        self.statuses: list[str] = []
        self._issues: list[tuple[int, pa.Table]] = []  # (first row, issues of a block)
        self._created_at = timezone.now()
        self.steps = StepTimes("review")
        self.times = self.steps.times  # seconds per step, for the run's step log

    def review_rows(self, cur, rows_sql: str, params: list, skus_sql: str, skus_params: list):
        self.steps.start()
        names = (*_TEXT_FIELDS, *_BLOCK_SQL)
        select = ", ".join(["product_id", "LOWER(TRIM(sku))", *_TEXT_FIELDS, *_BLOCK_SQL.values()])
        cur.execute(f"SELECT {select} FROM ({rows_sql}) m", params)  # noqa: S608
        schema = rules.BLOCK_SCHEMA
        blocks: list[pa.Table] = []
        keys: set[str] = set()
        while rows := cur.fetchmany(10_000):
            cols = list(zip(*rows, strict=True))
            block = pa.table(
                {n: pa.array(c, schema.field(n).type) for n, c in zip(names, cols[2:], strict=True)}
            ).select(schema.names)
            blocks.append(block)
            self.product_ids += cols[0]
            skus = block.column("sku").to_pylist()
            self.skus += skus
            keys.update(cols[1])
            keys.update(rules.normalize_id(s) for s in skus)
        self.steps.lap("rows")
        ctx = self._blocks._context(self._shared_ids(cur, skus_sql, skus_params, sorted(keys)))
        self.steps.lap("shared_ids")
        result, first = self.review.result, 0
        for block in blocks:
            verdict = rules.review_block(block, ctx)
            bad = verdict.unavailable
            self.statuses += [
                ReviewStatus.UNAVAILABLE.value if b else ReviewStatus.AVAILABLE.value for b in bad
            ]
            self._issues.append((first, verdict.issues))
            first += block.num_rows
            result.reviewed += block.num_rows
            result.unavailable += int(bad.sum())
            result.available += block.num_rows - int(bad.sum())
            result.issues += verdict.issues.num_rows
        wait = max(0.0, (timezone.now() - self.requested_at).total_seconds())
        self.review.wait_seconds = wait * result.reviewed
        self.review.wait_max = wait if result.reviewed else None
        self.steps.lap("rules")

    def _shared_ids(self, cur, skus_sql: str, params: list, keys: list[str]) -> frozenset[str]:
        """The ids shared in the catalog after the merge, as ecr.review.duplicate_ids finds
        them, among those that can match a reviewed row. On a sku column of collation "C"
        (LOWER is ASCII-only, TRIM takes spaces) a group of the whole-catalog query whose
        normalised id (normalize_id) is a reviewed row's either has a printable-ASCII key,
        which then is that normalised id, or a key with another character, which all its
        members' skus have too: so only the groups whose key is one of the rows' keys or
        their normalised ids, or whose skus are not printable ASCII, are grouped. Another
        collation groups the whole catalog."""
        sql = f"SELECT LOWER(TRIM(sku)) FROM ({skus_sql}) c "  # noqa: S608 - caller's SQL
        if _sku_collation(cur) != "C":
            cur.execute(sql + "GROUP BY 1 HAVING sum(w) > 1", params)
            return frozenset(rules.normalize_id(r[0]) for r in cur.fetchall())
        sql += "WHERE LOWER(TRIM(sku)) = ANY(%s::text[]) OR sku ~ '[^ -~]' "
        # The scan of the catalog keeps only the rows' keys, but the planner expects it to
        # keep many rows and would not split it over workers (it halves the ~0.8 s at a
        # million products): parallel costs off for this query, restored after it.
        costs = ("parallel_setup_cost", "parallel_tuple_cost")
        cur.execute("SELECT current_setting(%s), current_setting(%s)", costs)
        saved = cur.fetchone()
        cur.execute("SELECT set_config(%s, '0', true), set_config(%s, '0', true)", costs)
        try:
            cur.execute(sql + "GROUP BY 1 HAVING sum(w) > 1", [*params, keys])
            return frozenset(rules.normalize_id(r[0]) for r in cur.fetchall())
        finally:
            cur.execute(
                "SELECT set_config(%s, %s, true), set_config(%s, %s, true)",
                [costs[0], saved[0], costs[1], saved[1]],
            )

    def stage(self, cur, table: str) -> None:
        """The (sku, status) pairs in an unlogged table of that name, for the merge."""
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(f'CREATE UNLOGGED TABLE {table} (sku text COLLATE "C", review_status text)')
        if self.skus:
            buf = io.BytesIO()
            data = pa.table({"sku": pa.array(self.skus, pa.string()), "s": pa.array(self.statuses)})
            pa_csv.write_csv(data, buf, pa_csv.WriteOptions(include_header=False))
            with cur.copy(f"COPY {table} (sku, review_status) FROM STDIN (FORMAT csv)") as cp:
                cp.write(buf.getvalue())
        cur.execute(f"ANALYZE {table}")

    def write_issues(self, cur, created_ids: dict[str, int]) -> None:
        """Once merged: the changed products' old issues deleted (by product id, on the
        issues' (tenant, product) index) and every reviewed product's issues COPYed."""
        ids = np.array(
            [
                pid if pid is not None else created_ids[s]
                for pid, s in zip(self.product_ids, self.skus, strict=True)
            ],
            dtype=np.int64,
        )
        changed = [pid for pid in self.product_ids if pid is not None]
        self.steps.start()
        if changed:
            cur.execute(
                f"DELETE FROM {_ISSUES} WHERE tenant_id = %s "  # noqa: S608
                "AND product_id = ANY(%s::bigint[])",
                [self.tenant_id, changed],
            )
        self.steps.lap("issues_delete")
        with cur.copy(_COPY_ISSUES_SQL) as cp:
            for first, issues in self._issues:
                if issues.num_rows:
                    rows = pc.add(issues.column("row"), first)
                    shifted = issues.set_column(issues.column_names.index("row"), "row", rows)
                    cp.write(self._blocks._issue_csv(shifted, ids, self._created_at))
        self.steps.lap("issues_copy")
