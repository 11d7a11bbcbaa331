"""Pure chart builders and the CSV export (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ecr import charts

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def test_ratio_figure_has_thresholds_and_events():
    pts = [charts.RatioPoint(T0 + timedelta(hours=i), r) for i, r in enumerate([0.95, 0.7, 0.92])]
    evs = [
        charts.EventPoint(T0 + timedelta(hours=1), False, 0.7),
        charts.EventPoint(T0 + timedelta(hours=2), True, 0.92),
    ]
    fig = charts.ratio_figure(pts, evs, disable=0.8, enable=0.9)
    names = [t.name for t in fig.data]
    assert names == ["Available share", "ECR turned off", "ECR turned on"]
    assert list(fig.data[0].y) == [95.0, 70.0, 92.0]
    lines = sorted(s.y0 for s in fig.layout.shapes)
    assert lines == [80.0, 90.0]
    data = charts.figure_json(fig)
    assert data["data"][0]["name"] == "Available share"


def test_ratio_figure_without_data_says_so():
    fig = charts.ratio_figure([], [], disable=0.8, enable=0.9)
    assert any("No reviews" in a.text for a in fig.layout.annotations)


def test_gauge_bands_follow_thresholds():
    fig = charts.gauge_figure(0.85, disable=0.8, enable=0.9)
    steps = fig.data[0].gauge.steps
    assert [tuple(s.range) for s in steps] == [(0, 80), (80, 90), (90, 100)]
    assert fig.data[0].value == 85.0


def test_review_time_figure():
    fig = charts.review_time_figure(
        [
            charts.LaneTiming("fast", "ECR fast lane", 10, 2.0, 5.0),
            charts.LaneTiming("standard", "Standard queue", 3, 7200.0, None),
        ]
    )
    assert list(fig.data[0].text) == ["2 s", "2.0 h"]
    assert list(fig.data[1].text) == ["5 s", "—"]


@pytest.mark.parametrize(
    "seconds, text",
    [
        (None, "—"),
        (0, "0 s"),
        (59, "59 s"),
        (60, "1 min"),
        (3599, "60 min"),
        (3600, "1.0 h"),
        (90000, "1.0 d"),
    ],
)
def test_human_duration(seconds, text):
    assert charts.human_duration(seconds) == text
