"""`manage.py import_feed`: one-line summary, exit status."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalogs.models import Product
from catalogs.tests.factories import CatalogFactory

pytestmark = pytest.mark.django_db


def test_import_feed_file(tenant_a, tmp_path, capsys):
    catalog = CatalogFactory(tenant=tenant_a)
    path = tmp_path / "feed.csv"
    good = "".join(f"S{i},Hat {i},5 USD\n" for i in range(9))
    path.write_text("id,title,price\n" + good + "B,Cap,oops\n")
    call_command("import_feed", "--catalog", str(catalog.pk), "--mode", "update", str(path))
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "succeeded" in out[0] and "created 9" in out[0]
    assert "rejected 1" in out[0]
    assert Product.objects.for_tenant(tenant_a).filter(catalog=catalog).count() == 9


def test_import_feed_failure_exits_non_zero(tenant_a, tmp_path):
    catalog = CatalogFactory(tenant=tenant_a)
    path = tmp_path / "page.html"
    path.write_text("<html><body>login</body></html>")
    with pytest.raises(CommandError, match="web page"):
        call_command("import_feed", "--catalog", str(catalog.pk), str(path))


@pytest.mark.parametrize("location", ["sftp://feeds.example.com/feed.csv", "FTP://x/feed.csv"])
def test_import_feed_refuses_other_schemes_with_a_way_forward(tenant_a, location):
    from feeds.models import FeedRun

    catalog = CatalogFactory(tenant=tenant_a)
    with pytest.raises(CommandError, match=r"file path or an http\(s\) URL.*product source"):
        call_command("import_feed", "--catalog", str(catalog.pk), location)
    assert not FeedRun.objects.exists()


def test_import_feed_unknown_catalog():
    with pytest.raises(CommandError, match="No catalog"):
        call_command("import_feed", "--catalog", "999999", "/nonexistent.csv")
