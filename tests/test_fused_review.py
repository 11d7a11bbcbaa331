"""A feed run reviews its products while it writes them (ECR on): a first pull COPYs them
with their review status and issues, a re-pull reviews its changed rows inside its apply
transaction. What a catalog holds afterwards must be exactly what the separate review
after the run gives (ecr.review.products_review over the catalog's Pending products): the
same statuses and the same issues, in the same order."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.utils import timezone

from catalogs.models import Product, ReviewStatus
from catalogs.tests.factories import CatalogFactory
from ecr import block_review
from ecr import services as ecr_services
from ecr.models import (
    CatalogEcrState,
    DeniedClaim,
    EcrTrigger,
    PolicyTerm,
    ProductIssue,
    ReviewBatch,
    ReviewLane,
)
from feeds.ingest import writers
from feeds.models import FeedSettings, RunStatus, UpdateMode
from feeds.tests.factories import ProductSourceFactory
from feeds.tests.test_services import upload_run

pytestmark = pytest.mark.django_db(transaction=True)

HEADER = (
    "id,title,description,link,image_link,additional_image_link,price,sale_price,currency,"
    "availability,condition,brand,gtin,mpn,shipping,quantity,color,item_group_id\n"
)
ROWS = [
    # a good product
    "OK-1,Linen shirt,Soft linen,https://s.example/1,https://s.example/1.jpg,,19.99 USD,,USD,"
    "in stock,new,Lumen,4006381333931,,,5,,",
    # ids shared ignoring case and spaces: both Unavailable, whichever block they are in
    "Dup-7,First of two,D,https://s.example/d1,https://s.example/d1.jpg,,5.00 USD,,USD,"
    "in stock,new,,,,,,,",
    "DUP-7,Second of two,D,https://s.example/d2,https://s.example/d2.jpg,,5.00 USD,,USD,"
    "in stock,new,,,,,,,",
    # equal lower-cased, but the shared-id query lower-cases ASCII only: not shared
    "ÉTÉ-1,Summer,D,https://s.example/e1,https://s.example/e1.jpg,,5.00 USD,,USD,"
    "in stock,new,,,,,,,",
    "été-1,Summer too,D,https://s.example/e2,https://s.example/e2.jpg,,5.00 USD,,USD,"
    "in stock,new,,,,,,,",
    # many findings at once
    "BAD-1,🔥 SUPER DEAL MIRACLE CURE!!!,Guaranteed weight loss in days,ftp://s.example/x,"
    'not a url,"https://s.example/a.jpg,ftp://b,https://s.example/c.txt",10.00 USD,12.00 USD,'
    "USD,in stock,brand new,Acme,4006381333932,,,-3,Red,",
    "BAD-2,Tiny,,https://s.example/b2,https://s.example/b2.png,,0.00 USD,,USD,preorder,used,"
    ",2000000000008,,,,M,",
    "BAD-3,No image,Has words,https://s.example/b3,,,7.50 USD,,USD,out of stock,refurbished,"
    "Kestrel,,,,,,",
    "BAD-4,Counterfeit handbag,Replica,https://s.example/b4,https://s.example/b4.gif,,"
    "99.00 USD,,USD,in stock,,,,,,,,",
]
FILLER = [
    f"F-{i:04d},Product {i},Plain words,https://s.example/f{i},https://s.example/f{i}.jpg,,"
    f"{i % 50 + 1}.00 USD,,USD,in stock,new,Lumen,,MPN{i},,{i % 7},,"
    for i in range(400)
]


def csv(rows: list[str]) -> bytes:
    return (HEADER + "\n".join(rows) + "\n").encode()


@pytest.fixture(autouse=True)
def fs(db):
    FeedSettings.objects.update_or_create(
        pk=1, defaults={"manual_refresh_min_seconds": 0, "rejected_share_threshold": 0.5}
    )
    PolicyTerm.objects.update_or_create(
        term="counterfeit", kind="prohibited", defaults={"category": "Counterfeit"}
    )
    PolicyTerm.objects.update_or_create(
        term="replica", kind="restricted", defaults={"severity": "warning"}
    )
    DeniedClaim.objects.update_or_create(phrase="miracle cure", defaults={"category": "Health"})
    DeniedClaim.objects.update_or_create(
        phrase="guaranteed weight loss", defaults={"category": "Health"}
    )


@pytest.fixture
def direct_writers(monkeypatch):
    opened = []
    original = writers._ProductWriter.open.__func__

    def spy(cls, ctx):
        writer = original(cls, ctx)
        opened.append(writer)
        return writer

    monkeypatch.setattr(writers._ProductWriter, "open", classmethod(spy))
    return opened


def _ecr(catalog, enabled: bool) -> None:
    CatalogEcrState.objects.update_or_create(
        tenant=catalog.tenant, catalog=catalog, defaults={"enabled": enabled}
    )


def _reviewed(catalog) -> dict[str, tuple]:
    """Per product id: its review status and its issues in the order pages show them."""
    issues: dict[int, list] = {}
    for i in ProductIssue.objects.filter(catalog=catalog).order_by("product_id", "id"):
        issues.setdefault(i.product_id, []).append(
            (i.code, i.severity, i.field, i.message, i.how_to_fix, i.rule)
        )
    return {
        p.sku: (p.review_status, issues.get(p.pk, []), p.removed_at is None)
        for p in Product.objects.filter(catalog=catalog)
    }


def _separate_review(tenant, catalog) -> None:
    """The review as it ran after the run: the catalog's Pending products, whole."""
    ecr_services.products_review(
        tenant=tenant, catalog=catalog, lane=ReviewLane.FAST, trigger=EcrTrigger.FEED_RUN
    )


