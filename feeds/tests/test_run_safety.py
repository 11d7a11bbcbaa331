"""Run safety: fencing, completeness holds, confirmations that apply what they showed, the
reaper's clean-up and fair workers (real PostgreSQL, a real local HTTP server)."""

from __future__ import annotations

import gzip
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.utils import timezone

from catalogs.models import Product
from catalogs.tests.factories import CatalogFactory
from feeds import periodic, services
from feeds.ingest import apply, context, pipeline
from feeds.models import FeedRun, FeedSettings, ProductSource, RunStatus, Schedule, Trigger
from feeds.tests.factories import ProductSourceFactory
from feeds.tests.feedserver import body, unframed

HEADER = "id,title,description,link,image_link,price,availability,brand\n"


def feed(n: int, *, start: int = 0, version: int = 1) -> bytes:
    lines = [
        f"S{i:05d},Product {i} v{version},Desc,https://s.example/{i},https://s.example/{i}.jpg,"
        f"{10 + version}.00 USD,in stock,B\n"
        for i in range(start, start + n)
    ]
    return (HEADER + "".join(lines)).encode()


def active(catalog) -> int:
    return (
        Product.objects.for_tenant(catalog.tenant_id)
        .filter(catalog=catalog, removed_at__isnull=True)
        .count()
    )


def snapshot(catalog) -> list[tuple]:
    return list(
        Product.objects.for_tenant(catalog.tenant_id)
        .filter(catalog=catalog)
        .order_by("sku")
        .values_list("sku", "title", "price", "removed_at")
    )


@pytest.fixture
def fs(db):
    s = FeedSettings.load()
    s.manual_refresh_min_seconds = 0
    s.save()
    return s


def url_source(catalog, url: str, **kw) -> ProductSource:
    return ProductSourceFactory(
        catalog=catalog, url=url, format="csv", schedule=Schedule.MANUAL, **kw
    )


def pull(tenant, source, actor=None) -> FeedRun:
    run, created = services.feed_run_request(tenant=tenant, source=source, actor=actor)
    assert created
    return services.feed_run_execute(tenant_id=tenant.pk, run_id=run.pk)


def cut_after_rows(data: bytes, rows: int) -> int:
    """The byte offset just after the header and ``rows`` data lines."""
    at = 0
    for _ in range(rows + 1):
        at = data.index(b"\n", at) + 1
    return at


# ------------------------------------------------------------------ completeness (bullet 7)


@pytest.mark.django_db
def test_a_cut_off_download_without_length_removes_nothing(tenant_a, fs, server, owner):
    """Served without Content-Length or chunking and closed after 620 of 1,000 rows: before,
    the run succeeded and removed 380 products. Now it adds and updates, and holds every
    removal for confirmation, saying why."""
    catalog = CatalogFactory(tenant=tenant_a)
    server.routes["/full.csv"] = body(feed(1000))
    source = url_source(catalog, server.url("/full.csv"))
    assert pull(tenant_a, source).status == RunStatus.SUCCEEDED
    data = feed(1000, version=2)
    server.routes["/full.csv"] = unframed(data, cut_at=cut_after_rows(data, 620))
    run = pull(tenant_a, source)
    assert run.status == RunStatus.NEEDS_CONFIRMATION, run.error_message
    assert run.hold_reason == "incomplete"
    assert "cannot be proven complete" in run.error_message
    assert "380 products missing from it were not removed" in run.error_message
    assert active(catalog) == 1000  # nothing removed
    assert run.updated == 620  # the rows it has were applied
    p = Product.objects.for_tenant(tenant_a).get(catalog=catalog, sku="S00003")
    assert p.title == "Product 3 v2"
    # confirming removes exactly the 380 it showed
    services.feed_run_confirm(
        tenant=tenant_a, run=run, actor=owner, removal_digest=run.held_removals_digest
    )
    run = services.feed_run_execute(tenant_id=tenant_a.pk, run_id=run.pk)
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert run.removed == 380 and run.updated == 620
    assert active(catalog) == 620


