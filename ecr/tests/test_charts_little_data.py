"""Charts with little data: dates on the x-axis, a grey gauge before the first evaluation,
a wait chart that can draw zero."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ecr import charts

T0 = datetime(2026, 11, 20, 18, 30, 38, 524_000, tzinfo=UTC)
NOW = T0 + timedelta(days=1)


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
        [charts.RatioPoint(t, 0.9) for t in times], [], disable=0.8, enable=0.9, now=NOW
    )
    axis = fig.layout.xaxis
    assert axis.type == "date"
    start, end = _range(axis)
    assert end - start >= span_at_least
    if times:
        assert start <= _wall(min(times)) and _wall(max(times)) <= end


def _wall(moment: datetime, tz=UTC) -> datetime:
    return moment.astimezone(tz).replace(tzinfo=None)


def _range(axis) -> tuple[datetime, datetime]:
    start, end = (datetime.fromisoformat(str(v)) for v in axis.range)
    return start, end


@pytest.mark.parametrize("tz", [UTC, ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo")])
def test_one_sample_is_a_visible_marker_on_an_axis_that_ends_now(tz):
    """A catalog's first evaluation: one sample. Its marker is large enough to see and not
    cut by the plot's edge (a share of 100 % sits on it), and the axis shows the days up to
    now at the tenant's wall clock, not a day of future around the sample."""
    sample = NOW - timedelta(minutes=3)
    fig = charts.ratio_figure(
        [charts.RatioPoint(sample, 1.0)], [], disable=0.8, enable=0.9, now=NOW, tz=tz
    )
    trace = fig.data[0]
    assert trace.marker.size >= 8 and trace.cliponaxis is False
    assert [datetime.fromisoformat(str(x)) for x in trace.x] == [_wall(sample, tz)]
    start, end = _range(fig.layout.xaxis)
    assert start <= _wall(sample, tz) <= end
    assert timedelta(0) <= end - _wall(NOW, tz) <= timedelta(hours=3)
    assert end - start >= charts.MIN_X_SPAN


@pytest.mark.parametrize(("samples", "big"), [(1, True), (5, True), (12, True), (60, False)])
def test_markers_are_big_while_samples_are_few(samples, big):
    pts = [charts.RatioPoint(NOW - timedelta(hours=6 * i), 0.9) for i in range(samples)]
    trace = charts.ratio_figure(pts, [], disable=0.8, enable=0.9, now=NOW).data[0]
    assert (trace.marker.size >= 8) is big


def test_a_long_history_keeps_plotly_autorange():
    pts = [charts.RatioPoint(T0 + timedelta(days=i), 0.9) for i in range(10)]
    axis = charts.ratio_figure(pts, [], disable=0.8, enable=0.9, now=NOW).layout.xaxis
    assert axis.type == "date" and axis.range is None


def test_events_alone_place_the_axis():
    ev = [charts.EventPoint(T0, False, 0.5)]
    axis = charts.ratio_figure([], ev, disable=0.8, enable=0.9, now=NOW).layout.xaxis
    start, end = _range(axis)
    assert start <= _wall(T0) <= end


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
