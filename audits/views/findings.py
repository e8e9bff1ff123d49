"""An engagement's findings (exceptions): the list, raising one (auditors), editing it (the
auditor who raised it), management's response (admins) and closing it (auditors)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.generic import TemplateView

from audits import pbc_selectors, pbc_services, selectors
from audits.models import AuditFinding, FindingStatus
from audits.pbc_forms import FindingForm, ResponseForm
from audits.tabs import Tab, register_tab
from audits.views.base import AuditMixin
from compliance.views.mixins import apply_validation_error, paginate

register_tab(Tab("findings", "Findings", "audit_findings", 70))


class FindingListView(AuditMixin, TemplateView):
    template_name = "audits/findings.html"
    tab = "findings"
    log_label = "findings"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            page=paginate(
                self.request, pbc_selectors.finding_list(user=self.actor, audit=self.audit), 25
            ),
            may_raise=pbc_services.is_engagement_auditor(self.actor, self.audit),
        )
        return context


class FindingFormMixin(AuditMixin):
    def finding_form(self, data: Any = None, **kwargs: Any) -> FindingForm:
        controls = selectors.controls(user=self.actor, audit=self.audit).order_by("ref_id")
        return FindingForm(data, controls=controls, **kwargs)


class FindingCreateView(FindingFormMixin, TemplateView):
    template_name = "audits/finding_form.html"
    tab = "findings"
    log_label = "new finding"

    def check(self) -> None:
        if not pbc_services.is_engagement_auditor(self.actor, self.audit):
            raise PermissionDenied("Only the engagement's auditors raise findings.")

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.check()
        return self.render_to_response(self.get_context_data(form=self.finding_form()))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.check()
        form = self.finding_form(request.POST)
        if form.is_valid():
            try:
                finding = pbc_services.finding_create(
                    actor=self.actor,
                    audit=self.audit,
                    title=form.cleaned_data["title"],
                    severity=form.cleaned_data["severity"],
                    description=form.cleaned_data["description"],
                    controls=list(form.cleaned_data["controls"]),
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, f"{finding.label} raised.")
                return redirect(
                    "audit_finding_detail", self.organization.slug, self.audit.pk, finding.pk
                )
        return self.render_to_response(self.get_context_data(form=form), status=400)


class FindingDetailView(FindingFormMixin, TemplateView):
    template_name = "audits/finding_detail.html"
    tab = "findings"

    @property
    def log_label(self) -> str:  # type: ignore[override]
        return self.finding.label

    @property
    def finding(self) -> AuditFinding:
        if not hasattr(self, "_finding"):
            self._finding = pbc_selectors.finding_get(
                user=self.actor, audit=self.audit, pk=self.kwargs["pk"]
            )
        return self._finding

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        finding = self.finding
        can_edit = pbc_services.may_edit_finding(self.actor, finding)
        can_respond = (
            pbc_services.is_audit_manager(self.actor, self.audit)
            and finding.status != FindingStatus.CLOSED
        )
        if can_edit:
            context.setdefault(
                "form",
                self.finding_form(
                    initial={
                        "title": finding.title,
                        "severity": finding.severity,
                        "description": finding.description,
                        "controls": [c.pk for c in finding.controls.all()],
                    }
                ),
            )
        if can_respond:
            context.setdefault(
                "response_form",
                ResponseForm(initial={"management_response": finding.management_response}),
            )
        context.update(
            finding=finding,
            can_edit=can_edit,
            can_respond=can_respond,
            can_close=pbc_services.is_engagement_auditor(self.actor, self.audit)
            and finding.status != FindingStatus.CLOSED,
        )
        return context


class FindingActionView(FindingDetailView):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return redirect("audit_finding_detail", self.organization.slug, self.audit.pk, kwargs["pk"])

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        action, finding = kwargs["action"], self.finding
        back = redirect("audit_finding_detail", self.organization.slug, self.audit.pk, finding.pk)
        if action == "edit":
            if not pbc_services.may_edit_finding(self.actor, finding):
                raise PermissionDenied("Only the auditor who raised it edits a finding.")
            form = self.finding_form(request.POST)
            if form.is_valid():
                try:
                    pbc_services.finding_update(
                        actor=self.actor,
                        finding=finding,
                        title=form.cleaned_data["title"],
                        severity=form.cleaned_data["severity"],
                        description=form.cleaned_data["description"],
                        controls=list(form.cleaned_data["controls"]),
                    )
                except ValidationError as exc:
                    apply_validation_error(form, exc)
                else:
                    messages.success(request, f"{finding.label} saved.")
                    return back
            return self.render_to_response(self.get_context_data(form=form), status=400)
        if action == "respond":
            if not pbc_services.is_audit_manager(self.actor, self.audit):
                raise PermissionDenied("Only admins write management's response.")
            response_form = ResponseForm(request.POST)
            if response_form.is_valid():
                try:
                    pbc_services.finding_respond(
                        actor=self.actor,
                        finding=finding,
                        response=response_form.cleaned_data["management_response"],
                    )
                except ValidationError as exc:
                    apply_validation_error(response_form, exc)
                else:
                    messages.success(request, "Management's response saved.")
                    return back
            return self.render_to_response(
                self.get_context_data(response_form=response_form), status=400
            )
        if action == "close":
            try:
                pbc_services.finding_close(actor=self.actor, finding=finding)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, f"{finding.label} closed.")
            return back
        raise Http404("No such action.")
