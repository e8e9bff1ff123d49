"""The engagements through the API: read-only here (they are created and shared on the pages).
Readers of the organization see every engagement; an auditor the ones shared with them, with
two-factor sign-in on."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, viewsets
from rest_framework.request import Request

from audits.api.serializers import AuditSerializer
from audits.models import Audit
from compliance import mfa
from compliance.api.base import OrganizationScopedMixin, PermittedObjectsFilter
from compliance.models import Role


@extend_schema_view(
    list=extend_schema(tags=["audits"], description="The engagements the requester may see."),
    retrieve=extend_schema(tags=["audits"]),
)
class AuditViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = AuditSerializer
    filter_backends = [PermittedObjectsFilter]
    capabilities = {"list": None, "retrieve": None}

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if self.membership.role == Role.AUDITOR and not mfa.is_enabled(self.actor):
            raise exceptions.PermissionDenied(
                "Auditors turn on two-factor sign-in before they see an engagement."
            )

    def get_queryset(self) -> QuerySet[Audit]:
        if self.schema_only:
            return Audit.objects.none()
        return (
            Audit.objects.filter(organization=self.organization)
            .select_related("adoption__framework")
            .prefetch_related("scope")
            .order_by("-created_at", "-pk")
        )
