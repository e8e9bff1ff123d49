"""No address answers 5xx, whatever odd input it gets.

Walks every URL pattern of the project (the resolver, so a new page or endpoint joins by
itself), fills its path arguments with real ids of a seeded organization, and requests it as an
admin and as an anonymous visitor with odd query values: a NUL (``%00``), a very long value,
unicode and quotes, negative and huge numbers for ``page`` / ``page_size``. A NUL inside a path
argument and JSON bodies carrying NUL strings (to every API endpoint that takes a POST) must be
refused with a 400, not reach PostgreSQL. Bounded: a few requests per pattern.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework import serializers

from compliance import services as core
from compliance.meetings import services as meetings
from compliance.meetings.weeks import current_week
from compliance.models import ApiToken, Invitation, Membership, Role
from controls.models import AdoptedFramework, ControlRequirement, Requirement, TestRun
from controls.monitoring import services as monitoring
from evidence import services as evidence
from evidence.models import EvidenceItem, EvidenceRequest, EvidenceRevision
from people.models import Person, PersonnelRequirement
from policies import links
from policies.models import Policy, PolicyVersion
from tests.conftest import World, operator_client
from tests.controls.monitoring_helpers import make_finding, make_integration, make_run, make_test
from tests.factories import UserFactory
from tests.people.factories import PersonFactory, RecordFactory
from tests.policies.factories import approve, first_version, make_policy
from tests.vendors.factories import ReviewFactory, VendorFactory
from vendors.models import Vendor, VendorReview

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# Query parameters the list pages, filters and paginators read.
PARAMETERS = [
    "q", "search", "page", "page_size", "ordering", "sort", "status", "state", "owner",
    "framework", "category", "kind", "control", "actor", "action", "model", "since", "until",
    "tier", "department", "review", "findings", "format", "next",
]  # fmt: skip
HUGE = "9" * 30
ODD_QUERIES = [
    dict.fromkeys(PARAMETERS, "\x00"),
    dict.fromkeys(PARAMETERS, "x" * 3000),
    dict.fromkeys(PARAMETERS, "ü'\"<>✓ 日本 ' OR 1=1 --"),
    {**dict.fromkeys(PARAMETERS, "-1"), "page_size": HUGE},
    {**dict.fromkeys(PARAMETERS, HUGE), "page_size": "-1", "page": "0"},
]


def walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


_ARGUMENT = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>")


def arguments(route: str) -> list[tuple[str, str]]:
    """(segment before it, name) of each path argument of a route."""
    found = []
    pieces = route.split("/")
    for index, piece in enumerate(pieces):
        for match in _ARGUMENT.finditer(piece):
            name = match.group(1) or match.group(2)
            before = pieces[index - 1].lstrip("^") if index else ""
            found.append((before, name))
    return found


class Scene:
    """One row of every kind in "acme", and the path-argument values that reach them."""

    def __init__(self, world: World) -> None:
        admin, owner = world.users["admin"], world.users["owner"]
        self.world = world
        _, self.token_secret = core.api_token_create(actor=admin, name="Crawler")
        invitation = core.invitation_create(
            actor=admin, organization=world.org, email="new@acme.test", role=Role.MEMBER
        )
        integration = make_integration(world)
        test = make_test(world)
        run = make_run(test, {"repo": "fail"})
        make_finding(test, run, "repo")
        exception = monitoring.exception_create(
            actor=admin,
            test=test,
            resource_id="repo",
            reason="Accepted",
            expires_on=timezone.localdate() + dt.timedelta(days=30),
        )
        item = evidence.evidence_create(
            actor=owner,
            organization=world.org,
            title="Access review",
            kind="file",
            effective_date=dt.date.today(),
            controls=[world.control],
            upload=SimpleUploadedFile("review.pdf", PDF, content_type="application/pdf"),
        )
        request = evidence.request_create(
            actor=admin,
            organization=world.org,
            title="Quarterly access review",
            cadence="quarterly",
            first_due_date=timezone.localdate() + dt.timedelta(days=5),
            owner=owner,
            controls=[world.control],
            remind_days_before=7,
        )
        policy = make_policy(world, owner=owner)
        approve(world, first_version(policy))
        person = PersonFactory(organization=world.org, email="person@acme.test")
        RecordFactory(person=person)
        vendor = VendorFactory(organization=world.org)
        review = ReviewFactory(vendor=vendor)
        from vendors import questionnaire_services

        vq_template = questionnaire_services.template_from_library(
            actor=admin, organization=world.org, key="core-security-short"
        )
        vq, _ = questionnaire_services.questionnaire_send(
            actor=admin, vendor=vendor, template=vq_template, contact_name="C",
            contact_email="c@vendor.test", expires_in_days=5,
        )  # fmt: skip
        vq_file = questionnaire_services.questionnaire_attach(
            questionnaire=vq, upload=SimpleUploadedFile("a.pdf", b"%PDF-1.4 a")
        )
        from vendors import documents as vendor_documents

        vendor_document = vendor_documents.vendor_document_upload(
            actor=admin, vendor=vendor, upload=SimpleUploadedFile("dpa.pdf", PDF),
            doc_type="dpa",
        )  # fmt: skip
        requirement_kind = (
            PersonnelRequirement.objects.filter(organization=world.org)
            .values_list("kind", flat=True)
            .first()
        ) or "background_check"
        action_item = meetings.action_item_create(
            actor=admin, organization=world.org, title="Name the owners", owner=owner,
            due_on=timezone.localdate() + dt.timedelta(days=7),
        )  # fmt: skip
        from audits import services as audits_services
        from audits.models import AuditType

        audit = audits_services.audit_create(
            actor=admin, organization=world.org, adoption=world.adoption,
            scope=[world.security], name="Type I", kind=AuditType.TYPE_1,
            as_of=timezone.localdate(), report_date=timezone.localdate() + dt.timedelta(days=30),
        )  # fmt: skip
        access = audits_services.auditor_invite(
            actor=admin, audit=audit, email=world.users["auditor"].email
        )
        from audits import pbc_services
        from audits.models import AuditPackage

        package = AuditPackage.objects.create(audit=audit, requested_by=admin)

        auditor = world.users["auditor"]
        pbc = pbc_services.request_create(actor=auditor, audit=audit, title="Access reviews")
        finding = pbc_services.finding_create(
            actor=auditor, audit=audit, title="Late review", severity="low"
        )
        from audits.sampling import services as sampling_services
        from compliance.models import User

        fresh_auditor = User.objects.get(pk=auditor.pk)  # no cached grants

        population = sampling_services.population_create(
            actor=fresh_auditor, audit=audit, name="Test runs", kind="test_runs"
        )
        sample = (
            sampling_services.sample_draw(
                actor=fresh_auditor, population=population, size=1, seed=1
            )
            if population.item_count
            else None
        )
        self.by_segment: dict[str, Any] = {
            "o": world.org.slug,
            "organizations": world.org.slug,
            "tokens": ApiToken.objects.get(user=admin).pk,
            "members": Membership.objects.get(user=owner, organization=world.org).pk,
            "memberships": Membership.objects.get(user=owner, organization=world.org).pk,
            "invitations": Invitation.objects.get(pk=invitation.pk).pk,
            "frameworks": world.framework.slug,
            "requirements": Requirement.objects.get(pk=world.req_a.pk).pk,
            "adopted-frameworks": AdoptedFramework.objects.get(pk=world.adoption.pk).pk,
            "controls": world.control.pk,
            "mappings": ControlRequirement.objects.filter(control=world.control).first().pk,  # type: ignore[union-attr]
            "tests": test.pk,
            "control-tests": test.pk,
            "exceptions": exception.pk,
            "runs": TestRun.objects.get(pk=run.pk).pk,
            "test-runs": run.pk,
            "integrations": integration.pk,
            "evidence": EvidenceItem.objects.get(pk=item.pk).pk,
            "revisions": EvidenceRevision.objects.get(item=item).pk,
            "evidence-revisions": EvidenceRevision.objects.get(item=item).pk,
            "evidence-requests": EvidenceRequest.objects.get(pk=request.pk).pk,
            "policies": Policy.objects.get(pk=policy.pk).pk,
            "versions": PolicyVersion.objects.get(policy=policy, number=1).number,
            "people": Person.objects.get(pk=person.pk).pk,
            "vendors": Vendor.objects.get(pk=vendor.pk).pk,
            "reviews": VendorReview.objects.get(pk=review.pk).pk,
            "questionnaires": vq.pk,
            "files": vq_file.pk,
            # A vendor's documents (the trust page's are answered above, by the route).
            "documents": vendor_document.pk,
            "vendor-questionnaires": vq_template.pk,
            "vendor-questionnaire-templates": vq_template.pk,
            "action-items": action_item.pk,
            "notes": current_week(world.org).key,
            "audits": audit.pk,
            "auditors": access.pk,
            "requests": pbc.pk,
            "findings": finding.pk,
            "package": package.pk,
            "populations": population.pk,
            "samples": sample.pk if sample else 1,
        }
        from tests.trust.docs_helpers import build_docs
        from trust.documents import services as trust_documents

        trust = build_docs(world)
        trust_request = trust_documents.access_request_submit(
            page=trust.page, name="Casey", email="casey@customer.test", company="Customer",
            reason="", documents=[trust.gated], nda=trust.nda, ip="203.0.113.1", user_agent="x",
        )  # fmt: skip
        from trust import services as trust_page

        admin = world.users["admin"]
        self.trust_ids = {
            "documents": trust.gated.pk,
            "requests": trust_request.pk,
            "certifications": trust_page.trust_certification_create(
                actor=admin, organization=world.org, name="SOC 2"
            ).pk,
            "categories": trust_page.trust_category_create(
                actor=admin, organization=world.org, controls=[], title="Access"
            ).pk,
            "faq": trust_page.trust_faq_create(
                actor=admin, organization=world.org, question="Q?", answer="A."
            ).pk,
        }
        self.by_segment.update(
            {
                "trust-documents": trust.gated.pk,
                "trust-access-requests": trust_request.pk,
                "trust": world.org.slug,
            }
        )
        from tests.trust.library_helpers import questionnaire_xlsx, upload
        from trust.library import services as library_services

        entry = library_services.answer_entry_create(
            actor=admin, organization=world.org, question="Do you encrypt data?", answer="Yes."
        )
        questionnaire = library_services.questionnaire_map(
            actor=admin,
            questionnaire=library_services.questionnaire_upload(
                actor=admin, organization=world.org, name="Q",
                upload=upload("q.xlsx", questionnaire_xlsx()),
            ),
            sheet="Questions", question_column=1, answer_column=2,
        )  # fmt: skip
        self.by_segment.update(
            {
                "library": entry.pk,
                "answer-library": entry.pk,
                "questionnaires": questionnaire.pk,
                "rows": questionnaire.rows.first().pk,  # type: ignore[union-attr]
            }
        )
        self.by_name: dict[str, Any] = {
            "format": "json",
            "uidb64": "MQ",
            "token": "not-a-real-token",
            "kind": requirement_kind,
            "action": "comment",
        }
        self.ack_token = links.make_token(version_id=first_version(policy).pk, person_id=person.pk)

    def value(self, route: str, before: str, name: str) -> Any:
        if route.startswith("ack/") and name == "token":
            return self.ack_token
        if name in self.by_name and not (name == "kind" and before != "requirements"):
            return self.by_name[name]
        if route.startswith("trust/") and name == "pk":  # the public trust pages
            return self.trust_ids["documents"]
        if "/trust/" in route and before in self.trust_ids:
            return self.trust_ids[before]
        if before in self.by_segment:
            return self.by_segment[before]
        raise AssertionError(
            f"No value for <{name}> after {before!r} in {route!r}: add the new kind of object "
            "to the crawler's scene."
        )

    def url(self, route: str, pattern: URLPattern, namespace: str = "") -> str | None:
        if pattern.name is None:
            return None
        kwargs = {name: self.value(route, before, name) for before, name in arguments(route)}
        return reverse(f"{namespace}{pattern.name}", kwargs=kwargs)


def project_routes() -> list[tuple[str, URLPattern]]:
    routes = [
        (route, pattern)
        for route, pattern in walk(get_resolver().url_patterns)
        if not route.startswith("admin/") and pattern.name is not None
    ]
    assert len(routes) > 150, "the walk missed most of the project"
    return routes


def with_query(url: str, query: dict[str, str]) -> str:
    return url + "?" + "&".join(f"{k}={quote(v)}" for k, v in query.items())


@pytest.fixture
def scene(world: World, evidence_dir: Path) -> Scene:
    return Scene(world)


def test_no_address_answers_5xx_to_odd_query_values(scene: Scene) -> None:
    admin = Client(raise_request_exception=False)
    admin.force_login(scene.world.users["admin"])
    anonymous = Client(raise_request_exception=False)
    failures: list[str] = []
    refused_nul = 0
    for route, pattern in project_routes():
        url = scene.url(route, pattern)
        assert url is not None
        for who, client in (("admin", admin), ("anonymous", anonymous)):
            for query in ODD_QUERIES:
                response = client.get(with_query(url, query))
                if response.status_code >= 500:
                    failures.append(f"{who} GET {url} {sorted(set(query.values()))[0][:20]!r}")
                if "\x00" in query.values():
                    assert response.status_code == 400, (url, response.status_code)
                    refused_nul += 1
            # A NUL inside the path itself (a slug or an id).
            nul_path = url.rstrip("/") + "%00/" if url.endswith("/") else url + "%00"
            response = client.get(nul_path)
            if response.status_code != 400:
                failures.append(f"{who} GET {nul_path} -> {response.status_code}")
    assert not failures, "\n".join(failures)
    assert refused_nul > 300


def nul_body(serializer: serializers.Serializer) -> dict[str, Any]:
    """Every writable field of the serializer, filled with a value carrying a NUL."""
    body: dict[str, Any] = {}
    for name, field in serializer.fields.items():
        if field.read_only:
            continue
        if isinstance(field, serializers.ManyRelatedField | serializers.ListField):
            body[name] = ["x\x00"]
        elif isinstance(field, serializers.DictField | serializers.JSONField):
            body[name] = {"k\x00": "v\x00"}
        elif isinstance(field, serializers.BooleanField):
            body[name] = True
        else:
            body[name] = "1\x00"
    return body or {"name": "x\x00"}


def test_json_strings_with_a_nul_are_refused_by_every_api_endpoint_that_takes_a_post(
    scene: Scene,
) -> None:
    client = Client(raise_request_exception=False)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {scene.token_secret}"}
    posted = 0
    failures: list[str] = []
    for route, pattern in project_routes():
        view = getattr(pattern.callback, "cls", None)
        actions = getattr(pattern.callback, "actions", None) or {}
        if view is None or not route.startswith("api/"):
            continue
        if actions and "post" not in actions:
            continue
        serializer_class = getattr(view, "serializer_class", None)
        try:
            body = nul_body(serializer_class()) if serializer_class else {"name": "x\x00"}
        except Exception:  # a serializer that needs its view's context: a generic body
            body = {"name": "x\x00", "title": "x\x00"}
        url = scene.url(route, pattern)
        assert url is not None
        for payload in (body, {"nested": {"list": ["ok", {"deep": "x\x00"}]}}):
            response = client.post(url, payload, content_type="application/json", **auth)
            posted += 1
            if response.status_code != 400 or not response["Content-Type"].startswith(
                "application/json"
            ):
                failures.append(f"POST {url} -> {response.status_code}")
    assert not failures, "\n".join(failures)
    assert posted > 40


def test_a_nul_in_a_path_slug_is_a_json_400_under_api(world: World) -> None:
    response = world.api("admin").get("/api/organizations/acme%00/")
    assert response.status_code == 400
    body = response.json()
    assert "null character" in body["detail"]
    assert body["request_id"] == response["X-Request-ID"]


def test_a_nul_in_a_query_parameter_names_the_parameter(world: World) -> None:
    response = world.api("admin").get("/api/organizations/acme/controls/?search=ab%00c")
    assert response.status_code == 400
    assert response.json()["search"] == ["Null characters are not allowed."]


def test_a_nul_in_a_nested_json_string_names_its_path(world: World, audit_count: Any) -> None:
    before = audit_count()
    response = world.api("admin").post(
        "/api/organizations/acme/controls/",
        {
            "ref_id": "NEW-1",
            "name": "New",
            "category": "crypto",
            "frequency": "annual",
            "requirements": ["ok", "SEC\x001.1"],
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["requirements.1"] == ["Null characters are not allowed."]
    assert audit_count() == before


def test_a_nul_in_a_form_field_is_the_plain_400_page(world: World, audit_count: Any) -> None:
    before = audit_count()
    response = world.client("admin").post(
        "/o/acme/controls/new/",
        "ref_id=NEW-1&name=Bad%00name",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "“name” contains a null character" in response.content.decode()
    assert audit_count() == before


def test_a_nul_in_the_evidence_search_box_is_the_plain_400_page(world: World) -> None:
    response = world.client("admin").get("/o/acme/evidence/?q=report%00")
    assert response.status_code == 400
    assert response["X-Content-Type-Options"] == "nosniff"  # the security headers still apply
    assert "query parameter “q” contains a null character" in response.content.decode()


def test_a_nul_in_a_cookie_is_refused(world: World) -> None:
    client = world.client("admin")
    client.cookies["csrftoken"] = "abc\x00def"
    response = client.get("/o/acme/controls/")
    assert response.status_code == 400


def test_odd_but_valid_text_still_works(world: World) -> None:
    response = world.api("admin").get("/api/organizations/acme/controls/?search=ü'✓")
    assert response.status_code == 200
    response = world.api("admin").post(
        "/api/organizations/acme/controls/",
        {
            "ref_id": "UNI-1",
            "name": "Ünïcødé \\u0000 as text ✓",
            "category": "crypto",
            "frequency": "annual",
        },
        format="json",
    )
    assert response.status_code == 201, response.content


def test_a_json_body_over_the_memory_limit_is_a_json_400_saying_so(
    world: World, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    body = '{"name": "' + "x" * (2 * 1024 * 1024) + '"}'
    response = world.api("admin").post(
        "/api/organizations/acme/controls/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert "larger than 1 MB" in response.json()["detail"]


def test_no_admin_site_page_answers_5xx_to_odd_input(scene: Scene) -> None:
    """The operators' admin site: every changelist (its search box and filters) with odd
    values, and the change page of a real row of every model, as a superuser."""
    operator = UserFactory(email="operator@attest.test", is_staff=True, is_superuser=True)
    client = operator_client(operator, raise_request_exception=False)
    failures: list[str] = []
    checked = answered = 0
    for route, pattern in walk(get_resolver().url_patterns):
        name = pattern.name or ""
        if not route.startswith("admin/"):
            continue
        if name.endswith("_changelist"):
            url = reverse(f"admin:{name}")
            queries = [
                {"q": "\x00", "o": "\x00"},
                {"q": "x" * 3000, "p": HUGE, "o": "-1"},
                {"q": "ü' OR 1=1 --", "p": "-1", "o": HUGE},
            ]
            urls = [with_query(url, query) for query in queries] + [url + "%00/"]
        elif route.endswith("<path:object_id>/change/"):
            _, app_label, model_name, *_ = route.split("/")
            model = apps.get_model(app_label, model_name)
            row = model._default_manager.order_by("pk").first()
            if row is None:
                continue
            url = reverse(f"admin:{name}", args=[row.pk])
            urls = [url, url.rstrip("/") + "%00/"]
        else:
            continue
        for address in urls:
            response = client.get(address)
            checked += 1
            answered += response.status_code == 200
            if response.status_code >= 500:
                failures.append(f"GET {address[:120]} -> {response.status_code}")
    assert not failures, "\n".join(failures)
    assert checked > 100
    assert answered > 50, "the admin site turned the operator away (not a walk of its pages)"


@pytest.mark.parametrize(
    "fields",
    [
        {"title": "Scan\x00report"},
        {"controls": "1\x00"},
        {"effective_date": "2026-01-01\x00"},
        {"note": "n\x00", "kind": "note"},
    ],
    ids=["title", "controls", "effective_date", "note"],
)
def test_multipart_fields_with_a_nul_are_refused_by_their_form_or_serializer(
    world: World, evidence_dir: Path, audit_count: Any, fields: dict[str, str]
) -> None:
    """Multipart bodies are not read by the middleware (uploads stream to disk in the view);
    their text fields go through form and serializer fields, which refuse a NUL: a 400."""
    before = audit_count()
    data = {
        "title": "Scan report",
        "kind": "file",
        "controls": str(world.control.pk),
        "effective_date": "2026-01-01",
        **fields,
    }
    upload = SimpleUploadedFile("scan.pdf", PDF, content_type="application/pdf")
    api = world.api("owner").post(
        "/api/organizations/acme/evidence/", {**data, "file": upload}, format="multipart"
    )
    assert api.status_code == 400, api.content
    upload = SimpleUploadedFile("scan.pdf", PDF, content_type="application/pdf")
    page = world.client("owner").post("/o/acme/evidence/new/", {**data, "file": upload})
    assert page.status_code == 400
    assert audit_count() == before
    assert not EvidenceItem.objects.exists()
