"""PDF export of an approved policy version (reportlab, pure Python).

The document opens with a title page (organization, policy, version, effective date, approver,
owner, next review), then the policy text: the same sanitised HTML the pages show, turned into
reportlab paragraphs, headings, lists, tables and code blocks. Every page carries the version,
the approver and the effective date in its header and footer, so a printed page on its own
still says which text it is.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser
from typing import Any

from django.utils.formats import date_format
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    HRFlowable,
    ListFlowable,
    ListItem,
    PageBreak,
    Paragraph,
    Preformatted,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from policies.dates import review_due
from policies.models import PolicyVersion, VersionStatus
from policies.rendering import render_markdown

INK = colors.HexColor("#101828")
MUTED = colors.HexColor("#667085")
RULE = colors.HexColor("#d0d5dd")
BRAND = colors.HexColor("#3b4fd8")
MARGIN = 20 * mm


# --- a small DOM of the sanitised HTML ----------------------------------------------------------


@dataclass
class Node:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)


VOID = {"br", "hr"}


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("root")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_html(html: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


# --- styles -------------------------------------------------------------------------------------


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    body = ParagraphStyle(
        "Body", parent=base["BodyText"], fontName="Helvetica", fontSize=10, leading=14,
        textColor=INK, spaceAfter=6, alignment=TA_LEFT,
    )  # fmt: skip
    styles = {
        "body": body,
        "cell": ParagraphStyle("Cell", parent=body, fontSize=9, leading=12, spaceAfter=0),
        "code": ParagraphStyle(
            "Code",
            parent=body,
            fontName="Courier",
            fontSize=8.5,
            leading=11,
            backColor=colors.HexColor("#f2f4f7"),
            borderPadding=4,
            spaceBefore=4,
            spaceAfter=8,
        ),
        "quote": ParagraphStyle(
            "Quote", parent=body, leftIndent=12, textColor=MUTED, borderColor=RULE
        ),
        "title": ParagraphStyle(
            "CoverTitle",
            parent=body,
            fontName="Helvetica-Bold",
            fontSize=24,
            leading=30,
            spaceAfter=8,
        ),
        "subtitle": ParagraphStyle(
            "CoverSubtitle", parent=body, fontSize=12, leading=16, textColor=MUTED, spaceAfter=18
        ),
        "label": ParagraphStyle("Label", parent=body, textColor=MUTED, spaceAfter=0),
        "value": ParagraphStyle("Value", parent=body, spaceAfter=0),
    }
    sizes = {1: 17, 2: 14, 3: 12, 4: 11, 5: 10, 6: 10}
    for level, size in sizes.items():
        styles[f"h{level}"] = ParagraphStyle(
            f"Heading{level}", parent=body, fontName="Helvetica-Bold", fontSize=size,
            leading=size * 1.3, spaceBefore=10 if level > 1 else 4, spaceAfter=5,
            keepWithNext=True,
        )  # fmt: skip
    return styles


# --- HTML → flowables ---------------------------------------------------------------------------

INLINE = {
    "strong": ("<b>", "</b>"),
    "b": ("<b>", "</b>"),
    "em": ("<i>", "</i>"),
    "i": ("<i>", "</i>"),
    "del": ("<strike>", "</strike>"),
    "code": ('<font face="Courier">', "</font>"),
    "sup": ("<super>", "</super>"),
    "sub": ("<sub>", "</sub>"),
}
BLOCKS = {"p", "ul", "ol", "pre", "blockquote", "table", "hr", "dl"} | {
    f"h{n}" for n in range(1, 7)
}


def _inline(node: Node | str) -> str:
    """Reportlab's paragraph markup for inline content (text escaped, tags mapped)."""
    if isinstance(node, str):
        return escape(" ".join(node.split("\n")), quote=False)
    inner = "".join(_inline(child) for child in node.children)
    if node.tag == "br":
        return "<br/>"
    if node.tag in INLINE:
        start, end = INLINE[node.tag]
        return f"{start}{inner}{end}"
    if node.tag == "a":
        href = node.attrs.get("href", "")
        if href.startswith(("http://", "https://", "mailto:")):
            return f'<link href="{escape(href)}" color="#3b4fd8"><u>{inner}</u></link>'
        return inner
    return inner


