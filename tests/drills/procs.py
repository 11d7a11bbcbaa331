"""Real processes for the reliability drills: Celery workers and beats, private Redis servers
and a throwaway PostgreSQL cluster. Everything started here is stopped by its owner's
teardown, also when the drill fails, and every wait is bounded.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from glob import glob
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
LOG_DIR = Path(tempfile.gettempdir()) / f"ch-drills-{os.getpid()}"


class DrillTimeout(AssertionError):
    pass


def wait_until(predicate: Callable[[], object], *, timeout: float, what: str, every=0.05):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise DrillTimeout(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    """A child process in its own session with its output in a log file."""

    def __init__(self, name: str, args: list[str], *, env: dict[str, str] | None = None):
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.log_path = LOG_DIR / f"{name}.log"
        self._log = open(self.log_path, "w+")  # noqa: SIM115 -- closed in stop()
        self.popen = subprocess.Popen(
            args,
            cwd=BASE_DIR,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_for_output(self, text: str, *, timeout: float) -> None:
        def seen():
            if text in self.output():
                return True
            if not self.alive():
                raise AssertionError(f"{self.name} exited early:\n{self.output()[-3000:]}")
            return False

        wait_until(seen, timeout=timeout, what=f"{self.name} to print {text!r}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the process group (a Celery worker and any child it has)."""
        if self.alive():
            os.killpg(self.popen.pid, sig)
        self.popen.wait(timeout=15)

    def stop(self, timeout: float = 15) -> None:
        if self.alive():
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
                self.popen.wait(timeout=timeout)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                pass
            if self.alive():
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=15)
        if not self._log.closed:
            self._log.close()


class ProcessGroup:
    """Starts processes and stops every one of them, newest first."""

    def __init__(self):
        self.procs: list[Proc] = []

    def start(self, name: str, args: list[str], *, env: dict[str, str] | None = None) -> Proc:
        proc = Proc(name, args, env=env)
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()

    # --- Catalog Health processes ---------------------------------------------------------

    def worker(self, name: str, env: dict[str, str], *, timeout: float = 60) -> Proc:
        proc = self.start(
            name,
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "catalog_health",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"{name}@%h",
            ],
            env=env,
        )
        proc.wait_for_output("ready.", timeout=timeout)
        return proc

    def beat(self, name: str, env: dict[str, str], *, timeout: float = 60) -> Proc:
        proc = self.start(
            name,
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "catalog_health",
                "beat",
                "--loglevel=INFO",
                "--pidfile=",
                f"--schedule={LOG_DIR / (name + '.schedule')}",
            ],
            env=env,
        )
        proc.wait_for_output("beat: Starting", timeout=timeout)
        return proc


def django_env(*, database_url: str, broker_url: str, **extra: str) -> dict[str, str]:
    """The environment of a worker/beat/script process of the project."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "catalog_health.settings.test",
        "DATABASE_URL": database_url,
        "REDIS_URL": broker_url,
        "CELERY_BROKER_URL": broker_url,
        "CELERY_WORKER_LOGGING": "1",
        "PYTHONUNBUFFERED": "1",
        # short-lived connections: a restarted database is met with a fresh one
        "CONN_MAX_AGE": "0",
        **extra,
    }


# --- Redis --------------------------------------------------------------------------------


class RedisServer:
    """A private, non-persistent redis-server (never the shared one on 6379)."""

    def __init__(self, group: ProcessGroup, port: int | None = None):
        self.group = group
        self.port = port or free_port()
        self.proc: Proc | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = self.group.start(
            f"redis-{self.port}",
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
        )
        wait_until(self.ping, timeout=15, what=f"redis on {self.port}")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None
        wait_until(lambda: not self.ping(), timeout=15, what=f"redis on {self.port} to stop")


# --- PostgreSQL ---------------------------------------------------------------------------


def _pg_bin(name: str) -> str:
    found = sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise FileNotFoundError(f"/usr/lib/postgresql/*/bin/{name} (apt-get install postgresql)")
    return found[-1]


def _as_postgres(args: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the postgres user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


class PgCluster:
    """A throwaway PostgreSQL cluster in a temp dir on a spare port (never the shared one)."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="ch-drill-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.started = False
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")

    def url(self, db: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"

    def _run(self, args: list[str], timeout: float = 60) -> None:
        subprocess.run(_as_postgres(args), check=True, timeout=timeout, capture_output=True)

    def init(self) -> None:
        self._run(
            [
                _pg_bin("initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
            ],
            timeout=120,
        )

    def start(self) -> None:
        self._run(
            [
                _pg_bin("pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-o",
                f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off",
                "-w",
                "-t",
                "60",
                "start",
            ],
            timeout=90,
        )
        self.started = True

    def restart(self) -> None:
        """A fast restart: every connection is dropped, in-flight transactions are lost."""
        self._run(
            [
                _pg_bin("pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-m",
                "fast",
                "-w",
                "-t",
                "60",
                "restart",
            ],
            timeout=90,
        )

    def stop(self) -> None:
        if self.started:
            try:
                self._run(
                    [_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
                    timeout=60,
                )
            except subprocess.SubprocessError:
                pid_file = self.data / "postmaster.pid"
                if pid_file.exists():
                    os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
            self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)