def _batch_counts(catalog) -> list[tuple]:
    return list(
        ReviewBatch.objects.filter(catalog=catalog)
        .order_by("id")
        .values_list("lane", "trigger", "reviewed", "available", "unavailable", "issues")
    )


@pytest.mark.parametrize(
    ("role_may_skip_fk_checks", "sku_collation_c"), [(True, True), (False, True), (True, False)]
)
def test_a_first_pull_reviews_its_products_as_the_separate_review_does(
    tenant_a, direct_writers, monkeypatch, role_may_skip_fk_checks, sku_collation_c
):
    if not role_may_skip_fk_checks:  # the issues' foreign keys are checked at the COMMIT
        monkeypatch.setattr(writers, "_skip_foreign_key_checks", lambda conn: False)
    if not sku_collation_c:  # the shared ids are then read by grouping the whole catalog
        monkeypatch.setattr(block_review, "_sku_collation", lambda cur: None)
    fused = CatalogFactory(tenant=tenant_a, currency="USD")
    separate = CatalogFactory(tenant=tenant_a, currency="USD")
    _ecr(separate, False)  # its products wait, then get the whole-catalog review
    data = csv([*ROWS, *FILLER])

    run = upload_run(tenant_a, ProductSourceFactory(catalog=fused), data)
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert direct_writers[0].reviewer is not None  # reviewed while written
    assert not Product.objects.filter(catalog=fused, review_status=ReviewStatus.PENDING).exists()

    other = upload_run(tenant_a, ProductSourceFactory(catalog=separate), data)
    assert direct_writers[1].reviewer is None  # ECR off: written Pending
    assert Product.objects.filter(catalog=separate, review_status=ReviewStatus.PENDING).count() == (
        other.created
    )
    _separate_review(tenant_a, separate)

    got, want = _reviewed(fused), _reviewed(separate)
    assert got == want
    assert got["DUP-7"][0] == got["Dup-7"][0] == ReviewStatus.UNAVAILABLE
    assert "duplicate_id" in [i[0] for i in got["DUP-7"][1]]
    assert got["ÉTÉ-1"][0] == got["été-1"][0] == ReviewStatus.AVAILABLE
    assert got["OK-1"] == (ReviewStatus.AVAILABLE, [], True)
    bad = [i[0] for i in got["BAD-1"][1]]
    assert {"link_not_http", "image_link_invalid", "policy_denied_claim"} <= set(bad)
    assert got["BAD-4"][0] == ReviewStatus.UNAVAILABLE  # the prohibited term from admin
    # one fast-lane batch each, with the same counts; every product has its review time
    assert _batch_counts(fused) == _batch_counts(separate)
    assert _batch_counts(fused)[0][:3] == (ReviewLane.FAST, EcrTrigger.FEED_RUN, run.created)
    assert not Product.objects.filter(catalog=fused, reviewed_at__isnull=True).exists()
    fused_state = CatalogEcrState.objects.get(catalog=fused)
    assert fused_state.evaluated_at is not None and fused_state.pending_count == 0
    assert fused_state.available_count == sum(
        1 for s, _, _ in got.values() if s == ReviewStatus.AVAILABLE
    )


