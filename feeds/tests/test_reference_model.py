"""Every ingest path against the reference model (feeds/tests/reference_model.py): random
sequences of random feeds, in replace and update mode, through the real pipeline on
PostgreSQL; after each run the stored products must equal the model's, field by field, and
the product list's sort keys must follow them.

The first run into an empty catalog takes the direct first pull, later ones the staged
delta, and re-runs of a feed (as it was, or with one row changed) skip the unchanged
records unread. A bounded number of examples runs in the normal suite; the drill
(tests/drills/test_reference_model_drill.py) runs many more.
"""

from __future__ import annotations

import itertools
import os
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from catalog_health.tenancy.models import Membership, Role, Tenant
from catalogs.models import Catalog, Product, ProductSortKey
from feeds import services
from feeds.models import FeedRowError, FeedSettings, RunStatus, UpdateMode
from feeds.tests.factories import ProductSourceFactory
from feeds.tests.feedserver import FeedServer, body
from feeds.tests.reference_model import CatalogModel, FeedSpec, RowSpec, feeds, snapshot
from feeds.tests.test_services import upload_run

_ids = itertools.count()
STATUS = {
    RunStatus.SUCCEEDED: "succeeded",
    RunStatus.UNCHANGED: "succeeded",  # an identical file over the catalog it made
    RunStatus.FAILED: "failed",
    RunStatus.NEEDS_CONFIRMATION: "held",
}


class IngestMachine(RuleBasedStateMachine):
    """One fresh tenant and catalog per example, with a replace source and an update source;
    each run uploads its file or has the source pull it from a local HTTP server (a first or
    forced pull read as it arrives, a re-pull hashed whole first)."""

    server: FeedServer  # set by run_machine

    @initialize()
    def setup(self):
        n = next(_ids)
        self.tenant = Tenant.objects.create(slug=f"model-{os.getpid()}-{n}", name="Model")
        self.catalog = Catalog.objects.create(
            tenant=self.tenant, name="C", currency="USD", country="US"
        )
        self.sources = {
            mode: ProductSourceFactory(
                catalog=self.catalog, mode=mode, url=self.server.url(f"/{n}/{mode}.csv")
            )
            for mode in (UpdateMode.REPLACE, UpdateMode.UPDATE)
        }
        self.owner = get_user_model().objects.create_user(f"model-owner-{os.getpid()}-{n}")
        Membership.objects.create(tenant=self.tenant, user=self.owner, role=Role.OWNER)
        self.model = CatalogModel(currency="USD", country="US")
        self.history: list[tuple[FeedSpec, str]] = []
        self.held = None  # (run, spec) of a run held just now

    def _run(self, spec: FeedSpec, mode: str, *, force: bool = False, by_url: bool) -> None:
        data, _ = spec.render()
        source = self.sources[mode]
        if by_url:  # a new ETag each time: the file is downloaded, not answered with a 304
            path = urlsplit(source.url).path
            self.server.routes[path] = body(data, ETag=f'"{next(_ids)}"')
            run, created = services.feed_run_request(
                tenant=self.tenant, source=source, actor=None, force=force
            )
            assert created
            run = services.feed_run_execute(tenant_id=self.tenant.pk, run_id=run.pk)
        else:
            run = upload_run(self.tenant, source, data, force=force)
        expected = self.model.run(spec, mode)
        assert STATUS[run.status] == expected.status, (run.error_code, run.error_message)
        self.held = (run, spec) if expected.status == "held" else None
        self.history.append((spec, mode))
        if run.status != RunStatus.UNCHANGED:  # rows unreadable are named by their lines
            stored = set(
                FeedRowError.objects.filter(run=run, severity="error").values_list("line", "sku")
            )
            assert expected.unreadable <= stored, (expected.unreadable, stored)

    @rule(
        spec=feeds(),
        mode=st.sampled_from(UpdateMode.values),
        force=st.booleans(),
        by_url=st.booleans(),
    )
    def run_a_feed(self, spec, mode, force, by_url):
        self._run(spec, mode, force=force, by_url=by_url)

    @precondition(lambda self: self.history)
    @rule(data=st.data())
    def run_a_feed_again(self, data):
        """The same file again, or with one row changed: the rest is skipped unread."""
        spec, mode = data.draw(st.sampled_from(self.history))
        if spec.rows and spec.columns and data.draw(st.booleans()):
            i = data.draw(st.integers(0, len(spec.rows) - 1))
            row = spec.rows[i]
            cells = (row.cells[0] + " v2", *row.cells[1:])
            rows = (*spec.rows[:i], RowSpec(row.sku, cells, row.hostile), *spec.rows[i + 1 :])
            spec = FeedSpec(**{**spec.__dict__, "rows": rows})
        self._run(spec, mode, by_url=data.draw(st.booleans()))

    @precondition(lambda self: self.held is not None)
    @rule()
    def confirm(self):
        run, spec = self.held
        self.held = None
        services.feed_run_confirm(tenant=self.tenant, run=run, actor=self.owner)
        run = services.feed_run_execute(tenant_id=self.tenant.pk, run_id=run.pk)
        run.refresh_from_db()
        expected = self.model.run(spec, UpdateMode.REPLACE, confirmed=True)
        assert STATUS[run.status] == expected.status, (run.error_code, run.error_message)

    @invariant()
    def products_equal_the_model(self):
        if not hasattr(self, "catalog"):
            return
        stored = snapshot(Product.objects.for_tenant(self.tenant).filter(catalog=self.catalog))
        assert stored == self.model.products

    @invariant()
    def sort_keys_follow_the_products(self):
        """The product list's sort keys (catalogs.ProductSortKey, kept by triggers and by
        a first pull's bulk build) are the products' own, one row each."""
        if not hasattr(self, "catalog"):
            return
        products = Product.objects.for_tenant(self.tenant).filter(catalog=self.catalog)
        keys = ProductSortKey.objects.for_tenant(self.tenant).filter(catalog=self.catalog)
        assert sorted(keys.values_list("product_id", "title", "price", "last_changed_at")) == (
            sorted(products.values_list("id", "title", "price", "last_changed_at"))
        )


def run_machine(max_examples: int, steps: int) -> None:
    """Run the machine (the caller allow-lists 127.0.0.0/8 for fetching)."""
    FeedSettings.objects.update_or_create(
        pk=1,
        defaults={
            "manual_refresh_min_seconds": 0,
            "rejected_share_threshold": 0.5,
            "removal_share_threshold": 0.5,
        },
    )
    IngestMachine.server = FeedServer()
    try:
        run_state_machine_as_test(
            IngestMachine,
            settings=settings(
                max_examples=max_examples,
                stateful_step_count=steps,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
    finally:
        IngestMachine.server.close()


@pytest.mark.django_db(transaction=True)
def test_every_path_matches_the_reference_model(settings):
    settings.FEEDS_FETCH_ALLOW_LIST = ["127.0.0.0/8"]
    run_machine(max_examples=10, steps=6)
