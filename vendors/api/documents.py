"""The API of vendor documents: a vendor's documents (upload as multipart), the exceptions noted
in a document's report and the CUECs it asks of us.

Program readers see them; vendor managers (admins) upload documents and add exceptions and
CUECs (others: 403). Auditors get 403, as on every vendor endpoint; another organization's
vendor or document is a 404.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from compliance.api.base import OrganizationScopedMixin, StrictFieldsMixin
from compliance.api.filters import DjangoFilterBackend, OrderingFilter
from compliance.filters import FilterSet
from compliance.permissions import Capability
from controls.models import Control
from people.completion import organization_today
from vendors import document_selectors as selectors
from vendors import documents as services
from vendors import selectors as vendor_selectors
from vendors.api.serializers import UserRefSerializer, user_ref
from vendors.document_views import document_file_response
from vendors.models import (
    AuditOpinion,
    DocumentType,
    ExceptionAssessment,
    ReportException,
    UserEntityControl,
    Vendor,
    VendorDocument,
)


class ValiditySerializer(serializers.Serializer):
    # A field named "label": DRF takes declared fields off the class, so it does not shadow
    # Field.label at runtime; only the type checker sees the clash.
    label = serializers.CharField(  # type: ignore[assignment]
        help_text="“Valid until 3 Mar 2027”, “Expires in 12 days”, …"
    )
    expired = serializers.BooleanField()
    valid_through = serializers.DateField(
        allow_null=True,
        help_text="The last day it speaks for the vendor: its valid-until date, else (SOC 2 "
        "Type II, bridge letter) from the period it covers; null: no expiry.",
    )


class VendorDocumentSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.SerializerMethodField()
    validity = serializers.SerializerMethodField()

    class Meta:
        model = VendorDocument
        fields = [
            "id", "vendor", "doc_type", "title", "opinion", "as_of", "period_start",
            "period_end", "issued_on", "valid_until", "validity", "original_name", "size",
            "content_type", "sha256", "uploaded_by", "uploaded_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(UserRefSerializer(allow_null=True))
    def get_uploaded_by(self, document: VendorDocument) -> dict[str, Any] | None:
        return user_ref(document.uploaded_by)

    @extend_schema_field(ValiditySerializer)
    def get_validity(self, document: VendorDocument) -> dict[str, Any]:
        shown = selectors.validity(document, self.context["today"])
        return {"label": shown.label, "expired": shown.is_expired, "valid_through": shown.until}


class VendorDocumentUploadSerializer(StrictFieldsMixin, serializers.Serializer):
    doc_type = serializers.ChoiceField(choices=DocumentType.choices)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    opinion = serializers.ChoiceField(
        choices=AuditOpinion.choices, required=False, allow_blank=True, default="",
        help_text="SOC 2 reports only (and required for them).",
    )  # fmt: skip
    as_of = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="SOC 2 Type I: required."
    )
    period_start = serializers.DateField(
        required=False, allow_null=True, default=None,
        help_text="SOC 2 Type II and bridge letters: required.",
    )  # fmt: skip
    period_end = serializers.DateField(required=False, allow_null=True, default=None)
    issued_on = serializers.DateField(required=False, allow_null=True, default=None)
    valid_until = serializers.DateField(required=False, allow_null=True, default=None)
    file = serializers.FileField(help_text="The document (multipart/form-data).")


class ReportExceptionSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    assessment = serializers.ChoiceField(
        choices=ExceptionAssessment.choices, default=ExceptionAssessment.NOT_ASSESSED
    )

    class Meta:
        model = ReportException
        fields = ["id", "description", "criterion", "assessment", "assessment_note", "created_at"]
        read_only_fields = ["id", "created_at"]


class ControlRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    ref_id = serializers.CharField()
    name = serializers.CharField()


class ControlsField(serializers.PrimaryKeyRelatedField):
    """Written as ids of controls of the URL's organization the requester can see."""

    default_error_messages = {
        "does_not_exist": "Control {pk_value} is not one of this organization's controls "
        "that you can see.",
    }

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        organization = self.context.get("organization")
        if request is None or organization is None:
            return Control.objects.none()
        return selectors.cuec_control_choices(user=request.user, organization=organization)


class CuecSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    controls = ControlsField(
        many=True, required=False, write_only=True,
        help_text="Ids of the controls of ours that do it; empty: flagged as not linked.",
    )  # fmt: skip
    linked_controls = serializers.SerializerMethodField()
    linked = serializers.SerializerMethodField()

    class Meta:
        model = UserEntityControl
        fields = ["id", "reference", "description", "controls", "linked_controls", "linked",
                  "created_at"]  # fmt: skip
        read_only_fields = ["id", "created_at"]

    @extend_schema_field(ControlRefSerializer(many=True))
    def get_linked_controls(self, cuec: UserEntityControl) -> list[dict[str, Any]]:
        return [{"id": c.pk, "ref_id": c.ref_id, "name": c.name} for c in cuec.controls.all()]

    @extend_schema_field(serializers.BooleanField())
    def get_linked(self, cuec: UserEntityControl) -> bool:
        """False: no control of ours does it yet (the UI flags it)."""
        return bool(cuec.controls.all())


