"""The gap analysis report: each section lists exactly its gaps (from the stored readiness), the
XLSX holds them all with formulas neutralised, the PDF carries the section titles and counts,
a framework the organization did not adopt is refused, and the cost does not grow with data."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import tempfile
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from compliance.models import User
from compliance.reports.gap import SECTIONS, framework_reports
from compliance.reports.xlsx import safe_text
from controls.models import Control, ControlStatus, Frequency
from evidence.models import EvidenceItem, EvidenceKind, EvidenceRevision, ReviewStatus
from people.models import Person, PersonnelRequirement, RequirementKind
from tests.conftest import World
from tests.controls.monitoring_helpers import make_run, make_test
from tests.factories import ControlFactory, map_control, recompute
from tests.policies.factories import make_policy
from vendors.models import Vendor

pytestmark = pytest.mark.django_db

PAGE = "/o/acme/reports/gap-analysis/"
XLSX = "/o/acme/reports/gap-analysis.xlsx"
PDF = "/o/acme/reports/gap-analysis.pdf"
API = "/api/organizations/acme/reports/gap-analysis"
PDFTOTEXT = "/usr/bin/pdftotext"
INJECTIONS = ['=HYPERLINK("http://evil.test","click")', "+1+2", "-3", "@SUM(A1)", "\tTab"]


def implemented(world: World, ref: str, **fields: Any) -> Control:
    values = {"status": ControlStatus.IMPLEMENTED, "frequency": Frequency.EVENT_DRIVEN, **fields}
    control = ControlFactory(
        organization=world.org, ref_id=ref, owner=world.users["owner"], **values
    )
    map_control(control, world.req_a)
    return control


def gaps(world: World) -> None:
    """One gap of every kind on the framework's controls, and what must not show: a control of
    an out-of-scope requirement, an archived one, and Globex's."""
    today = timezone.localdate()
    implemented(world, "EV-01", frequency=Frequency.MONTHLY)  # no evidence
    stale = implemented(world, "EV-03", frequency=Frequency.MONTHLY)
    item = EvidenceItem.objects.create(
        organization=world.org, title="Old report", kind=EvidenceKind.NOTE,
        effective_date=today - dt.timedelta(days=200),
    )  # fmt: skip
    item.controls.add(stale)
    EvidenceRevision.objects.create(
        item=item, number=1, note="x", review_status=ReviewStatus.ACCEPTED
    )
    make_policy(world, controls=(implemented(world, "POL-01"),))
    failing = make_test(world, implemented(world, "TST-01"), name="MFA enforced")
    make_run(failing, {"alice": "fail", "bob": "pass"})
    hr = implemented(world, "HR-01")
    PersonnelRequirement.objects.create(
        organization=world.org, kind=RequirementKind.BACKGROUND_CHECK, control=hr
    )
    Person.objects.create(
        organization=world.org, full_name="New Hire", email="new@acme.test",
        start_date=today - dt.timedelta(days=30),
    )  # fmt: skip
    Vendor.objects.create(
        organization=world.org, name="Payroll Co", owner=world.users["admin"],
        onboarded_on=today - dt.timedelta(days=400),
    )  # fmt: skip
    out = ControlFactory(organization=world.org, ref_id="OUT-01", frequency=Frequency.MONTHLY,
                         status=ControlStatus.IMPLEMENTED)  # fmt: skip
    map_control(out, world.req_optional)
    archived = ControlFactory(organization=world.org, ref_id="OLD-01", archived_at=timezone.now())
    map_control(archived, world.req_a)
    ControlFactory(organization=world.other_org, ref_id="GX-01", status=ControlStatus.IMPLEMENTED,
                   frequency=Frequency.MONTHLY)  # fmt: skip
    recompute(world.org, world.other_org)


def sections(world: World, persona: str = "viewer") -> dict[str, list[Any]]:
    user = world.users[persona]
    (report,) = framework_reports(user=user, organization=world.org, slug="tsc")
    return {section.key: list(report.rows(section)) for section in report.sections}


