"""The readiness trend chart (compliance.charts): one drawing for page, PDF and email."""

from __future__ import annotations

import base64
import datetime as dt
import io
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from compliance.charts import (
    ForecastLine,
    TrendSeries,
    data_uri,
    describe,
    readiness_trend_png,
    readiness_trend_svg,
)

MONDAY = dt.date(2026, 9, 21)
POINTS = [(MONDAY + dt.timedelta(weeks=n), p) for n, p in enumerate([14, 22, 31, 44, 61])]
TARGET = dt.date(2027, 2, 15)
FORECAST = ForecastLine(dt.date(2027, 1, 31), dt.date(2027, 1, 17), dt.date(2027, 2, 28))


def test_the_svg_is_a_well_formed_document_with_the_figures_as_text() -> None:
    svg = readiness_trend_svg([TrendSeries("SOC 2", POINTS)], target=TARGET, forecast=FORECAST)

    root = ET.fromstring(svg)  # noqa: S314 - our own output
    assert root.tag.endswith("svg")
    text = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
    assert "61%" in text  # the latest figure, labelled
    assert "Target audit 15 Feb" in text
    assert "SOC 2" in text and "Forecast" in text  # the legend
    assert "100%" in text and "0%" in text


def test_the_same_input_draws_the_same_svg() -> None:
    args = ([TrendSeries("SOC 2", POINTS)],)
    assert readiness_trend_svg(*args, target=TARGET) == readiness_trend_svg(*args, target=TARGET)


def test_a_label_cannot_inject_markup() -> None:
    svg = readiness_trend_svg([TrendSeries('<script>alert(1)</script>"', POINTS)])

    assert "<script>" not in svg
    ET.fromstring(svg)  # noqa: S314 - still well formed


def test_the_png_has_the_size_asked_for() -> None:
    png = readiness_trend_png(
        [TrendSeries("SOC 2", POINTS), TrendSeries("ISO 27001", POINTS[:2])],
        target=TARGET,
        forecast=FORECAST,
        width_px=1000,
        height_px=400,
        dpi=100,
    )

    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size == (1000, 400)


def test_no_points_still_draws_and_says_so() -> None:
    svg = readiness_trend_svg([TrendSeries("SOC 2", [])])

    assert "No weekly snapshots yet" in svg
    assert describe([TrendSeries("SOC 2", [])]) == "SOC 2: no weekly snapshots yet."


def test_the_text_alternative_tells_the_trend() -> None:
    assert describe([TrendSeries("SOC 2", POINTS)], target=TARGET) == (
        "SOC 2: 61% ready, from 14% in the week of 21 Sep 2026 (5 weeks); "
        "target audit date 15 Feb 2027."
    )


def test_the_data_uri_holds_the_svg() -> None:
    svg = readiness_trend_svg([TrendSeries("SOC 2", POINTS)])
    uri = data_uri(svg)

    assert uri.startswith("data:image/svg+xml;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]).decode() == svg


def test_the_pages_chart_is_drawn_once_then_read_from_the_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.core.cache import cache

    from compliance import charts

    cache.clear()
    drawn: list[int] = []
    real = charts.readiness_trend_svg

    def counting(*args: object, **kwargs: object) -> str:
        drawn.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(charts, "readiness_trend_svg", counting)
    series = [TrendSeries("SOC 2", POINTS)]
    first = charts.readiness_trend_svg_cached(series, target=TARGET)
    second = charts.readiness_trend_svg_cached(series, target=TARGET)
    other = charts.readiness_trend_svg_cached(series, target=TARGET + dt.timedelta(days=1))

    assert first == second != other
    assert len(drawn) == 2  # the same input once, the changed one again
