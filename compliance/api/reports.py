"""The gap analysis downloads through the API: ``GET /api/organizations/<org>/reports/
gap-analysis.xlsx`` and ``.pdf``, with the pages' permissions (viewers, members and admins;
an auditor's role lacks the program: 403; a stranger: 404). ``framework`` (an adopted
framework's slug) picks one framework; one the organization did not adopt is a 400 naming it."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.views import APIView

from compliance.api.base import OrganizationScopedMixin
from compliance.reports.downloads import PDF, XLSX, gap_download
from compliance.reports.gap import framework_reports

FRAMEWORK = OpenApiParameter(
    "framework",
    str,
    description="Only this adopted framework (its slug, e.g. soc2); every adopted framework "
    "without it.",
    required=False,
)


class GapAnalysisDownload(OrganizationScopedMixin, APIView):
    kind = "xlsx"

    def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        slug = request.query_params.get("framework", "").strip()
        try:
            reports = framework_reports(
                user=request.user, organization=self.organization, slug=slug or None
            )
        except Http404:
            raise exceptions.ValidationError(
                {"framework": [f"{slug[:50]!r} is not a framework this organization adopted."]}
            ) from None
        return gap_download(self.organization, reports, self.kind)


class GapAnalysisXlsxView(GapAnalysisDownload):
    """The gap analysis as an XLSX workbook: a Summary sheet, then one sheet per section of each
    framework (requirements without controls, controls without owners or not implemented,
    evidence, tests, policies and people blocking readiness, vendor reviews overdue), every row
    with its owner, due date and a link into the app."""

    kind = "xlsx"

    @extend_schema(
        operation_id="reports_gap_analysis_xlsx",
        parameters=[FRAMEWORK],
        responses={(200, XLSX): OpenApiResponse(OpenApiTypes.BINARY, description="The workbook.")},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return super().get(request, *args, **kwargs)


class GapAnalysisPdfView(GapAnalysisDownload):
    """The gap analysis as a PDF: per framework a summary with readiness and the weekly trend
    chart, then each section's first 200 rows (the XLSX has them all)."""

    kind = "pdf"

    @extend_schema(
        operation_id="reports_gap_analysis_pdf",
        parameters=[FRAMEWORK],
        responses={(200, PDF): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF.")},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return super().get(request, *args, **kwargs)
