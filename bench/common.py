"""Shared set-up of the benchmarks: a dedicated PostgreSQL database, migrated, and timers.

Benchmarks never run against the test or demo database: DATABASE_URL defaults to
postgres://postgres@127.0.0.1:5432/catalog_health_bench (created when missing).
"""

from __future__ import annotations

import contextlib
import os
import platform
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/catalog_health_bench"


def setup_django(*, migrate: bool = True) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalog_health.settings.test")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    _ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def _ensure_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


@contextmanager
def timed(results: dict, key: str):
    started = time.perf_counter()
    yield
    results[key] = time.perf_counter() - started


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    q = (
        statistics.quantiles(ordered, n=100, method="inclusive")
        if len(ordered) > 1
        else ordered * 99
    )
    return {"p50": q[49], "p95": q[94], "p99": q[98], "max": ordered[-1]}


def checkpoint() -> None:
    """Write out the WAL of what ran before, so that a timed step does not pay for another
    step's checkpoint (a floor COPY run during one took 13.0 s against 5.7 s). Not timed; a
    role that may not CHECKPOINT skips it (the figures are only noisier)."""
    from django.db import DatabaseError, connection

    with contextlib.suppress(DatabaseError), connection.cursor() as cur:
        cur.execute("CHECKPOINT")


class BackendCpu:
    """CPU seconds used by this database's PostgreSQL backends while the ``with`` block runs,
    read from /proc every 0.1 s by a thread (the server must run on this machine, else 0).
    A backend that appears meanwhile counts from zero; one that ends loses at most its last
    0.1 s. With the CPU of the Python process, it says how busy the cores were: a figure
    that needs more CPU-seconds than cores x wall time cannot be had by overlapping more."""

    def __init__(self, dbname: str):
        self.marker = f" {dbname} ".encode()
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.stop = threading.Event()
        self.tick = os.sysconf("SC_CLK_TCK")
        # processes that are not PostgreSQL's, read once: reading every process's command
        # line took 1.2 ms a sample (0.2 ms now), ten times a second, in the measured process
        self.others: set[str] = set()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self, *, at_start: bool = False) -> None:
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit() or entry.name in self.others:
                continue
            try:
                with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                    cmdline = f.read().replace(b"\0", b" ")
                if b"postgres" not in cmdline:  # (a backend's title names it from its fork)
                    self.others.add(entry.name)
                if self.marker not in cmdline:
                    continue
                with open(f"/proc/{entry.name}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            cpu = (int(fields[11]) + int(fields[12])) / self.tick  # utime, stime
            pid = int(entry.name)
            self.first.setdefault(pid, cpu if at_start else 0.0)
            self.last[pid] = cpu

    def _run(self) -> None:
        while not self.stop.wait(0.1):
            self._sample()

    def __enter__(self) -> BackendCpu:
        self._sample(at_start=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()
        self._sample()

    def seconds(self) -> float:
        return sum(self.last[p] - self.first[p] for p in self.last)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> str:
    return f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"


@contextmanager
def gunicorn(
    *, workers: int, env: dict[str, str] | None = None, options: tuple[str, ...] = ()
) -> Iterator[tuple[str, subprocess.Popen]]:
    """The app under gunicorn on a free loopback port, once it answers /healthz: its base
    URL and the master process. Stopped on the way out."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "catalog_health.wsgi:application"),
            *("--bind", f"127.0.0.1:{port}", "--workers", str(workers)),
            *("--log-level", "warning", *options),
        ],
        cwd=ROOT,
        env=env if env is not None else dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.3)
        yield base, server
    finally:
        server.terminate()
        server.wait(timeout=30)