def test_each_section_lists_exactly_its_gaps(world: World) -> None:
    gaps(world)
    found = sections(world)
    items = {key: [row.item.split()[0] for row in rows] for key, rows in found.items()}
    assert items == {
        "requirements": ["SEC1.3"],
        "unowned": ["CHG-01"],
        "not_implemented": ["CHG-01", "IAM-01"],
        "evidence": ["EV-01", "EV-03"],
        "tests": ["TST-01"],
        "policies": ["POL-01"],
        "people": ["HR-01"],
        "vendors": ["Payroll"],
    }
    site = settings.SITE_URL
    (evidence_missing, evidence_stale) = found["evidence"]
    assert evidence_missing.detail.startswith("Evidence missing: ")
    assert evidence_missing.owner == "Owner" and evidence_missing.due is None
    assert evidence_stale.detail.startswith("Evidence stale: Evidence went stale on")
    assert evidence_stale.due is not None and evidence_stale.due < timezone.localdate()
    assert found["tests"][0].detail.startswith("Automated test failing")
    assert found["policies"][0].detail.startswith("Policy not approved")
    assert found["people"][0].detail.startswith("Personnel requirement overdue")
    assert (
        found["people"][0].url
        == f"{site}/o/acme/people/?requirement=background_check&state=overdue"
    )
    (vendor,) = found["vendors"]
    assert vendor.detail.startswith("Never reviewed") and vendor.owner == "Admin"
    assert vendor.due == timezone.localdate() - dt.timedelta(days=400)
    (requirement,) = found["requirements"]
    assert requirement.url == f"{site}/o/acme/requirements/{world.req_gap.pk}/"
    assert requirement.owner == "" and requirement.due is None
    unowned = found["unowned"][0]
    assert unowned.url == f"{site}/o/acme/controls/{world.unowned_control.pk}/"
    assert unowned.owner == "" and unowned.detail == "No owner (Not started)"
    # Every link is absolute, into this organization.
    for rows in found.values():
        for row in rows:
            assert row.url.startswith(f"{site}/o/acme/"), row


def test_an_organization_without_gaps_has_empty_sections(world: World) -> None:
    Control.objects.filter(organization=world.org).update(
        status=ControlStatus.IMPLEMENTED, owner=world.users["owner"]
    )
    map_control(ControlFactory(organization=world.org, status=ControlStatus.IMPLEMENTED,
                               owner=world.users["owner"]), world.req_gap)  # fmt: skip
    recompute(world.org)
    assert all(rows == [] for rows in sections(world).values())


def test_the_page_shows_each_section_with_its_total_and_download_links(world: World) -> None:
    gaps(world)
    html = world.client("member").get(PAGE).content.decode()
    for section in SECTIONS:
        assert section.title in html
    assert 'data-testid="count-evidence">2<' in html
    assert 'data-testid="count-not_implemented">2<' in html
    assert 'href="/o/acme/reports/gap-analysis.xlsx"' in html
    assert 'href="/o/acme/reports/gap-analysis.pdf"' in html
    assert "GX-01" not in html and "OUT-01" not in html and "OLD-01" not in html
    picked = world.client("member").get(PAGE + "?framework=tsc").content.decode()
    assert 'href="/o/acme/reports/gap-analysis.xlsx?framework=tsc"' in picked
    assert '<option value="tsc" selected>' in picked


def test_the_page_caps_each_section_and_says_how_many_more(world: World) -> None:
    for i in range(55):
        map_control(ControlFactory(organization=world.org, ref_id=f"NEW-{i:02d}"), world.req_b)
    recompute(world.org)
    html = world.client("viewer").get(PAGE).content.decode()
    assert 'data-testid="count-unowned">56<' in html
    assert "50 of 56 shown." in html
    assert "NEW-48" in html and "NEW-49" not in html  # CHG-01 first, then NEW-00…NEW-48


