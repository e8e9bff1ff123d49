"""What the audits API views share: the engagement of the URL (hidden: 404), two-factor for
auditors as on the pages, and the access log of what auditors read through the API."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from audits import selectors
from audits.models import AccessAction, Audit
from audits.services import access_log_record
from compliance import mfa
from compliance.api.base import OrganizationScopedMixin
from compliance.models import Role


class AuditorApiMixin(OrganizationScopedMixin):
    """Auditors use the API with two-factor on; each successful read of theirs is logged (the
    engagement's access log when the URL names one)."""

    audit: Audit | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if self.membership.role == Role.AUDITOR and not mfa.is_enabled(self.actor):
            raise exceptions.PermissionDenied(
                "Auditors turn on two-factor sign-in before they see an engagement."
            )

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        membership = getattr(self, "membership", None)
        if (
            membership is not None
            and membership.role == Role.AUDITOR
            and request.method == "GET"
            and response.status_code < 400
        ):
            access_log_record(
                request=request,
                organization=self.organization,
                audit=self.audit,
                action=AccessAction.VIEW,
                object_type="api",
                object_repr=f"API: {request.path}"[:200],
            )
        return response


class EngagementMixin(AuditorApiMixin):
    """The engagement of the URL (``<audit>``; hidden: 404)."""

    audit: Audit

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not self.schema_only:
            self.audit = selectors.audit_get(
                user=self.actor, organization=self.organization, pk=kwargs.get("audit")
            )
