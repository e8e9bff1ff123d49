"""How the OpenAPI document describes the API as a whole, in one place rather than per view.

Every operation is tagged with its area (``AREAS``), found from its path, so a new endpoint
lands in the right section of the docs or, if its resource is unknown, fails the schema test.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

# (tag, what it covers, the path resources it holds). A resource is the first word of the path
# after /api/, or after /api/organizations/{org}/ for organization-scoped routes.
AREAS: list[tuple[str, str, tuple[str, ...]]] = [
    (
        "organizations",
        "Organizations you belong to, their members and their pending invitations.",
        ("organizations", "memberships", "invitations"),
    ),
    (
        "frameworks",
        "The framework catalogs (SOC 2, ISO 27001…) with their requirements, and the "
        "frameworks an organization adopted with the categories in scope.",
        ("frameworks", "requirements", "adopted-frameworks"),
    ),
    (
        "controls",
        "Controls (what the organization does), their owners and status, and their mappings to "
        "requirements.",
        ("controls", "mappings"),
    ),
    (
        "readiness",
        "Readiness per adopted framework and category: the dashboard's figures.",
        ("readiness",),
    ),
    (
        "monitoring",
        "Automated control tests: integrations, tests with their findings and exceptions, runs "
        "with their per-resource results, the check registry, and results pushed by CI.",
        ("integrations", "control-tests", "test-runs", "checks", "push"),
    ),
    (
        "evidence",
        "Evidence items and their immutable revisions (files, links, notes), reviews, and "
        "recurring evidence requests with their occurrences.",
        ("evidence", "evidence-revisions", "evidence-requests"),
    ),
    (
        "policies",
        "Policies, their versions through draft, review and approval, and acknowledgements.",
        ("policies",),
    ),
    (
        "people",
        "The personnel roster with onboarding completion, onboarding records and CSV import.",
        ("people",),
    ),
    (
        "vendors",
        "The vendor inventory and each vendor's due-diligence reviews.",
        ("vendors",),
    ),
]
AREA_OF = {resource: tag for tag, _, resources in AREAS for resource in resources}


class AutoSchema(SpectacularAutoSchema):
    def get_tags(self) -> list[str]:
        tokens = self._tokenize_path()
        if not tokens:
            return []
        resource = tokens[0]
        if resource == "organizations" and len(tokens) > 1 and "{org}" in self.path:
            resource = tokens[1]
        # An unknown resource keeps its own name: the schema test fails on a tag without a
        # description, so it is added to AREAS rather than lumped in with another area.
        return [AREA_OF.get(resource, resource)]


def postprocess(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the tags, each with its description."""
    result["tags"] = [{"name": tag, "description": text} for tag, text, _ in AREAS]
    return result