def test_a_framework_not_adopted_is_refused(world: World) -> None:
    html = world.client("admin").get(PAGE + "?framework=iso27001").content.decode()
    assert (
        "“iso27001” is not a framework this organization adopted. Every adopted framework is "
        "shown." in html
    )
    assert 'data-testid="gap-framework"' in html  # the adopted one, instead
    for url in (XLSX, PDF):
        assert world.client("admin").get(url + "?framework=iso27001").status_code == 404
    for ext in ("xlsx", "pdf"):
        response = world.api("admin").get(f"{API}.{ext}", {"framework": "iso27001"})
        assert response.status_code == 400
        assert "iso27001" in response.json()["framework"][0]


def read_xlsx(response: Any) -> Any:
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def test_the_xlsx_has_a_summary_and_a_sheet_per_section(world: World) -> None:
    gaps(world)
    book = read_xlsx(world.client("viewer").get(XLSX + "?framework=tsc"))
    assert book.sheetnames == ["Summary"] + [section.title for section in SECTIONS]
    evidence = book["Evidence missing or stale"]
    rows = list(evidence.iter_rows(values_only=True))
    assert rows[0] == ("Item", "Detail", "Owner", "Due", "Link")
    assert [row[0].split()[0] for row in rows[1:]] == ["EV-01", "EV-03"]
    stale = rows[2]
    assert isinstance(stale[3], dt.datetime)  # a real date cell, not text
    assert stale[4].startswith(f"{settings.SITE_URL}/o/acme/")
    summary = {row[0]: row[1:] for row in book["Summary"].iter_rows(values_only=True) if row[0]}
    assert summary["Framework"][0] == "Test Services Criteria"
    assert summary["Evidence missing or stale"][:2] == ("Evidence missing or stale", 2)
    assert summary["Vendor reviews overdue"][1] == 1
    assert summary["Readiness now (%)"][0] == 0


def test_the_xlsx_neutralises_formulas_in_every_text_cell(world: World) -> None:
    for index, name in enumerate(INJECTIONS):
        control = ControlFactory(organization=world.org, ref_id=f"X-{index}", name=name)
        map_control(control, world.req_a)
    User.objects.filter(pk=world.users["owner"].pk).update(full_name="=cmd|' /C calc'!A0")
    Control.objects.filter(organization=world.org, ref_id__startswith="X-").update(
        owner=world.users["owner"]
    )
    recompute(world.org)
    book = read_xlsx(world.api("viewer").get(f"{API}.xlsx"))
    rows = list(book["Controls not implemented"].iter_rows(values_only=True))[1:]
    by_ref = {row[0].split(" ", 1)[0]: row for row in rows}
    for index, name in enumerate(INJECTIONS):
        row = by_ref[f"X-{index}"]
        assert row[0] == f"X-{index} {name}"  # starts with the ref: already safe
        assert row[2] == "'=cmd|' /C calc'!A0"
    # A section whose first column is the name itself: a requirement titled as a formula.
    world.req_gap.ref_id = "=1+1"
    world.req_gap.save()
    book = read_xlsx(world.client("viewer").get(XLSX))
    cells = [row[0] for row in book["Requirements without controls"].iter_rows(values_only=True)]
    assert cells[1].startswith("'=1+1 ")
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    assert [safe_text(v) for v in INJECTIONS] == ["'" + v for v in INJECTIONS]


def pdf_text(response: Any) -> str:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    with tempfile.NamedTemporaryFile(suffix=".pdf") as pdf:
        pdf.write(b"".join(response.streaming_content))
        pdf.flush()
        return subprocess.run(  # noqa: S603 - a fixed command line (poppler-utils)
            [PDFTOTEXT, "-layout", pdf.name, "-"], capture_output=True, text=True, check=True
        ).stdout


