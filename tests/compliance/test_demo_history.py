"""The demo's ten weeks of history: the snapshots backfilled from it rise from about 15 % to about
60 % with a forecast, and every date in the demo database agrees with the others (nothing
approved after it took effect, acknowledged before it was approved or sent, reviewed before it
was uploaded, dated after now, or before the thing it belongs to existed)."""

from __future__ import annotations

import datetime as dt
import os
import time
from itertools import pairwise
from pathlib import Path

import pytest
from django.apps import apps
from django.db import models
from django.db.models import Min
from django.utils import timezone

from compliance import demo
from compliance.forecast import ForecastStatus
from compliance.meetings.weeks import local_date
from compliance.models import Organization, ReadinessSnapshot, User
from compliance.selectors import framework_forecast, long_lead_after_audit
from compliance.snapshots import last_completed_week
from controls.models import (
    AdoptedFramework,
    Control,
    ControlRequirement,
    ControlStatusChange,
    ControlTest,
    Finding,
    TestRun,
)
from evidence.models import (
    EvidenceRequest,
    EvidenceRevision,
    OccurrenceStatusChange,
    RequestOccurrence,
)
from evidence.services import integrity_sweep
from people.models import PersonnelRecord
from policies.models import Acknowledgement, PolicyVersion
from vendors.models import ReportException, UserEntityControl, VendorDocument, VendorReview

# Date-times that are meant to lie ahead: when an auditor's access ends, when a test runs next.
FUTURE_BY_DESIGN = {
    ("Membership", "expires_at"),
    ("ControlTest", "next_run_at"),
    # Links that are still open: a questionnaire awaiting answers, a granted download link.
    ("SentQuestionnaire", "expires_at"),
    ("AccessGrant", "expires_at"),
}
APPS = {"compliance", "controls", "evidence", "policies", "people", "vendors"}


@pytest.fixture
def northwind(db: None) -> Organization:
    return demo.seed_demo()


def test_the_demo_snapshots_rise_over_ten_weeks_to_a_forecast(northwind: Organization) -> None:
    adoption = AdoptedFramework.objects.get(organization=northwind, framework__slug="soc2")
    snapshots = list(
        ReadinessSnapshot.objects.filter(organization=northwind, framework=adoption.framework)
        .order_by("week")
        .values_list("week", "percent")
    )
    weeks = [week for week, _ in snapshots]
    percents = [percent for _, percent in snapshots]
    last = last_completed_week(northwind)
    assert weeks == [last - dt.timedelta(weeks=n) for n in range(9, -1, -1)]
    assert percents[0] <= 20 and percents[-1] >= 55
    assert all(after - before >= -3 for before, after in pairwise(percents))  # small dips only
    assert sum(after > before for before, after in pairwise(percents)) >= 6  # rising

    dana = User.objects.get(email="dana@northwind.test")
    forecast = framework_forecast(user=dana, adoption=adoption)
    assert forecast.ready_on is not None
    assert forecast.status in (ForecastStatus.ON_TRACK, ForecastStatus.AT_RISK)
    assert adoption.target_audit_date is not None
    assert (
        timezone.localdate()
        < adoption.target_audit_date
        < forecast.ready_on + dt.timedelta(weeks=26)
    )
    # A long-lead control is due after the audit date, and the page flags it.
    flagged = long_lead_after_audit(user=dana, adoption=adoption)
    assert [c.ref_id for c in flagged] == ["OPS-02"]
    assert Control.objects.filter(
        organization=northwind, long_lead=True, target_date__lte=adoption.target_audit_date
    ).exists()


