"""The catalog Diagnostics page's data: its stored snapshot and what the page shows.

Apart from ``ecr.services`` so that the task recomputing the snapshot
(``ecr.diagnostics_tasks``) can import it while services queues that task: services ->
diagnostics_tasks -> diagnostics, never back. ``ecr.services`` re-exports these names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction

from catalog_health.tenancy.models import Tenant
from catalogs.models import Catalog, Product

from . import rules, selectors
from .models import CatalogEcrState, DiagnosticsSnapshot


def diagnostics_snapshot_current(
    *, tenant: Tenant, catalog: Catalog, version: str | None = None
) -> DiagnosticsSnapshot:
    """The catalog's Diagnostics snapshot at its current data version: stored when no review
    or product change happened since (constant cost at any catalog size), else recomputed
    (the grouping and the changed-and-failing list, as costly as the catalog is large) and
    stored for the next views."""
    if version is None:
        version = selectors.diagnostics_version(tenant=tenant, catalog=catalog)
    snapshot = DiagnosticsSnapshot.objects.for_tenant(tenant).filter(catalog=catalog).first()
    if snapshot is not None and snapshot.version == version and snapshot.changed:
        return snapshot
    rows = selectors.issue_group_rows(tenant=tenant, catalog=catalog)
    changed = selectors.changed_failing_policy_summary(tenant=tenant, catalog=catalog)
    try:
        with transaction.atomic():
            snapshot, _ = DiagnosticsSnapshot.objects.update_or_create(
                tenant=tenant,
                catalog=catalog,
                defaults={"version": version, "rows": rows, "changed": changed},
            )
    except IntegrityError:  # another request stored the same snapshot at the same moment
        snapshot = DiagnosticsSnapshot(
            tenant=tenant, catalog=catalog, version=version, rows=rows, changed=changed
        )
    return snapshot


@dataclass(frozen=True)
class CatalogDiagnostics:
    counts: selectors.ReviewCounts
    counts_stored: bool  # from the last ECR evaluation (else counted for this view)
    error_groups: list
    warning_groups: list
    changed: list[Product]  # changed by the latest feed runs and failing ad policy
    changed_total: int
    changed_since: datetime | None

    @property
    def awaiting_review(self) -> bool:
        """Whether a group shows Pending products apart (its page adds their column)."""
        return any(g.awaiting_review for g in (*self.error_groups, *self.warning_groups))


def catalog_diagnostics(
    *, tenant: Tenant, catalog: Catalog, ecr: CatalogEcrState | None
) -> CatalogDiagnostics:
    """Everything the catalog Diagnostics page shows, in a fixed number of small queries
    whatever the catalog size while its data is unchanged since the last ECR evaluation and
    the last snapshot: the data version (2 index lookups), the snapshot (1), the trend's two
    feed-run samples (1), and the changed products by id with their policy issues (2)."""
    version = selectors.diagnostics_version(tenant=tenant, catalog=catalog)
    counts, stored = selectors.review_counts_current(
        tenant=tenant, catalog=catalog, ecr=ecr, version=version
    )
    snapshot = diagnostics_snapshot_current(tenant=tenant, catalog=catalog, version=version)
    groups = selectors.issue_summary(
        tenant=tenant, catalog=catalog, active=counts.active, rows=snapshot.rows
    )
    since = snapshot.changed.get("since")
    return CatalogDiagnostics(
        counts=counts,
        counts_stored=stored,
        error_groups=[g for g in groups if g.severity == rules.ERROR],
        warning_groups=[g for g in groups if g.severity == rules.WARNING],
        changed=selectors.changed_products_with_policy_issues(
            tenant=tenant, ids=snapshot.changed.get("ids", [])
        ),
        changed_total=snapshot.changed.get("total", 0),
        changed_since=datetime.fromisoformat(since) if since else None,
    )
