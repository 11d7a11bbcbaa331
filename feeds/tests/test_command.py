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


@pytest.mark.parametrize(
    "location",
    ["https://shop:secret@feeds.example.com/feed.csv", "http://user@127.0.0.1:8112/f.csv"],
)
def test_import_feed_refuses_a_login_in_the_url(tenant_a, location):
    """The run would keep the URL and show it, password included, on its page to every
    member; a product source keeps the password encrypted."""
    from feeds.models import FeedRun

    catalog = CatalogFactory(tenant=tenant_a)
    with pytest.raises(CommandError, match=r"without a username or password.*product source"):
        call_command("import_feed", "--catalog", str(catalog.pk), location)
    assert not FeedRun.objects.exists()


def test_import_feed_unknown_catalog():
    with pytest.raises(CommandError, match="No catalog"):
        call_command("import_feed", "--catalog", "999999", "/nonexistent.csv")


def _import(catalog, path, *flags) -> str:
    from io import StringIO

    out = StringIO()
    call_command("import_feed", "--catalog", str(catalog.pk), *flags, str(path), stdout=out)
    return out.getvalue().strip()


@pytest.mark.django_db(transaction=True)
def test_import_feed_skips_unchanged_records_and_reviews_the_changed_ones(tenant_a, tmp_path):
    """The path of a scheduled pull: records unchanged since the last pull are skipped
    unread (their row warnings are not repeated), the changed products come out of the run
    already reviewed; --force reads every record again."""
    from catalogs.models import ReviewStatus

    catalog = CatalogFactory(tenant=tenant_a, currency="USD")
    path = tmp_path / "feed.csv"
    header = "id,title,description,link,image_link,price\n"  # no availability: a warning
    rows = [
        f"S{i},Hat {i},Wool,https://s.example/{i},https://s.example/{i}.jpg,5 USD"
        for i in range(50)
    ]
    path.write_text(header + "\n".join(rows) + "\n")
    first = _import(catalog, path)
    assert "created 50" in first and "warnings 50" in first
    products = Product.objects.for_tenant(tenant_a).filter(catalog=catalog)
    assert not products.filter(review_status=ReviewStatus.PENDING).exists()

    rows[7] = "S7,Hat 7,Wool,ftp://s.example/7,https://s.example/7.jpg,6 USD"
    path.write_text(header + "\n".join(rows) + "\n")
    again = _import(catalog, path)
    assert "created 0, updated 1, unchanged 49" in again
    assert again.endswith("warnings 1")  # only the record read again warns again
    assert products.get(sku="S7").review_status == ReviewStatus.UNAVAILABLE  # link_not_http
    assert not products.filter(review_status=ReviewStatus.PENDING).exists()

    forced = _import(catalog, path, "--force")
    assert "created 0, updated 0, unchanged 50" in forced
    assert forced.endswith("warnings 50")  # every record read


def test_a_local_file_cut_off_mid_row_holds_its_removals(tenant_a, tmp_path):
    """The same file cut in the middle of its 16th row: the rows before are applied, the 4
    products after the cut (the cut row names its own) are not removed, and the summary says
    the removals are held."""
    catalog = CatalogFactory(tenant=tenant_a)
    path = tmp_path / "feed.csv"
    rows = [f"S{i:02d},Hat {i},{i}.00 USD,in stock\n" for i in range(20)]
    path.write_text("id,title,price,availability\n" + "".join(rows))
    call_command("import_feed", "--catalog", str(catalog.pk), str(path))
    path.write_text("id,title,price,availability\n" + "".join(rows[:15]) + "S15,Ha")
    with pytest.raises(CommandError) as exc:
        call_command("import_feed", "--catalog", str(catalog.pk), str(path))
    assert "needs_confirmation" in str(exc.value) and "removals held 4" in str(exc.value)
    assert "ends in the middle of line 17" in str(exc.value)
    active = Product.objects.for_tenant(tenant_a).filter(catalog=catalog, removed_at=None)
    assert active.count() == 20


