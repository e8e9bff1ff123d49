"""Every list a person or a client can open is paginated or capped.

The API: every GET endpoint of the sweep that answers a list answers a page (``count``,
``next``, ``results``), at most ``page_size`` rows, with ``next`` when there are more.
The pages: no view hands its template an unbounded queryset, every page object is a page of at
most 100 rows, and a Django ``ListView`` (none today) must set ``paginate_by``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.paginator import Page
from django.db.models import QuerySet
from django.test.utils import ContextList
from django.urls import resolve
from django.views.generic import ListView
from rest_framework.generics import ListAPIView

from compliance.views.mixins import Capped
from controls.models import ControlTest
from evidence.models import Cadence, EvidenceRequest, OccurrenceStatus, RequestOccurrence
from people.models import Person
from policies.models import Policy
from tests.compliance.routes import Route, all_routes
from tests.compliance.test_options import sample
from tests.conftest import World
from tests.controls.monitoring_helpers import make_run, make_test
from tests.evidence import generate as evidence_rows
from tests.people.factories import PersonFactory
from tests.policies.factories import make_policy
from tests.vendors.factories import ReviewFactory, VendorFactory
from vendors.models import Vendor

ROUTES = all_routes(sample)

# GET endpoints that answer one thing, not a list.
API_SINGLE = {"retrieve", "download"}
API_NOT_LISTS = {
    "APIRootView",  # links to the endpoints
    "ReadinessView",  # one summary per framework adopted (a handful)
    "SpectacularAPIView",
    "SwaggerView",
    "RedocView",
    "PushResultsView",  # POST only
    "CheckListView",  # the registry of checks, defined in code: as long as the code makes it
    # The gap analysis downloads: files (the XLSX streams every row from a temporary file,
    # the PDF caps each section), not JSON lists.
    "GapAnalysisXlsxView",
    "GapAnalysisPdfView",
}
# Objects a page may hand its template whole: forms' choices and short fixed sets.
CONTEXT_ALLOWED = {
    "owners",  # the owner dropdowns: the organization's members
    "actions",  # the audit trail's action dropdown: distinct action names
    "switcher",  # the user's own organizations
    "children",  # a requirement's sub-requirements: the catalog's tree, fixed by the framework
}


def view_name(route: Route) -> str:
    func = resolve(route.url).func
    view = getattr(func, "view_class", None) or getattr(func, "cls", None) or func
    return getattr(view, "__name__", str(view))


def api_routes() -> tuple[list[Route], list[str]]:
    """The API's GET lists, and the plain API views nobody classified as a list or not."""
    lists, unclassified = [], []
    for route in ROUTES:
        if not route.url.startswith("/api/") or ".json" in route.url or "format" in route.pattern:
            continue
        func = resolve(route.url).func
        actions = getattr(func, "actions", None) or {}
        action = actions.get("get")
        view = getattr(func, "cls", None)
        if (action is not None and action not in API_SINGLE) or (
            isinstance(view, type) and issubclass(view, ListAPIView)
        ):
            lists.append(route)
        elif not actions and view_name(route) not in API_NOT_LISTS:
            unclassified.append(f"{route.pattern} ({view_name(route)})")
    return lists, unclassified


API_LISTS, UNCLASSIFIED = api_routes()


def objects(world: World) -> dict[str, int]:
    """One object of each kind that has lists below it, with more than one row in each."""
    test = make_test(world)
    for _ in range(3):
        make_run(test)
    request = EvidenceRequest.objects.create(
        organization=world.org, title="Access review", cadence=Cadence.QUARTERLY,
        first_due_date=dt.date.today(),
    )  # fmt: skip
    for sequence in (1, 2, 3):
        RequestOccurrence.objects.create(
            request=request, sequence=sequence, due_date=dt.date.today(),
            status=OccurrenceStatus.OPEN,
        )  # fmt: skip
    person = PersonFactory(organization=world.org)
    PersonFactory.create_batch(2, organization=world.org)
    policy = make_policy(world, title="Access control")
    make_policy(world, title="Backups")
    vendor = VendorFactory(organization=world.org)
    for _ in range(3):
        ReviewFactory(vendor=vendor)
    document = _vendor_documents(world, vendor)
    [item] = evidence_rows.items(world.org, 1, controls=[world.control], revisions=3)
    audit, population = _engagement(world)
    from tests.trust.library_helpers import questionnaire_xlsx, upload
    from trust.library import services as library_services

    admin = world.users["admin"]
    questionnaire = library_services.questionnaire_map(
        actor=admin,
        questionnaire=library_services.questionnaire_upload(
            actor=admin, organization=world.org, name="Q",
            upload=upload("q.xlsx", questionnaire_xlsx()),
        ),
        sheet="Questions", question_column=1, answer_column=2,
    )  # fmt: skip
    for n in (1, 2):
        library_services.answer_entry_create(
            actor=admin, organization=world.org, question=f"Question {n}?", answer="Yes."
        )
    return {
        "questionnaires": questionnaire.pk,
        "audits": audit.pk,
        "populations": population.pk,
        "evidence": item.pk,
        "control-tests": test.pk,
        "evidence-requests": request.pk,
        "people": person.pk,
        "policies": policy.pk,
        "vendors": vendor.pk,
        "documents": document,
    }