def test_the_pdf_has_the_summary_and_every_section_with_its_count(world: World) -> None:
    gaps(world)
    body = b"".join(world.client("admin").get(PDF + "?framework=tsc").streaming_content)
    assert b"/Subtype /Image" not in body  # no snapshot yet: no chart
    text = pdf_text(world.client("admin").get(PDF + "?framework=tsc"))
    assert "Gap analysis: Test Services Criteria" in text
    assert "Readiness now" in text and "0% (0 of 3 requirements ready)" in text
    assert "No weekly snapshots yet" in text
    for section in SECTIONS:
        assert section.title in text, section.title
    assert "Evidence missing or stale (2)" in text
    assert "Controls not implemented (2)" in text
    assert "Vendor reviews overdue (1)" in text
    assert "EV-01" in text and "Payroll Co" in text and "GX-01" not in text


def test_the_pdf_caps_a_long_section_and_says_so(world: World, monkeypatch: Any) -> None:
    from compliance.reports import pdf

    monkeypatch.setattr(pdf, "PDF_SECTION_LIMIT", 3)
    for i in range(5):
        map_control(ControlFactory(organization=world.org, ref_id=f"NEW-{i:02d}"), world.req_b)
    recompute(world.org)
    text = pdf_text(world.api("viewer").get(f"{API}.pdf"))
    assert "Controls without owners (6)" in text
    assert "And 3 more: the first 3 of 6 are shown here; see the XLSX" in " ".join(text.split())


def add_gaps(world: World, count: int, start: int = 0) -> None:
    """``count`` more gaps of every control kind: unowned and not implemented, without
    evidence and under an unapproved policy; and vendors never reviewed."""
    today = timezone.localdate()
    controls = []
    for i in range(start, start + count):
        map_control(ControlFactory(organization=world.org, ref_id=f"N-{i:03d}"), world.req_b)
        controls.append(implemented(world, f"E-{i:03d}", frequency=Frequency.MONTHLY))
        Vendor.objects.create(
            organization=world.org, name=f"Vendor {i}", onboarded_on=today - dt.timedelta(days=400)
        )
    make_policy(world, title=f"Policy {start}", controls=tuple(controls))
    recompute(world.org)


def query_count(client: Any, url: str) -> tuple[int, int]:
    """The queries of one request, and the size of its response."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        assert response.status_code == 200
        body = (
            b"".join(response.streaming_content)
            if hasattr(response, "streaming_content")
            else response.content
        )
    return len(captured.captured_queries), len(body)


@pytest.mark.parametrize("url", [PAGE, XLSX, PDF, f"{API}.xlsx", f"{API}.pdf"])
def test_query_count_does_not_grow_with_gaps(world: World, url: str) -> None:
    client = world.api("viewer") if url.startswith("/api/") else world.client("viewer")
    add_gaps(world, 3)
    query_count(client, url)  # the first request of a session writes it once
    small, small_size = query_count(client, url)
    add_gaps(world, 60, start=3)
    large, large_size = query_count(client, url)
    assert large == small, (small, large)
    assert large_size > small_size  # the rows are there


def test_the_pdf_carries_the_trend_chart_and_the_summary_the_snapshots(world: World) -> None:
    from compliance.snapshots import last_completed_week, snapshots_create, weeks_to_fill
    from controls.models import AdoptedFramework

    AdoptedFramework.objects.filter(organization=world.org).update(
        adopted_at=timezone.now() - dt.timedelta(weeks=4)
    )
    snapshots_create(
        organization=world.org,
        weeks=weeks_to_fill(world.org, latest=last_completed_week(world.org), count=3),
    )
    response = world.client("viewer").get(PDF)
    body = b"".join(response.streaming_content)
    assert b"/Subtype /Image" in body  # the chart (a PNG: its image and its alpha mask)
    text = pdf_text(world.client("viewer").get(PDF))
    assert "No weekly snapshots yet" not in text
    book = read_xlsx(world.client("viewer").get(XLSX))
    weeks = [
        row
        for row in book["Summary"].iter_rows(values_only=True)
        if row[0] and str(row[0])[:4].isdigit()
    ]
    assert len(weeks) == 3 and all(row[2] == 0 for row in weeks)  # three weeks at 0 %
