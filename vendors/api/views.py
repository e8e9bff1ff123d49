from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import django_filters
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.db.models.functions import Lower
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from compliance.api.base import OrganizationScopedMixin, PermittedObjectsFilter
from compliance.api.filters import DjangoFilterBackend, OrderingFilter
from compliance.filters import FilterSet
from compliance.permissions import Capability
from people.completion import organization_today
from vendors import selectors, services
from vendors.api.serializers import (
    OffboardSerializer,
    VendorImportRequestSerializer,
    VendorImportResultSerializer,
    VendorReviewSerializer,
    VendorSerializer,
)
from vendors.import_services import vendors_import
from vendors.models import TIER_ORDER, ReviewOutcome, Vendor, VendorReview


class VendorApiFilterSet(selectors.VendorFilterSet):
    review_state = django_filters.ChoiceFilter(
        choices=list(selectors.REVIEW_FILTERS.items()),
        method="filter_review_state",
        label="Review state: attention (overdue, never reviewed or rejected), or one state",
    )

    class Meta(selectors.VendorFilterSet.Meta):
        fields = [*selectors.VendorFilterSet.Meta.fields, "review_state"]

    def filter_review_state(
        self, queryset: QuerySet[Vendor], name: str, value: str
    ) -> QuerySet[Vendor]:
        # Review states are computed per vendor (vendors.reviews), not by the database: the view
        # filters the rows once this validated the value.
        return queryset


class VendorOrdering(OrderingFilter):
    """``ordering`` by the public names in ``ordering_fields``; a tier sorts by severity
    (critical first), a name case-insensitively, and ties by name."""

    keys = {"name": "name_key", "risk_tier": "tier_rank"}

    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> list[str]:
        terms = super().get_ordering(request, queryset, view) or []
        ordering = []
        for term in terms:
            descending = term.startswith("-")
            key = self.keys.get(term.lstrip("-"), term.lstrip("-"))
            ordering.append(f"-{key}" if descending else key)
        return [*ordering, "name_key", "id"]


class VendorViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The vendor inventory, each vendor with where it stands with its due-diligence reviews.

    Program readers see it. Vendor managers (admins) add vendors, change any of their facts,
    offboard and reinstate them. A member who owns a vendor keeps its description, website,
    category, data access and location current; its name, tier, owner, cadence, onboarding date
    and subprocessor flag are the managers' (403 naming the fields). Vendors are never deleted:
    they are offboarded.
    """

    serializer_class = VendorSerializer
    filter_backends = [PermittedObjectsFilter, DjangoFilterBackend, VendorOrdering]
    filterset_class = VendorApiFilterSet
    ordering_fields = ["name", "risk_tier", "onboarded_on"]
    ordering = ["name"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    capabilities = {
        "create": Capability.MANAGE_VENDORS,
        "offboard": Capability.MANAGE_VENDORS,
        "reinstate": Capability.MANAGE_VENDORS,
        "import_csv": Capability.MANAGE_VENDORS,
    }

    def get_queryset(self) -> QuerySet[Vendor]:
        if self.schema_only:
            return Vendor.objects.none()
        tier_rank = Case(
            *[When(risk_tier=tier, then=Value(rank)) for rank, tier in enumerate(TIER_ORDER)],
            output_field=IntegerField(),
        )
        return (
            Vendor.objects.filter(organization=self.organization)
            .select_related("owner")
            .annotate(tier_rank=tier_rank, name_key=Lower("name"))
        )

    def status_context(self, vendors: Sequence[Vendor]) -> dict[str, Any]:
        """The serializer context with the vendors' review status: two queries for any number
        of vendors."""
        rows = selectors.with_status(vendors, organization_today(self.organization))
        context = self.get_serializer_context()
        context["statuses"] = {row.vendor.pk: row.status for row in rows}
        return context

    def respond(self, vendor: Vendor, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=vendor.pk)
        return Response(
            VendorSerializer(fresh, context=self.status_context([fresh])).data, status=code
        )

    @extend_schema(
        description="Vendors, by name unless ``ordering`` says otherwise (``risk_tier`` sorts "
        "critical first). ``status`` defaults to every vendor; ``review_state=attention`` "
        "lists those overdue, never reviewed or rejected."
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        review_state = request.query_params.get("review_state", "")
        if not review_state:
            vendors = cast(list[Vendor], self.paginate_queryset(queryset))
            serializer = VendorSerializer(vendors, many=True, context=self.status_context(vendors))
            return self.get_paginated_response(serializer.data)
        # The state is computed per vendor: compute it for every match (the same two queries),
        # keep the rows in that state, then page them.
        rows = selectors.filter_rows(
            selectors.with_status(list(queryset), organization_today(self.organization)),
            review_state,
        )
        page = cast(list[selectors.VendorRow], self.paginate_queryset(rows))
        context = self.get_serializer_context()
        context["statuses"] = {row.vendor.pk: row.status for row in page}
        data = VendorSerializer([row.vendor for row in page], many=True, context=context).data
        return self.get_paginated_response(data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.respond(self.get_object())

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        vendor = services.vendor_create(
            actor=self.actor, organization=self.organization, **serializer.validated_data
        )
        return self.respond(vendor, status.HTTP_201_CREATED)

    @extend_schema(
        responses={
            200: VendorSerializer,
            403: OpenApiResponse(
                description="You may not change this vendor, or a field you sent needs a vendor "
                "manager: ``detail`` says which, and each refused field is a key."
            ),
        },
        description="Change some of the vendor's facts. Its owner (a member) may change the "
        "description, website, category, data access and location; the other fields need a "
        "vendor manager (403 with ``detail`` and each refused field).",
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        vendor = self.get_object()
        self.require_change(vendor)
        serializer = self.get_serializer(vendor, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            updated = services.vendor_update(
                actor=self.actor,
                vendor=vendor,
                changes=cast(services.VendorChanges, dict(serializer.validated_data)),
            )
        except services.ManagerFieldsDenied as exc:
            message = str(exc)
            refused = {name: ["Only vendor managers change this."] for name in exc.fields}
            raise exceptions.PermissionDenied({"detail": message, **refused}) from exc
        return self.respond(updated)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Only PATCH reaches here (PUT is not offered): every change is partial.
        return self.partial_update(request, *args, **kwargs)

    @extend_schema(request=OffboardSerializer, responses={200: VendorSerializer})
    @action(detail=True, methods=["post"])
    def offboard(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The vendor no longer serves us: it leaves reviews, checks and the subprocessor list.
        Vendor managers only."""
        vendor = self.get_object()
        serializer = OffboardSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.vendor_offboard(actor=self.actor, vendor=vendor, **serializer.validated_data)
        return self.respond(vendor)

    @extend_schema(request=None, responses={200: VendorSerializer})
    @action(detail=True, methods=["post"])
    def reinstate(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """An offboarded vendor serves us again. Vendor managers only."""
        vendor = self.get_object()
        services.vendor_reinstate(actor=self.actor, vendor=vendor)
        return self.respond(vendor)

    @extend_schema(
        request={"multipart/form-data": VendorImportRequestSerializer},
        responses={
            201: VendorImportResultSerializer,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Nothing was imported: the import result with ``errors`` listing "
                "each problem by line and column (as in 201), or the request's own field "
                "errors (no ``file``, an unknown ``mode``).",
            ),
        },
        description="Import vendors from a CSV or XLSX file, each created as ``POST`` would "
        "create it: all or nothing (default), or only the valid rows. A file refused as a "
        "whole (not UTF-8, a missing ``name`` column, a formula, too many rows) imports "
        "nothing in either mode.",
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser],
    )
    def import_csv(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = VendorImportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        result = vendors_import(
            actor=self.actor,
            organization=self.organization,
            source=upload,
            filename=upload.name or "",
            mode=serializer.validated_data["mode"],
        )
        body = result.as_dict()
        if not result.imported:
            body["detail"] = (
                f"Nothing was imported: {len(result.errors)} problem(s) on "
                f"{len(result.bad_lines)} line(s)."
                if result.errors
                else "The file has no vendors below its header line."
            )
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return Response(body, status=status.HTTP_201_CREATED)


class ReviewFilterSet(FilterSet):
    outcome = django_filters.ChoiceFilter(choices=ReviewOutcome.choices)

    class Meta:
        model = VendorReview
        fields = ["outcome"]


VENDOR_ID = OpenApiParameter("vendor", int, OpenApiParameter.PATH, description="The vendor's id.")


@extend_schema_view(
    list=extend_schema(parameters=[VENDOR_ID]),
    create=extend_schema(parameters=[VENDOR_ID]),
    retrieve=extend_schema(parameters=[VENDOR_ID]),
)
class VendorReviewViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """One vendor's due-diligence reviews, latest first. Reviews are records: a correction is a
    new review, and the latest (by review date) counts. The vendor's owner and admins record
    them."""

    serializer_class = VendorReviewSerializer
    filter_backends = [PermittedObjectsFilter, DjangoFilterBackend, OrderingFilter]
    filterset_class = ReviewFilterSet
    ordering_fields = ["reviewed_on", "recorded_at"]
    ordering = ["-reviewed_on", "-id"]
    vendor: Vendor

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not self.schema_only:
            self.vendor = selectors.vendor_get(
                user=self.actor, organization=self.organization, pk=kwargs["vendor"]
            )

    def get_queryset(self) -> QuerySet[VendorReview]:
        if self.schema_only:
            return VendorReview.objects.none()
        return VendorReview.objects.filter(vendor=self.vendor).select_related("recorded_by")

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if getattr(self, "organization", None) is not None:
            context["evidence_choices"] = selectors.evidence_choices(
                user=self.actor, organization=self.organization
            )
        return context

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Record a review of the vendor; its next review falls due a cadence later."""
        self.require_change(self.vendor)
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer: VendorReviewSerializer) -> None:  # type: ignore[override]
        data = serializer.validated_data
        serializer.instance = services.vendor_review_record(
            actor=self.actor,
            vendor=self.vendor,
            reviewed_on=data["reviewed_on"],
            outcome=data["outcome"],
            summary=data["summary"],
            evidence=data.get("evidence"),
            today=organization_today(self.organization),
        )
