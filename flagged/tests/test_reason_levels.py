"""Each reason on the Flagged products tab says which level it brings (Impacted or At risk)."""

import pytest

from flagged.scoring import Level
from flagged.views import reason_levels

IMP, R, OK = Level.IMPACTED, Level.AT_RISK, Level.OK


@pytest.mark.parametrize(
    ("levels", "reasons", "expected"),
    [
        ([OK, IMP, R, OK, OK], ["overdue", "late"], [("Impacted", "overdue"), ("At risk", "late")]),
        # metric order is not severity order: the reasons come worst first
        ([R, OK, IMP, OK, OK], ["late", "oos"], [("Impacted", "late"), ("At risk", "oos")]),
        ([R, R, OK, OK, OK], ["oos", "overdue"], [("At risk", "oos"), ("At risk", "overdue")]),
        (
            [IMP, IMP, OK, OK, IMP],
            ["a", "b", "c"],
            [("Impacted", "a"), ("Impacted", "b"), ("Impacted", "c")],
        ),
        ([OK, OK, OK, OK, OK], [], []),  # Resolved: no reasons
    ],
)
def test_reason_levels(levels, reasons, expected):
    assert reason_levels(levels, reasons) == expected
