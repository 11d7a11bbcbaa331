"""Pure chart builders: selector output -> Plotly figure (no ORM).

The details page embeds ``figure.to_json()`` and draws it with the Plotly
JavaScript served from static files (``vendor/plotly.min.js``), never a CDN.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, tzinfo

import plotly.graph_objects as go

from flagged.scoring import STATUS_LABELS, FlagStatus

# Colour-blind-safe-ish, and the same colours as the status badges in the pages.
STATUS_COLOURS = {
    FlagStatus.IMPACTED: "rgba(220, 53, 69, 0.18)",
    FlagStatus.AT_RISK: "rgba(255, 193, 7, 0.25)",
    FlagStatus.RESOLVED: "rgba(25, 135, 84, 0.14)",
}
MARKER_COLOURS = {
    FlagStatus.IMPACTED: "#dc3545",
    FlagStatus.AT_RISK: "#b8860b",
    FlagStatus.RESOLVED: "#198754",
    FlagStatus.NONE: "#6c757d",
}


@dataclass(frozen=True)
class DayPoint:
    day: date
    impressions: int
    clicks: int


@dataclass(frozen=True)
class TransitionPoint:
    at: datetime
    from_status: FlagStatus
    to_status: FlagStatus
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    status: FlagStatus


def status_periods(transitions: Sequence[TransitionPoint], *, until: datetime) -> list[Period]:
    """Periods of At risk / Impacted / Resolved, from transitions sorted by time."""
    periods: list[Period] = []
    ordered = sorted(transitions, key=lambda t: t.at)
    for i, t in enumerate(ordered):
        end = ordered[i + 1].at if i + 1 < len(ordered) else until
        if t.to_status != FlagStatus.NONE and end > t.at:
            periods.append(Period(t.at, end, t.to_status))
    return periods


def impressions_figure(
    points: Sequence[DayPoint],
    transitions: Sequence[TransitionPoint],
    *,
    until: datetime,
    tz: tzinfo = UTC,
    title: str = "Daily impressions",
) -> go.Figure:
    """Impressions and clicks per day, status periods shaded, transitions marked, at the
    wall-clock times of ``tz`` (the tenant's time zone, as the pages show them). ``until`` is
    now: the point of its day is labelled a partial day."""
    # Plotly.js ignores a time's UTC offset and draws its wall clock: give it local times.
    transitions = [replace(t, at=_wall_clock(t.at, tz)) for t in transitions]
    until = _wall_clock(until, tz)
    days = [p.day for p in points]
    by_day = {p.day: p.impressions for p in points}
    # Today's impressions are still being counted: its point says so in its hover label.
    partial = [" (today so far)" if day == until.date() else "" for day in days]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=days,
            y=[p.impressions for p in points],
            name="Impressions",
            mode="lines",
            line={"color": "#0d6efd", "width": 2},
            text=partial,
            hovertemplate="%{x|%d %b %Y}%{text}: %{y:,} impressions<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=days,
            y=[p.clicks for p in points],
            name="Clicks",
            mode="lines",
            line={"color": "#6f42c1", "width": 1, "dash": "dot"},
            text=partial,
            hovertemplate="%{x|%d %b %Y}%{text}: %{y:,} clicks<extra></extra>",
        )
    )
    legend_done: set[FlagStatus] = set()
    for period in status_periods(transitions, until=until):
        fig.add_shape(
            type="rect",
            xref="x",
            yref="paper",
            x0=period.start,
            x1=period.end,
            y0=0,
            y1=1,
            fillcolor=STATUS_COLOURS[period.status],
            line={"width": 0},
            layer="below",
            name=f"{STATUS_LABELS[period.status]} period",
            showlegend=period.status not in legend_done,
        )
        legend_done.add(period.status)
    if transitions:
        xs, ys, texts, colours = [], [], [], []
        for t in sorted(transitions, key=lambda t: t.at):
            xs.append(t.at)
            ys.append(_value_near(by_day, t.at.date()))
            label = f"{STATUS_LABELS[t.from_status]} → {STATUS_LABELS[t.to_status]}"
            if t.reasons:
                label += "<br>" + "<br>".join(t.reasons)
            texts.append(label)
            colours.append(MARKER_COLOURS[t.to_status])
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                name="Status change",
                mode="markers",
                marker={
                    "symbol": "diamond",
                    "size": 12,
                    "color": colours,
                    "line": {"width": 1, "color": "#212529"},
                },
                text=texts,
                hovertemplate="%{x|%d %b %Y %H:%M}<br>%{text}<extra></extra>",
            )
        )
    fig.update_layout(
        title={"text": title},
        xaxis={"title": {"text": "Date"}, "type": "date", "tickformat": "%d %b"},
        yaxis={"title": {"text": "Impressions per day"}, "rangemode": "tozero"},
        # at the foot of the figure, not a fraction of the plot's height below it: on a phone
        # it wraps to several rows, which then widen the margin instead of covering the dates
        legend={"orientation": "h", "yref": "container", "yanchor": "bottom", "y": 0, "x": 0},
        margin={"l": 70, "r": 20, "t": 50, "b": 90},
        hovermode="closest",
        template="plotly_white",
        height=420,
    )
    return fig


def _wall_clock(moment: datetime, tz: tzinfo) -> datetime:
    return moment.astimezone(tz).replace(tzinfo=None)


def _value_near(by_day: dict[date, int], day: date) -> int:
    """Impressions on that day, or the closest earlier day, so markers sit on the line."""
    for back in range(0, 8):
        value = by_day.get(day - timedelta(days=back))
        if value is not None:
            return value
    return 0
