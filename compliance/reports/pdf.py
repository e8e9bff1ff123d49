"""The gap analysis as a PDF (reportlab, as the policy PDFs in ``policies/pdf.py``).

Per framework: a summary page (readiness now, the requirements ready, the target audit date and
forecast, the weekly trend chart from ``compliance.charts``, and each section's count), then
each section as a table of its first :data:`PDF_SECTION_LIMIT` rows; a longer section says how
many more rows the XLSX holds. Rows are read from the sections' generators; the rest of a
long section is counted without being kept.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from html import escape
from typing import IO, Any

from django.utils.formats import date_format
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from compliance.reports.gap import CappedSection, FrameworkReport, capped_section
from policies.pdf import INK, MARGIN, MUTED, RULE, _styles

# The most rows of a section the PDF prints (the XLSX has them all).
PDF_SECTION_LIMIT = 200
PAGE = landscape(A4)
WIDTH = PAGE[0] - 2 * MARGIN


def _day(value: Any) -> str:
    return date_format(value, "j M Y") if value else "—"


def trend_png(report: FrameworkReport) -> bytes:
    """The framework's weekly readiness trend, with its target audit date and forecast."""
    from compliance.charts import ForecastLine, TrendSeries, readiness_trend_png
    from compliance.selectors import forecast_of

    adoption = report.adoption
    series = [
        TrendSeries(adoption.framework.short_name, [(s.week, s.percent) for s in report.snapshots])
    ]
    forecast = forecast_of(report.snapshots, adoption, report.scope.today)
    line = None
    if forecast.ready_on is not None:
        line = ForecastLine(forecast.ready_on, forecast.optimistic, forecast.pessimistic)
    return readiness_trend_png(
        series, target=adoption.target_audit_date, forecast=line, width_px=1600, height_px=520
    )


def _table(rows: list[list[Any]], widths: Sequence[float], *, header: bool = True) -> Table:
    table = Table(rows, colWidths=list(widths), repeatRows=1 if header else 0)
    style = [
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        style.append(("LINEBELOW", (0, 0), (-1, 0), 0.8, INK))
    table.setStyle(TableStyle(style))
    return table


def _summary(report: FrameworkReport, capped: list[CappedSection], styles: Any) -> list[Flowable]:
    from compliance.selectors import forecast_of

    adoption, readiness = report.adoption, report.readiness
    forecast = forecast_of(report.snapshots, adoption, report.scope.today)
    p = lambda text, style="cell": Paragraph(escape(str(text)), styles[style])  # noqa: E731
    facts = [
        ("Scope", ", ".join(c.name for c in sorted(adoption.scope.all(), key=lambda c: c.order))),
        (
            "Readiness now",
            f"{readiness.percent}% ({readiness.ready} of {readiness.total} requirements ready)"
            if readiness
            else "not computed yet",
        ),
        ("Target audit date", _day(adoption.target_audit_date)),
        ("Forecast", forecast.reason),
    ]
    story: list[Flowable] = [
        Paragraph(escape(f"Gap analysis: {adoption.framework.name}"), styles["title"]),
        Paragraph(
            escape(f"{report.scope.organization.name} · as of {_day(report.scope.today)}"),
            styles["subtitle"],
        ),
        _table(
            [[p(k, "label"), p(v, "value")] for k, v in facts],
            [45 * mm, WIDTH - 45 * mm],
            header=False,
        ),
        Spacer(1, 5 * mm),
    ]
    counts = [[p("Section", "label"), p("Items", "label")]] + [
        [p(c.section.title), p(c.total)] for c in capped
    ]
    counts_table = _table(counts, [70 * mm, 20 * mm])
    chart_width = WIDTH - 100 * mm
    if report.snapshots:
        png = trend_png(report)
        width_px, height_px = ImageReader(io.BytesIO(png)).getSize()
        chart: Flowable = Image(
            io.BytesIO(png), width=chart_width, height=chart_width * height_px / width_px
        )
    else:
        chart = p("No weekly snapshots yet: the trend starts with the first weekly snapshot.")
    # The chart and the section counts side by side: the summary is one page.
    side_by_side = Table([[chart, counts_table]], colWidths=[chart_width + 5 * mm, 95 * mm])
    side_by_side.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story.append(side_by_side)
    return story


def _section(report: FrameworkReport, capped: CappedSection, styles: Any) -> list[Flowable]:
    section = capped.section
    p = lambda text, style="cell": Paragraph(escape(str(text)), styles[style])  # noqa: E731
    story: list[Flowable] = [
        Paragraph(escape(f"{section.title} ({capped.total})"), styles["h2"]),
        Paragraph(escape(section.description), styles["intro"]),
    ]
    if not capped.rows:
        story.append(p("None."))
        return story
    heading = ["Item", section.detail_heading, "Owner", "Due"]
    rows = [[p(text, "label") for text in heading]]
    for row in capped.rows:
        link = f'<link href="{escape(row.url)}" color="#3b4fd8">{escape(row.item)}</link>'
        rows.append(
            [Paragraph(link, styles["cell"]), p(row.detail), p(row.owner or "—"), p(_day(row.due))]
        )
    story.append(_table(rows, [75 * mm, WIDTH - 75 * mm - 45 * mm - 25 * mm, 45 * mm, 25 * mm]))
    if capped.more:
        story.append(Spacer(1, 2 * mm))
        story.append(
            p(
                f"And {capped.more} more: the first {len(capped.rows)} of {capped.total} are "
                "shown here; see the XLSX download for all of them.",
                "label",
            )
        )
    return story


def _report_styles() -> dict[str, ParagraphStyle]:
    styles = _styles()
    # A section's description stays with its table.
    styles["intro"] = ParagraphStyle(
        "Intro", parent=styles["label"], keepWithNext=True, spaceAfter=2 * mm
    )
    return styles


def write_pdf(
    reports: Sequence[FrameworkReport], out: IO[bytes], *, generated: dt.datetime
) -> None:
    """The report's PDF, written to ``out``."""
    styles = _report_styles()
    organization = reports[0].scope.organization.name if reports else ""
    document = SimpleDocTemplate(
        out,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"Gap analysis · {organization}",
        author=organization,
        creator="Attest",
    )
    stamp = f"Gap analysis · {organization} · generated {_day(generated)}"

    def decorate(canvas: Canvas, doc: Any) -> None:
        width, _ = PAGE
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.setFillColor(MUTED)
        canvas.setStrokeColor(RULE)
        canvas.line(MARGIN, MARGIN - 2 * mm, width - MARGIN, MARGIN - 2 * mm)
        canvas.drawString(MARGIN, MARGIN - 6 * mm, stamp)
        canvas.drawRightString(width - MARGIN, MARGIN - 6 * mm, f"Page {doc.page}")
        canvas.restoreState()

    story: list[Flowable] = []
    if not reports:
        story.append(
            Paragraph("No framework is adopted yet: there is nothing to report.", styles["body"])
        )
    for index, report in enumerate(reports):
        capped = [capped_section(report, s, PDF_SECTION_LIMIT) for s in report.sections]
        if index:
            story.append(PageBreak())
        story.extend(_summary(report, capped, styles))
        for section in capped:
            story.append(PageBreak() if section is capped[0] else Spacer(1, 6 * mm))
            story.extend(_section(report, section, styles))
    document.build(story, onFirstPage=decorate, onLaterPages=decorate)
