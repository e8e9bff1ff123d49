"""The readiness trend chart: one drawing for the weekly page (SVG), the gap-analysis PDF and the
weekly digest email (PNG).

Drawn with matplotlib's object-oriented API on the Agg backend (no pyplot: no global figure
state, safe in a web process and a Celery worker alike). The chart is meant for a reader who
is not technical: one line per framework from 0 to 100 %, the target audit date as a labelled
vertical line, and the forecast as a dashed line to 100 % with its range shaded. Nothing here
queries the database: callers pass the points (``compliance.selectors.snapshot_trend``) and
the forecast (``compliance.forecast``).

Output is deterministic for the same input (fixed SVG ids and no creation date), so a test
can compare it and a cache can keep it.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib
from matplotlib import dates as mdates
from matplotlib.figure import Figure  # drawn without pyplot: savefig renders with Agg / SVG
from matplotlib.ticker import PercentFormatter

# The palette of static/css (the same colours as the page's bars and badges).
INK = "#1f2937"
MUTED = "#6b7280"
GRID = "#e5e7eb"
TARGET = "#b45309"
LINES = ["#2563eb", "#059669", "#7c3aed", "#db2777", "#0891b2"]


@dataclass(frozen=True)
class TrendSeries:
    """One framework's weekly readiness: (the week's Monday, percent ready), oldest first."""

    label: str
    points: Sequence[tuple[dt.date, int]]


@dataclass(frozen=True)
class ForecastLine:
    """The forecast drawn from the series' last point to 100 % on ``ready_on``, with the range
    between ``optimistic`` and ``pessimistic`` shaded (either may be unknown)."""

    ready_on: dt.date
    optimistic: dt.date | None = None
    pessimistic: dt.date | None = None


def _x(day: dt.date) -> float:
    """A date as matplotlib's date number (the axis's locator and formatter show it as a date)."""
    return float(mdates.date2num(day))


def _figure(
    series: Sequence[TrendSeries],
    *,
    target: dt.date | None,
    forecast: ForecastLine | None,
    width_in: float,
    height_in: float,
) -> Figure:
    figure = Figure(figsize=(width_in, height_in), layout="constrained")
    axes = figure.add_subplot()
    axes.set_ylim(0, 104)  # room for the line and markers at 100 %
    axes.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    axes.set_yticks([0, 25, 50, 75, 100])
    axes.grid(axis="y", color=GRID, linewidth=0.8)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        axes.spines[side].set_color(GRID)
    axes.tick_params(colors=MUTED, labelsize=9, length=0)

    days: list[dt.date] = []
    for index, line in enumerate(series):
        if not line.points:
            continue
        colour = LINES[index % len(LINES)]
        days.extend(day for day, _ in line.points)
        xs = [_x(day) for day, _ in line.points]
        ys = [percent for _, percent in line.points]
        axes.plot(xs, ys, color=colour, linewidth=2.2, marker="o", markersize=4, label=line.label)
        axes.annotate(
            f"{ys[-1]}%",
            (xs[-1], ys[-1]),
            xytext=(6, 6),
            textcoords="offset points",
            color=colour,
            fontsize=10,
            fontweight="bold",
        )
        if forecast is not None and index == 0:
            days.append(forecast.ready_on)
            low = forecast.optimistic or forecast.ready_on
            high = forecast.pessimistic or forecast.ready_on
            days.extend([low, high])
            if low != high:
                axes.fill(
                    [xs[-1], _x(low), _x(high)],
                    [ys[-1], 100, 100],
                    color=colour,
                    alpha=0.12,
                    linewidth=0,
                )
            axes.plot(
                [xs[-1], _x(forecast.ready_on)],
                [ys[-1], 100],
                color=colour,
                linewidth=1.5,
                linestyle=(0, (4, 3)),
                label="Forecast",
            )
    if target is not None:
        days.append(target)
        axes.axvline(_x(target), color=TARGET, linewidth=1.5, linestyle=(0, (2, 2)))
        axes.annotate(
            f"Target audit {target.day} {target:%b}",
            (_x(target), 0),
            xytext=(-5, 5),
            textcoords="offset points",
            ha="right",
            va="bottom",
            color=TARGET,
            fontsize=9,
        )
    if days:
        first, last = min(days), max(days)
        pad = max(dt.timedelta(days=3), (last - first) / 30)
        axes.set_xlim(_x(first - pad), _x(last + pad))
    else:
        axes.set_xticks([])
        axes.text(
            0.5, 0.5, "No weekly snapshots yet", transform=axes.transAxes,
            ha="center", va="center", color=MUTED, fontsize=11,
        )  # fmt: skip
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=False))
    if len([s for s in series if s.points]) > 1 or forecast is not None:
        axes.legend(loc="upper left", frameon=False, fontsize=9, labelcolor=INK)
    return figure


def describe(series: Sequence[TrendSeries], *, target: dt.date | None = None) -> str:
    """The chart in words: its alternative text and the email's plain-text part."""
    parts = []
    for line in series:
        if not line.points:
            parts.append(f"{line.label}: no weekly snapshots yet")
            continue
        (first_day, first), (_, last) = line.points[0], line.points[-1]
        weeks = len(line.points)
        parts.append(
            f"{line.label}: {last}% ready, from {first}% in the week of "
            f"{first_day.day} {first_day:%b %Y} ({weeks} week{'s' if weeks != 1 else ''})"
        )
    if target is not None:
        parts.append(f"target audit date {target.day} {target:%b %Y}")
    return "; ".join(parts) + "."