def test_import_feed_lists_the_row_errors_it_refers_to(tenant_a, tmp_path, capsys):
    catalog = CatalogFactory(tenant=tenant_a)
    path = tmp_path / "feed.csv"
    path.write_text("id,title,price\nS1,Hat,oops\nS2,Cap,also bad\nS3,Scarf,5 USD\n")
    with pytest.raises(CommandError, match="See the run's row errors"):
        call_command("import_feed", "--catalog", str(catalog.pk), str(path))
    err = capsys.readouterr().err
    assert "line 2 (S1) error price: cannot read price “oops”" in err
    assert "line 3 (S2) error price:" in err


def test_a_held_import_says_where_to_confirm_it(
    tenant_a, tmp_path, settings, api_client_for, member
):
    """The summary of a held run said "Confirm to apply it" and no more: the operator at a
    shell did not know where. It names the run's page and the API call with the digest, and
    that call applies the run; the operator's file stays."""
    from catalog_health.tenancy.roles import Role
    from feeds import services
    from feeds.models import FeedRun

    settings.SITE_URL = "https://catalog.example.com"
    catalog = CatalogFactory(tenant=tenant_a)
    path = tmp_path / "feed.csv"
    rows = [f"S{i:02d},Hat {i},{i}.00 USD,in stock\n" for i in range(20)]
    path.write_text("id,title,price,availability\n" + "".join(rows))
    call_command("import_feed", "--catalog", str(catalog.pk), str(path))
    path.write_text("id,title,price,availability\n" + "".join(rows[:5]))
    with pytest.raises(CommandError) as exc:
        call_command("import_feed", "--catalog", str(catalog.pk), str(path))
    run = FeedRun.objects.for_tenant(tenant_a).latest("pk")
    said = str(exc.value)
    assert f"https://catalog.example.com/t/{tenant_a.slug}/runs/{run.pk}/" in said
    assert f"POST /api/v1/runs/{run.pk}/confirm/" in said
    assert run.held_removals_digest in said
    api = api_client_for(member(tenant_a, Role.ADVERTISER), tenant_a)
    body = {"removal_digest": run.held_removals_digest}
    assert api.post(f"/api/v1/runs/{run.pk}/confirm/", body, format="json").status_code == 202
    run = services.feed_run_execute(tenant_id=tenant_a.pk, run_id=run.pk)
    assert run.status == "succeeded" and run.removed == 15, run.error_message
    assert path.exists()


def test_a_newer_import_supersedes_the_catalogs_held_imports_only(tenant_a, tmp_path):
    """Two held imports of one catalog both waited for confirmation, and confirming the
    older after the newer would have applied the older file over it: the newer import
    cancels the older hold, as a source's newer pull does. Another catalog's held import,
    and a held run of a source, are left waiting."""
    from feeds import services
    from feeds.models import FeedRun, RunStatus
    from feeds.tests.factories import ProductSourceFactory

    catalog, other = CatalogFactory(tenant=tenant_a), CatalogFactory(tenant=tenant_a)
    rows = [f"S{i:02d},Hat {i},{i}.00 USD,in stock\n" for i in range(20)]
    full, few = tmp_path / "full.csv", tmp_path / "few.csv"
    full.write_text("id,title,price,availability\n" + "".join(rows))
    few.write_text("id,title,price,availability\n" + "".join(rows[:5]))

    def held_import(target) -> FeedRun:
        with pytest.raises(CommandError, match="needs_confirmation"):
            call_command("import_feed", "--catalog", str(target.pk), str(few))
        return FeedRun.objects.for_tenant(tenant_a).latest("pk")

    for target in (catalog, other):
        call_command("import_feed", "--catalog", str(target.pk), str(full))
    older, elsewhere = held_import(catalog), held_import(other)
    source = ProductSourceFactory(catalog=catalog, kind="upload")
    sourced = FeedRun.objects.create(
        tenant=tenant_a, catalog=catalog, source=source, status=RunStatus.NEEDS_CONFIRMATION
    )
    newer = held_import(catalog)
    older.refresh_from_db()
    assert older.status == RunStatus.CANCELLED
    assert older.error_message == "Superseded by a newer run before it was confirmed."
    with pytest.raises(services.RunNotConfirmable):
        services.feed_run_confirm(tenant=tenant_a, run=older, actor=None)
    statuses = FeedRun.objects.for_tenant(tenant_a).filter(
        pk__in=[elsewhere.pk, sourced.pk, newer.pk]
    )
    assert set(statuses.values_list("status", flat=True)) == {RunStatus.NEEDS_CONFIRMATION}
    assert few.exists()