def _ecr_figures(catalog) -> tuple:
    """The ECR state's counts and the last ratio sample's issue counts."""
    from ecr.models import RatioSample

    state = CatalogEcrState.objects.get(catalog=catalog)
    sample = RatioSample.objects.filter(catalog=catalog).latest("id")
    return (
        (state.active_count, state.available_count, state.unavailable_count),
        state.pending_count,
        sample.issue_counts,
    )


def _queried_figures(tenant, catalog) -> tuple:
    from ecr import selectors

    counts = selectors.review_counts(tenant=tenant, catalog=catalog)
    return (
        (counts.active, counts.available, counts.unavailable),
        counts.pending,
        selectors.issue_counts_by_code(tenant=tenant, catalog=catalog),
    )


def test_a_first_pull_hands_ecr_the_counts_of_what_it_wrote(tenant_a, direct_writers, monkeypatch):
    """ECR's evaluation after a first pull takes the counts the run reviewed (shared ids
    settled) instead of counting the catalog again: they are what the queries give."""
    from ecr import selectors

    queried = []
    for name in ("review_counts", "issue_counts_by_code"):
        original = getattr(selectors, name)

        def spy(*args, _original=original, _name=name, **kwargs):
            queried.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(selectors, name, spy)
    catalog = CatalogFactory(tenant=tenant_a, currency="USD")
    run = upload_run(tenant_a, ProductSourceFactory(catalog=catalog), csv([*ROWS, *FILLER]))
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert direct_writers[0].reviewer is not None
    assert queried == []  # the run's own counts
    monkeypatch.undo()
    figures = _ecr_figures(catalog)
    assert figures == _queried_figures(tenant_a, catalog)
    assert figures[2]["duplicate_id"] == 2  # settled after the blocks were written


def test_a_catalog_changed_after_its_first_pull_is_counted_again(
    tenant_a, direct_writers, monkeypatch
):
    """A product changed between the run's COMMIT and the evaluation: the catalog is no
    longer what the run counted, so the evaluation counts it."""
    from ecr import selectors

    catalog = CatalogFactory(tenant=tenant_a, currency="USD")
    has_pending = selectors.has_pending

    def change_one_then(*, tenant, catalog):
        # as another writer would: a status that the run did not count, and its change time
        Product.objects.filter(catalog=catalog, sku="F-0001").update(
            review_status=ReviewStatus.UNAVAILABLE, last_changed_at=timezone.now()
        )
        return has_pending(tenant=tenant, catalog=catalog)

    monkeypatch.setattr(selectors, "has_pending", change_one_then)
    run = upload_run(tenant_a, ProductSourceFactory(catalog=catalog), csv([*ROWS, *FILLER]))
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    monkeypatch.undo()
    figures = _ecr_figures(catalog)
    assert figures == _queried_figures(tenant_a, catalog)
    batch = ReviewBatch.objects.get(catalog=catalog)  # what the run reviewed, F-0001 Available
    assert figures[0][2] == batch.unavailable + 1


