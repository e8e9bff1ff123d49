"""The gap analysis downloads, shared by the pages and the API: the file is written to a
temporary file on disk (never memory) and served from it as an attachment."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence

from django.http import FileResponse
from django.utils import timezone

from compliance.models import Organization
from compliance.reports.gap import FrameworkReport, report_filename
from compliance.reports.pdf import write_pdf
from compliance.reports.xlsx import write_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"


def gap_download(
    organization: Organization, reports: Sequence[FrameworkReport], kind: str
) -> FileResponse:
    """``kind`` is "xlsx" or "pdf". The temporary file is gone once the response is closed
    (it is unlinked at creation and closed by the response)."""
    generated = timezone.localtime()
    # Closed by the FileResponse once served (or below on failure): no context manager.
    out = tempfile.TemporaryFile(prefix="attest-gap-", suffix=f".{kind}")  # noqa: SIM115
    try:
        if kind == "xlsx":
            write_workbook(reports, out, generated=generated)
        else:
            write_pdf(reports, out, generated=generated)
        out.seek(0)
    except BaseException:
        out.close()
        raise
    response = FileResponse(
        out,
        as_attachment=True,
        filename=report_filename(organization, reports, kind),
        content_type=XLSX if kind == "xlsx" else PDF,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
