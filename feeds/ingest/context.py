# SQL below is built only from quoted table/column names of our own models and the per-run
# staging table name (an integer id); every value goes through parameters.
# ruff: noqa: S608
"""One run's context, the exceptions that end a run early, and the fencing token."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import (
    DatabaseError,
    connection,
)
from django.utils import timezone

from catalog_health.steps import StepTimes
from catalog_health.tenancy.models import Tenant
from catalogs.models import Catalog
from feeds.ingest.staging import _is_pg, _qn
from feeds.models import (
    FeedRun,
    FeedSettings,
    ProductSource,
    RunStatus,
)
from feeds.readers import RecordMatcher

log = logging.getLogger(__name__)

if TYPE_CHECKING:  # the writer holds a context too
    from feeds.ingest.writers import _ProductWriter

# =========================================================================== runs: execute


@dataclass
class _Ctx:
    tenant: Tenant
    run: FeedRun
    catalog: Catalog
    source: ProductSource | None
    fs: FeedSettings
    temp_files: list[str]
    keep_file: bool
    matcher: RecordMatcher | None = None  # the unchanged records skipped unread, if any
    direct: _ProductWriter | None = None  # a first pull's products, written but not committed
    review: Any = None  # the review done while the run wrote (ecr.services.FeedReview)
    steps: _Steps = field(default_factory=lambda: _Steps("apply"))  # timed steps of the apply


class _Held(Exception):
    """The run stops before applying and waits for a user (needs confirmation)."""


class _Unchanged(Exception):
    pass


class _Fenced(Exception):
    """The run no longer owns its source: the reaper failed it (its worker stalled past
    stuck_run_minutes) or a newer run started. It stops without writing anything more."""


class _Deferred(Exception):
    """The tenant already has its share of running pulls: the run waits in the queue."""


HOLD_SHARE = "removal_share"
HOLD_INCOMPLETE = "incomplete"


def _save(run: FeedRun, *fields: str) -> None:
    """Write ``fields`` (and the heartbeat) while the run is still running; a run that was
    failed meanwhile (the reaper) raises _Fenced instead of overwriting its fate."""
    run.heartbeat_at = timezone.now()
    values = {f: getattr(run, f) for f in (*fields, "heartbeat_at")}
    written = (
        FeedRun.objects.for_tenant(run.tenant_id)
        .filter(pk=run.pk, status=RunStatus.RUNNING)
        .update(**values)
    )
    if not written:
        raise _Fenced


# A running pull's worker writes its heartbeat this often whatever the run is doing (a long
# download, parse or apply writes no progress), so that a run of a worker that died is seen
# as such within stuck_run_minutes instead of after the longest silent phase.
HEARTBEAT_SECONDS = 30
# ... for at most this long: a run whose worker lives but makes no progress (a bug) is left
# to the reaper again, with the heartbeats its progress writes
HEARTBEAT_MAX_SECONDS = 2 * 3600


class _Heartbeat:
    """Keeps a running run's heartbeat fresh from a thread of the worker, on a connection
    of its own, while the run executes. It never waits for a lock: when the run's row is
    locked (an apply writing it) the beat is skipped, as the reaper skips a locked run."""

    def __init__(
        self,
        run: FeedRun,
        *,
        seconds: float = HEARTBEAT_SECONDS,
        max_seconds: float = HEARTBEAT_MAX_SECONDS,
    ):
        self.run_id, self.tenant_id = run.pk, run.tenant_id
        self.seconds, self.max_seconds = seconds, max_seconds
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name="feeds-heartbeat", daemon=True)

    def start(self) -> _Heartbeat:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()

    def _beat(self) -> None:
        until = time.monotonic() + self.max_seconds
        try:
            while not self.stopped.wait(self.seconds) and time.monotonic() < until:
                try:
                    self.beat_once()
                except DatabaseError:  # the next beat tries again; the run reports its own
                    log.info("feed run %s: heartbeat not written", self.run_id, exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    def beat_once(self) -> None:
        if not _is_pg():  # (SQLite: one writer at a time, and no row locks to skip)
            FeedRun.objects.for_tenant(self.tenant_id).filter(
                pk=self.run_id, status=RunStatus.RUNNING
            ).update(heartbeat_at=timezone.now())
            return
        table = _qn(FeedRun._meta.db_table)
        with connection.cursor() as cur:
            cur.execute(
                f"UPDATE {table} SET heartbeat_at = %s WHERE id = ("
                f"SELECT id FROM {table} WHERE tenant_id = %s AND id = %s AND status = %s "
                "FOR UPDATE SKIP LOCKED)",
                [timezone.now(), self.tenant_id, self.run_id, RunStatus.RUNNING],
            )


def _fence_take(*, tenant: Tenant, source_id: int) -> int:
    """A new generation of the source for a run that starts (its fencing token)."""
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {_qn(ProductSource._meta.db_table)} "
            "SET fence_generation = fence_generation + 1 WHERE tenant_id = %s AND id = %s "
            "RETURNING fence_generation",
            [tenant.pk, source_id],
        )
        row = cur.fetchone()
    return row[0] if row else 0


def _fence_sql(run: FeedRun) -> list[tuple[str, list]]:
    """The statements of the fence check: the source row locked (the reaper takes it to fail
    a run) and its generation, then the run's status. NO KEY UPDATE: exclusive against the
    reaper and Request Data Now, but not against rows being inserted that reference them.
    SQLite has no row locks (and one writer at a time)."""
    lock = " FOR NO KEY UPDATE" if _is_pg() else ""
    return [
        (
            f"SELECT fence_generation FROM {_qn(ProductSource._meta.db_table)} "
            f"WHERE tenant_id = %s AND id = %s{lock}",
            [run.tenant_id, run.source_id],
        ),
        (
            f"SELECT status FROM {_qn(FeedRun._meta.db_table)} "
            f"WHERE tenant_id = %s AND id = %s{lock}",
            [run.tenant_id, run.pk],
        ),
    ]


def _fence_check(run: FeedRun, execute=None) -> None:
    """Inside the apply transaction, last before its COMMIT: raise _Fenced unless the run
    still owns its source (same generation) and is still running. ``execute`` runs one
    statement and returns its first row (default: the main connection)."""
    if execute is None:

        def execute(sql: str, params: list):
            with connection.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchone()

    statements = _fence_sql(run)
    if run.source_id is None:  # import_feed: no source, only the run's own status
        statements = statements[1:]
    else:
        row = execute(*statements[0])
        statements = statements[1:]
        if row is None or row[0] != run.fence:
            raise _Fenced
    row = execute(*statements[0])
    if row is None or row[0] != RunStatus.RUNNING:
        raise _Fenced


# the steps inside a phase, logged at DEBUG with ``extra={"steps": {name: seconds}}`` (the
# benchmarks collect them; the run's durations keep the phases the pages show)
step_log = logging.getLogger("feeds.ingest.steps")


class _Steps(StepTimes):
    """Seconds per named step of one phase, logged once at its end (``log``)."""

    def log(self, run: FeedRun) -> None:
        if step_log.isEnabledFor(logging.DEBUG):
            step_log.debug("feed run %s steps %s", run.pk, self.times, extra={"steps": self.times})


@contextlib.contextmanager
def _phase(run: FeedRun, phase: str) -> Iterator[None]:
    run.phase = phase
    _save(run, "phase")
    start = time.monotonic()
    try:
        yield
    finally:
        run.durations = {
            **run.durations,
            phase: round(run.durations.get(phase, 0) + time.monotonic() - start, 3),
        }
        _save(run, "durations")
