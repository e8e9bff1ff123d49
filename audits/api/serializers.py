from __future__ import annotations

from rest_framework import serializers

from audits.models import Audit


class AuditSerializer(serializers.ModelSerializer):
    framework = serializers.CharField(source="adoption.framework.slug", read_only=True)
    scope = serializers.SerializerMethodField()
    type = serializers.CharField(source="kind", read_only=True)

    class Meta:
        model = Audit
        fields = [
            "id",
            "name",
            "framework",
            "scope",
            "type",
            "as_of",
            "period_start",
            "period_end",
            "firm",
            "status",
            "fieldwork_start",
            "fieldwork_end",
            "report_date",
        ]
        read_only_fields = fields

    def get_scope(self, audit: Audit) -> list[str]:
        return [c.code for c in audit.scope.all()]
