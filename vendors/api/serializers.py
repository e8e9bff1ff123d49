from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from compliance.api.base import StrictFieldsMixin
from compliance.models import User
from compliance.tabular import MAX_BYTES
from evidence.models import EvidenceItem
from people.api.serializers import RowErrorSerializer
from vendors import selectors
from vendors.importer import ImportMode
from vendors.models import Category, DataAccess, ReviewOutcome, RiskTier, Vendor, VendorReview
from vendors.reviews import ReviewState, ReviewStatus
from vendors.services import MAX_CADENCE_MONTHS


class UserRefSerializer(serializers.Serializer):
    """A user as a vendor or a review shows them (its owner, who recorded it)."""

    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField(source="display_name", help_text="Full name, else the email.")


def user_ref(user: User | None) -> dict[str, Any] | None:
    return None if user is None else dict(UserRefSerializer(user).data)


class OwnerField(serializers.PrimaryKeyRelatedField):
    """Written as a user id (an admin or member of the URL's organization), read as
    ``{id, email, name}``."""

    def get_queryset(self) -> Any:
        organization = self.context.get("organization")
        return selectors.owner_choices(organization) if organization else User.objects.none()

    def use_pk_only_optimization(self) -> bool:
        return False  # the representation needs the user, which the selectors join

    def to_representation(self, value: Any) -> Any:
        return user_ref(value)

    def get_choices(self, cutoff: int | None = None) -> dict[Any, str]:
        # The browsable API's form keys its options by id (an object cannot be a key).
        queryset = self.get_queryset()
        if cutoff is not None:
            queryset = queryset[:cutoff]
        return {user.pk: self.display_value(user) for user in queryset}


class OwnerFieldSchema(OpenApiSerializerFieldExtension):
    """The owner is an id in requests and an object in responses."""

    target_class = OwnerField

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> Any:
        if direction == "request":
            return {"type": "integer", "nullable": True}
        component = auto_schema.resolve_serializer(UserRefSerializer, direction)
        return {"allOf": [component.ref], "nullable": True}


