"""What every engagement page shares: the engagement of the URL (a hidden one is a 404), its
tabs, the two-factor rule for auditors, and the access log of what auditors open."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse

from audits import selectors
from audits.models import AccessAction, Audit
from audits.services import access_log_record
from audits.tabs import TABS
from compliance import mfa
from compliance.models import Role
from compliance.permissions import active_memberships
from compliance.views.mixins import OrganizationMixin


class AuditorMixin(OrganizationMixin):
    """Organization pages auditors may open: no capability, two-factor sign-in required of
    auditors (before they see anything)."""

    capability = None
    nav = "audits"

    @property
    def is_auditor(self) -> bool:
        return self.membership.role == Role.AUDITOR

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if (
            request.user.is_authenticated
            and not mfa.is_enabled(request.user)
            and any(
                m.role == Role.AUDITOR and m.organization.slug == kwargs.get("org")
                for m in active_memberships(request.user).values()
            )
        ):
            messages.warning(
                request, "Auditors turn on two-factor sign-in before they see an engagement."
            )
            return redirect("two_factor")
        return super().dispatch(request, *args, **kwargs)


class AuditMixin(AuditorMixin):
    """An engagement's page. Auditors' visits are logged (who, what, when, from where)."""

    tab = "overview"
    log_label = ""  # what the access log calls this page

    @cached_property
    def audit(self) -> Audit:
        return selectors.audit_get(
            user=self.actor, organization=self.organization, pk=self.kwargs["audit"]
        )

    def log_view(self) -> None:
        """An auditor's visit of this page, in the engagement's access log."""
        if self.is_auditor and self.request.method == "GET":
            access_log_record(
                request=self.request,
                organization=self.organization,
                audit=self.audit,
                action=AccessAction.VIEW,
                obj=self.audit,
                object_repr=f"{self.audit.name}: {self.log_label or self.tab}",
            )

    def tabs(self) -> list[dict[str, Any]]:
        org = self.organization.slug
        return [
            {
                "key": t.key,
                "label": t.label,
                "url": reverse(t.url_name, args=[org, self.audit.pk]),
                "active": t.key == self.tab,
            }
            for t in TABS
            if t.visible(self.audit, self.membership)
        ]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        self.log_view()
        context.update(
            audit=self.audit,
            tabs=self.tabs(),
            tab=self.tab,
            is_auditor=self.is_auditor,
            can_change_audit=selectors.audit_can_change(user=self.actor, audit=self.audit),
        )
        return context
