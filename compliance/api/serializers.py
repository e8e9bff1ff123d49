from __future__ import annotations

from rest_framework import serializers

from compliance.api.base import StrictFieldsMixin
from compliance.models import Invitation, Membership, Organization, Role, User


class UserSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "full_name"]
        read_only_fields = fields


class OrganizationSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()

    class Meta:
        model = Organization
        fields = ["id", "slug", "name", "time_zone", "require_two_factor", "created_at", "role"]
        read_only_fields = fields

    def get_role(self, organization: Organization) -> str | None:
        memberships = self.context.get("memberships", {})
        membership = memberships.get(organization.pk)
        return membership.role if membership else None


class OrganizationCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    name = serializers.CharField(max_length=120)
    slug = serializers.CharField(
        max_length=50,
        required=False,
        allow_blank=True,
        help_text="Lowercase letters, digits and hyphens; made from the name when left out.",
    )
    time_zone = serializers.CharField(
        max_length=64, default="UTC", help_text="An IANA time zone, e.g. Europe/Paris."
    )


class MembershipSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    user = UserSummarySerializer(read_only=True)
    role = serializers.ChoiceField(choices=Role.choices)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "role", "expires_at", "created_at"]
        read_only_fields = ["id", "user", "created_at"]


class InvitationSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices)
    access_expires_on = serializers.DateField(
        write_only=True, required=False, allow_null=True, help_text="Required for auditors."
    )
    invited_by = UserSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = Invitation
        fields = [
            "id", "email", "role", "access_expires_on", "access_expires_at", "invited_by",
            "created_at", "expires_at",
        ]  # fmt: skip
        read_only_fields = ["id", "access_expires_at", "invited_by", "created_at", "expires_at"]