def test_a_re_pull_reviews_its_changed_rows_in_its_apply(tenant_a, direct_writers):
    fused = CatalogFactory(tenant=tenant_a, currency="USD")
    separate = CatalogFactory(tenant=tenant_a, currency="USD")
    fused_source = ProductSourceFactory(catalog=fused)
    separate_source = ProductSourceFactory(catalog=separate)
    _ecr(separate, False)
    first = [*ROWS, *FILLER]
    upload_run(tenant_a, fused_source, csv(first))
    upload_run(tenant_a, separate_source, csv(first))
    _separate_review(tenant_a, separate)

    again = list(first)
    again[0] = again[0].replace("Linen shirt", "LINEN SHIRT NOW ON SALE")  # now all caps
    bad = next(i for i, r in enumerate(again) if r.startswith("BAD-1,"))
    again[bad] = again[bad].replace("ftp://s.example/x", "https://s.example/x")  # one fix
    f3 = next(i for i, r in enumerate(again) if r.startswith("F-0003,"))
    again[f3] = again[f3].replace("Product 3", "Miracle cure product")  # a denied claim
    again.append(  # a new product whose id another one already has
        "f-0001,Copy,D,https://s.example/c,https://s.example/c.jpg,,1.00 USD,,USD,in stock,,,,,,,,"
    )
    again.append(
        "NEW-1,New one,D,https://s.example/n,https://s.example/n.jpg,,1.00 USD,,USD,,,,,,,,,"
    )
    del again[again.index(FILLER[20])]  # removed (replace mode)

    run = upload_run(tenant_a, fused_source, csv(again))
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert (run.created, run.updated, run.removed) == (2, 3, 1)
    assert len(direct_writers) == 2  # the staged path, the second time
    assert not Product.objects.filter(catalog=fused, review_status=ReviewStatus.PENDING).exists()
    upload_run(tenant_a, separate_source, csv(again))
    _separate_review(tenant_a, separate)

    got, want = _reviewed(fused), _reviewed(separate)
    assert got == want
    assert got["OK-1"][0] == ReviewStatus.AVAILABLE  # all caps is a warning
    assert "policy_all_caps_title" in [i[0] for i in got["OK-1"][1]]
    assert got["f-0001"][0] == ReviewStatus.UNAVAILABLE  # shares F-0001's id
    assert got["F-0001"][0] == ReviewStatus.AVAILABLE  # not changed: not reviewed again
    assert got["F-0003"][0] == ReviewStatus.UNAVAILABLE
    assert _batch_counts(fused) == _batch_counts(separate)


def test_the_sku_column_compares_bytes(db):
    """The first pull's shortcut to the shared ids relies on it (block_review._shared_ids);
    another collation takes the whole-catalog query instead."""
    with connection.cursor() as cur:
        assert block_review._sku_collation(cur.cursor) == "C"


def test_with_ecr_off_a_first_pull_leaves_them_to_the_standard_queue(tenant_a, direct_writers):
    catalog = CatalogFactory(tenant=tenant_a, currency="USD")
    reference = CatalogFactory(tenant=tenant_a, currency="USD")
    _ecr(catalog, False)
    run = upload_run(tenant_a, ProductSourceFactory(catalog=catalog), csv([*ROWS, *FILLER]))
    assert run.status == RunStatus.SUCCEEDED
    assert Product.objects.filter(catalog=catalog, review_status=ReviewStatus.PENDING).count() == (
        run.created
    )
    assert not ReviewBatch.objects.filter(catalog=catalog).exists()
    drained = ecr_services.review_queue_drain(tenant=tenant_a, catalog=catalog, capacity=100_000)
    assert drained.reviewed == run.created
    assert ReviewBatch.objects.get(catalog=catalog).lane == ReviewLane.STANDARD
    upload_run(tenant_a, ProductSourceFactory(catalog=reference), csv([*ROWS, *FILLER]))
    assert _reviewed(catalog) == _reviewed(reference)  # the queue's engine is the run's


def test_a_first_pull_that_fails_leaves_neither_products_nor_issues(tenant_a, direct_writers):
    catalog = CatalogFactory(tenant=tenant_a, currency="USD")
    source = ProductSourceFactory(catalog=catalog)
    rejected = [f"X{i},Bad,D,https://s.example/x,,,oops,,,,,,,,,,," for i in range(600)]
    run = upload_run(tenant_a, source, csv([*ROWS, *FILLER, *rejected]))
    assert run.status == RunStatus.FAILED and run.error_code == "rejected_share"
    assert direct_writers[0].rows_written > 0 and direct_writers[0].reviewer is not None
    assert not Product.objects.filter(catalog=catalog).exists()
    assert not ProductIssue.objects.filter(catalog=catalog).exists()
    assert not ReviewBatch.objects.filter(catalog=catalog).exists()
    with connection.cursor() as cur:  # the ids taken for the rolled back rows are not reused
        cur.execute("SELECT count(*) FROM catalogs_product WHERE catalog_id = %s", [catalog.pk])
        assert cur.fetchone()[0] == 0


