"""What an engagement shows, read-only and within its scope and window: the in-scope
requirements and their controls, the evidence, the automated test runs, the policy versions in
force with their acknowledgements, the people and vendors. The same pages serve the auditors and
the organization's own readers (who see what the auditors see)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.views.generic import TemplateView

from audits import selectors
from audits.models import AccessAction
from audits.services import access_log_record
from audits.views.base import AuditMixin
from compliance.views.mixins import capped, paginate
from evidence.services import revision_download_record


class ControlsView(AuditMixin, TemplateView):
    template_name = "audits/controls.html"
    tab = "controls"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        page = paginate(self.request, selectors.in_scope_requirements(self.audit), per_page=25)
        visible = set(
            selectors.controls(user=self.actor, audit=self.audit)
            .filter(mappings__requirement__in=[r.pk for r in page.object_list])
            .values_list("pk", flat=True)
        )
        rows = []
        for requirement in page.object_list:
            controls = sorted(
                (
                    m.control
                    for m in requirement.mappings.all()
                    if m.control.pk in visible and m.control.archived_at is None
                ),
                key=lambda c: c.ref_id,
            )
            rows.append((requirement, controls))
        context.update(page=page, rows=rows, as_of=self.type_1_states())
        return context

    def type_1_states(self) -> dict[int, Any] | None:
        """For a Type I engagement, each control as it stood at the end of its date (readiness
        as of then, the one definition; up to now while the date is ahead): status and
        blockers. A fixed number of queries for any number of controls."""
        from compliance.readiness import readiness_as_of
        from compliance.snapshots import week_end

        if not self.audit.is_type_1 or self.audit.as_of is None:
            return None
        end_of_day = week_end(self.organization, self.audit.as_of - dt.timedelta(days=6))
        at = min(end_of_day, timezone.now())
        return readiness_as_of(organization=self.organization, at=at).controls


class EvidenceView(AuditMixin, TemplateView):
    template_name = "audits/evidence.html"
    tab = "evidence"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        page = paginate(self.request, selectors.evidence(user=self.actor, audit=self.audit))
        items = list(page.object_list)
        revisions = selectors.revisions(user=self.actor, audit=self.audit, items=items)
        rows = []
        for item in items:
            shown = revisions.get(item.pk, [])
            rows.append((item, shown, shown[0].in_window - len(shown) if shown else 0))
        context.update(page=page, rows=rows)
        return context


class EvidenceDownloadView(AuditMixin):
    """A file of the engagement's evidence: logged in the access log and the audit trail."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        from evidence.views import EvidenceFileMissing, file_response

        revision = selectors.revision_get(user=self.actor, audit=self.audit, pk=kwargs["pk"])
        if not revision.storage_key:
            from django.http import Http404

            raise Http404("This revision is a link or a note, not a file.")
        try:
            response = file_response(revision)
        except EvidenceFileMissing:
            context = {"organization": self.organization, "revision": revision}
            return render(request, "evidence/file_missing.html", context, status=404)
        access_log_record(
            request=request,
            organization=self.organization,
            audit=self.audit,
            action=AccessAction.DOWNLOAD,
            obj=revision,
            object_repr=f"{revision.item.title} r{revision.number} ({revision.original_name})",
        )
        revision_download_record(
            actor=self.actor, revision=revision, via=f"audit engagement {self.audit.pk}"
        )
        return response


class TestRunsView(AuditMixin, TemplateView):
    template_name = "audits/tests.html"
    tab = "tests"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["page"] = paginate(
            self.request, selectors.test_runs(user=self.actor, audit=self.audit)
        )
        return context


class PoliciesView(AuditMixin, TemplateView):
    template_name = "audits/policies.html"
    tab = "policies"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["page"] = paginate(
            self.request, selectors.policy_versions(user=self.actor, audit=self.audit)
        )
        return context


VENDORS_SHOWN = 50


class PeopleView(AuditMixin, TemplateView):
    template_name = "audits/people.html"
    tab = "people"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            page=paginate(self.request, selectors.people(user=self.actor, audit=self.audit)),
            # The page's ``page`` parameter pages the people; vendors and reviews are capped.
            vendors=capped(selectors.vendors(user=self.actor, audit=self.audit), VENDORS_SHOWN),
            reviews=capped(
                selectors.vendor_reviews(user=self.actor, audit=self.audit), VENDORS_SHOWN
            ),
        )
        return context
