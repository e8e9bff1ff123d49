"""The requests and findings API: who may read and write what (every persona), JSON errors
naming the field, and the schema's "audits" tag."""

from __future__ import annotations

import pytest

from audits import pbc_services
from audits.models import AuditFinding, AuditRequest, RequestStatus
from compliance.models import AuditEvent
from tests.audits.pbc_world import HIDDEN, Pbc, pbc_fixture, soon  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db

PERSONAS = ["admin", "owner", "member", "viewer", "auditor", *HIDDEN, "anonymous"]


def requests_url(p: Pbc, *rest: object) -> str:
    base = f"/api/organizations/acme/audits/{p.audit.pk}/requests/"
    return base + "".join(f"{r}/" for r in rest)


def findings_url(p: Pbc, *rest: object) -> str:
    base = f"/api/organizations/acme/audits/{p.audit.pk}/findings/"
    return base + "".join(f"{r}/" for r in rest)


def refused(persona: str) -> int:
    if persona == "anonymous":
        return 401
    return 404 if persona in HIDDEN else 403


@pytest.mark.parametrize("persona", PERSONAS)
def test_readers_and_the_engagements_auditor_read_requests_and_findings(
    pbc: Pbc, persona: str
) -> None:
    pbc_services.finding_create(
        actor=pbc.users["auditor"], audit=pbc.audit, title="Late", severity="low"
    )
    client = pbc.api(persona)
    urls = [requests_url(pbc), requests_url(pbc, pbc.request.pk), findings_url(pbc)]
    got = [client.get(url).status_code for url in urls]
    if persona in ("admin", "owner", "member", "viewer", "auditor"):
        assert got == [200, 200, 200]
        listed = client.get(requests_url(pbc)).json()
        assert [r["reference"] for r in listed["results"]] == ["PBC-1"]
    else:
        expected = 401 if persona == "anonymous" else 404
        assert got == [expected] * 3


def _prepare(p: Pbc, state: str) -> None:
    if state in ("assigned", "submitted"):
        pbc_services.request_assign(
            actor=p.users["admin"], request=p.request, assignee=p.users["owner"]
        )
    if state == "submitted":
        pbc_services.request_attach(actor=p.users["owner"], request=p.request, items=[p.evidence])
        pbc_services.request_submit(actor=p.users["owner"], request=p.request)


ACTIONS = {
    "create": (None, lambda p: {"title": "Org chart", "due_date": str(soon())}, {"auditor"}),
    "assign": ("open", lambda p: {"assignee": p.users["owner"].pk}, {"admin"}),
    "attach": ("assigned", lambda p: {"evidence": [p.evidence.pk]}, {"admin", "owner"}),
    "comment": ("assigned", lambda p: {"body": "Hello"}, {"admin", "owner", "auditor"}),
    "accept": ("submitted", lambda p: {}, {"auditor"}),
    "return": ("submitted", lambda p: {"body": "Wrong quarter"}, {"auditor"}),
    "close": ("assigned", lambda p: {}, {"auditor"}),
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_take_each_action_over_the_api(pbc: Pbc, action: str, persona: str) -> None:
    state, data, allowed = ACTIONS[action]
    if state:
        _prepare(pbc, state)
    url = requests_url(pbc) if action == "create" else requests_url(pbc, pbc.request.pk, action)
    before = (AuditRequest.objects.count(), pbc.fresh().status, AuditEvent.objects.count())
    response = pbc.api(persona).post(url, data(pbc), format="json")
    if persona in allowed:
        assert response.status_code in (200, 201), response.content
    else:
        assert response.status_code == refused(persona), response.content
        after = (AuditRequest.objects.count(), pbc.fresh().status, AuditEvent.objects.count())
        assert after == before


def test_api_errors_name_the_field_and_change_nothing(pbc: Pbc) -> None:
    auditor, admin = pbc.api("auditor"), pbc.api("admin")
    events = AuditEvent.objects.count()
    bad = auditor.post(
        requests_url(pbc),
        {"title": "", "control": pbc.world.foreign_control.pk, "colour": "red"},
        format="json",
    )
    assert bad.status_code == 400 and set(bad.json()) >= {"colour"}
    bad = auditor.post(
        requests_url(pbc),
        {"title": "Backups", "control": pbc.world.foreign_control.pk},
        format="json",
    )
    assert bad.status_code == 400 and "control" in bad.json()
    bad = auditor.post(requests_url(pbc), {"title": "x", "due_date": "2020-01-01"}, format="json")
    assert bad.status_code == 400 and "due_date" in bad.json()
    bad = admin.post(
        requests_url(pbc, pbc.request.pk, "assign"),
        {"assignee": pbc.users["viewer"].pk},
        format="json",
    )
    assert bad.status_code == 400 and "assignee" in bad.json()
    bad = auditor.post(requests_url(pbc, pbc.request.pk, "return"), {"body": ""}, format="json")
    assert bad.status_code == 400
    bad = auditor.post(findings_url(pbc), {"title": "x", "severity": "grave"}, format="json")
    assert bad.status_code == 400 and "severity" in bad.json()
    assert AuditRequest.objects.count() == 1 and not AuditFinding.objects.exists()
    assert AuditEvent.objects.count() == events


def test_the_whole_exchange_over_the_api(pbc: Pbc) -> None:
    auditor, admin, owner = pbc.api("auditor"), pbc.api("admin"), pbc.api("owner")
    pk = pbc.request.pk
    admin.post(requests_url(pbc, pk, "assign"), {"assignee": pbc.users["owner"].pk}, format="json")
    owner.post(requests_url(pbc, pk, "attach"), {"evidence": [pbc.evidence.pk]}, format="json")
    owner.post(requests_url(pbc, pk, "submit"), {"body": "Here."}, format="json")
    done = auditor.post(requests_url(pbc, pk, "accept"), {}, format="json").json()
    assert done["status"] == RequestStatus.ACCEPTED
    assert [e["title"] for e in done["evidence"]] == ["Q1 access review"]
    assert done["evidence"][0]["download_url"].endswith(
        f"/evidence/revisions/{pbc.evidence.latest_revision_id}/download/"
    )
    assert [c["status_to"] for c in done["comments"]] == ["assigned", "submitted", "accepted"]

    made = auditor.post(
        findings_url(pbc),
        {"title": "Late", "severity": "moderate", "controls": [pbc.world.control.pk]},
        format="json",
    )
    assert made.status_code == 201, made.content
    fid = made.json()["id"]
    assert admin.patch(findings_url(pbc, fid), {"title": "No"}, format="json").status_code == 403
    edited = auditor.patch(findings_url(pbc, fid), {"severity": "high"}, format="json")
    assert edited.json()["severity"] == "high" and edited.json()["title"] == "Late"
    assert (
        auditor.post(
            findings_url(pbc, fid, "response"), {"management_response": "x"}, format="json"
        ).status_code
        == 403
    )
    answered = admin.post(
        findings_url(pbc, fid, "response"), {"management_response": "Fixed."}, format="json"
    )
    assert answered.json()["status"] == "responded"
    assert auditor.post(findings_url(pbc, fid, "close"), format="json").json()["status"] == "closed"


def test_the_schema_tags_the_engagement_endpoints_audits(pbc: Pbc) -> None:
    schema = pbc.api("admin").get("/api/schema/?format=json").json()
    paths = [p for p in schema["paths"] if "/audits/" in p]
    assert paths
    for path in paths:
        for operation in schema["paths"][path].values():
            assert operation["tags"] == ["audits"]