def test_a_re_pull_reviews_its_own_rows_in_its_apply_and_an_older_backlog_after(
    tenant_a, direct_writers
):
    """Products left Pending while ECR was off are not the run's: the run's apply reviews
    the rows it wrote, the hook after its commit reviews the backlog, as before."""
    fused = CatalogFactory(tenant=tenant_a, currency="USD")
    separate = CatalogFactory(tenant=tenant_a, currency="USD")
    fused_source = ProductSourceFactory(catalog=fused)
    separate_source = ProductSourceFactory(catalog=separate)
    _ecr(fused, False)
    _ecr(separate, False)
    rows = [*ROWS, *FILLER]
    upload_run(tenant_a, fused_source, csv(rows))
    upload_run(tenant_a, separate_source, csv(rows))
    _ecr(fused, True)
    rows[0] = rows[0].replace("Linen shirt", "Washed linen shirt")
    run = upload_run(tenant_a, fused_source, csv(rows))
    assert (run.created, run.updated) == (0, 1)
    assert not Product.objects.filter(catalog=fused, review_status=ReviewStatus.PENDING).exists()
    batches = list(
        ReviewBatch.objects.filter(catalog=fused).order_by("id").values_list("run_id", "reviewed")
    )
    assert batches == [(run.pk, 1), (run.pk, len(rows) - 1)]  # in the apply, then the backlog
    upload_run(tenant_a, separate_source, csv(rows))
    _separate_review(tenant_a, separate)
    assert _reviewed(fused) == _reviewed(separate)


def _pull_both(tenant, feeds: list[tuple[str, bytes]], *, fused_ecr: bool = True):
    """The same feeds (mode, data) into a catalog reviewed in its runs and one reviewed by
    the whole-catalog review after each run; returns both and the fused catalog's runs."""
    fused = CatalogFactory(tenant=tenant, currency="USD")
    separate = CatalogFactory(tenant=tenant, currency="USD")
    _ecr(fused, fused_ecr)
    _ecr(separate, False)
    sources: dict = {}
    runs = []
    for mode, data in feeds:
        for catalog in (fused, separate):
            if (catalog.pk, mode) not in sources:
                sources[catalog.pk, mode] = ProductSourceFactory(catalog=catalog, mode=mode)
            run = upload_run(tenant, sources[catalog.pk, mode], data)
            assert run.status == RunStatus.SUCCEEDED, run.error_message
            if catalog is fused:
                runs.append(run)
        _separate_review(tenant, separate)
    return fused, separate, runs


def _no_errors_logged(caplog) -> None:
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


@pytest.mark.parametrize("sku_collation_c", [True, False])
def test_a_re_pull_sees_the_ids_the_catalog_shares_after_its_merge(
    tenant_a, caplog, monkeypatch, sku_collation_c
):
    """New and changed rows whose id an unchanged product has in another case, also where
    only the whole-catalog query's own normalisation finds it (non-ASCII keys); without
    the collation "C" the whole catalog is grouped."""
    if not sku_collation_c:
        monkeypatch.setattr(block_review, "_sku_collation", lambda cur: None)
    first = [*ROWS, *FILLER, _row("MIX-1", "Mixed"), _row("ÉtÉ-2", "A"), _row("ÉTÉ-2", "B")]
    again = list(first)
    f5 = next(i for i, r in enumerate(again) if r.startswith("F-0005,"))
    again[f5] = again[f5].replace("Product 5", "Product five")  # changed, shares no id
    again += [
        _row("mix-1", "Shares MIX-1's id"),  # new: MIX-1 is unchanged
        _row("été-2", "Shares a group's normalised id"),  # new: a non-ASCII group's
        _row("Été-1", "Not shared: the query lower-cases ASCII only"),
    ]
    del again[again.index(FILLER[30])]  # removed: F-0030 is no longer shared
    again.append(_row("f-0030", "Its former twin is removed"))
    fused, separate, runs = _pull_both(
        tenant_a, [(UpdateMode.REPLACE, csv(first)), (UpdateMode.REPLACE, csv(again))]
    )
    assert (runs[1].created, runs[1].updated, runs[1].removed) == (4, 1, 1)
    got, want = _reviewed(fused), _reviewed(separate)
    assert got == want
    assert got["mix-1"][0] == ReviewStatus.UNAVAILABLE
    assert got["MIX-1"][0] == ReviewStatus.AVAILABLE  # unchanged: not reviewed again
    assert got["été-2"][0] == ReviewStatus.UNAVAILABLE
    assert "duplicate_id" in [i[0] for i in got["été-2"][1]]
    assert got["f-0030"][0] == ReviewStatus.AVAILABLE
    assert got["F-0005"][0] == ReviewStatus.AVAILABLE
    assert _batch_counts(fused) == _batch_counts(separate)
    _no_errors_logged(caplog)


