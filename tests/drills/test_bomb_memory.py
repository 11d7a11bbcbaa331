"""Drill: decompression bombs against the real CLI (`manage.py import_feed`) and a real
Celery worker. Each must fail on the bomb (the catalog untouched) with a peak resident set
under 512 MiB; the numbers measured are printed (`pytest -s`) for docs/operations.md.
"""

from __future__ import annotations

import gzip
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from catalogs.models import Product
from feeds import services
from feeds.models import RunStatus
from feeds.tests.feedserver import body

from .conftest import broker
from .helpers import finished, make_shop
from .procs import BASE_DIR, django_env, wait_until

pytestmark = [pytest.mark.drill, pytest.mark.timeout(600)]

LIMIT_KIB = 512 * 1024
ROWS = b"".join(b"S%07d,x\n" % (i % 10) for i in range(100_000))  # short rows, ~1 MB


# runs argv[1:] and prints its peak resident set (its process alone: a fresh parent)
PEAK_RSS_OF_CHILD = (
    "import resource, subprocess, sys; "
    "code = subprocess.call(sys.argv[1:]); "
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss; "
    "print(f'peak-rss-kib={peak}', file=sys.stderr); sys.exit(code)"
)


def gzip_bomb(path: Path, expanded: int = 8 * 1024**3) -> None:
    """A gzip of short rows that inflates to 8 GiB (the same compressed megabyte repeated as
    gzip members: valid for every gzip reader, written in a second)."""
    member = gzip.compress(ROWS, compresslevel=9)
    with open(path, "wb") as out:
        out.write(gzip.compress(b"id,title\n"))
        for _ in range(expanded // len(ROWS)):
            out.write(member)


def zip_bomb(path: Path, megabytes: int = 1024) -> None:
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z,
        z.open("feed.csv", "w", force_zip64=True) as member,
    ):
        member.write(b"id,title\n")
        for _ in range(megabytes):
            member.write(ROWS)


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bombs")
    made = {"gzip": folder / "bomb.csv.gz", "zip": folder / "bomb.zip"}
    gzip_bomb(made["gzip"])
    zip_bomb(made["zip"])
    return made


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.mark.parametrize("kind", ["gzip", "zip"])
def test_the_cli_fails_a_bomb_in_bounded_memory(
    kind, bombs, test_db_url, drill_feed_settings, procs
):
    drill_feed_settings.max_feed_bytes = 512 * 1024**2
    drill_feed_settings.save()
    shop = make_shop(feed_url="https://shop.example.com/feed.csv", slug=f"cli-{kind}")
    env = django_env(database_url=test_db_url, broker_url="memory://")
    start = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            PEAK_RSS_OF_CHILD,
            sys.executable,
            "manage.py",
            "import_feed",
            "--catalog",
            str(shop.catalog.pk),
            str(bombs[kind]),
        ],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0, done.stdout[-2000:]
    assert "received 0" in done.stderr, done.stderr[-2000:]  # stopped before parsing a row
    peak = int(done.stderr.rsplit("peak-rss-kib=", 1)[1].split()[0])
    print(
        f"\nCLI {kind} bomb ({bombs[kind].stat().st_size} bytes): failed after "
        f"{time.monotonic() - start:.1f} s (process start included), peak RSS {peak // 1024} MiB"
    )
    assert peak < LIMIT_KIB
    assert not Product.objects.for_tenant(shop.tenant).exists()


def test_a_worker_fails_bombs_in_bounded_memory(
    bombs, procs, test_db_url, private_redis, feed_server, drill_feed_settings
):
    drill_feed_settings.max_feed_bytes = 512 * 1024**2
    drill_feed_settings.save()
    env = django_env(database_url=test_db_url, broker_url=private_redis.url)
    with broker(private_redis.url):
        worker = procs.worker("worker-bombs", env)
        for kind, path in bombs.items():
            feed_server.routes[f"/{kind}"] = body(path.read_bytes())
            shop = make_shop(feed_url=feed_server.url(f"/{kind}"), slug=f"worker-{kind}")
            run, _ = services.feed_run_request(
                tenant=shop.tenant, source=shop.source, actor=shop.user
            )
            run = wait_until(
                lambda shop=shop, pk=run.pk: finished(shop, pk), timeout=240, what=f"{kind} bomb"
            )
            assert run.status == RunStatus.FAILED, run.error_message
            assert run.rows_done == 0, "rows were parsed before the bomb was stopped"
            assert not Product.objects.for_tenant(shop.tenant).exists()
        peak = peak_rss_kib(worker.pid)
        print(f"\nworker after both bombs: peak RSS {peak // 1024} MiB")
        assert peak < LIMIT_KIB
