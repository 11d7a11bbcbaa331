"""Charts with little data: dates on the x-axis, a grey gauge before the first evaluation,
a wait chart that can draw zero."""

from datetime import UTC, datetime, timedelta

import pytest

from ecr import charts

T0 = datetime(2026, 11, 20, 18, 30, 38, 524_000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("times", "span_at_least"),
    [
        ([], timedelta(days=29)),
        ([T0], charts.MIN_X_SPAN),
        ([T0, T0 + timedelta(milliseconds=1)], charts.MIN_X_SPAN),
        ([T0, T0 + timedelta(minutes=5)], charts.MIN_X_SPAN),
    ],
)
def test_short_histories_get_a_date_axis_of_days(times, span_at_least):
    fig = charts.ratio_figure(
        [charts.RatioPoint(t, 0.9) for t in times], [], disable=0.8, enable=0.9
    )
    axis = fig.layout.xaxis
    assert axis.type == "date"
    start, end = (datetime.fromisoformat(str(v)) for v in axis.range)
    assert end - start >= span_at_least
    if times:
        assert start <= min(times) and max(times) <= end


def test_a_long_history_keeps_plotly_autorange():
    pts = [charts.RatioPoint(T0 + timedelta(days=i), 0.9) for i in range(10)]
    axis = charts.ratio_figure(pts, [], disable=0.8, enable=0.9).layout.xaxis
    assert axis.type == "date" and axis.range is None


def test_events_alone_place_the_axis():
    ev = [charts.EventPoint(T0, False, 0.5)]
    axis = charts.ratio_figure([], ev, disable=0.8, enable=0.9).layout.xaxis
    start, end = (datetime.fromisoformat(str(v)) for v in axis.range)
    assert start <= T0 <= end


def test_gauge_not_evaluated_is_grey_and_shows_no_number():
    fig = charts.gauge_figure(None, disable=0.8, enable=0.9)
    indicator = fig.data[0]
    assert "number" not in indicator.mode
    assert "not evaluated" in indicator.title.text
    colours = [s.color for s in indicator.gauge.steps]
    assert colours and all(c.startswith("rgba(108,117,125") for c in colours)
    assert [a.text for a in fig.layout.annotations] == ["—"]


def test_gauge_of_zero_ratio_still_reads_zero():
    fig = charts.gauge_figure(0.0, disable=0.8, enable=0.9)
    assert fig.data[0].value == 0.0 and "number" in fig.data[0].mode


def lane(avg, mx):
    return charts.LaneTiming("fast", "ECR fast lane", 3, avg, mx)


@pytest.mark.parametrize(
    ("lanes", "axis_type"),
    [
        ([lane(0.0, 0.0)], "linear"),  # 0 s waits: a log axis would draw nothing
        ([lane(2.0, 5.0)], "linear"),  # one order of magnitude: no need for log
        ([lane(2.0, 5.0), lane(7200.0, 9000.0)], "log"),
        ([lane(0.0, 5.0), lane(7200.0, 9000.0)], "linear"),
        ([lane(None, None)], "linear"),
        ([], "linear"),
    ],
)
def test_wait_axis_is_log_only_when_it_can_draw_every_bar(lanes, axis_type):
    assert charts.review_time_figure(lanes).layout.yaxis.type == axis_type


def test_wait_chart_without_reviews_says_so():
    fig = charts.review_time_figure([lane(None, None)])
    assert "No reviews" in fig.layout.annotations[0].text