def test_a_row_changed_back_to_valid_loses_its_issues(tenant_a, caplog):
    first = [*ROWS, *FILLER]
    again = list(first)
    b2 = next(i for i, r in enumerate(again) if r.startswith("BAD-2,"))
    again[b2] = _row("BAD-2", "Now a fine product")
    fused, separate, _ = _pull_both(
        tenant_a, [(UpdateMode.REPLACE, csv(first)), (UpdateMode.REPLACE, csv(again))]
    )
    got = _reviewed(fused)
    assert got == _reviewed(separate)
    assert got["BAD-2"] == (ReviewStatus.AVAILABLE, [], True)
    assert _batch_counts(fused) == _batch_counts(separate)
    _no_errors_logged(caplog)


def test_an_update_mode_run_reviews_the_merged_products(tenant_a, caplog):
    """A supplemental file writes some columns: the review sees the products with them
    merged in (the missing image stays missing, the attributes keep their other keys)."""
    first = [*ROWS, *FILLER]
    titles = (
        b"id,title\n"
        b"BAD-3,A better title\n"  # still no image: stays Unavailable
        b"OK-1,Counterfeit shirt\n"  # prohibited term in the title
        b"F-0002,Product 2 again\n"
        b"NEW-9,A new one from a supplemental file\n"
    )
    attrs = b"id,size\nF-0004,XL\nOK-1,M\n"
    fused, separate, runs = _pull_both(
        tenant_a,
        [
            (UpdateMode.REPLACE, csv(first)),
            (UpdateMode.UPDATE, titles),
            (UpdateMode.UPDATE, attrs),
        ],
    )
    assert runs[1].updated == 3 and runs[1].created == 1
    got = _reviewed(fused)
    assert got == _reviewed(separate)
    assert got["BAD-3"][0] == ReviewStatus.UNAVAILABLE
    assert got["OK-1"][0] == ReviewStatus.UNAVAILABLE
    f2 = Product.objects.get(catalog=fused, sku="F-0002")
    assert (f2.link, f2.price) == ("https://s.example/f2", 3)  # kept from the first pull
    assert _batch_counts(fused) == _batch_counts(separate)
    _no_errors_logged(caplog)


def test_with_ecr_off_a_re_pull_leaves_its_rows_pending(tenant_a, caplog):
    first = [*ROWS, *FILLER]
    again = list(first)
    again[0] = again[0].replace("Linen shirt", "Counterfeit shirt")
    again.append(_row("NEW-2", "New"))
    fused, separate, runs = _pull_both(
        tenant_a,
        [(UpdateMode.REPLACE, csv(first)), (UpdateMode.REPLACE, csv(again))],
        fused_ecr=False,
    )
    assert (runs[1].created, runs[1].updated) == (1, 1)
    pending = Product.objects.filter(catalog=fused, review_status=ReviewStatus.PENDING)
    assert sorted(pending.values_list("sku", flat=True)) == sorted(
        Product.objects.filter(catalog=fused).values_list("sku", flat=True)
    )
    assert not ProductIssue.objects.filter(catalog=fused).exists()
    assert not ReviewBatch.objects.filter(catalog=fused).exists()
    _separate_review(tenant_a, fused)
    assert _reviewed(fused) == _reviewed(separate)
    _no_errors_logged(caplog)


def _row(sku: str, title: str) -> str:
    return (
        f"{sku},{title},Plain words,https://s.example/r,https://s.example/r.jpg,,4.00 USD,,USD,"
        "in stock,new,Lumen,,MPN,,2,,"
    )
