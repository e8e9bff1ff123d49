"""How the OpenAPI document describes the API as a whole, in one place rather than per view.

- Every operation is tagged with its area (``AREAS``), found from its path, so a new endpoint
  lands in the right section of the docs or, if its resource is unknown, fails the schema test.
- Every operation documents the errors the API answers with (``ERRORS``): 400 when it takes
  input or writes, 401 and 403 everywhere, 404 where the URL names something or pages run out.
  A view's own description of a code wins.
- A request body of a serializer that refuses unknown fields says so
  (``additionalProperties: false``), so clients and fuzzers know extras are an error.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension
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
        "Readiness per adopted framework and category: the dashboard's figures, and the "
        "weekly snapshots that freeze them once a week.",
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
        "The vendor inventory and each vendor's due-diligence reviews; its documents (SOC 2 "
        "reports, bridge letters, certificates, DPAs) with the exceptions their reports note "
        "and the complementary user entity controls they ask of us; security questionnaires "
        "sent to vendors and their templates.",
        ("vendors", "vendor-questionnaire-templates"),
    ),
    (
        "audits",
        "Audit engagements (Type I as of a date, Type II over a period); the auditors' "
        "requests for evidence (the PBC list) with their answers and threads, and their "
        "findings with management's responses.",
        ("audits",),
    ),
    (
        "trust",
        "The public trust page's documents (public or gated behind an NDA), the access "
        "requests for the gated ones with their decisions and links, and the download log.",
        ("trust-documents", "trust-access-requests", "trust-downloads"),
    ),
    (
        "reports",
        "Reports to download: the gap analysis of each adopted framework as XLSX or PDF.",
        ("reports",),
    ),
    (
        "weekly",
        "The weekly program meeting's record: notes per ISO week, and action items that carry "
        "over from week to week until done.",
        ("weekly",),
    ),
    (
        "questionnaires",
        "The security questionnaire answer library (approved answers backed by controls and "
        "policies, stale when a review date passed or a control is not ready) and imported "
        "questionnaires with their suggested answers, review decisions and export.",
        ("answer-library", "questionnaires"),
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


# --- errors -------------------------------------------------------------------------------------

ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string", "description": "What went wrong."}},
    "required": ["detail"],
}
VALIDATION_ERROR = {
    "type": "object",
    "description": "Each field or query parameter at fault, with its messages; ``detail`` or "
    "``non_field_errors`` for a problem with the request as a whole.",
    "additionalProperties": {},
}
ERRORS: dict[str, tuple[str, str]] = {
    "400": ("ValidationError", "Bad input: the fields or query parameters at fault are named."),
    "401": ("Error", "Not signed in: no, an invalid or an expired token."),
    "403": ("Error", "Your role or the object does not allow this."),
    "404": ("Error", "No such object, or not one you can see."),
}


def _json(component: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}}


def _codes(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    parameters = operation.get("parameters", [])
    takes_input = "requestBody" in operation or any(
        p.get("in") in ("query", "header") for p in parameters
    )
    paginated = any(p.get("name") == "page" for p in parameters)
    codes = ["401", "403"]
    if takes_input or method in ("post", "put", "patch", "delete"):
        codes.append("400")  # services refuse what the schema cannot express, by name
    if "{" in path or paginated:
        codes.append("404")  # no such object, or a page past the last one
    return codes


def postprocess(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: error responses and the tags' descriptions."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR)
    schemas.setdefault("ValidationError", VALIDATION_ERROR)
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for code in _codes(path, method, operation):
                if code not in responses:
                    component, description = ERRORS[code]
                    responses[code] = {"description": description, "content": _json(component)}
    result["tags"] = [{"name": tag, "description": text} for tag, text, _ in AREAS]
    return result


# --- strict request bodies ----------------------------------------------------------------------


class StrictFieldsSchema(OpenApiSerializerExtension):
    """Serializers with ``StrictFieldsMixin`` refuse unknown fields: say so in request bodies."""

    target_class = "compliance.api.base.StrictFieldsMixin"
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: Any) -> Any:
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["additionalProperties"] = False
        return schema

    def get_name(self, auto_schema: Any, direction: Any) -> str | None:
        return None
