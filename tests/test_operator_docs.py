"""What the README tells an operator holds: `make test` names the address it could not
reach."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_check_services_names_host_and_port_but_not_the_password():
    db_port, redis_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://app:s3cret@127.0.0.1:{db_port}/shop",
        "REDIS_URL": f"redis://:s3cret@127.0.0.1:{redis_port}/2",
    }
    result = subprocess.run(
        [sys.executable, "scripts/check_services.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert f"PostgreSQL is not reachable at postgres://127.0.0.1:{db_port}/shop." in result.stderr
    assert f"Redis is not reachable at redis://127.0.0.1:{redis_port}/2." in result.stderr
    assert "s3cret" not in result.stderr and "app@" not in result.stderr