def test_every_date_in_the_demo_agrees_with_the_others(northwind: Organization) -> None:
    now = timezone.now()

    # Nothing dated after now, in any table of the app.
    for model in apps.get_models():
        if model._meta.app_label not in APPS:
            continue
        for field in model._meta.concrete_fields:
            if not isinstance(field, models.DateTimeField):
                continue
            if (model.__name__, field.name) in FUTURE_BY_DESIGN:
                continue
            late = model._default_manager.filter(**{f"{field.name}__gt": now})
            assert not late.exists(), (model.__name__, field.name)

    # Policies: approved the day they took effect, sent after the approval, acknowledged after
    # both; a version no older than its policy.
    versions = PolicyVersion.objects.filter(
        policy__organization=northwind, approved_at__isnull=False
    ).select_related("policy", "distribution")
    assert versions.count() >= 10
    for version in versions:
        assert version.approved_at is not None
        assert local_date(northwind, version.approved_at) == version.effective_date
        assert version.policy.created_at <= version.created_at <= version.approved_at
        if hasattr(version, "distribution"):  # a version replaced before it was sent has none
            assert version.distribution.sent_at >= version.approved_at
    acknowledgements = Acknowledgement.objects.filter(
        version__policy__organization=northwind
    ).select_related("version__distribution")
    assert acknowledgements.count() >= 100
    for ack in acknowledgements:
        assert ack.version.approved_at is not None
        assert ack.acknowledged_at >= ack.version.approved_at
        assert ack.acknowledged_at >= ack.version.distribution.sent_at

    # Evidence: reviewed after it was uploaded, effective no later than the upload, uploaded
    # after its item was created.
    revisions = EvidenceRevision.objects.filter(item__organization=northwind).select_related("item")
    assert revisions.count() >= 60
    for revision in revisions:
        assert revision.item.created_at <= revision.uploaded_at
        if revision.reviewed_at is not None:
            assert revision.reviewed_at >= revision.uploaded_at
        if revision.effective_date is not None:
            assert revision.effective_date <= local_date(northwind, revision.uploaded_at)
    # Requests: occurrences opened after the request, their status changes after that.
    for occurrence in RequestOccurrence.objects.filter(
        request__organization=northwind
    ).select_related("request"):
        assert occurrence.created_at >= occurrence.request.created_at
    for change in OccurrenceStatusChange.objects.filter(
        occurrence__request__organization=northwind
    ).select_related("occurrence"):
        assert change.created_at >= change.occurrence.created_at
    assert EvidenceRequest.objects.filter(organization=northwind).count() >= 4

    # Controls: created (with their mappings) before their first status change, and the
    # changes spread over the weeks rather than stamped at seeding time.
    changes = ControlStatusChange.objects.filter(control__organization=northwind)
    first = dict(
        changes.values("control").annotate(at=Min("created_at")).values_list("control", "at")
    )
    for control in Control.objects.filter(organization=northwind):
        assert control.created_at <= first[control.pk]
    for mapping in ControlRequirement.objects.filter(
        control__organization=northwind
    ).select_related("control"):
        assert mapping.created_at >= mapping.control.created_at
    weeks = {local_date(northwind, c.created_at).isocalendar()[:2] for c in changes}
    assert len(weeks) >= 8
    adoption = AdoptedFramework.objects.get(organization=northwind)
    assert adoption.adopted_at <= min(first.values())

    # Automated tests: every run and finding after the test was created.
    for run in TestRun.objects.filter(organization=northwind).select_related("control_test"):
        assert run.finished_at is not None
        assert run.control_test.created_at <= run.queued_at <= run.finished_at
    for finding in Finding.objects.filter(control_test__organization=northwind).select_related(
        "control_test"
    ):
        assert finding.opened_at >= finding.control_test.created_at
        if finding.resolved_at is not None:
            assert finding.resolved_at >= finding.opened_at
    tests = ControlTest.objects.filter(organization=northwind)
    assert all(t.created_at < now - dt.timedelta(weeks=4) for t in tests)

    # People and vendors: records and reviews entered after the person or vendor.
    for record in PersonnelRecord.objects.filter(person__organization=northwind).select_related(
        "person"
    ):
        assert record.recorded_at >= record.person.created_at
    for review in VendorReview.objects.filter(vendor__organization=northwind).select_related(
        "vendor"
    ):
        assert review.recorded_at >= review.vendor.created_at
    # Vendor documents: uploaded after the vendor was entered and after they were issued; their
    # exceptions and CUECs recorded after the upload.
    documents = VendorDocument.objects.filter(vendor__organization=northwind).select_related(
        "vendor"
    )
    assert documents.count() >= 5
    for document in documents:
        assert document.uploaded_at >= document.vendor.created_at
        if document.issued_on is not None:
            assert document.issued_on <= local_date(northwind, document.uploaded_at)
    for row in [
        *ReportException.objects.filter(document__vendor__organization=northwind),
        *UserEntityControl.objects.filter(document__vendor__organization=northwind),
    ]:
        assert row.created_at >= row.document.uploaded_at


def test_no_file_the_demo_stores_is_an_orphan_for_the_integrity_sweep(
    northwind: Organization, evidence_dir: Path
) -> None:
    """Every kind of stored file (evidence, trust documents, vendor documents, questionnaire
    attachments, audit packages), aged past the orphan cut-off: the sweep must find each one
    referenced or in a "." folder of its own. Vendor documents were once stored like evidence
    without being evidence, and the sweep would have reported every one."""
    files = [path for path in evidence_dir.rglob("*") if path.is_file()]
    assert any(".vendor-documents" in path.parts for path in files)
    assert any(".trust" in path.parts for path in files)
    aged = time.time() - 7200
    for path in files:
        os.utime(path, (aged, aged))
    run = integrity_sweep()
    assert run.orphaned == 0
