"""The demo's feed seeding: sources point at the demo's own server, idempotently."""

import io

import pytest

from catalogs.demo import seed_demo as catalogs_seed
from catalogs.models import Catalog
from feeds.demo import seed_demo
from feeds.models import FeedSettings, ProductSource, Schedule


@pytest.mark.django_db
def test_demo_sources_point_at_the_demo_feed_server(tenant_a, tmp_path, monkeypatch):
    monkeypatch.setenv("DEMO_FEEDS_DIR", str(tmp_path))
    monkeypatch.setenv("DEMO_FEEDS_URL", "http://127.0.0.1:8765")
    catalogs_seed(tenants=[tenant_a], stdout=io.StringIO(), products_per_catalog=20)
    ProductSource.objects.create(  # an older demo's source, on an unresolvable host
        tenant=tenant_a,
        catalog=Catalog.objects.for_tenant(tenant_a).order_by("id").first(),
        name="Daily feed",
        url="https://feeds.example.com/acme/1.csv",
    )
    for _ in range(2):
        seed_demo(tenants=[tenant_a], stdout=io.StringIO())
    sources = list(ProductSource.objects.for_tenant(tenant_a).order_by("id"))
    names = sorted(s.name for s in sources)
    assert names == ["Daily feed", "Daily feed", "Supplier feed (password)"]
    for s in sources:
        assert s.url.startswith("http://127.0.0.1:8765/"), s.url
        relative = s.url.removeprefix("http://127.0.0.1:8765/")
        assert (tmp_path / relative).read_bytes().startswith(b"id,title")
    assert all(s.schedule == Schedule.DAILY for s in sources if s.name == "Daily feed")
    assert "127.0.0.1/32" in FeedSettings.load().fetch_allow_list.split()


@pytest.mark.django_db
def test_seeding_again_leaves_a_catalog_the_user_made_alone(tenant_a, tmp_path, monkeypatch):
    monkeypatch.setenv("DEMO_FEEDS_DIR", str(tmp_path))
    monkeypatch.setenv("DEMO_FEEDS_URL", "http://127.0.0.1:8765")
    catalogs_seed(tenants=[tenant_a], stdout=io.StringIO(), products_per_catalog=20)
    seed_demo(tenants=[tenant_a], stdout=io.StringIO())
    mine = Catalog.objects.create(tenant=tenant_a, name="Spring sale", country="US", currency="USD")
    catalogs_seed(tenants=[tenant_a], stdout=io.StringIO(), products_per_catalog=20)
    seed_demo(tenants=[tenant_a], stdout=io.StringIO())  # `make demo` once more
    assert not ProductSource.objects.for_tenant(tenant_a).filter(catalog=mine).exists()