@pytest.mark.django_db
def test_an_unframed_gzip_proves_its_own_end(tenant_a, fs, server):
    """gzip has an end-of-stream marker: a whole gzip body without a length is complete, and
    its removals go through as usual (below the share threshold)."""
    catalog = CatalogFactory(tenant=tenant_a)
    server.routes["/f"] = body(feed(10))
    source = url_source(catalog, server.url("/f"))
    pull(tenant_a, source)
    server.routes["/f"] = unframed(gzip.compress(feed(8)))
    run = pull(tenant_a, source)
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert run.removed == 2 and run.incomplete_reason == ""


@pytest.mark.django_db
def test_a_cut_off_gzip_without_length_fails(tenant_a, fs, server):
    catalog = CatalogFactory(tenant=tenant_a)
    server.routes["/f"] = body(feed(100))
    source = url_source(catalog, server.url("/f"))
    pull(tenant_a, source)
    packed = gzip.compress(feed(100, version=2))
    server.routes["/f"] = unframed(packed, cut_at=len(packed) // 2)
    run = pull(tenant_a, source)
    assert run.status == RunStatus.FAILED
    assert active(catalog) == 100


@pytest.mark.django_db
def test_a_whole_unframed_csv_still_holds_removals(tenant_a, fs, server):
    """Nothing tells a whole unframed CSV from a cut one: its removals wait too."""
    catalog = CatalogFactory(tenant=tenant_a)
    server.routes["/f"] = body(feed(10))
    source = url_source(catalog, server.url("/f"))
    pull(tenant_a, source)
    server.routes["/f"] = unframed(feed(9))
    run = pull(tenant_a, source)
    assert run.status == RunStatus.NEEDS_CONFIRMATION and run.removed == 1
    assert active(catalog) == 10


@pytest.mark.django_db
@pytest.mark.parametrize("cut", ["mid_field", "mid_quote"])
def test_a_file_cut_off_mid_row_removes_nothing_even_with_its_length(tenant_a, fs, server, cut):
    """A file cut off before it was served (a partial copy on the feed server, sent with
    its own Content-Length): its last row has no line end and fewer fields than the header.
    Before, the run succeeded and removed the 5 products after the cut (25 %, under the
    removal share). Now the rows it has are applied and the removals are held."""
    catalog = CatalogFactory(tenant=tenant_a)
    server.routes["/f"] = body(feed(20))
    source = url_source(catalog, server.url("/f"))
    pull(tenant_a, source)
    data = feed(20, version=2)
    at = cut_after_rows(data, 14)
    tail = b"S00014,Product 14 v2,De" if cut == "mid_field" else b'S00014,Product 14 v2,"De'
    server.routes["/f"] = body(data[:at] + tail)
    run = pull(tenant_a, source)
    assert run.status == RunStatus.NEEDS_CONFIRMATION, run.error_message
    assert run.hold_reason == "incomplete"
    assert "ends in the middle of line 16" in run.error_message
    assert active(catalog) == 20 and run.updated == 14


@pytest.mark.django_db
@pytest.mark.parametrize(
    "last",
    [
        pytest.param(
            b"S00014,Product 14,Desc,https://s.example/14,,3.00 USD,in stock,B", id="whole"
        ),
        pytest.param(b"S00014,Product 14\n", id="short_but_ended"),
    ],
)
def test_a_last_row_whole_or_ended_removes_as_usual(tenant_a, fs, server, last):
    """A last row without a line end but with every field (many exports), or a short row
    that does end: no sign of a cut, the removals below the share go through."""
    catalog = CatalogFactory(tenant=tenant_a)
    server.routes["/f"] = body(feed(20))
    source = url_source(catalog, server.url("/f"))
    pull(tenant_a, source)
    data = feed(20, version=2)
    server.routes["/f"] = body(data[: cut_after_rows(data, 14)] + last)
    run = pull(tenant_a, source)
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert run.incomplete_reason == "" and run.removed == 5


@pytest.mark.django_db
def test_an_unframed_update_mode_run_applies(tenant_a, fs, server):
    """Update mode never removes: nothing to hold."""
    catalog = CatalogFactory(tenant=tenant_a)
    server.routes["/f"] = body(feed(10))
    source = url_source(catalog, server.url("/f"))
    pull(tenant_a, source)
    source.mode = "update"
    source.save()
    server.routes["/f"] = unframed(feed(3, version=3))
    run = pull(tenant_a, source)
    assert run.status == RunStatus.SUCCEEDED and run.updated == 3 and active(catalog) == 10


# ------------------------------------------------------------------ confirmation (bullet 8)


@pytest.mark.django_db
def test_a_confirmation_applies_what_it_showed(tenant_a, fs, server, owner):
    """Held with "would remove 90"; an update source then adds 5 products; the owner
    confirms: before, 95 were removed. Now the run asks again with the new numbers."""
    catalog = CatalogFactory(tenant=tenant_a)
    server.routes["/main"] = body(feed(100))
    server.routes["/extra"] = body(feed(5, start=500))
    main = url_source(catalog, server.url("/main"), name="Main")
    extra = url_source(catalog, server.url("/extra"), name="Extra", mode="update")
    pull(tenant_a, main)
    server.routes["/main"] = body(feed(10))
    held = pull(tenant_a, main)
    assert held.status == RunStatus.NEEDS_CONFIRMATION and held.removed == 90
    shown = held.held_removals_digest
    assert len(shown) == 64
    assert pull(tenant_a, extra).created == 5
    services.feed_run_confirm(tenant=tenant_a, run=held, actor=owner, removal_digest=shown)
    run = services.feed_run_execute(tenant_id=tenant_a.pk, run_id=held.pk)
    assert run.status == RunStatus.NEEDS_CONFIRMATION, run.error_message
    assert "would now remove 95" in run.error_message and "not the 90" in run.error_message
    assert run.removed == 95 and run.held_removals_digest != shown
    assert run.confirmed_by_id is None
    assert active(catalog) == 105  # nothing removed
    # the page of before (old digest) cannot confirm it
    with pytest.raises(services.RunNotConfirmable):
        services.feed_run_confirm(tenant=tenant_a, run=run, actor=owner, removal_digest=shown)
    services.feed_run_confirm(
        tenant=tenant_a, run=run, actor=owner, removal_digest=run.held_removals_digest
    )
    run = services.feed_run_execute(tenant_id=tenant_a.pk, run_id=run.pk)
    assert run.status == RunStatus.SUCCEEDED and run.removed == 95
    assert active(catalog) == 10


# ------------------------------------------------------------------ fencing (bullet 6)


def _gate(data: bytes, release: threading.Event, reached: threading.Event):
    """Half the body, then wait for ``release``, then the rest (a stalled worker's fetch)."""

    def handler(h):
        h.send_response(200)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data[: len(data) // 2])
        h.wfile.flush()
        reached.set()
        release.wait(60)
        h.wfile.write(data[len(data) // 2 :])
        h.wfile.flush()

    return handler


@pytest.mark.django_db(transaction=True)
def test_a_run_the_reaper_failed_never_applies(tenant_a, server):
    """A worker stalls mid-fetch past the stuck-run limit; the reaper fails its run; a newer
    run succeeds; the stalled worker resumes. Before, it applied its older feed over the
    newer data and ended 'succeeded' with error_code=worker_lost."""
    FeedSettings.objects.update_or_create(pk=1, defaults={"manual_refresh_min_seconds": 0})
    catalog = CatalogFactory(tenant=tenant_a)
    server.routes["/f"] = body(feed(200))
    source = url_source(catalog, server.url("/f"))
    pull(tenant_a, source)
    release, reached = threading.Event(), threading.Event()
    server.routes["/f"] = _gate(feed(100, version=2), release, reached)  # removes 100
    stalled, _ = services.feed_run_request(tenant=tenant_a, source=source, actor=None)
    outcome: list = []

    def work():
        try:
            outcome.append(services.feed_run_execute(tenant_id=tenant_a.pk, run_id=stalled.pk))
        finally:
            connection.close()

    worker = threading.Thread(target=work)
    worker.start()
    try:
        assert reached.wait(30)
        later = timezone.now() + timedelta(minutes=FeedSettings.load().stuck_run_minutes + 1)
        # the reaper skips a run whose row is locked (the worker writing its progress this
        # very moment) and takes it on its next round, as beat would
        for _ in range(50):
            if periodic.feed_reap_stale(now=later):
                break
            time.sleep(0.1)
        run = FeedRun.objects.for_tenant(tenant_a).get(pk=stalled.pk)
        assert (run.status, run.error_code) == (RunStatus.FAILED, "worker_lost")
        server.routes["/f"] = body(feed(200, version=3))
        newer = pull(tenant_a, source)
        assert newer.status == RunStatus.SUCCEEDED, newer.error_message
        after_newer = snapshot(catalog)
    finally:
        release.set()
        worker.join(60)
    assert outcome, "the stalled run did not end"
    run = FeedRun.objects.for_tenant(tenant_a).get(pk=stalled.pk)
    assert run.status == RunStatus.FAILED and run.error_code == "worker_lost"
    assert snapshot(catalog) == after_newer
    assert active(catalog) == 200


@pytest.mark.django_db
def test_the_fence_refuses_an_older_generation(tenant_a, catalog, fs):
    source = ProductSourceFactory(catalog=catalog)
    run = FeedRun.objects.create(
        tenant=tenant_a, catalog=catalog, source=source, trigger="manual", mode="replace"
    )
    # what feed_run_execute does when the run starts
    run.status = RunStatus.RUNNING
    run.fence = context._fence_take(tenant=tenant_a, source_id=source.pk)
    run.save()
    context._fence_check(run)  # owns its source
    context._fence_take(tenant=tenant_a, source_id=source.pk)  # a newer run started
    with pytest.raises(context._Fenced):
        context._fence_check(run)


# ------------------------------------------------------------------ reaper (bullet 11)


@pytest.mark.django_db
def test_the_reaper_removes_the_downloads_of_the_runs_it_fails(tenant_a, catalog, fs):
    source = ProductSourceFactory(catalog=catalog)
    stale = FeedRun.objects.create(
        tenant=tenant_a,
        catalog=catalog,
        source=source,
        trigger=Trigger.MANUAL,
        mode="replace",
        status=RunStatus.RUNNING,
        heartbeat_at=timezone.now() - timedelta(hours=2),
    )
    other = ProductSourceFactory(catalog=catalog, name="Other")
    alive = FeedRun.objects.create(
        tenant=tenant_a,
        catalog=catalog,
        source=other,
        trigger=Trigger.MANUAL,
        mode="replace",
        status=RunStatus.RUNNING,
        heartbeat_at=timezone.now(),
    )
    tmp = Path(tempfile.gettempdir())
    left = tmp / f"feed-{stale.pk}-leftover.bin"
    busy = tmp / f"feed-{alive.pk}-busy.bin"
    left.write_bytes(b"x" * 1000)
    busy.write_bytes(b"y")
    try:
        generation = ProductSource.objects.get(pk=source.pk).fence_generation
        assert periodic.feed_reap_stale() == 1
        assert not left.exists()
        assert busy.exists()  # a running run's download is its own
        assert ProductSource.objects.get(pk=source.pk).fence_generation == generation + 1
    finally:
        left.unlink(missing_ok=True)
        busy.unlink(missing_ok=True)


@pytest.mark.django_db
def test_downloads_are_named_after_their_run(tenant_a, fs, server, monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    catalog = CatalogFactory(tenant=tenant_a)
    server.routes["/f"] = body(feed(3))
    run = pull(tenant_a, url_source(catalog, server.url("/f")))
    assert run.status == RunStatus.SUCCEEDED
    assert pipeline._temp_prefix(run) == f"feed-{run.pk}-"
    assert list(tmp_path.glob("feed-*.bin")) == []  # removed after the run


# ------------------------------------------------------------------ fair workers (bullet 10)


@pytest.mark.django_db
def test_a_tenant_at_its_limit_waits_and_others_do_not(tenant_a, tenant_b, fs, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    fs.max_concurrent_runs_per_tenant = 2
    fs.save()
    catalog = CatalogFactory(tenant=tenant_a)
    for name in ("slow 1", "slow 2"):
        FeedRun.objects.create(
            tenant=tenant_a,
            catalog=catalog,
            source=ProductSourceFactory(catalog=catalog, name=name),
            trigger=Trigger.MANUAL,
            mode="replace",
            status=RunStatus.RUNNING,
            heartbeat_at=timezone.now(),
        )
    third = FeedRun.objects.create(
        tenant=tenant_a,
        catalog=catalog,
        source=ProductSourceFactory(catalog=catalog, name="third"),
        trigger=Trigger.MANUAL,
        mode="replace",
        file_path="/nonexistent/feed.csv",
    )
    assert pipeline._tenant_at_limit(tenant=tenant_a, run=third, fs=fs)
    theirs = CatalogFactory(tenant=tenant_b)
    run_b = FeedRun.objects.create(
        tenant=tenant_b,
        catalog=theirs,
        source=ProductSourceFactory(catalog=theirs, tenant=tenant_b),
        trigger=Trigger.MANUAL,
        mode="replace",
    )
    assert not pipeline._tenant_at_limit(tenant=tenant_b, run=run_b, fs=fs)
    # a run of a dead worker (no heartbeat for stuck_run_minutes) does not count
    FeedRun.objects.for_tenant(tenant_a).filter(status=RunStatus.RUNNING).update(
        heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    assert not pipeline._tenant_at_limit(tenant=tenant_a, run=third, fs=fs)


def _running_run(tenant, *, heartbeat_at):
    catalog = CatalogFactory(tenant=tenant)
    return FeedRun.objects.create(
        tenant=tenant,
        catalog=catalog,
        source=ProductSourceFactory(catalog=catalog, tenant=tenant),
        trigger=Trigger.MANUAL,
        mode="replace",
        status=RunStatus.RUNNING,
        heartbeat_at=heartbeat_at,
    )


def _heartbeat_of(run) -> object:
    return FeedRun.objects.for_tenant(run.tenant_id).get(pk=run.pk).heartbeat_at


@pytest.mark.django_db(transaction=True)
def test_a_running_runs_worker_keeps_its_heartbeat_fresh_whatever_the_run_does(tenant_a):
    """A long download, parse or apply writes no progress; the worker's heartbeat thread
    keeps the run alive all the same, so stuck_run_minutes can be minutes: a run of a dead
    worker stops holding its tenant's next pull that soon. A run that ended is left as it is."""
    old = timezone.now() - timedelta(minutes=10)
    run = _running_run(tenant_a, heartbeat_at=old)
    ended = _running_run(tenant_a, heartbeat_at=old)
    FeedRun.objects.filter(pk=ended.pk).update(status=RunStatus.FAILED)
    fs = FeedSettings.load()

    def at_limit() -> bool:
        with transaction.atomic():
            return pipeline._tenant_at_limit(tenant=tenant_a, run=ended, fs=fs)

    assert not at_limit()  # the running run is as good as dead
    heartbeat = context._Heartbeat(run, seconds=0.02).start()
    try:
        deadline = time.monotonic() + 10
        while _heartbeat_of(run) == old and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        heartbeat.stop()
    assert _heartbeat_of(run) > timezone.now() - timedelta(minutes=1)
    assert _heartbeat_of(ended) == old
    assert at_limit()  # alive: it counts
    assert periodic.feed_reap_stale() == 0
    assert not heartbeat.thread.is_alive()


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_never_waits_for_the_runs_row_lock(tenant_a):
    """An apply holding the run's row: the beat is skipped (the reaper skips a locked run
    too), and the run's end never waits for its heartbeat thread."""
    import psycopg

    old = timezone.now() - timedelta(minutes=10)
    run = _running_run(tenant_a, heartbeat_at=old)
    settings = connection.settings_dict
    with psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        password=settings["PASSWORD"] or None,
    ) as other:
        other.execute("SELECT 1 FROM feeds_feedrun WHERE id = %s FOR UPDATE", [run.pk])
        heartbeat = context._Heartbeat(run, seconds=0.01).start()
        time.sleep(0.3)
        started = time.monotonic()
        heartbeat.stop()
        assert time.monotonic() - started < 5
        other.rollback()
    assert _heartbeat_of(run) == old


@pytest.mark.django_db
def test_a_killed_import_feed_command_is_named_as_such(tenant_a):
    catalog = CatalogFactory(tenant=tenant_a)
    run = FeedRun.objects.create(
        tenant=tenant_a,
        catalog=catalog,
        trigger=Trigger.COMMAND,
        mode="replace",
        status=RunStatus.RUNNING,
        heartbeat_at=timezone.now() - timedelta(hours=1),
    )
    assert periodic.feed_reap_stale() == 1
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and run.error_code == "worker_lost"
    assert "import_feed command was stopped" in run.error_message
    assert "run the command again" in run.error_message


@pytest.mark.django_db
def test_a_dead_workers_run_is_failed_within_minutes_by_default():
    """A worker writes its heartbeat every HEARTBEAT_SECONDS; a few missed beats, and the
    reaper (beat, every minute) fails the run."""
    minutes = FeedSettings.load().stuck_run_minutes
    assert 2 <= minutes <= 5
    assert minutes * 60 >= 4 * context.HEARTBEAT_SECONDS


def test_the_default_total_deadline_is_minutes_not_half_an_hour():
    assert FeedSettings().total_timeout_seconds <= 600


# ------------------------------------------------------------------ the run page


@pytest.mark.django_db
def test_the_run_page_confirms_only_the_removals_it_showed(client, member, tenant_a, fs, server):
    from django.urls import reverse

    from catalog_health.tenancy.roles import Role

    catalog = CatalogFactory(tenant=tenant_a)
    server.routes["/f"] = body(feed(10))
    source = url_source(catalog, server.url("/f"))
    pull(tenant_a, source)
    data = feed(10, version=2)
    server.routes["/f"] = unframed(data, cut_at=cut_after_rows(data, 6))
    run = pull(tenant_a, source)
    client.force_login(member(tenant_a, Role.ADVERTISER))
    page_url = reverse("feeds:run_detail", kwargs={"tenant_slug": tenant_a.slug, "run_id": run.pk})
    page = client.get(page_url).content.decode()
    assert "Removals held: the download may be incomplete." in page
    assert "cannot be proven complete" in page and "Remove 4 products" in page
    assert f'name="removal_digest" value="{run.held_removals_digest}"' in page
    confirm_url = reverse(
        "feeds:run_confirm", kwargs={"tenant_slug": tenant_a.slug, "run_id": run.pk}
    )
    client.post(confirm_url, {"action": "confirm", "removal_digest": "0" * 64})
    run.refresh_from_db()
    assert run.status == RunStatus.NEEDS_CONFIRMATION  # a stale page confirms nothing
    client.post(confirm_url, {"action": "confirm", "removal_digest": run.held_removals_digest})
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED and run.confirmed_by_id is not None


def xml_feed(n: int) -> bytes:
    items = "".join(
        f"<item><g:id>X{i}</g:id><g:title>Tent {i}</g:title><g:description>Dry</g:description>"
        f"<g:link>https://s.example/{i}</g:link><g:image_link>https://s.example/{i}.jpg"
        f"</g:image_link><g:price>99 USD</g:price><g:availability>in stock</g:availability>"
        f"<g:brand>B</g:brand></item>"
        for i in range(n)
    )
    return (
        '<?xml version="1.0"?><rss xmlns:g="http://base.google.com/ns/1.0"><channel>'
        f"{items}</channel></rss>"
    ).encode()


@pytest.mark.django_db
def test_xml_proves_its_own_end(tenant_a, fs, server):
    """An unframed XML body is complete when it parses to its closing root element (its
    removals apply as usual); one cut off fails and changes nothing."""
    catalog = CatalogFactory(tenant=tenant_a)
    server.routes["/f.xml"] = body(xml_feed(10))
    source = url_source(catalog, server.url("/f.xml"))
    source.format = "auto"
    source.save()
    assert pull(tenant_a, source).status == RunStatus.SUCCEEDED
    server.routes["/f.xml"] = unframed(xml_feed(9))
    run = pull(tenant_a, source)
    assert run.status == RunStatus.SUCCEEDED and run.removed == 1, run.error_message
    data = xml_feed(10)
    server.routes["/f.xml"] = unframed(data, cut_at=len(data) * 6 // 10)
    run = pull(tenant_a, source)
    assert (run.status, run.error_code) == (RunStatus.FAILED, "malformed"), run.error_message
    assert active(catalog) == 9


@pytest.mark.django_db
def test_a_review_failure_does_not_lose_a_hold(tenant_a, fs, server, monkeypatch):
    """The adds and updates of an incomplete hold go to review; a review that fails (its
    warning is written while the run still runs) leaves the hold and its staging intact."""

    def broken(**kwargs):
        raise RuntimeError("review is down")

    # the hook feeds calls when review is installed (feeds itself does not import it)
    monkeypatch.setattr("ecr.services.review_after_feed_run", broken)
    catalog = CatalogFactory(tenant=tenant_a)
    server.routes["/f"] = body(feed(10))
    source = url_source(catalog, server.url("/f"))
    pull(tenant_a, source)
    data = feed(10, version=2)
    server.routes["/f"] = unframed(data, cut_at=cut_after_rows(data, 8))
    run = pull(tenant_a, source)
    assert run.status == RunStatus.NEEDS_CONFIRMATION and run.warnings >= 1
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass(%s)", [run.stage_table])
        assert cur.fetchone()[0] is not None


@pytest.mark.django_db
def test_an_apply_that_lost_its_source_rolls_back(tenant_a, fs, monkeypatch):
    """The fence is checked inside the apply transaction, after the merge: a newer generation
    taken while the run applied rolls the whole apply back."""
    from django.db.models import F

    catalog = CatalogFactory(tenant=tenant_a)
    source = ProductSourceFactory(catalog=catalog)

    def upload(data: bytes) -> FeedRun:
        path = services.upload_path_for("feed.csv")
        with open(path, "wb") as fh:
            fh.write(data)
        run, _ = services.feed_run_request(
            tenant=tenant_a,
            source=source,
            actor=None,
            trigger=Trigger.UPLOAD,
            file_path=path,
            file_name="feed.csv",
        )
        return services.feed_run_execute(tenant_id=tenant_a.pk, run_id=run.pk)

    assert upload(feed(10)).status == RunStatus.SUCCEEDED
    before = snapshot(catalog)
    counts = apply._stage_counts

    def a_newer_run_starts_meanwhile(run, delta, matcher):
        found = counts(run, delta, matcher)
        ProductSource.objects.filter(pk=run.source_id).update(
            fence_generation=F("fence_generation") + 1
        )
        return found

    monkeypatch.setattr(apply, "_stage_counts", a_newer_run_starts_meanwhile)
    run = upload(feed(9, version=2))
    assert snapshot(catalog) == before
    assert run.status == RunStatus.RUNNING  # its fate is the reaper's (or the newer run's)
    assert not run.changes.exists()


@pytest.mark.django_db
def test_a_scheduled_pull_supersedes_a_held_run(tenant_a, fs, server, owner):
    """Before, only Request Data Now discarded a held run: one confirmed after a newer
    scheduled pull could remove products the newer feed lists again."""
    catalog = CatalogFactory(tenant=tenant_a)
    server.routes["/f"] = body(feed(10))
    source = url_source(catalog, server.url("/f"))
    pull(tenant_a, source)
    server.routes["/f"] = body(feed(2))
    held = pull(tenant_a, source)
    assert held.status == RunStatus.NEEDS_CONFIRMATION
    ProductSource.objects.filter(pk=source.pk).update(
        schedule=Schedule.HOURLY, next_pull_at=timezone.now() - timedelta(minutes=1)
    )
    assert periodic.feed_dispatch_due() == 1
    held.refresh_from_db()
    assert held.status == RunStatus.CANCELLED
    with pytest.raises(services.RunNotConfirmable):
        services.feed_run_confirm(tenant=tenant_a, run=held, actor=owner)
