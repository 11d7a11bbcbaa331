"""Checks that the PostgreSQL and Redis the tests use answer, and says how to start them."""

import os
import socket
import sys
from urllib.parse import urlparse

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/catalog_health"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"

HOW = {
    "PostgreSQL": (
        "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n"
        "    (or point DATABASE_URL at a PostgreSQL you have)"
    ),
    "Redis": (
        'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no\n'
        "    (or point REDIS_URL at a Redis you have)"
    ),
}


def reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or default_port), timeout=3):
            return True
    except OSError:
        return False


def without_credentials(url: str) -> str:
    """The URL with its user and password left out, its host and port kept: the message says
    which address was tried without printing a secret."""
    parsed = urlparse(url)
    netloc = parsed.hostname or ""
    if ":" in netloc:  # an IPv6 address keeps its brackets
        netloc = f"[{netloc}]"
    if parsed.port:
        netloc += f":{parsed.port}"
    return parsed._replace(netloc=netloc).geturl()


def main() -> int:
    checks = [
        ("PostgreSQL", os.environ.get("DATABASE_URL", DEFAULT_DB), 5432),
        ("Redis", os.environ.get("REDIS_URL", DEFAULT_REDIS), 6379),
    ]
    down = [(name, url) for name, url, port in checks if not reachable(url, port)]
    for name, url in down:
        safe = without_credentials(url)
        print(
            f"{name} is not reachable at {safe}. Start it with:\n    {HOW[name]}", file=sys.stderr
        )
    return 1 if down else 0


if __name__ == "__main__":
    sys.exit(main())