def _vendor_documents(world: World, vendor: Vendor) -> int:
    """Two documents of ``vendor``, the second with two exceptions and two CUECs."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from vendors import documents as services

    admin = world.users["admin"]
    for name in ("dpa.pdf", "iso.pdf"):
        document = services.vendor_document_upload(
            actor=admin, vendor=vendor, doc_type="dpa",
            upload=SimpleUploadedFile(name, b"%PDF-1.4 " + name.encode()),
        )  # fmt: skip
    for n in (1, 2):
        services.report_exception_add(actor=admin, document=document, description=f"E{n}")
        services.cuec_add(actor=admin, document=document, description=f"C{n}")
    return document.pk


def _engagement(world: World) -> tuple[Any, Any]:
    """An engagement with two requests, two findings and a population with two samples."""
    from audits import pbc_services
    from audits import services as audits_services
    from audits.sampling import services as sampling_services
    from compliance.models import User

    admin = world.users["admin"]
    today = dt.date.today()
    audit = audits_services.audit_create(
        actor=admin, organization=world.org, adoption=world.adoption, scope=[world.security],
        name="Type I", kind="type1", as_of=today, report_date=today + dt.timedelta(days=30),
    )  # fmt: skip
    audits_services.auditor_invite(actor=admin, audit=audit, email="auditor@acme.test")
    auditor = User.objects.get(email="auditor@acme.test")
    for n in (1, 2):
        pbc_services.request_create(actor=auditor, audit=audit, title=f"Request {n}")
        pbc_services.finding_create(
            actor=auditor, audit=audit, title=f"Finding {n}", severity="low"
        )
    population = sampling_services.population_create(
        actor=auditor, audit=audit, name="Runs", kind="test_runs"
    )
    assert population.item_count > 1
    for seed in (1, 2):
        sampling_services.sample_draw(actor=auditor, population=population, size=1, seed=seed)
    return audit, population


def fill(url: str, ids: dict[str, int]) -> str:
    for segment, pk in ids.items():
        url = re.sub(rf"/{segment}/1/", f"/{segment}/{pk}/", url)
    return url.replace("/frameworks/acme/", "/frameworks/tsc/")


def test_the_sweep_finds_the_api_lists() -> None:
    urls = {route.url for route in API_LISTS}
    assert "/api/organizations/acme/controls/" in urls
    assert "/api/organizations/acme/control-tests/1/runs/" in urls
    assert "/api/organizations/acme/policies/1/acknowledgements/" in urls
    assert len(API_LISTS) >= 20
    # A new API view that is not a viewset must be classified here: a list must paginate.
    assert UNCLASSIFIED == []


def test_every_api_list_answers_pages_of_at_most_page_size_with_next(world: World) -> None:
    ids = objects(world)
    client = world.api("admin")
    with_more = []
    for route in API_LISTS:
        url = fill(route.url, ids)
        response = client.get(url, {"page_size": 1})
        assert response.status_code == 200, (url, response.status_code)
        body = response.json()
        assert isinstance(body, dict) and {"count", "next", "results"} <= body.keys(), url
        assert len(body["results"]) <= 1, url
        if body["count"] > 1:
            assert body["next"], url
            with_more.append(url)
        default = client.get(url).json()
        assert len(default["results"]) <= 50, url
    # The test proves something: most lists had more rows than the page.
    assert len(with_more) >= 10, with_more


# --- pages ----------------------------------------------------------------------------------------


def html_pages() -> list[Route]:
    return [
        route
        for route in ROUTES
        if route.url.startswith("/o/acme/")
        and not route.url.endswith((".csv", "/pdf/", "/download/"))
    ]


def test_no_list_view_goes_without_paginate_by() -> None:
    for route in ROUTES:
        func = resolve(route.url).func
        view = getattr(func, "view_class", None)
        if view is not None and issubclass(view, ListView):
            assert view.paginate_by, f"{route.pattern}: {view.__name__} has no paginate_by"


def unbounded(context: Any) -> list[str]:
    contexts = context if isinstance(context, ContextList) else [context]
    layers = [layer for c in contexts for layer in getattr(c, "dicts", [c])]
    found = []
    for layer in layers:
        for key, value in layer.items():
            if isinstance(value, Page):
                if value.paginator.per_page > 100:
                    found.append(f"{key}: pages of {value.paginator.per_page}")
            elif isinstance(value, QuerySet) and not value.query.is_sliced:
                if key not in CONTEXT_ALLOWED:
                    found.append(f"{key}: a whole queryset")
            elif isinstance(value, Capped) and len(value.rows) > 100:
                found.append(f"{key}: capped at {len(value.rows)}")
    return sorted(set(found))


@pytest.mark.parametrize("persona", ["admin"])
def test_no_page_hands_its_template_an_unbounded_list(world: World, persona: str) -> None:
    ids = {
        "controls": world.control.pk,
        **{
            k: v
            for k, v in objects(world).items()
            if k in ("people", "policies", "vendors", "documents")
        },
    }
    ids["evidence-requests"] = EvidenceRequest.objects.get().pk
    ids["tests"] = ControlTest.objects.get().pk
    client = world.client(persona)
    problems, checked = [], []
    for route in html_pages():
        url = fill(route.url, ids)
        response = client.get(url)
        if response.status_code != 200 or response.context is None:
            continue  # forms that redirect, objects the filler cannot name: not lists
        checked.append(url)
        problems += [f"{url} {p}" for p in unbounded(response.context)]
    assert problems == []
    # The sweep reached the lists and the detail pages holding lists.
    for url in ["/o/acme/controls/", "/o/acme/members/", "/o/acme/integrations/"]:
        assert url in checked
    assert any(u.startswith("/o/acme/controls/") and u[-2].isdigit() for u in checked)
    assert len(checked) >= 30, checked


def test_the_page_sweep_sees_the_lists(world: World) -> None:
    objects(world)
    urls = {route.url for route in html_pages()}
    assert {"/o/acme/controls/", "/o/acme/members/", "/o/acme/my-work/"} <= urls
    assert Person.objects.count() and Policy.objects.count() and Vendor.objects.count()


def test_a_control_page_shows_its_first_evidence_and_links_to_all_of_it(world: World) -> None:
    from django.utils import timezone

    from controls.models import ControlStatusChange
    from evidence.models import EvidenceItem, EvidenceKind

    for index in range(13):
        item = EvidenceItem.objects.create(
            organization=world.org, title=f"Proof {index:02d}", kind=EvidenceKind.NOTE,
            effective_date=timezone.localdate(),
        )  # fmt: skip
        item.controls.add(world.control)
        ControlStatusChange.objects.create(
            control=world.control, from_status="not_started", to_status="in_progress"
        )
    client = world.client("admin")

    html = client.get(f"/o/acme/controls/{world.control.pk}/").content.decode()

    assert len(re.findall(r">Proof \d\d</a>", html)) == 10
    assert "10 of 13 shown." in html
    link = f"/o/acme/evidence/?control={world.control.pk}"
    assert f'href="{link}">All 13 evidence items' in html
    listed = client.get(link).content.decode()
    assert len(re.findall(r">Proof \d\d</a>", listed)) == 13
    assert "The last 10 of 13 changes." in html
    assert "?object_type=controls.control&amp;object_id=" in html  # admins see the audit trail
    member_html = world.client("member").get(f"/o/acme/controls/{world.control.pk}/")
    assert "object_type=controls.control" not in member_html.content.decode()  # no 403 link
