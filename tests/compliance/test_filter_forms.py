"""An empty filter means "any", on every filter form, CSV export and API list.

A filter form sends every field it shows, chosen or not (``?q=&status=implemented&owner=``); the
controls page once answered that with no row at all, because the empty ``category`` failed
validation. These tests submit each list page's filter form as a browser does, and each API
list endpoint with every filter present and empty.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import django_filters
import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from compliance.filters import FilterSet, without_empty_values
from compliance.meetings.services import action_item_create
from controls.models import ControlStatus
from evidence.services import evidence_create
from people.services import person_create
from policies.services import policy_create
from tests.conftest import World
from tests.factories import ControlFactory
from tests.pages import read_page
from vendors.services import vendor_create

pytestmark = pytest.mark.django_db

# Every list page with a filter form, by URL name (kwargs besides the organization).
ENGAGEMENT = "the listed engagement"  # replaced by its id in the tests
QUESTIONNAIRE = "the listed questionnaire"  # likewise
FILTERED_PAGES: list[tuple[str, dict[str, str]]] = [
    ("control_list", {}),
    ("evidence_list", {}),
    ("policy_list", {}),
    ("person_list", {}),
    ("person_completion", {}),
    ("vendor_list", {}),
    ("control_test_list", {}),
    ("audit_trail", {}),
    ("framework_detail", {"slug": "tsc"}),
    ("weekly", {}),
    ("gap_analysis", {}),
    ("trust_request_list", {}),
    ("audit_requests", {"audit": ENGAGEMENT}),
    ("answer_entry_list", {}),
    ("questionnaire_list", {}),
    ("questionnaire_detail", {"pk": QUESTIONNAIRE}),
]
TEMPLATES = Path(settings.BASE_DIR) / "templates"


@pytest.fixture
def listed(world: World) -> World:
    """A row or two on each list, so that a form that filters everything out shows."""
    admin = world.users["admin"]
    today = dt.date.today()
    policy_create(actor=admin, organization=world.org, title="Access control", category="access")
    person_create(
        actor=admin, organization=world.org, full_name="Ada Lovelace", email="ada@acme.test",
        start_date=today - dt.timedelta(days=400), department="Engineering",
    )  # fmt: skip
    vendor_create(
        actor=admin, organization=world.org, name="Cloudhost", onboarded_on=today, owner=admin
    )
    evidence_create(
        actor=admin, organization=world.org, title="MFA report", kind="link",
        url="https://example.test/mfa", effective_date=today, controls=[world.control],
    )  # fmt: skip
    action_item_create(
        actor=admin, organization=world.org, title="Name the owners", owner=admin,
        due_on=today + dt.timedelta(days=7),
    )  # fmt: skip
    from audits import pbc_services
    from audits import services as audits_services
    from compliance.models import User

    audit = audits_services.audit_create(
        actor=admin, organization=world.org, adoption=world.adoption, scope=[world.security],
        name="Type I", kind="type1", as_of=today, report_date=today + dt.timedelta(days=30),
    )  # fmt: skip
    audits_services.auditor_invite(actor=admin, audit=audit, email="auditor@acme.test")
    auditor = User.objects.get(email="auditor@acme.test")
    pbc_services.request_create(actor=auditor, audit=audit, title="Org chart")
    world.engagement_id = audit.pk  # type: ignore[attr-defined]
    from tests.trust.docs_helpers import build_docs, submit

    submit(build_docs(world))  # one access request on the trust documents queue
    from tests.trust.library_helpers import questionnaire_xlsx, upload
    from trust.library import services as library_services

    library_services.answer_entry_create(
        actor=admin, organization=world.org, question="Do you encrypt data?", answer="Yes.",
        review_by=today - dt.timedelta(days=1),
    )  # fmt: skip
    questionnaire = library_services.questionnaire_map(
        actor=admin,
        questionnaire=library_services.questionnaire_upload(
            actor=admin, organization=world.org, name="Q",
            upload=upload("q.xlsx", questionnaire_xlsx()),
        ),
        sheet="Questions", question_column=1, answer_column=2,
    )  # fmt: skip
    world.questionnaire_id = questionnaire.pk  # type: ignore[attr-defined]
    return world


def url_of(world: World, name: str, kwargs: dict[str, str]) -> str:
    values = {k: getattr(world, "engagement_id", v) if v == ENGAGEMENT
              else getattr(world, "questionnaire_id", v) if v == QUESTIONNAIRE else v
              for k, v in kwargs.items()}  # fmt: skip
    return reverse(name, kwargs={"org": world.org.slug, **values})


def test_every_template_with_a_filter_form_is_checked_here() -> None:
    with_forms = sorted(
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if 'method="get"' in path.read_text()
    )
    assert with_forms == sorted(
        [
            "controls/control_list.html",
            "controls/framework_detail.html",
            "controls/tests/test_list.html",
            "evidence/evidence_list.html",
            "organizations/audit_trail.html",
            "people/completion.html",
            "people/person_list.html",
            "policies/policy_list.html",
            "reports/gap_analysis.html",
            "trust/documents/request_list.html",
            "vendors/vendor_list.html",
            "weekly/_action_items.html",
            "weekly/week.html",
            "audits/requests.html",
            "trust/library/entry_list.html",
            "trust/library/questionnaire_list.html",
            "trust/library/questionnaire_review.html",
        ]
    ), "a new filter form: add its page to FILTERED_PAGES"


@pytest.mark.parametrize(("name", "kwargs"), FILTERED_PAGES)
def test_a_filter_form_submitted_as_shown_lists_what_the_bare_page_lists(
    listed: World, name: str, kwargs: dict[str, str]
) -> None:
    world = listed
    client = world.client("admin")
    url = url_of(world, name, kwargs)
    bare = client.get(url)
    assert bare.status_code == 200
    page = read_page("http://testserver" + url, bare.content.decode())
    forms = page.get_forms()
    assert forms, f"{url} shows no filter form"
    for form in forms:
        response = client.get(form.url())
        assert response.status_code == 200
        submitted = read_page("http://testserver" + form.url(), response.content.decode())
        assert submitted.rows == page.rows, form.url()
        assert b"form-errors" not in response.content, form.url()


@pytest.mark.parametrize(("name", "kwargs"), FILTERED_PAGES)
def test_each_option_of_each_filter_chosen_alone_is_accepted(
    listed: World, name: str, kwargs: dict[str, str]
) -> None:
    """Choosing one option, the other fields left as shown: never an error, never a 4xx."""
    world = listed
    client = world.client("admin")
    url = url_of(world, name, kwargs)
    page = read_page("http://testserver" + url, client.get(url).content.decode())
    for form in page.get_forms():
        for select in form.selects:
            for option in select.options:
                target = form.url(**{select.name: option})
                response = client.get(target)
                assert response.status_code == 200, target
                assert b"form-errors" not in response.content, target


def test_choosing_a_status_on_the_controls_page_lists_those_controls_and_exports_them(
    world: World,
) -> None:
    ControlFactory(
        organization=world.org, ref_id="OPS-01", name="Backups", status=ControlStatus.IMPLEMENTED
    )
    client = world.client("admin")
    url = reverse("control_list", kwargs={"org": world.org.slug})
    form = read_page("http://testserver" + url, client.get(url).content.decode()).get_forms()[0]
    target = form.url(status=ControlStatus.IMPLEMENTED)
    assert "category=&" in target or target.endswith("category=")  # as the browser sends it
    rows = read_page("http://testserver" + target, client.get(target).content.decode()).rows
    assert len(rows) == 1 and "OPS-01" in rows[0]

    query = urlsplit(target).query
    export = client.get(reverse("control_export", kwargs={"org": world.org.slug}) + "?" + query)
    assert export.status_code == 200
    lines = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert [line[0] for line in lines[1:]] == ["OPS-01"]


def test_blank_values_are_left_out_and_others_kept() -> None:
    from django.http import QueryDict

    data = QueryDict("q=&status=implemented&status=&category=%20&owner=me")
    cleaned = without_empty_values(data)
    assert cleaned.getlist("status") == ["implemented"]
    assert cleaned.get("owner") == "me"
    assert "q" not in cleaned and "category" not in cleaned
    assert without_empty_values({"q": "", "tier": ["high", ""]}).getlist("tier") == ["high"]


# --- the API ------------------------------------------------------------------------------------


def _api_lists() -> list[tuple[str, type[Any]]]:
    """Every API list route with a filter set whose only argument is the organization."""
    found: list[tuple[str, type[Any]]] = []

    def visit(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                visit(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                cls = getattr(pattern.callback, "cls", None)
                actions = getattr(pattern.callback, "actions", None) or {}
                filterset = getattr(cls, "filterset_class", None)
                route = prefix + str(pattern.pattern)
                if (
                    filterset is not None
                    and actions.get("get") == "list"
                    and route.startswith("api/")
                    and "format" not in route
                    and "<" not in route.replace("<slug:org>", "").replace("(?P<org>", "")
                ):
                    found.append((pattern.name or route, filterset))

    visit(get_resolver().url_patterns, "")
    return sorted(set(found), key=lambda item: item[0])


APPS = ("compliance.", "controls.", "evidence.", "policies.", "people.", "vendors.")


def test_every_filter_set_is_built_on_the_base_that_ignores_empty_values() -> None:
    def subclasses(cls: type[Any]) -> list[type[Any]]:
        return [cls, *(s for sub in cls.__subclasses__() for s in subclasses(sub))]

    ours = [
        cls
        for cls in subclasses(django_filters.FilterSet)
        if cls.__module__.startswith(APPS) and cls is not FilterSet
    ]
    assert len(ours) >= 10
    for cls in ours:
        assert issubclass(cls, FilterSet), f"{cls.__module__}.{cls.__name__}"
    for name, filterset in _api_lists():
        assert issubclass(filterset, FilterSet), name


@pytest.mark.parametrize(("name", "filterset"), _api_lists())
def test_an_api_list_ignores_empty_text_filters_and_names_each_empty_typed_one(
    world: World, name: str, filterset: type[Any]
) -> None:
    """Pages send every field of their filter form, so an empty value there means "any" (above).
    An API client spells what it wants: an empty free-text filter still means "any", but an empty
    value for a typed parameter (a boolean, a number, a choice: the schema says which) is a 400
    naming it, as the schema promises, rather than a silently ignored filter."""
    from compliance.api.filters import TYPED

    api = world.api("admin")
    kwargs = {"org": world.org.slug}
    try:
        url = reverse(name, kwargs=kwargs)
    except Exception:
        url = reverse(name)
    bare = api.get(url)
    assert bare.status_code == 200, bare.content
    typed = {key for key, declared in filterset.base_filters.items() if isinstance(declared, TYPED)}
    text = set(filterset.base_filters) - typed
    response = api.get(url, dict.fromkeys(text, ""))
    assert response.status_code == 200, (name, response.content)
    assert response.json()["count"] == bare.json()["count"], name
    if typed:
        response = api.get(url, dict.fromkeys(filterset.base_filters, ""))
        assert response.status_code == 400, (name, response.content)
        assert set(response.json()) == typed, name
