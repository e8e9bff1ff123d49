"""Files the demo uploads (a one-page PDF with a title and a few lines), made at seed time so no
binary lives in the repository."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas


def demo_pdf(title: str, lines: list[str]) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    canvas.setTitle(title)
    canvas.setFont("Helvetica-Bold", 18)
    canvas.drawString(72, 770, title)
    canvas.setFont("Helvetica", 11)
    y = 740
    for line in lines:
        canvas.drawString(72, y, line)
        y -= 18
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