class ReviewStatusSerializer(serializers.Serializer):
    """Where a vendor stands with its due-diligence reviews (see vendors.reviews)."""

    state = serializers.ChoiceField(
        choices=[(s.value, s.label) for s in ReviewState],
        help_text="overdue, never (not reviewed although due), rejected (active although its "
        "latest review rejected it), due_soon (within 30 days), current, offboarded.",
    )
    due = serializers.DateField(
        allow_null=True, help_text="When the next review is due (null: no further review needed)."
    )
    last_reviewed_on = serializers.DateField(allow_null=True)
    last_outcome = serializers.ChoiceField(choices=ReviewOutcome.choices, allow_null=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        # ``label`` would shadow Field.label as a declared field.
        fields = super().get_fields()
        label = serializers.CharField(help_text="The state in words, e.g. Review overdue.")
        return {"state": fields.pop("state"), "label": label, **fields}


def review_status_data(status: ReviewStatus) -> dict[str, Any]:
    latest = status.latest
    return {
        "state": status.state.value,
        "label": status.label,
        "due": status.due,
        "last_reviewed_on": latest.reviewed_on if latest else None,
        "last_outcome": latest.outcome if latest else None,
    }


class VendorSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A vendor of the inventory. Unknown and read-only fields are refused (400)."""

    category = serializers.ChoiceField(
        choices=Category.choices, required=False, default=Category.SOFTWARE
    )
    risk_tier = serializers.ChoiceField(
        choices=RiskTier.choices,
        required=False,
        default=RiskTier.MEDIUM,
        help_text="Sets the review cadence unless review_every_months is given. Vendor managers "
        "(admins) only.",
    )
    data_access = serializers.ListField(
        child=serializers.ChoiceField(choices=DataAccess.choices),
        required=False,
        default=list,
        help_text="What of ours the vendor stores, processes or can reach.",
    )
    is_subprocessor = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Processes customer personal data on our behalf. Vendor managers only.",
    )
    owner = OwnerField(
        required=False,
        allow_null=True,
        help_text="Who manages the relationship and its reviews: an admin or member (write the "
        "user id). Vendor managers only.",
    )
    review_every_months = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=MAX_CADENCE_MONTHS,
        help_text="Months between reviews; null uses the tier's cadence, 0 means reviewed once "
        "before onboarding. Vendor managers only.",
    )
    cadence_months = serializers.IntegerField(
        read_only=True, help_text="The cadence in force: review_every_months, else the tier's."
    )
    review = serializers.SerializerMethodField(help_text="Where the vendor stands with reviews.")

    class Meta:
        model = Vendor
        fields = [
            "id", "name", "website", "description", "category", "risk_tier", "data_access",
            "is_subprocessor", "location", "owner", "status", "onboarded_on", "offboarded_on",
            "review_every_months", "cadence_months", "review",
        ]  # fmt: skip
        read_only_fields = ["id", "status", "offboarded_on", "cadence_months", "review"]
        extra_kwargs = {"onboarded_on": {"help_text": "When the vendor started to serve us."}}
        # The service reports a duplicate name (case-insensitive) with the field.
        validators: list[Any] = []

    @extend_schema_field(ReviewStatusSerializer)
    def get_review(self, vendor: Vendor) -> dict[str, Any] | None:
        statuses: dict[int, ReviewStatus] = self.context.get("statuses", {})
        status = statuses.get(vendor.pk)
        return review_status_data(status) if status else None


class OffboardSerializer(StrictFieldsMixin, serializers.Serializer):
    """Why and when the vendor stopped serving us."""

    offboarded_on = serializers.DateField(help_text="The vendor's last day of service.")
    reason = serializers.CharField(
        max_length=2000,
        help_text="Why (contract ended, replaced by…, data deleted on…); kept in the audit trail.",
    )


class EvidenceField(serializers.PrimaryKeyRelatedField):
    """An evidence item id of the URL's organization that the requester can see."""

    def get_queryset(self) -> Any:
        choices = self.context.get("evidence_choices")
        return choices if choices is not None else EvidenceItem.objects.none()


class VendorReviewSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """One due-diligence review of a vendor. Reviews are never changed: record a new one."""

    outcome = serializers.ChoiceField(choices=ReviewOutcome.choices)
    summary = serializers.CharField(
        max_length=5000,
        help_text="What was reviewed (SOC 2 report, questionnaire, DPA), exceptions found, and "
        "the complementary controls we operate.",
    )
    evidence = EvidenceField(
        required=False, allow_null=True, help_text="Id of the review memo or report, if kept."
    )
    recorded_by = serializers.SerializerMethodField()

    class Meta:
        model = VendorReview
        fields = [
            "id", "vendor", "reviewed_on", "outcome", "summary", "evidence", "recorded_by",
            "recorded_at",
        ]  # fmt: skip
        read_only_fields = ["id", "vendor", "recorded_by", "recorded_at"]
        extra_kwargs = {"reviewed_on": {"help_text": "When the review was done (not in future)."}}

    @extend_schema_field(UserRefSerializer(allow_null=True))
    def get_recorded_by(self, review: VendorReview) -> dict[str, Any] | None:
        return user_ref(review.recorded_by)


class VendorImportRequestSerializer(StrictFieldsMixin, serializers.Serializer):
    file = serializers.FileField(
        help_text="The vendors as UTF-8 CSV or an .xlsx workbook (its first sheet), with a "
        "header line naming the columns (``name`` required)."
    )
    mode = serializers.ChoiceField(
        choices=[(m.value, m.label) for m in ImportMode],
        default=ImportMode.ALL_OR_NOTHING.value,
        help_text="all_or_nothing (default): import nothing if any row is bad. valid_only: "
        "import the good rows and report the bad ones.",
    )

    def validate_file(self, upload: Any) -> Any:
        if upload.size > MAX_BYTES:
            raise serializers.ValidationError(
                f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it."
            )
        return upload


class VendorImportResultSerializer(serializers.Serializer):
    detail = serializers.CharField(required=False, help_text="Why nothing was imported.")
    mode = serializers.CharField()
    rows = serializers.IntegerField(help_text="Data rows read.")
    created = serializers.IntegerField(help_text="Vendors created.")
    skipped_lines = serializers.ListField(
        child=serializers.IntegerField(), help_text="Lines with errors, when some were imported."
    )
    warnings = serializers.ListField(child=serializers.CharField())

    def get_fields(self) -> dict[str, serializers.Field]:
        # ``errors`` would shadow Serializer.errors as a declared field.
        fields = super().get_fields()
        fields["errors"] = RowErrorSerializer(
            many=True, help_text="Each problem: its line (0: the whole file), column and reason."
        )
        return fields