def _raise_api(exc: ValidationError) -> None:
    detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
    raise serializers.ValidationError(detail) from exc


class DocumentFilterSet(FilterSet):
    doc_type = django_filters.ChoiceFilter(choices=DocumentType.choices)

    class Meta:
        model = VendorDocument
        fields = ["doc_type"]


VENDOR_ID = OpenApiParameter("vendor", int, OpenApiParameter.PATH, description="The vendor's id.")
DOCUMENT_ID = OpenApiParameter(
    "document", int, OpenApiParameter.PATH, description="The document's id."
)


class _VendorScoped(OrganizationScopedMixin):
    vendor: Vendor

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not self.schema_only:
            self.vendor = vendor_selectors.vendor_get(
                user=self.actor, organization=self.organization, pk=kwargs["vendor"]
            )

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if getattr(self, "organization", None) is not None:
            context["today"] = organization_today(self.organization)
        return context


@extend_schema_view(
    list=extend_schema(parameters=[VENDOR_ID]),
    retrieve=extend_schema(parameters=[VENDOR_ID]),
    create=extend_schema(
        parameters=[VENDOR_ID],
        request={"multipart/form-data": VendorDocumentUploadSerializer},
        responses={201: VendorDocumentSerializer},
        description="Upload a document (multipart/form-data). The dates it needs follow its "
        "type: a SOC 2 Type I report its ``as_of``, a Type II report and a bridge letter their "
        "period; SOC 2 reports their ``opinion``. Vendor managers only. Nothing is stored "
        "when a field is refused (400 naming it).",
    ),
    download=extend_schema(
        parameters=[VENDOR_ID],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file, as an attachment."
            )
        },
    ),
)
class VendorDocumentViewSet(
    _VendorScoped,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """A vendor's documents (SOC 2 reports, bridge letters, certificates, DPAs …), newest
    first, each with its validity in words. Documents are never replaced: a new version is a
    new document."""

    serializer_class = VendorDocumentSerializer
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = DocumentFilterSet
    ordering_fields = ["uploaded_at", "valid_until", "issued_on"]
    ordering = ["-uploaded_at", "-id"]
    # JSON is parsed too, so a JSON body is answered with the fields it lacks (``file``).
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    capabilities = {"create": Capability.MANAGE_VENDORS}

    def get_queryset(self) -> QuerySet[VendorDocument]:
        if self.schema_only:
            return VendorDocument.objects.none()
        return selectors.vendor_documents(user=self.actor, vendor=self.vendor)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = VendorDocumentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        try:
            document = services.vendor_document_upload(
                actor=self.actor, vendor=self.vendor, upload=data.pop("file"), **data
            )
        except ValidationError as exc:
            _raise_api(exc)
        fresh = self.get_queryset().get(pk=document.pk)
        return Response(self.get_serializer(fresh).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["get"])
    def download(self, request: Request, *args: Any, **kwargs: Any) -> FileResponse:
        """The document's file: an attachment, never sniffed."""
        return document_file_response(self.get_object())


class _DocumentScoped(_VendorScoped):
    document: VendorDocument

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not self.schema_only:
            self.document = selectors.vendor_document_get(
                user=self.actor, vendor=self.vendor, pk=kwargs["document"]
            )


@extend_schema_view(
    list=extend_schema(parameters=[VENDOR_ID, DOCUMENT_ID]),
    create=extend_schema(parameters=[VENDOR_ID, DOCUMENT_ID]),
)
class ReportExceptionViewSet(
    _DocumentScoped, mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """The exceptions the vendor's auditor noted in a document's report, with our assessment
    of each. Vendor managers add them."""

    serializer_class = ReportExceptionSerializer
    filter_backends: list[Any] = []
    capabilities = {"create": Capability.MANAGE_VENDORS}

    def get_queryset(self) -> QuerySet[ReportException]:
        if self.schema_only:
            return ReportException.objects.none()
        return selectors.report_exceptions(self.document)

    def perform_create(self, serializer: Any) -> None:
        try:
            serializer.instance = services.report_exception_add(
                actor=self.actor, document=self.document, **serializer.validated_data
            )
        except ValidationError as exc:
            _raise_api(exc)


@extend_schema_view(
    list=extend_schema(parameters=[VENDOR_ID, DOCUMENT_ID]),
    create=extend_schema(parameters=[VENDOR_ID, DOCUMENT_ID]),
)
class CuecViewSet(
    _DocumentScoped, mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """The complementary user entity controls (CUECs) a document asks of us, each with the
    controls of ours that do it (``linked: false`` when none does yet). Vendor managers add
    them."""

    serializer_class = CuecSerializer
    filter_backends: list[Any] = []
    capabilities = {"create": Capability.MANAGE_VENDORS}

    def get_queryset(self) -> QuerySet[UserEntityControl]:
        if self.schema_only:
            return UserEntityControl.objects.none()
        return selectors.document_cuecs(user=self.actor, document=self.document)

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        try:
            cuec = services.cuec_add(
                actor=self.actor, document=self.document, controls=data.pop("controls", []),
                **data,
            )  # fmt: skip
        except ValidationError as exc:
            _raise_api(exc)
        serializer.instance = self.get_queryset().get(pk=cuec.pk)