def readiness_trend_svg(
    series: Sequence[TrendSeries],
    *,
    target: dt.date | None = None,
    forecast: ForecastLine | None = None,
    width_px: int = 720,
    height_px: int = 260,
) -> str:
    """The chart as an SVG document (text kept as text, so it is small and sharp)."""
    figure = _figure(
        series, target=target, forecast=forecast, width_in=width_px / 96, height_in=height_px / 96
    )
    out = io.StringIO()
    with matplotlib.rc_context(
        {"svg.fonttype": "none", "svg.hashsalt": "attest-trend", "font.family": "sans-serif"}
    ):
        figure.savefig(out, format="svg", dpi=96, metadata={"Date": None, "Creator": "Attest"})
    return out.getvalue()


def readiness_trend_png(
    series: Sequence[TrendSeries],
    *,
    target: dt.date | None = None,
    forecast: ForecastLine | None = None,
    width_px: int = 1200,
    height_px: int = 440,
    dpi: int = 160,
) -> bytes:
    """The chart as a PNG of ``width_px`` by ``height_px`` (for the PDF and the email)."""
    figure = _figure(
        series,
        target=target,
        forecast=forecast,
        width_in=width_px / dpi,
        height_in=height_px / dpi,
    )
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=dpi, metadata={"Software": "Attest"})
    return out.getvalue()


CACHE_SECONDS = 7 * 24 * 3600


def readiness_trend_svg_cached(
    series: Sequence[TrendSeries],
    *,
    target: dt.date | None = None,
    forecast: ForecastLine | None = None,
) -> str:
    """:func:`readiness_trend_svg`, kept in the cache under a digest of its input: drawing
    costs tens of milliseconds and a week's chart does not change between page views. Without
    the cache (Redis down) the chart is drawn every time."""
    from django.core.cache import cache

    key = "chart:trend:" + hashlib.sha256(repr((series, target, forecast)).encode()).hexdigest()
    try:
        svg = cache.get(key)
    except Exception:  # an unreachable cache must not break the page
        svg = None
    if isinstance(svg, str):
        return svg
    svg = readiness_trend_svg(series, target=target, forecast=forecast)
    with contextlib.suppress(Exception):  # the same: the page is drawn without the cache
        cache.set(key, svg, CACHE_SECONDS)
    return svg


def data_uri(svg: str) -> str:
    """An SVG as a ``data:`` URI for an ``<img>`` (the page's CSP allows ``img-src data:``; an
    image cannot run script, whatever a label holds)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
