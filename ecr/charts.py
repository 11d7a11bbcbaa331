"""Pure chart builders for the ECR page: selector output -> Plotly figure.

Pages embed ``figure_json(fig)`` with ``json_script`` and draw it with the Plotly
JavaScript served from static files (``vendor/plotly.min.js``), never a CDN.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

import plotly.graph_objects as go
import plotly.io as pio

from catalog_health.shares import share_percent, share_text

GREEN = "#198754"
RED = "#dc3545"
AMBER = "#b8860b"
GREY = "#6c757d"
# A history shorter than this is padded to it, so the axis reads in dates, not milliseconds.
MIN_X_SPAN = timedelta(days=2)
# Room after the last sample (or now) on such an axis, so its marker is not cut in half.
X_PAD = MIN_X_SPAN / 24
# Up to this many samples each gets a marker one can see (a first evaluation is one dot with
# no line through it); more draw a line with small markers.
FEW_SAMPLES = 12


@dataclass(frozen=True)
class RatioPoint:
    at: datetime
    ratio: float


@dataclass(frozen=True)
class EventPoint:
    at: datetime
    enabled: bool  # the state after the event
    ratio: float | None


@dataclass(frozen=True)
class LaneTiming:
    lane: str  # "fast" | "standard"
    label: str
    reviewed: int
    avg_seconds: float | None
    max_seconds: float | None


# A horizontal legend at the foot of the figure: placed a fraction of the plot's height below
# it, a legend that wraps on a phone grew upwards over the x axis's labels.
LEGEND_AT_FOOT = {"orientation": "h", "yref": "container", "yanchor": "bottom", "y": 0, "x": 0}


def figure_json(fig: go.Figure) -> dict:
    """Plain JSON-ready dict of a figure (for ``json_script``)."""
    return json.loads(pio.to_json(fig, validate=False))


def ratio_figure(
    points: Sequence[RatioPoint],
    events: Sequence[EventPoint],
    *,
    disable: float,
    enable: float,
    now: datetime | None = None,
    tz: tzinfo = UTC,
) -> go.Figure:
    """Availability ratio over time with both thresholds and the ECR events marked, at the
    wall-clock times of ``tz`` (the tenant's time zone, as the ECR history table shows
    them). ``now`` ends the axis of a short history (default: the current time)."""
    # Plotly.js ignores a time's UTC offset and draws its wall clock: give it local times.
    now = _wall_clock(now or datetime.now(UTC), tz)
    points = [RatioPoint(_wall_clock(p.at, tz), p.ratio) for p in points]
    events = [EventPoint(_wall_clock(e.at, tz), e.enabled, e.ratio) for e in events]
    few = len(points) <= FEW_SAMPLES
    shares = [float(share_percent(p.ratio)) for p in points]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[p.at for p in points],
            y=shares,
            name="Available share",
            mode="lines+markers+text",
            line={"color": "#0d6efd", "width": 2},
            marker={"size": 9, "line": {"width": 1, "color": "#fff"}} if few else {"size": 4},
            # the latest share in words beside its marker (left: it is at the axis's end)
            text=[""] * (len(points) - 1) + [f"{share_text(points[-1].ratio)} "] if points else [],
            textposition="middle left",
            textfont={"color": "#0d6efd"},
            # a share of 100 % sits on the plot's top edge: draw its marker whole
            cliponaxis=False,
            # named in the legend even alone, so a lone first sample says what it is
            showlegend=True,
            hovertemplate="%{x|%Y-%m-%d %H:%M}: %{y:.1f}%<extra></extra>",
        )
    )
    for value, label, colour in (
        (disable, "ECR turns off below", RED),
        (enable, "ECR turns back on at", GREEN),
    ):
        fig.add_hline(
            y=value * 100,
            line={"color": colour, "dash": "dash", "width": 1.5},
            annotation_text=f"{label} {share_percent(value).normalize():f}%",
            annotation_position="bottom right",
            annotation_font_color=colour,
        )
    for enabled in (False, True):
        evs = [e for e in events if e.enabled is enabled]
        if not evs:
            continue
        fig.add_trace(
            go.Scatter(
                x=[e.at for e in evs],
                y=[float(share_percent(e.ratio or 0)) for e in evs],
                name="ECR turned on" if enabled else "ECR turned off",
                mode="markers",
                marker={
                    "symbol": "triangle-up" if enabled else "triangle-down",
                    "size": 13,
                    "color": GREEN if enabled else RED,
                    "line": {"width": 1, "color": "#fff"},
                },
                hovertemplate="%{x|%Y-%m-%d %H:%M}: "
                + ("ECR on" if enabled else "ECR off")
                + " at %{y:.1f}%<extra></extra>",
            )
        )
    fig.update_layout(
        margin={"l": 50, "r": 20, "t": 30, "b": 40},
        height=340,
        yaxis={"title": "Available products (%)", "range": [0, 101], "ticksuffix": "%"},
        xaxis=_date_axis([p.at for p in points] + [e.at for e in events], now=now),
        legend=LEGEND_AT_FOOT,
        template="plotly_white",
    )
    if not points:
        fig.add_annotation(
            text="No reviews yet", showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5
        )
    return fig


def _date_axis(times: Sequence[datetime], *, now: datetime) -> dict:
    """A date x-axis; with a short history (one instant, or none), the days up to now
    instead of Plotly's autorange over a single point, which labels milliseconds: no span
    of future around the samples, which only ever come from the past."""
    axis: dict = {"title": None, "type": "date", "tickformat": "%b %d"}
    if not times:
        return {**axis, "range": [now - timedelta(days=30), now]}
    first, last = min(times), max(times)
    if last - first < MIN_X_SPAN:
        end = max(last, now) + X_PAD
        axis["range"] = [min(first - X_PAD, end - MIN_X_SPAN), end]
        axis["tickformat"] = "%b %d, %H:%M"
    return axis


def _wall_clock(moment: datetime, tz: tzinfo) -> datetime:
    return moment.astimezone(tz).replace(tzinfo=None)


def gauge_figure(ratio: float | None, *, disable: float, enable: float) -> go.Figure:
    """The current ratio on a 0-100 % gauge with red below disable, amber in the
    hysteresis band and green at or above enable. A catalog not evaluated (no ratio)
    gets a grey gauge reading "—", never a red 0 %."""
    if ratio is None:
        fig = go.Figure(
            go.Indicator(
                mode="gauge",
                value=0,
                gauge={
                    "axis": {"range": [0, 100], "ticksuffix": "%"},
                    "bar": {"color": "rgba(0,0,0,0)"},
                    "steps": [{"range": [0, 100], "color": "rgba(108,117,125,0.25)"}],
                },
                title={"text": "Available share: not evaluated yet"},
            )
        )
        fig.add_annotation(
            text="—",
            showarrow=False,
            x=0.5,
            y=0.1,
            xref="paper",
            yref="paper",
            font={"size": 40, "color": GREY},
        )
        fig.update_layout(margin={"l": 30, "r": 30, "t": 50, "b": 10}, height=230)
        return fig
    value = float(share_percent(ratio))
    fig = go.Figure(
        go.Indicator(
            mode="gauge+number",
            value=value,
            number={"suffix": "%", "valueformat": ".1f"},
            gauge={
                "axis": {"range": [0, 100], "ticksuffix": "%"},
                "bar": {"color": "#212529", "thickness": 0.25},
                "steps": [
                    {"range": [0, disable * 100], "color": "rgba(220,53,69,0.35)"},
                    {"range": [disable * 100, enable * 100], "color": "rgba(255,193,7,0.45)"},
                    {"range": [enable * 100, 100], "color": "rgba(25,135,84,0.35)"},
                ],
                "threshold": {"line": {"color": RED, "width": 3}, "value": disable * 100},
            },
            title={"text": "Available share"},
        )
    )
    fig.update_layout(margin={"l": 30, "r": 30, "t": 50, "b": 10}, height=230)
    return fig


def review_time_figure(lanes: Sequence[LaneTiming]) -> go.Figure:
    """Average and longest wait from Pending to reviewed, per review lane."""
    labels = [f"{t.label} ({t.reviewed} reviewed)" for t in lanes]
    waits = [v for t in lanes for v in (t.avg_seconds, t.max_seconds) if v is not None]
    fig = go.Figure()
    for attr, name, colour in (
        ("avg_seconds", "Average wait", "#0d6efd"),
        ("max_seconds", "Longest wait", GREY),
    ):
        vals = [getattr(t, attr) for t in lanes]
        fig.add_trace(
            go.Bar(
                x=labels,
                y=[round(v / 60, 2) if v is not None else None for v in vals],
                name=name,
                marker_color=colour,
                text=[human_duration(v) for v in vals],
                textposition="outside",
                hovertemplate="%{x}: %{text}<extra>" + name + "</extra>",
            )
        )
    fig.update_layout(
        barmode="group",
        height=300,
        margin={"l": 50, "r": 20, "t": 30, "b": 40},
        yaxis=_wait_axis(waits),
        legend=LEGEND_AT_FOOT,
        template="plotly_white",
    )
    if not waits:
        fig.add_annotation(
            text="No reviews in the last 30 days",
            showarrow=False,
            xref="paper",
            yref="paper",
            x=0.5,
            y=0.5,
        )
    return fig


def _wait_axis(waits: Sequence[float]) -> dict:
    """Log scale only when the waits span orders of magnitude (seconds in the fast lane,
    hours in the queue) and none is zero: a log axis cannot draw a 0 s wait."""
    positive = [w for w in waits if w > 0]
    if positive and len(positive) == len(waits) and max(positive) / min(positive) >= 100:
        return {"title": "Minutes pending (log scale)", "type": "log"}
    return {"title": "Minutes pending", "type": "linear", "rangemode": "tozero"}


def human_duration(seconds: float | None) -> str:
    """``3 s``, ``4 min``, ``2.5 h``, ``3.1 d``; ``—`` for no data."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"