def _text(node: Node | str) -> str:
    if isinstance(node, str):
        return node
    return "".join(_text(child) for child in node.children)


class Converter:
    def __init__(self, styles: dict[str, ParagraphStyle]) -> None:
        self.styles = styles

    def blocks(self, node: Node) -> list[Flowable]:
        flowables: list[Flowable] = []
        loose: list[Node | str] = []

        def flush() -> None:
            markup = "".join(_inline(child) for child in loose).strip()
            if markup:
                flowables.append(Paragraph(markup, self.styles["body"]))
            loose.clear()

        for child in node.children:
            if isinstance(child, Node) and child.tag in BLOCKS:
                flush()
                flowables.extend(self.block(child))
            else:
                loose.append(child)
        flush()
        return flowables

    def block(self, node: Node) -> list[Flowable]:
        tag = node.tag
        if tag in {f"h{n}" for n in range(1, 7)}:
            return [Paragraph(_inline(node), self.styles[tag])]
        if tag == "p":
            markup = _inline(node).strip()
            return [Paragraph(markup, self.styles["body"])] if markup else []
        if tag in ("ul", "ol"):
            return [self.listing(node)]
        if tag == "pre":
            return [Preformatted(_text(node).rstrip("\n"), self.styles["code"])]
        if tag == "blockquote":
            return [
                Paragraph(f"<i>{_inline(child)}</i>", self.styles["quote"])
                for child in node.children
                if _text(child).strip()
            ]
        if tag == "hr":
            return [
                HRFlowable(width="100%", thickness=0.6, color=RULE, spaceBefore=4, spaceAfter=8)
            ]
        if tag == "table":
            return [self.table(node)]
        if tag == "dl":
            items: list[Flowable] = []
            for child in node.children:
                if isinstance(child, Node) and child.tag == "dt":
                    items.append(Paragraph(f"<b>{_inline(child)}</b>", self.styles["body"]))
                elif isinstance(child, Node) and child.tag == "dd":
                    style = ParagraphStyle("dd", parent=self.styles["body"], leftIndent=14)
                    items.append(Paragraph(_inline(child), style))
            return items
        return self.blocks(node)

    def listing(self, node: Node) -> ListFlowable:
        items = []
        for child in node.children:
            if isinstance(child, Node) and child.tag == "li":
                content = self.blocks(child) or [Paragraph("", self.styles["body"])]
                items.append(ListItem(content, leftIndent=14))
        ordered = node.tag == "ol"
        start = node.attrs.get("start", "1")
        return ListFlowable(
            items,
            bulletType="1" if ordered else "bullet",
            start=int(start) if ordered and start.isdigit() else (1 if ordered else None),
            bulletFontName="Helvetica",
            bulletFontSize=9,
            leftIndent=16,
            spaceAfter=6,
        )

    def table(self, node: Node) -> Table:
        rows: list[list[Paragraph]] = []
        header_rows = 0

        def collect(parent: Node, in_head: bool) -> None:
            nonlocal header_rows
            for child in parent.children:
                if not isinstance(child, Node):
                    continue
                if child.tag in ("thead", "tbody"):
                    collect(child, child.tag == "thead")
                elif child.tag == "tr":
                    cells = [c for c in child.children if isinstance(c, Node)]
                    rows.append(
                        [
                            Paragraph(
                                f"<b>{_inline(c)}</b>" if c.tag == "th" else _inline(c),
                                self.styles["cell"],
                            )
                            for c in cells
                        ]
                    )
                    if in_head or all(c.tag == "th" for c in cells):
                        header_rows = len(rows)

        collect(node, False)
        width = max((len(r) for r in rows), default=1)
        for row in rows:
            row.extend(Paragraph("", self.styles["cell"]) for _ in range(width - len(row)))
        available = A4[0] - 2 * MARGIN
        table = Table(rows, colWidths=[available / width] * width, repeatRows=header_rows)
        style = [
            ("GRID", (0, 0), (-1, -1), 0.5, RULE),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 4),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
        ]
        if header_rows:
            style.append(("BACKGROUND", (0, 0), (-1, header_rows - 1), colors.HexColor("#f2f4f7")))
        table.setStyle(TableStyle(style))
        table.spaceAfter = 8
        return table


