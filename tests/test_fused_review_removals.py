"""A re-pull's review sees the ids its catalog shares after its merge: the products an
earlier run removed and those this run removes share none with its rows (the shared-id
query counts every product of the catalog and takes those back off; see
feeds.ingest.merge._skus_after_merge_sql)."""

from __future__ import annotations

import pytest

from catalogs.models import ReviewStatus
from ecr import block_review
from feeds.models import UpdateMode
from tests.test_fused_review import (
    FILLER,
    ROWS,
    _batch_counts,
    _no_errors_logged,
    _pull_both,
    _reviewed,
    _row,
    csv,
    fs,  # noqa: F401 - the feed settings and policy lists those tests run with
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("sku_collation_c", [True, False])
def test_a_re_pull_counts_neither_removed_products_nor_its_removals_as_sharing_an_id(
    tenant_a, caplog, monkeypatch, sku_collation_c
):
    """Products removed by an earlier run, and those this run removes, share no id with
    its rows; a product this run brings back does (as the separate review finds)."""
    if not sku_collation_c:
        monkeypatch.setattr(block_review, "_sku_collation", lambda cur: None)
    first = [*ROWS, *FILLER]
    second = [r for r in first if r not in (FILLER[40], FILLER[50])]  # both removed
    third = [r for r in second if r != FILLER[60]]  # removed by the run itself
    third += [
        FILLER[40],  # brought back
        _row("f-0040", "Shares the id of a product brought back"),
        _row("f-0050", "Its twin was removed by an earlier run"),
        _row("f-0060", "Its twin is removed by this run"),
    ]
    fused, separate, runs = _pull_both(
        tenant_a,
        [
            (UpdateMode.REPLACE, csv(first)),
            (UpdateMode.REPLACE, csv(second)),
            (UpdateMode.REPLACE, csv(third)),
        ],
    )
    assert (runs[2].created, runs[2].updated, runs[2].removed) == (3, 1, 1)
    got, want = _reviewed(fused), _reviewed(separate)
    assert got == want
    assert got["f-0040"][0] == got["F-0040"][0] == ReviewStatus.UNAVAILABLE
    assert got["f-0050"][0] == ReviewStatus.AVAILABLE
    assert got["f-0060"][0] == ReviewStatus.AVAILABLE
    assert _batch_counts(fused) == _batch_counts(separate)
    _no_errors_logged(caplog)
