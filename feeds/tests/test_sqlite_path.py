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


def _sqlite(tmp_path) -> tuple[dict, str]:
    """A migrated SQLite database with one catalog: (environment, catalog id)."""
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
        "print(Catalog.objects.create(tenant=t, name='C', currency='USD').pk)"
    )
    out = _manage(env, "shell", "-c", setup)
    return env, out.stdout.strip().splitlines()[-1]


def test_import_feed_on_sqlite(tmp_path):
    env, catalog_id = _sqlite(tmp_path)
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


XML = """<?xml version="1.0"?><rss xmlns:g="http://base.google.com/ns/1.0"><channel>
<item><g:id>A</g:id><g:title>Hat</g:title><g:price>oops</g:price></item>
<item><g:id>B</g:id><g:title>Cap</g:title><g:price>2 USD</g:price>
<g:availability>in stock</g:availability></item>
<item><g:id>B</g:id><g:price>3 USD</g:price></item>
</channel></rss>"""
SHOPIFY = (
    "Handle,Title,Body (HTML),Vendor,Option1 Name,Option1 Value,Variant SKU,Variant Price,"
    "Variant Compare At Price,Image Src,Status\n"
    'tee,Tee,"<p>Soft,\nwarm</p>",Kestrel,Size,S,TEE-S,15.00,20.00,https://c/tee.jpg,active\n'
    "tee,,,,,M,TEE-M,15.00,,https://c/tee-2.jpg,\n"
    "mug,Mug,,Kestrel,Title,Default Title,,free,,,active\n"
)


def test_xml_items_and_a_shopify_export_on_sqlite(tmp_path):
    """Both go through the same validation as CSV there too: row errors with their lines."""
    env, catalog_id = _sqlite(tmp_path)
    shares = (
        "from feeds.models import FeedSettings; FeedSettings.objects.update_or_create(pk=1, "
        "defaults={'rejected_share_threshold': 0.9, 'removal_share_threshold': 1})"
    )
    assert _manage(env, "shell", "-c", shares).returncode == 0
    done = []
    for name, text in (("feed.xml", XML), ("products_export.csv", SHOPIFY)):
        path = tmp_path / name
        path.write_text(text)
        out = _manage(env, "import_feed", "--catalog", catalog_id, str(path))
        assert out.returncode == 0, out.stderr[-2000:]
        done.append(out.stdout.strip().splitlines()[-1])
    assert "received 3, created 1" in done[0] and "rejected 2" in done[0]
    assert "received 3, created 2" in done[1] and "removed 1" in done[1]
    assert "rejected 1" in done[1]
    check = f"""
from catalogs.models import Product
from feeds.models import FeedRowError
print(sorted((e.line, e.sku, e.field) for e in FeedRowError.objects.filter(severity="error")))
print(sorted((p.sku, p.title, str(p.price), str(p.sale_price)) for p in Product.objects.filter(
    catalog_id={catalog_id}, removed_at__isnull=True)))
"""
    out = _manage(env, "shell", "-c", check)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-2:] == [
        "[(1, 'A', 'price'), (3, 'B', 'id'), (5, 'mug', 'price')]",
        "[('TEE-M', 'Tee - M', '15.00', 'None'), ('TEE-S', 'Tee - S', '20.00', '15.00')]",
    ]
