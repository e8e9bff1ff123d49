"""The engagements: the list, creating and editing one (admins), its overview with its auditors,
sharing it and revoking access (admins), and its access log (admins)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import TemplateView

from audits import selectors, services
from audits.forms import AuditForm, InviteAuditorForm
from audits.models import AuditorAccess
from audits.views.base import AuditMixin, AuditorMixin
from compliance.permissions import Capability
from compliance.views.mixins import OrganizationMixin, apply_validation_error, paginate


class AuditListView(AuditorMixin, TemplateView):
    template_name = "audits/audit_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        audits = selectors.audit_list(user=self.actor, organization=self.organization)
        context.update(
            page=paginate(self.request, audits),
            can_manage=self.can(Capability.MANAGE_AUDITS),
            is_auditor=self.is_auditor,
        )
        return context


def _form_values(form: AuditForm) -> dict[str, Any]:
    data = dict(form.cleaned_data)
    data.pop("adoption", None)
    data.pop("scope", None)
    return data


class AuditCreateView(OrganizationMixin, TemplateView):
    capability = Capability.MANAGE_AUDITS
    nav = "audits"
    template_name = "audits/audit_form.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", AuditForm(organization=self.organization))
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = AuditForm(request.POST, organization=self.organization)
        if form.is_valid():
            try:
                audit = services.audit_create(
                    actor=self.actor,
                    organization=self.organization,
                    adoption=form.cleaned_data["adoption"],
                    scope=form.cleaned_data["scope"],
                    **_form_values(form),
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, f"Engagement “{audit.name}” created.")
                return redirect("audit_detail", self.organization.slug, audit.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class AuditEditView(AuditMixin, TemplateView):
    template_name = "audits/audit_form.html"

    def _check(self) -> None:
        if not selectors.audit_can_change(user=self.actor, audit=self.audit):
            raise PermissionDenied("Only admins change an engagement.")

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self._check()
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        audit = self.audit
        initial = {field: getattr(audit, field) for field in services.AUDIT_FIELDS} | {
            "adoption": audit.adoption_id,
            "scope": [c.pk for c in audit.scope.all()],
        }
        context.setdefault(
            "form", AuditForm(initial=initial, organization=self.organization, audit=audit)
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self._check()
        audit = self.audit
        form = AuditForm(
            request.POST,
            initial={"adoption": audit.adoption_id},
            organization=self.organization,
            audit=audit,
        )
        if form.is_valid():
            try:
                services.audit_update(
                    actor=self.actor,
                    audit=audit,
                    scope=form.cleaned_data["scope"],
                    **_form_values(form),
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, "Engagement saved.")
                return redirect("audit_detail", self.organization.slug, audit.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class AuditDetailView(AuditMixin, TemplateView):
    template_name = "audits/audit_detail.html"
    log_label = "overview"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        manage = self.can(Capability.MANAGE_AUDITS)
        context.update(
            counts=selectors.counts(user=self.actor, audit=self.audit),
            accesses=selectors.accesses(self.audit) if manage else [],
            can_manage=manage,
            invite_form=kwargs.get("invite_form") or InviteAuditorForm(),
            default_expiry=services.default_access_expiry(self.audit),
        )
        return context


class AuditorInviteView(AuditDetailView):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return redirect("audit_detail", self.organization.slug, self.audit.pk)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.can(Capability.MANAGE_AUDITS):
            raise PermissionDenied("Only admins share an engagement.")
        form = InviteAuditorForm(request.POST)
        if form.is_valid():
            try:
                access = services.auditor_invite(
                    actor=self.actor,
                    audit=self.audit,
                    email=form.cleaned_data["email"],
                    expires_on=form.cleaned_data["expires_on"],
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(
                    request,
                    f"Shared with {access.email}."
                    if access.user_id
                    else f"Invitation sent to {access.email}; access starts when they accept.",
                )
                return redirect("audit_detail", self.organization.slug, self.audit.pk)
        return self.render_to_response(self.get_context_data(invite_form=form), status=400)


class AuditorRevokeView(AuditMixin):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.can(Capability.MANAGE_AUDITS):
            raise PermissionDenied("Only admins revoke access.")
        access = get_object_or_404(AuditorAccess, pk=kwargs["pk"], audit=self.audit)
        try:
            services.auditor_revoke(actor=self.actor, access=access)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"Access of {access.email} revoked.")
        return redirect("audit_detail", self.organization.slug, self.audit.pk)


class AccessLogView(AuditMixin, TemplateView):
    template_name = "audits/access_log.html"
    tab = "access_log"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.can(Capability.MANAGE_AUDITS):
            raise PermissionDenied("Only admins read the access log.")
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["page"] = paginate(self.request, selectors.access_log(self.audit))
        return context
