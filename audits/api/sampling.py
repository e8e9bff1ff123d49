"""Populations and samples of an engagement through the API. Readers of the organization and
the engagement's auditors list them; only the engagement's auditors create them (403 for
everyone else). Errors name the field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from audits import selectors
from audits.api.base import EngagementMixin
from audits.models import Audit, Population, PopulationItem, PopulationKind, Sample
from audits.sampling import selectors as sampling
from audits.sampling import services
from compliance.api.base import StrictFieldsMixin


class PopulationSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=PopulationKind.choices)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    control = serializers.IntegerField(
        source="control_id", required=False, allow_null=True, help_text="Id of a control in scope."
    )
    created_by = serializers.SerializerMethodField()
    sample_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Population
        fields = [
            "id", "name", "kind", "kind_label", "control", "created_by", "frozen_at",
            "item_count", "sample_count",
        ]  # fmt: skip
        read_only_fields = ["id", "created_by", "frozen_at", "item_count"]

    def get_created_by(self, population: Population) -> str | None:
        return population.created_by.email if population.created_by else None


class PopulationItemSerializer(serializers.Serializer):
    """One frozen item (rendered by ``item_json``; documents its fields)."""

    id = serializers.IntegerField()
    position = serializers.IntegerField()
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named "label"
    occurred_on = serializers.DateField()
    evidence = serializers.IntegerField(allow_null=True)
    evidence_title = serializers.CharField(allow_null=True)
    download_url = serializers.CharField(
        allow_null=True, help_text="The engagement's logged download of its file, if any."
    )


class SampleSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    size = serializers.IntegerField(required=False, allow_null=True)
    seed = serializers.IntegerField(required=False, allow_null=True)
    created_by = serializers.SerializerMethodField()
    items = serializers.SerializerMethodField()

    class Meta:
        model = Sample
        fields = ["id", "population", "size", "seed", "created_by", "created_at", "items"]
        read_only_fields = ["id", "population", "created_by", "created_at", "items"]

    def get_created_by(self, sample: Sample) -> str | None:
        return sample.created_by.email if sample.created_by else None

    @extend_schema_field(PopulationItemSerializer(many=True))
    def get_items(self, sample: Sample) -> list[dict[str, Any]]:
        drawn = self.context.get("drawn", {}).get(sample.pk, [])
        return [item_json(item, self.context) for item in drawn]


def item_json(item: PopulationItem, context: Mapping[str, Any]) -> dict[str, Any]:
    files: set[int] = context.get("files", set())
    audit: Audit | None = context.get("audit")
    download = None
    if audit is not None and item.evidence_revision_id in files:
        download = reverse(
            "audit_evidence_download",
            args=[audit.organization.slug, audit.pk, item.evidence_revision_id],
        )
    return {
        "id": item.pk,
        "position": item.position,
        "object_type": item.object_type,
        "object_id": item.object_id,
        "label": item.label,
        "occurred_on": item.occurred_on,
        "evidence": item.evidence_id,
        "evidence_title": item.evidence.title if item.evidence else None,
        "download_url": download,
    }


class SamplingMixin(EngagementMixin):
    capabilities = {"list": None, "retrieve": None, "create": None, "items": None}

    def require_sampler(self) -> None:
        if not services.may_sample(self.actor, self.audit):
            raise exceptions.PermissionDenied(
                "Only the engagement's auditors create populations and samples."
            )


@extend_schema_view(
    list=extend_schema(tags=["audits"], description="The engagement's populations."),
    retrieve=extend_schema(tags=["audits"]),
    create=extend_schema(
        tags=["audits"],
        description="Freeze a population from the engagement's window (its auditors only).",
    ),
)
class PopulationViewSet(
    SamplingMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = PopulationSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Population]:
        if self.schema_only:
            return Population.objects.none()
        return sampling.population_list(user=self.actor, audit=self.audit)

    def get_object(self) -> Population:
        return sampling.population_get(user=self.actor, audit=self.audit, pk=self.kwargs["pk"])

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.require_sampler()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        control = None
        if data.get("control_id") is not None:
            control = (
                selectors.controls(user=self.actor, audit=self.audit)
                .filter(pk=data["control_id"])
                .first()
            )
            if control is None:
                raise ValidationError({"control": "Choose a control of this engagement's scope."})
        population = services.population_create(
            actor=self.actor,
            audit=self.audit,
            name=data["name"],
            kind=data["kind"],
            control=control,
        )
        population = sampling.population_get(user=self.actor, audit=self.audit, pk=population.pk)
        return Response(self.get_serializer(population).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(tags=["audits"], description="The frozen items of one population."),
)
class PopulationItemViewSet(SamplingMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The frozen items of one population, in order."""

    filter_backends: list[Any] = []
    serializer_class = PopulationItemSerializer

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        population = sampling.population_get(
            user=self.actor, audit=self.audit, pk=kwargs["population"]
        )
        page = self.paginate_queryset(
            sampling.population_items(population).select_related("evidence")
        )
        items = list(page or [])
        context = {
            "audit": self.audit,
            "files": sampling.downloadable(user=self.actor, audit=self.audit, items=items),
        }
        return self.get_paginated_response([item_json(i, context) for i in items])


@extend_schema_view(
    list=extend_schema(tags=["audits"], description="The samples drawn from a population."),
    retrieve=extend_schema(tags=["audits"]),
    create=extend_schema(
        tags=["audits"],
        description="Draw a sample (its auditors only). Without a size, the suggested one; "
        "without a seed, a new random one (recorded: the same seed draws the same items).",
    ),
)
class SampleViewSet(
    SamplingMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = SampleSerializer
    filter_backends: list[Any] = []
    population: Population

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not self.schema_only:
            self.population = sampling.population_get(
                user=self.actor, audit=self.audit, pk=kwargs["population"]
            )

    def get_queryset(self) -> QuerySet[Sample]:
        if self.schema_only:
            return Sample.objects.none()
        return sampling.sample_list(user=self.actor, population=self.population)

    def get_object(self) -> Sample:
        return sampling.sample_get(
            user=self.actor, population=self.population, pk=self.kwargs["pk"]
        )

    def _context(self, samples: list[Sample]) -> dict[str, Any]:
        drawn = sampling.samples_with_items(samples)
        items = [item for rows in drawn.values() for item in rows]
        return {
            **self.get_serializer_context(),
            "audit": self.audit,
            "drawn": drawn,
            "files": sampling.downloadable(user=self.actor, audit=self.audit, items=items),
        }

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = list(self.paginate_queryset(self.get_queryset()) or [])
        data = SampleSerializer(page, many=True, context=self._context(page)).data
        return self.get_paginated_response(data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        sample = self.get_object()
        return Response(SampleSerializer(sample, context=self._context([sample])).data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.require_sampler()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        sample = services.sample_draw(
            actor=self.actor, population=self.population, **serializer.validated_data
        )
        sample = self.get_queryset().get(pk=sample.pk)
        return Response(
            SampleSerializer(sample, context=self._context([sample])).data,
            status=status.HTTP_201_CREATED,
        )
