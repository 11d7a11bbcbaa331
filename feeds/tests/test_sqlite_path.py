"""The portable path: the same pipeline on SQLite (the embedded default), in a subprocess
with its own settings, through `import_feed`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_import_feed_on_sqlite(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "catalog_health.settings.local",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "memory://",
        "LOG_LEVEL": "ERROR",
    }
    assert _manage(env, "migrate", "-v0").returncode == 0
    setup = (
        "from catalog_health.tenancy.models import Tenant; from catalogs.models import Catalog; "
        "t = Tenant.objects.create(slug='s', name='S'); "
        "print(Catalog.objects.create(tenant=t, name='C').pk)"
    )
    out = _manage(env, "shell", "-c", setup)
    catalog_id = out.stdout.strip().splitlines()[-1]
    feeds = [
        'id,title,price\nA,Hat,5 USD\nB,Cap,"12,50 EUR"\nC,Bag,3 USD\n',
        'id,title,price\nA,Hat v2,5 USD\nB,Cap,"12,50 EUR"\nD,Box,1 USD\n',
    ]
    lines = []
    for i, text in enumerate(feeds):
        path = tmp_path / f"feed{i}.csv"
        path.write_text(text)
        done = _manage(env, "import_feed", "--catalog", catalog_id, str(path))
        assert done.returncode == 0, done.stderr[-2000:]
        lines.append(done.stdout.strip().splitlines()[-1])
    assert "created 3" in lines[0]
    assert "created 1, updated 1, unchanged 1, removed 1" in lines[1]
    # the list's sorts read the sort keys the SQLite triggers keep (an update renamed A,
    # a replace removed C)
    listing = f"""
from catalogs import selectors
from catalogs.models import Catalog
c = Catalog.objects.get(pk={catalog_id})
def page(sort, size=25, cursor=None):
    return selectors.product_page(
        tenant=c.tenant, catalog=c, filters={{}}, cursor=cursor, sort=sort, size=size
    )
print([(s, [p.sku for p in page(s).rows]) for s in ("title", "-price")])
print(selectors.products_last_changed(tenant=c.tenant, catalog=c) is not None)
pages = [page("price", size=1)]  # one product a page, through the cursors
while pages[-1].next_cursor:
    pages.append(page("price", size=1, cursor=pages[-1].next_cursor))
print([p.rows[0].sku for p in pages])
"""
    out = _manage(env, "shell", "-c", listing)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-3:] == [
        "[('title', ['D', 'B', 'A']), ('-price', ['B', 'A', 'D'])]",
        "True",
        "['D', 'A', 'B']",
    ]
