"""Versions: the page, the editor with preview and diff, the workflow steps, the PDF."""

from __future__ import annotations

import io
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
)
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.formats import date_format
from django.views.generic import TemplateView

from compliance.permissions import Capability
from compliance.views.mixins import OrganizationMixin, apply_validation_error
from policies import selectors, services
from policies.dates import organization_today
from policies.forms import (
    ApproveForm,
    ReasonForm,
    RequiredReasonForm,
    VersionForm,
)
from policies.models import (
    Policy,
    PolicyVersion,
    VersionStatus,
)
from policies.pdf import pdf_filename, render_version_pdf
from policies.rendering import line_diff, render_markdown, word_count

# --- versions -----------------------------------------------------------------------------------


class VersionMixin(OrganizationMixin):
    def get_policy_version(self) -> tuple[Policy, PolicyVersion]:
        policy = selectors.policy_get(
            user=self.actor, organization=self.organization, pk=self.kwargs["pk"]
        )
        version = selectors.version_get(
            user=self.actor, policy=policy, number=self.kwargs["number"]
        )
        return policy, version

    def can_change(self, version: PolicyVersion) -> bool:
        return selectors.version_can_change(
            user=self.actor, version=version, organization=self.organization
        )

    def require_change(self, version: PolicyVersion) -> None:
        if not self.can_change(version):
            raise PermissionDenied("Only the policy's owner and admins can work on its versions.")

    def version_url(self, version: PolicyVersion, name: str = "policy_version_detail") -> str:
        return reverse(name, args=[self.organization.slug, version.policy_id, version.number])


