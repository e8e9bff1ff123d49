"""An auditor changes nothing (issue 12; DESIGN.md invariant 2): every route of the resolver and
every operation of the OpenAPI schema, tried with each unsafe method as an auditor — with the ids
of objects within their engagement, with ids outside it, and with expired access — answers 403,
404 or 405, except the auditor's own workspace and the routes about one's own account. A route
added without a decision below fails this test until someone decides."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from drf_spectacular.generators import SchemaGenerator

from audits.models import Audit
from compliance.models import AuditEvent
from evidence.models import EvidenceItem
from tests.conftest import World

pytestmark = pytest.mark.django_db

# Routes about the signed-in person's own account, public token links and documentation: not
# program data; an auditor uses them like anyone.
OWN_OR_PUBLIC = {
    "home",
    "login",
    "login_mfa",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "invitation_accept",
    "password_change",
    "two_factor",
    "api_tokens",
    "api_token_revoke",
    "email_settings",
    "email_unsubscribe",
    "policy_ack_link",
    # A vendor's contact answers a questionnaire through its link (no account; the token is
    # the credential): tests/vendors/test_questionnaire_link.py.
    "vendor_questionnaire_link",
    "vendor_questionnaire_link_attach",
    "healthz",
    "schema",
    "swagger-ui",
    "redoc",
    "api-root",
    "api-checks",
    # Authenticated by a per-test push token, not by a session: refused without one.
    "api-push-test-results",
    # The public trust page's access request form, signed links and public downloads.
    "trust_request_access",
    "trust_access",
    "trust_access_download",
    "trust_public_download",
    # The public trust page and its security.txt (read-only, published rows only).
    "trust_public_page",
    "trust_security_txt",
}
# What an auditor creates within their engagement (their own work, never program data).
AUDITOR_WORKSPACE = {
    # Requests (the PBC list): raise, comment, accept, return, close; findings: raise, edit,
    # close. Who may take which step is tested in tests/audits/test_pbc_*.py.
    "audit_request_create", "audit_request_action", "audit_finding_create",
    "audit_finding_action", "api-audit-request-list", "api-audit-request-comment",
    "api-audit-request-accept", "api-audit-request-return-", "api-audit-request-close",
    "api-audit-finding-list", "api-audit-finding-detail", "api-audit-finding-close",
    # Asking for the engagement's package writes the package row (the export), nothing else.
    "audit_package_start",
    # Freezing populations and drawing samples (tests/audits/test_sampling.py).
    "audit_samples", "audit_population", "api-audit-population-list", "api-audit-sample-list",
}  # fmt: skip
# Every other route is denied to auditors for every unsafe method.
DENIED = {
    # The answer library and questionnaires (trust.library): not in any audit's scope.
    "answer_entry_list", "answer_entry_create", "answer_entry_detail", "answer_entry_edit",
    "answer_entry_delete", "questionnaire_list", "questionnaire_upload", "questionnaire_detail",
    "questionnaire_export", "questionnaire_row_decide", "questionnaire_row_library",
    "questionnaire_complete", "questionnaire_reopen", "api-questionnaire-complete",
    "api-questionnaire-reopen", "api-answer-entry-list", "api-answer-entry-detail",
    "api-questionnaire-list",
    "api-questionnaire-detail", "api-questionnaire-rows", "api-questionnaire-decide",
    "api-questionnaire-download",
    "action_item_close", "action_item_create", "action_item_delete", "action_item_edit",
    "action_item_reopen", "adopted-framework-detail", "adopted-framework-list",
    "api-action-item-close", "api-action-item-detail", "api-action-item-list",
    "api-action-item-reopen", "api-audit-detail", "api-audit-list", "api-control-test-detail",
    "api-control-test-exception-list",
    "api-control-test-exception-revoke", "api-control-test-findings", "api-control-test-list",
    "api-control-test-push-token", "api-control-test-run", "api-control-test-runs",
    "api-evidence-detail", "api-evidence-list", "api-evidence-request-detail",
    "api-evidence-request-list", "api-evidence-request-occurrences",
    "api-evidence-revision-detail", "api-evidence-revision-download",
    "api-evidence-revision-review", "api-evidence-revisions", "api-gap-analysis-pdf",
    "api-gap-analysis-xlsx", "api-integration-detail", "api-integration-list",
    "api-person-detail", "api-person-import-csv", "api-person-list", "api-person-record-list",
    "api-test-run-detail", "api-test-run-list", "api-vendor-detail", "api-vendor-list",
    "api-vendor-offboard", "api-vendor-reinstate", "api-vendor-review-detail",
    "api-vendor-review-list", "api-weekly-notes-detail", "api-weekly-notes-list",
    "audit_requests", "audit_request_detail", "audit_findings", "audit_finding_detail",
    "api-audit-request-detail", "api-audit-request-assign", "api-audit-request-attach",
    "api-audit-request-submit", "api-audit-finding-management-response",
    "audit_access_log", "audit_auditor_invite", "audit_auditor_revoke", "audit_controls",
    "audit_create", "audit_detail", "audit_edit", "audit_evidence", "audit_evidence_download",
    "audit_list", "audit_package", "audit_package_download", "audit_people", "audit_policies",
    "audit_tests", "audit_trail",
    "audit_sample", "api-audit-population-detail", "api-audit-population-item-list",
    "api-audit-sample-detail", "audit_effectiveness",
    "control-archive", "control-detail", "control-list", "control-restore", "control_access",
    "control_archive", "control_create", "control_detail", "control_edit", "control_export",
    "control_list", "control_restore", "control_test_choose", "control_test_create",
    "control_test_detail", "control_test_edit", "control_test_list", "control_test_push_token",
    "control_test_run", "dashboard", "evidence_create", "evidence_detail", "evidence_download",
    "evidence_integrity", "evidence_list", "evidence_request_create", "evidence_request_detail",
    "evidence_request_edit", "evidence_request_list", "evidence_review", "framework-detail",
    "framework-list", "framework_adopt", "framework_detail", "framework_list",
    "framework_starter", "gap_analysis", "gap_analysis_pdf", "gap_analysis_xlsx",
    "integration_create", "integration_delete", "integration_edit", "integration_list",
    "invitation-detail", "invitation-list", "invitation_revoke", "mapping-detail",
    "mapping-list", "member_list", "member_update", "membership-detail", "membership-list",
    "my_work", "organization-detail", "organization-list", "organization_create",
    "organization_settings", "people_requirement_edit", "people_requirements",
    "person_completion", "person_create", "person_detail", "person_edit", "person_import",
    "person_import_template", "person_list", "person_record_create", "policy-acknowledge",
    "policy-acknowledgements", "policy-detail", "policy-list", "policy-review", "policy-send",
    "policy-version-approve", "policy-version-detail", "policy-version-list",
    "policy-version-retire", "policy-version-return", "policy-version-submit",
    "policy_acknowledge", "policy_create", "policy_detail", "policy_edit", "policy_library",
    "policy_list", "policy_review", "policy_send", "policy_version_approve",
    "policy_version_create", "policy_version_detail", "policy_version_edit",
    "policy_version_pdf", "policy_version_preview", "policy_version_retire",
    "policy_version_return", "policy_version_submit", "readiness", "readiness-snapshots",
    "requirement-detail", "requirement-list", "requirement_controls", "requirement_detail",
    "test_exception_create", "test_exception_revoke", "test_run_detail", "vendor_create",
    "vendor_detail", "vendor_edit", "vendor_export", "vendor_list", "vendor_offboard",
    "vendor_reinstate", "vendor_review_create", "weekly", "weekly_control_search",
    "vendor_import", "vendor_import_template", "api-vendor-import-csv",
    "weekly_notes",
    # The trust page's documents and access requests: admins only.
    "trust_access_settings", "trust_document_detail", "trust_document_file",
    "trust_document_list", "trust_document_upload", "trust_request_detail", "trust_request_list",
    # The trust page's settings (admins) and preview (members of the program): 404 to auditors.
    "trust_settings", "trust_preview", "trust_publish", "trust_unpublish",
    "trust_certification_create", "trust_certification_edit", "trust_certification_delete",
    "trust_certification_from_audit", "trust_category_create", "trust_category_edit",
    "trust_category_delete", "trust_faq_create", "trust_faq_edit", "trust_faq_delete",
    "api-trust-access-request-approve", "api-trust-access-request-deny",
    "api-trust-access-request-detail", "api-trust-access-request-list",
    "api-trust-access-request-revoke", "api-trust-document-detail", "api-trust-document-list",
    "api-trust-download-list",
    # Vendor documents follow the vendor pages: auditors get 403 on all of them, reads
    # included (docs/vendors.md, "Who may do what").
    "vendor_documents", "vendor_document_create", "vendor_document_detail",
    "vendor_document_file", "vendor_document_exception_create", "vendor_document_cuec_create",
    "api-vendor-document-list", "api-vendor-document-detail", "api-vendor-document-download",
    "api-vendor-document-exception-list", "api-vendor-document-cuec-list",
    "vendor_questionnaire_detail", "vendor_questionnaire_file",
    "vendor_questionnaire_revoke", "vendor_questionnaire_send", "vendor_questionnaire_template",
    "vendor_questionnaire_template_use", "vendor_questionnaire_templates",
    "vendor_questionnaire_template_import", "vendor_questionnaire_template_create",
    "vendor_questionnaire_template_edit", "api-vendor-questionnaire-detail",
    "api-vendor-questionnaire-list", "api-vendor-questionnaire-revoke",
    "api-vendor-questionnaire-template-detail", "api-vendor-questionnaire-template-list",
}  # fmt: skip
UNSAFE = ("post", "put", "patch", "delete")
REFUSED = {403, 404, 405}


def _routes(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if str(entry.pattern).startswith("admin/"):
                continue  # the operators' site: staff only (tested below)
            yield from _routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern) and entry.name:
            yield prefix + str(entry.pattern), entry.name


PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>")


def all_routes() -> dict[str, list[str]]:
    """Route name → its parameters (the variant without a format suffix)."""
    found: dict[str, list[str]] = {}
    for pattern, name in _routes(get_resolver().url_patterns):
        parameters = [a or b for a, b in PARAMETER.findall(pattern)]
        if "format" in parameters:
            continue
        found.setdefault(name, parameters)
    return found


def test_every_route_has_a_decision() -> None:
    routes = set(all_routes())
    undecided = routes - OWN_OR_PUBLIC - AUDITOR_WORKSPACE - DENIED
    assert not undecided, f"routes without a decision for auditors: {sorted(undecided)}"
    gone = (OWN_OR_PUBLIC | AUDITOR_WORKSPACE | DENIED) - routes
    assert not gone, f"decisions about routes that no longer exist: {sorted(gone)}"


def _value(name: str, parameter: str, ids: dict[str, int]) -> Any:
    if parameter == "org":
        return "acme"
    if parameter == "slug":
        return "tsc"
    if parameter == "kind":
        return "background_check"
    if parameter in ("token", "uidb64"):
        return "x"
    if parameter == "week":
        return "2026-W10"
    if parameter == "audit":
        return ids["audit"]
    if parameter == "action":
        return "assign"
    for prefix, key in (("audit_auditor", "access"), ("evidence_review", "revision"),
                        ("evidence_download", "revision"), ("audit_evidence", "revision"),
                        ("api-evidence-revision", "revision"), ("evidence", "evidence"),
                        ("api-evidence", "evidence"), ("control", "control"),
                        ("api-control", "control")):  # fmt: skip
        if name.startswith(prefix):
            return ids[key]
    return ids["other"]


@pytest.fixture
def ids(
    world: World, engagement: Audit, make_evidence: Callable[..., EvidenceItem]
) -> dict[str, int]:
    item = make_evidence(dt.date(2026, 3, 1))
    return {
        "audit": engagement.pk,
        "access": engagement.accesses.get().pk,
        "evidence": item.pk,
        "revision": item.latest_revision_id or 0,
        "control": world.control.pk,
        "other": world.control.pk,
    }


def _try_every_write(client: Client, ids: dict[str, int]) -> list[str]:
    failures = []
    for name, parameters in sorted(all_routes().items()):
        if name in OWN_OR_PUBLIC or name in AUDITOR_WORKSPACE:
            continue
        url = reverse(name, kwargs={p: _value(name, p, ids) for p in parameters})
        for method in UNSAFE:
            response = getattr(client, method)(url, data="{}", content_type="application/json")
            if response.status_code not in REFUSED:
                failures.append(f"{method.upper()} {url} ({name}) → {response.status_code}")
    return failures


def test_an_auditor_in_scope_is_refused_every_write(world: World, ids: dict[str, int]) -> None:
    events = AuditEvent.objects.count()
    assert _try_every_write(world.client("auditor"), ids) == []
    assert AuditEvent.objects.count() == events


def test_ids_outside_the_engagement_are_refused_too(world: World, ids: dict[str, int]) -> None:
    outside = dict.fromkeys(ids, 999999)
    assert _try_every_write(world.client("auditor"), outside) == []


def test_an_expired_auditor_is_refused_every_write(world: World, ids: dict[str, int]) -> None:
    assert _try_every_write(world.client("expired_auditor"), ids) == []


def test_every_operation_of_the_api_schema_is_a_decided_route(world: World) -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    checked = 0
    for path, operations in schema["paths"].items():
        if not any(method in operations for method in UNSAFE):
            continue
        concrete = re.sub(r"\{org\}", "acme", path)
        concrete = re.sub(r"\{[^}]+\}", "1", concrete)
        name = resolve(concrete).url_name
        assert name in OWN_OR_PUBLIC | AUDITOR_WORKSPACE | DENIED, (path, name)
        checked += 1
    assert checked > 30


def test_the_operators_site_is_closed_to_auditors(world: World) -> None:
    response = world.client("auditor").post("/admin/compliance/organization/add/", {"name": "x"})
    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert "/login/" in response["Location"]
