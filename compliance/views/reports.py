"""The gap analysis report: ``/o/<org>/reports/gap-analysis/`` on screen (each section capped,
with its total), and the same report as ``gap-analysis.xlsx`` (every row) and ``.pdf`` (each
section capped). ``?framework=<slug>`` picks one adopted framework (default: all of them); one
the organization did not adopt is a 404 saying so. Readers of the program read it (viewers,
members, admins); auditors' roles lack the program (403)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.http import Http404, HttpRequest, HttpResponseBase
from django.views.generic import TemplateView

from compliance.reports.downloads import gap_download
from compliance.reports.gap import FrameworkReport, capped_section, framework_reports
from compliance.selectors import adoptions_of
from compliance.views.mixins import OrganizationMixin

# How many rows of each section the page shows (the downloads have the rest).
PAGE_SECTION_LIMIT = 50


class GapAnalysisMixin(OrganizationMixin):
    nav = "weekly"

    @cached_property
    def framework_slug(self) -> str:
        return self.request.GET.get("framework", "").strip()[:60]

    @cached_property
    def reports(self) -> list[FrameworkReport]:
        return framework_reports(
            user=self.actor, organization=self.organization, slug=self.framework_slug or None
        )


class GapAnalysisView(GapAnalysisMixin, TemplateView):
    """The page: a framework the organization did not adopt is explained, and every adopted
    framework shown instead (the downloads answer 404 for it)."""

    template_name = "reports/gap_analysis.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        problem = ""
        try:
            reports = self.reports
        except Http404 as exc:
            problem = f"{exc} Every adopted framework is shown."
            self.framework_slug = ""
            reports = framework_reports(user=self.actor, organization=self.organization)
        context.update(
            adoptions=adoptions_of(self.organization),
            chosen=self.framework_slug,
            limit=PAGE_SECTION_LIMIT,
            frameworks=[
                {
                    "report": report,
                    "sections": [
                        capped_section(report, section, PAGE_SECTION_LIMIT)
                        for section in report.sections
                    ],
                }
                for report in reports
            ],
            query=f"?framework={self.framework_slug}" if self.framework_slug else "",
            framework_problem=problem,
        )
        return context


class GapAnalysisDownloadView(GapAnalysisMixin):
    kind = "xlsx"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return gap_download(self.organization, self.reports, self.kind)
