"""The Requests and Findings pages: who may open and post what (every page and action, every
persona), that each page offers only what its viewer may do, My work, and a fixed number of
queries for the list whatever its length."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audits import pbc_services
from audits.models import AuditFinding, AuditRequest, RequestStatus
from compliance.models import AuditEvent
from evidence.models import EvidenceItem
from tests.audits.pbc_world import HIDDEN, Pbc, pbc_fixture, soon  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db

READERS = dict.fromkeys(("admin", "owner", "member", "viewer", "auditor"), 200)
AUDITOR_ONLY = {"admin": 403, "owner": 403, "member": 403, "viewer": 403, "auditor": 200}
NOBODY_ELSE = {**dict.fromkeys(HIDDEN, 404), "anonymous": 302}


def finding_of(p: Pbc) -> AuditFinding:
    return pbc_services.finding_create(
        actor=p.users["auditor"], audit=p.audit, title="Late review", severity="low"
    )


def page_url(name: str, p: Pbc, finding: AuditFinding) -> str:
    if name in ("audit_request_detail",):
        return reverse(name, args=["acme", p.audit.pk, p.request.pk])
    if name == "audit_finding_detail":
        return reverse(name, args=["acme", p.audit.pk, finding.pk])
    return reverse(name, args=["acme", p.audit.pk])


PAGES = {
    "audit_requests": READERS,
    "audit_request_detail": READERS,
    "audit_request_create": AUDITOR_ONLY,
    "audit_findings": READERS,
    "audit_finding_detail": READERS,
    "audit_finding_create": AUDITOR_ONLY,
}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_who_may_open_each_page(pbc: Pbc, name: str) -> None:
    finding = finding_of(pbc)
    expected = {**PAGES[name], **NOBODY_ELSE}
    got = {
        persona: pbc.client(persona).get(page_url(name, pbc, finding)).status_code
        for persona in expected
    }
    assert got == expected


def test_a_request_of_another_engagement_is_not_found_through_this_one(pbc: Pbc) -> None:
    other_request = pbc_services.request_create(
        actor=pbc.users["other_auditor"], audit=pbc.other, title="Population"
    )
    wrong = reverse("audit_request_detail", args=["acme", pbc.audit.pk, other_request.pk])
    assert pbc.client("admin").get(wrong).status_code == 404
    assert pbc.client("auditor").get(wrong).status_code == 404


def action_url(p: Pbc, action: str) -> str:
    return reverse("audit_request_action", args=["acme", p.audit.pk, p.request.pk, action])


def prepare(p: Pbc, state: str) -> None:
    if state in ("assigned", "submitted"):
        pbc_services.request_assign(
            actor=p.users["admin"], request=p.request, assignee=p.users["owner"]
        )
    if state == "submitted":
        pbc_services.request_attach(actor=p.users["owner"], request=p.request, items=[p.evidence])
        pbc_services.request_submit(actor=p.users["owner"], request=p.request)


# action: (state it starts from, data, who is allowed)
ACTIONS = {
    "assign": ("open", lambda p: {"assignee": p.users["owner"].pk}, {"admin"}),
    "attach": ("assigned", lambda p: {"evidence": [p.evidence.pk]}, {"admin", "owner"}),
    "comment": ("assigned", lambda p: {"body": "Hello"}, {"admin", "owner", "auditor"}),
    "accept": ("submitted", lambda p: {"body": ""}, {"auditor"}),
    "return": ("submitted", lambda p: {"body": "Wrong quarter"}, {"auditor"}),
    "close": ("assigned", lambda p: {"body": ""}, {"auditor"}),
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("persona", ["admin", "owner", "member", "viewer", "auditor", *HIDDEN])
def test_who_may_take_each_action_on_a_request(pbc: Pbc, action: str, persona: str) -> None:
    state, data, allowed = ACTIONS[action]
    prepare(pbc, state)
    before = (pbc.fresh().status, AuditEvent.objects.count())
    response = pbc.client(persona).post(action_url(pbc, action), data(pbc))
    if persona in allowed:
        assert response.status_code == 302, response.content.decode()[:2000]
        assert AuditEvent.objects.count() > before[1]
    else:
        assert response.status_code == (404 if persona in HIDDEN else 403)
        assert (pbc.fresh().status, AuditEvent.objects.count()) == before


def test_an_unknown_action_is_not_found(pbc: Pbc) -> None:
    assert pbc.client("admin").post(action_url(pbc, "explode")).status_code == 404


def test_each_page_offers_only_what_its_viewer_may_do(pbc: Pbc) -> None:
    detail = reverse("audit_request_detail", args=["acme", pbc.audit.pk, pbc.request.pk])
    listing = reverse("audit_requests", args=["acme", pbc.audit.pk])
    shown = lambda persona, url: pbc.client(persona).get(url).content.decode()  # noqa: E731
    assert 'data-testid="new-request"' in shown("auditor", listing)
    for persona in ("admin", "owner", "viewer"):
        assert 'data-testid="new-request"' not in shown(persona, listing)
    admin, auditor, owner, viewer = (
        shown(p, detail) for p in ("admin", "auditor", "owner", "viewer")
    )
    assert 'data-testid="assign-form"' in admin and 'data-testid="assign-form"' not in auditor
    assert 'data-testid="attach-form"' not in owner  # not assigned yet
    assert 'data-testid="comment-form"' not in viewer and 'data-testid="close"' in auditor
    prepare(pbc, "assigned")
    owner, member = shown("owner", detail), shown("member", detail)
    assert 'data-testid="attach-form"' in owner and 'data-testid="upload-form"' in owner
    assert 'data-testid="submit"' in owner and 'data-testid="assign-form"' not in owner
    assert 'data-testid="attach-form"' not in member and 'data-testid="comment-form"' not in member
    assert 'data-testid="accept"' not in shown("auditor", detail)


def test_the_journey_through_the_pages_with_a_clear_error_on_bad_input(pbc: Pbc) -> None:
    auditor, admin, owner = pbc.client("auditor"), pbc.client("admin"), pbc.client("owner")
    create = reverse("audit_request_create", args=["acme", pbc.audit.pk])
    bad = auditor.post(create, {"title": "Tickets", "due_date": "2020-01-01"})
    assert bad.status_code == 400 and AuditRequest.objects.count() == 1
    assert "past" in bad.content.decode()
    made = auditor.post(
        create, {"title": "Change tickets", "control": pbc.world.control.pk, "due_date": soon()}
    )
    request = AuditRequest.objects.get(number=2)
    assert made["Location"] == reverse(
        "audit_request_detail", args=["acme", pbc.audit.pk, request.pk]
    )
    url = lambda action: reverse(  # noqa: E731
        "audit_request_action", args=["acme", pbc.audit.pk, request.pk, action]
    )
    assert admin.post(url("assign"), {"assignee": pbc.users["viewer"].pk}).status_code == 400
    assert admin.post(url("assign"), {"assignee": pbc.users["owner"].pk}).status_code == 302
    assert owner.post(url("submit"), {}).status_code == 400  # nothing attached yet
    upload = owner.post(
        url("upload"),
        {"title": "Tickets", "kind": "note", "note": "Ticket list", "effective_date": "2026-05-01"},
    )
    assert upload.status_code == 302
    assert owner.post(url("submit"), {"body": "Attached."}).status_code == 302
    assert auditor.post(url("accept"), {}).status_code == 302
    request.refresh_from_db()
    assert request.status == RequestStatus.ACCEPTED and request.evidence.count() == 1


def test_an_auditor_downloads_the_file_attached_to_a_request(
    pbc: Pbc, make_evidence: Callable[..., EvidenceItem]
) -> None:
    earlier = make_evidence(dt.date(2025, 5, 1), title="Last year's review")
    prepare(pbc, "assigned")
    pbc_services.request_attach(actor=pbc.users["owner"], request=pbc.request, items=[earlier])
    detail = pbc.client("auditor").get(
        reverse("audit_request_detail", args=["acme", pbc.audit.pk, pbc.request.pk])
    )
    download = reverse(
        "audit_evidence_download", args=["acme", pbc.audit.pk, earlier.latest_revision_id]
    )
    assert download in detail.content.decode()
    assert pbc.client("auditor").get(download).status_code == 200
    other = reverse(
        "audit_evidence_download", args=["acme", pbc.other.pk, earlier.latest_revision_id]
    )
    assert pbc.client("other_auditor").get(other).status_code == 404


def test_findings_pages_raise_edit_respond_and_close(pbc: Pbc) -> None:
    auditor, admin = pbc.client("auditor"), pbc.client("admin")
    create = reverse("audit_finding_create", args=["acme", pbc.audit.pk])
    assert auditor.post(create, {"title": "", "severity": "grave"}).status_code == 400
    made = auditor.post(
        create, {"title": "Late review", "severity": "high", "controls": [pbc.world.control.pk]}
    )
    finding = AuditFinding.objects.get()
    assert made.status_code == 302
    url = lambda action: reverse(  # noqa: E731
        "audit_finding_action", args=["acme", pbc.audit.pk, finding.pk, action]
    )
    assert admin.post(url("edit"), {"title": "Hidden", "severity": "low"}).status_code == 403
    assert auditor.post(url("respond"), {"management_response": "x"}).status_code == 403
    assert pbc.client("owner").post(url("close")).status_code == 403
    assert admin.post(url("respond"), {"management_response": ""}).status_code == 400
    assert admin.post(url("respond"), {"management_response": "Fixed."}).status_code == 302
    assert auditor.post(url("edit"), {"title": "Late", "severity": "moderate"}).status_code == 302
    assert auditor.post(url("close")).status_code == 302
    finding.refresh_from_db()
    assert (finding.title, finding.status, finding.management_response) == (
        "Late",
        "closed",
        "Fixed.",
    )
    listing = pbc.client("viewer").get(reverse("audit_findings", args=["acme", pbc.audit.pk]))
    assert "Late" in listing.content.decode() and "High" not in listing.content.decode()


def test_my_work_shows_the_assignee_their_requests_to_answer(pbc: Pbc) -> None:
    prepare(pbc, "assigned")
    my_work = reverse("my_work", args=["acme"])
    detail = reverse("audit_request_detail", args=["acme", pbc.audit.pk, pbc.request.pk])
    assert detail in pbc.client("owner").get(my_work).content.decode()
    assert detail not in pbc.client("member").get(my_work).content.decode()
    pbc_services.request_attach(actor=pbc.users["owner"], request=pbc.request, items=[pbc.evidence])
    pbc_services.request_submit(actor=pbc.users["owner"], request=pbc.request)
    assert detail not in pbc.client("owner").get(my_work).content.decode()


def test_the_list_costs_the_same_queries_for_few_or_many_requests(pbc: Pbc) -> None:
    url = reverse("audit_requests", args=["acme", pbc.audit.pk])

    def queries(persona: str) -> int:
        client = pbc.client(persona)
        client.get(url)  # warm sessions and caches
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    few = {p: queries(p) for p in ("admin", "auditor")}
    for n in range(12):
        made = pbc_services.request_create(
            actor=pbc.users["auditor"], audit=pbc.audit, title=f"Request {n}",
            control=pbc.world.control,
        )  # fmt: skip
        pbc_services.request_assign(
            actor=pbc.users["admin"], request=made, assignee=pbc.users["owner"]
        )
    assert {p: queries(p) for p in ("admin", "auditor")} == few


def test_the_findings_list_and_a_request_page_cost_the_same_queries_at_any_size(
    pbc: Pbc, make_evidence: Callable[..., EvidenceItem]
) -> None:
    findings = reverse("audit_findings", args=["acme", pbc.audit.pk])
    detail = reverse("audit_request_detail", args=["acme", pbc.audit.pk, pbc.request.pk])
    prepare(pbc, "assigned")
    pbc_services.request_attach(actor=pbc.users["owner"], request=pbc.request, items=[pbc.evidence])
    finding_of(pbc)

    def queries(persona: str, url: str) -> int:
        client = pbc.client(persona)
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    cases = [(p, u) for p in ("admin", "auditor", "owner") for u in (findings, detail)]
    few = [queries(p, u) for p, u in cases]
    for n in range(8):
        pbc_services.finding_create(
            actor=pbc.users["auditor"], audit=pbc.audit, title=f"Finding {n}", severity="low",
            controls=[pbc.world.control, pbc.world.unowned_control],
        )  # fmt: skip
        item = make_evidence(dt.date(2026, 4, 1 + n), title=f"Evidence {n}")
        pbc_services.request_attach(actor=pbc.users["owner"], request=pbc.request, items=[item])
        pbc_services.request_comment(actor=pbc.users["owner"], request=pbc.request, body=f"{n}")
    assert [queries(p, u) for p, u in cases] == few