class VersionCreateView(OrganizationMixin):
    """Start a new draft, copied from the latest version."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        policy = selectors.policy_get(
            user=self.actor, organization=self.organization, pk=kwargs["pk"]
        )
        if not selectors.policy_changeable_ids(
            user=self.actor, organization=self.organization, ids=[policy.pk]
        ):
            raise PermissionDenied("Only the policy's owner and admins can start a new version.")
        form = ReasonForm(request.POST)
        summary = form.cleaned_data["reason"] if form.is_valid() else ""
        try:
            version = services.policy_version_create(
                actor=self.actor, policy=policy, change_summary=summary
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("policy_detail", org=self.organization.slug, pk=policy.pk)
        messages.success(request, f"Version {version.number} started as a copy of the latest text.")
        return redirect(
            "policy_version_edit", org=self.organization.slug, pk=policy.pk, number=version.number
        )


class VersionDetailView(VersionMixin, TemplateView):
    nav = "policies"
    template_name = "policies/version_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        policy, version = self.get_policy_version()
        previous = selectors.previous_version(version)
        can_manage = self.can(Capability.MANAGE_POLICIES)
        can_change = self.can_change(version)
        context.update(
            policy=policy,
            version=version,
            previous=previous,
            body=render_markdown(version.body),
            words=word_count(version.body),
            diff=line_diff(previous.body, version.body) if previous else None,
            can_manage=can_manage,
            can_change=can_change,
            approve_form=ApproveForm(today=organization_today(self.organization)),
        )
        return context


class VersionEditView(VersionMixin, TemplateView):
    """Edit a draft's text, with a live preview and the changes against the previous version.
    Anything but a draft is refused by the service (approved versions are immutable)."""

    nav = "policies"
    template_name = "policies/version_form.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        policy, version = self.get_policy_version()
        self.require_change(version)
        if not version.is_editable:
            messages.error(
                request,
                f"Version {version.number} is {version.get_status_display().lower()} and cannot "
                "be edited. Start a new version to change the policy.",
            )
            return cast(HttpResponse, redirect(self.version_url(version)))
        return self.render_to_response(self.get_context_data(policy=policy, version=version))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        version: PolicyVersion = kwargs["version"]
        previous = selectors.previous_version(version)
        form = kwargs.get("form") or VersionForm(instance=version)
        text = form.data.get("body", version.body) if form.is_bound else version.body
        context.update(
            policy=kwargs["policy"],
            version=version,
            previous=previous,
            form=form,
            preview=render_markdown(text),
            words=word_count(text),
            diff=line_diff(previous.body, text) if previous else None,
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        policy, version = self.get_policy_version()
        self.require_change(version)
        form = VersionForm(request.POST, instance=version)
        if form.is_valid():
            try:
                services.policy_version_update(
                    actor=self.actor,
                    version=version,
                    body=form.cleaned_data["body"],
                    change_summary=form.cleaned_data["change_summary"],
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, f"Version {version.number} saved.")
                if "submit" in request.POST:
                    return cast(HttpResponse, redirect(self.version_url(version)))
                return cast(
                    HttpResponse, redirect(self.version_url(version, "policy_version_edit"))
                )
        stored = selectors.version_get(user=self.actor, policy=policy, number=version.number)
        return self.render_to_response(
            self.get_context_data(policy=policy, version=stored, form=form), status=400
        )


class VersionPreviewView(VersionMixin, TemplateView):
    """The rendered, sanitised Markdown of the text being typed (htmx)."""

    template_name = "policies/_preview.html"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        _, version = self.get_policy_version()
        self.require_change(version)
        text = request.POST.get("body", "")[:100_000]
        return self.render_to_response(
            {"preview": render_markdown(text), "words": word_count(text)}
        )


class VersionActionView(VersionMixin):
    """A workflow step on one version; subclasses call the service."""

    needs_change = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        _, version = self.get_policy_version()
        if self.needs_change:
            self.require_change(version)
        try:
            text = self.act(version)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, text)
        return redirect(self.version_url(version))

    def act(self, version: PolicyVersion) -> str:
        raise NotImplementedError


class VersionSubmitView(VersionActionView):
    def act(self, version: PolicyVersion) -> str:
        form = ReasonForm(self.request.POST)
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        services.policy_version_submit(actor=self.actor, version=version, reason=reason)
        return f"Version {version.number} submitted for review."


class VersionReturnView(VersionActionView):
    """Sending a version back is a review decision, like approving it: admins (a policy's owner
    does not review their own text; docs/permissions.md)."""

    capability = Capability.MANAGE_POLICIES
    needs_change = False

    def act(self, version: PolicyVersion) -> str:
        form = RequiredReasonForm(self.request.POST)
        if not form.is_valid():
            raise ValidationError("Say what needs to change.")
        services.policy_version_return(
            actor=self.actor, version=version, reason=form.cleaned_data["reason"]
        )
        return f"Version {version.number} is a draft again."


class VersionApproveView(VersionActionView):
    capability = Capability.MANAGE_POLICIES
    needs_change = False

    def act(self, version: PolicyVersion) -> str:
        form = ApproveForm(self.request.POST, today=organization_today(self.organization))
        if not form.is_valid():
            raise ValidationError(
                "Enter the effective date as YYYY-MM-DD."
                if "effective_date" in form.errors
                else " ".join(str(e) for errors in form.errors.values() for e in errors)
            )
        approved = services.policy_version_approve(
            actor=self.actor,
            version=version,
            effective_date=form.cleaned_data["effective_date"],
            reason=form.cleaned_data["reason"],
        )
        return (
            f"Version {approved.number} approved, effective "
            f"{date_format(approved.effective_date or '', 'j M Y')}. Send it for acknowledgement "
            "next."
        )


class VersionRetireView(VersionActionView):
    capability = Capability.MANAGE_POLICIES
    needs_change = False

    def act(self, version: PolicyVersion) -> str:
        form = RequiredReasonForm(self.request.POST)
        if not form.is_valid():
            raise ValidationError("Say why the policy is withdrawn.")
        services.policy_version_retire(
            actor=self.actor, version=version, reason=form.cleaned_data["reason"]
        )
        return f"Version {version.number} retired. The policy has no approved version now."


class VersionPdfView(VersionMixin):
    """The approved text as a PDF attachment (admins). Drafts and versions in review: 404."""

    capability = Capability.MANAGE_POLICIES

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        policy, version = self.get_policy_version()
        if version.status not in (VersionStatus.APPROVED, VersionStatus.RETIRED):
            raise Http404("Only approved versions can be exported.")
        version.policy = policy
        pdf = render_version_pdf(version)
        response = FileResponse(
            io.BytesIO(pdf),
            as_attachment=True,
            filename=pdf_filename(version),
            content_type="application/pdf",
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response
