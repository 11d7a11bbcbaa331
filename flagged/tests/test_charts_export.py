"""Pure tests: impressions figure and formula-safe CSV cells."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flagged.charts import DayPoint, TransitionPoint, impressions_figure, status_periods
from flagged.scoring import FlagStatus as S

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def tp(day, a, b):
    return TransitionPoint(T0 + timedelta(days=day), a, b, ("Late dispatch rate 9% (target 4%)",))


def test_status_periods():
    transitions = [
        tp(10, S.AT_RISK, S.IMPACTED),
        tp(2, S.NONE, S.AT_RISK),
        tp(20, S.IMPACTED, S.RESOLVED),
    ]
    periods = status_periods(transitions, until=T0 + timedelta(days=25))
    assert [(p.status, (p.end - p.start).days) for p in periods] == [
        (S.AT_RISK, 8),
        (S.IMPACTED, 10),
        (S.RESOLVED, 5),
    ]
    expired = [*transitions, tp(24, S.RESOLVED, S.NONE)]
    assert status_periods(expired, until=T0 + timedelta(days=30))[-1].status == S.RESOLVED


def test_impressions_figure_is_readable():
    points = [DayPoint(date(2026, 3, 1) + timedelta(days=i), 100 + i, 5) for i in range(30)]
    transitions = [tp(2, S.NONE, S.AT_RISK), tp(10, S.AT_RISK, S.IMPACTED)]
    fig = impressions_figure(points, transitions, until=T0 + timedelta(days=30))
    layout = fig.layout
    assert layout.xaxis.title.text == "Date"
    assert layout.yaxis.title.text == "Impressions per day"
    assert layout.title.text
    names = [t.name for t in fig.data]
    assert names == ["Impressions", "Clicks", "Status change"]
    assert [s.name for s in layout.shapes] == ["At risk period", "Impacted period"]
    assert all(s.showlegend for s in layout.shapes)
    marker = fig.data[2]
    assert list(marker.y) == [102, 110]  # markers sit on the impressions line
    assert "At risk → Impacted" in marker.text[1]


def test_impressions_figure_without_data():
    fig = impressions_figure([], [], until=T0)
    assert [t.name for t in fig.data] == ["Impressions", "Clicks"]


def test_impressions_figure_is_in_the_tenants_time_zone():
    """Plotly.js drops a time's UTC offset and draws its wall clock: a status change at 02:00
    UTC on 1 March is 21:00 on 28 February in New York, the day and time the history table
    shows, and its marker sits on that local day's impressions."""
    new_york = ZoneInfo("America/New_York")
    points = [DayPoint(date(2026, 2, 28), 50, 1), DayPoint(date(2026, 3, 1), 90, 2)]
    change = TransitionPoint(T0 + timedelta(hours=2), S.NONE, S.IMPACTED)
    fig = impressions_figure(points, [change], until=T0 + timedelta(days=2), tz=new_york)
    marker = fig.data[2]
    assert [str(x) for x in marker.x] == ["2026-02-28 21:00:00"]
    assert list(marker.y) == [50]
    shape = fig.layout.shapes[0]
    assert (str(shape.x0), str(shape.x1)) == ("2026-02-28 21:00:00", "2026-03-02 19:00:00")