# --- the document -------------------------------------------------------------------------------


def _day(value: Any) -> str:
    return date_format(value, "j F Y") if value else "—"


def stamp_text(version: PolicyVersion) -> str:
    """The line every page carries: which version, who approved it, since when."""
    approver = version.approved_by.display_name if version.approved_by else "unknown"
    return (
        f"Version {version.number} · Approved by {approver} · "
        f"Effective {_day(version.effective_date)}"
    )


def render_version_pdf(
    version: PolicyVersion, *, compress: bool = True, invariant: bool = False
) -> bytes:
    """The PDF of an approved (or retired, once approved) version."""
    if version.status not in (VersionStatus.APPROVED, VersionStatus.RETIRED):
        raise ValueError("Only an approved version can be exported.")
    policy = version.policy
    organization = policy.organization
    styles = _styles()
    stamp = stamp_text(version)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN + 6 * mm,
        bottomMargin=MARGIN + 4 * mm,
        title=f"{policy.title} (version {version.number})",
        author=organization.name,
        subject=stamp,
        creator="Attest",
        pageCompression=1 if compress else 0,
        invariant=1 if invariant else 0,
    )

    def decorate(canvas: Canvas, doc: Any) -> None:
        width, height = A4
        canvas.saveState()
        canvas.setFont("Helvetica-Bold", 8)
        canvas.setFillColor(INK)
        canvas.drawString(MARGIN, height - MARGIN + 2 * mm, f"{organization.name} · {policy.title}")
        canvas.setFont("Helvetica", 8)
        canvas.setFillColor(MUTED)
        canvas.drawRightString(width - MARGIN, height - MARGIN + 2 * mm, stamp)
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN, height - MARGIN, width - MARGIN, height - MARGIN)
        canvas.line(MARGIN, MARGIN + 2 * mm, width - MARGIN, MARGIN + 2 * mm)
        status = (
            "Retired version"
            if version.status == VersionStatus.RETIRED
            else "Current approved text"
        )
        canvas.drawString(MARGIN, MARGIN - 2 * mm, f"{status} · {stamp}")
        canvas.drawRightString(width - MARGIN, MARGIN - 2 * mm, f"Page {doc.page}")
        canvas.restoreState()

    due = review_due(
        effective_date=version.effective_date,
        last_reviewed_on=policy.last_reviewed_on,
        review_months=policy.review_months,
    )
    facts = [
        ("Organization", organization.name),
        ("Version", str(version.number)),
        ("Status", version.get_status_display()),
        ("Effective date", _day(version.effective_date)),
        ("Approved by", version.approved_by.display_name if version.approved_by else "—"),
        ("Approved on", _day(version.approved_at)),
        ("Owner", policy.owner.display_name if policy.owner else "Unassigned"),
        ("Category", policy.get_category_display()),
        ("Review cadence", f"Every {policy.review_months} months"),
        ("Next review due", _day(due) if version.status == VersionStatus.APPROVED else "—"),
    ]
    if version.change_summary:
        facts.append(("Changes in this version", version.change_summary))
    fact_table = Table(
        [
            [Paragraph(escape(k), styles["label"]), Paragraph(escape(v), styles["value"])]
            for k, v in facts
        ],
        colWidths=[45 * mm, A4[0] - 2 * MARGIN - 45 * mm],
    )
    fact_table.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        )
    )
    story: list[Flowable] = [
        Spacer(1, 30 * mm),
        Paragraph(escape(organization.name).upper(), styles["label"]),
        Spacer(1, 4 * mm),
        Paragraph(escape(policy.title), styles["title"]),
        Paragraph(escape(policy.description or "Policy document"), styles["subtitle"]),
        fact_table,
        PageBreak(),
    ]
    story.extend(Converter(styles).blocks(parse_html(str(render_markdown(version.body)))))
    document.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()


def pdf_filename(version: PolicyVersion) -> str:
    from django.utils.text import slugify

    return f"{slugify(version.policy.title) or 'policy'}-v{version.number}.pdf"
