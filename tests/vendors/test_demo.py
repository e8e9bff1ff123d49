"""Northwind Cloud's demo vendors: believable, mostly reviewed, with a few realistic gaps."""

from __future__ import annotations

import pytest

from compliance import demo
from compliance.models import AuditEvent, Organization
from controls.models import ControlTest, Finding, RunStatus
from people.completion import organization_today
from vendors.models import RiskTier, Vendor, VendorStatus
from vendors.reviews import ReviewState
from vendors.selectors import with_status


@pytest.fixture
def northwind(db: None) -> Organization:
    return demo.seed_demo()


def test_the_demo_inventory_has_current_reviews_and_a_few_gaps(northwind: Organization) -> None:
    vendors = list(Vendor.objects.filter(organization=northwind))
    assert 12 <= len(vendors) <= 16
    assert {v.risk_tier for v in vendors} == set(RiskTier.values)
    assert sum(v.is_subprocessor for v in vendors if v.is_active) >= 4
    assert all(v.owner is not None for v in vendors)
    assert [v.name for v in vendors if v.status == VendorStatus.OFFBOARDED] == ["Heroku"]

    states = {
        row.vendor.name: row.status.state
        for row in with_status(vendors, organization_today(northwind))
    }
    assert states["Okta"] == ReviewState.OVERDUE
    assert states["SendGrid"] == ReviewState.NEVER
    assert states["Google Workspace"] == ReviewState.DUE_SOON
    assert states["Amazon Web Services"] == ReviewState.CURRENT
    assert sum(state == ReviewState.CURRENT for state in states.values()) >= 9
    # Built through the services: every vendor and review is on the audit trail.
    assert AuditEvent.objects.filter(organization=northwind, action="vendor.create").count() == (
        len(vendors)
    )


def test_the_demo_vendor_review_test_fails_for_the_overdue_critical_vendor(
    northwind: Organization,
) -> None:
    test = ControlTest.objects.get(organization=northwind, check_key="attest.vendor_reviews")
    assert test.control.ref_id == "VEN-03"
    assert test.last_run is not None and test.last_run.status == RunStatus.FAILED
    [finding] = Finding.objects.filter(control_test=test, resolved_at__isnull=True)
    assert finding.resource_name == "Okta"


def test_the_demo_vendor_documents_show_each_state(northwind: Organization) -> None:
    from vendors.document_selectors import soc2_states, validity
    from vendors.models import DocumentType, VendorDocument

    today = organization_today(northwind)
    documents = VendorDocument.objects.filter(vendor__organization=northwind).select_related(
        "vendor"
    )
    kinds = {d.doc_type for d in documents}
    assert {DocumentType.SOC2_TYPE2, DocumentType.BRIDGE_LETTER, DocumentType.ISO27001,
            DocumentType.DPA} <= kinds  # fmt: skip
    names = dict(Vendor.objects.filter(organization=northwind).values_list("pk", "name"))
    states = {names[pk]: state for pk, state in soc2_states(names, today).items()}
    # Okta's report lapsed (critical: the check says so); Stripe's is kept current by a bridge
    # letter; AWS's is current.
    assert states == {"Amazon Web Services": "current", "Okta": "expired", "Stripe": "current"}
    aws = documents.get(vendor__name="Amazon Web Services", doc_type=DocumentType.SOC2_TYPE2)
    assert aws.report_exceptions.count() == 1
    linked = [bool(c.controls.exists()) for c in aws.cuecs.order_by("id")]
    assert linked == [True, False]
    datadog = documents.get(vendor__name="Datadog")
    assert validity(datadog, today).tone == "warn"
    test = ControlTest.objects.get(organization=northwind, check_key="attest.vendor_reviews")
    [finding] = Finding.objects.filter(control_test=test, resolved_at__isnull=True)
    assert finding.resource_name == "Okta"
