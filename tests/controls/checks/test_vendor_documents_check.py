"""attest.vendor_reviews also fails a reviewed critical vendor whose SOC 2 report expired."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile

from controls.models import ResultStatus
from people.completion import organization_today
from tests.conftest import World
from tests.controls.checks.test_vendors import ago, run_check
from tests.vendors.factories import ReviewFactory, VendorFactory
from vendors.documents import vendor_document_upload
from vendors.models import AuditOpinion, DocumentType, RiskTier, Vendor


def critical(world: World, name: str) -> Vendor:
    vendor = VendorFactory(organization=world.org, name=name, risk_tier=RiskTier.CRITICAL)
    ReviewFactory(vendor=vendor, reviewed_on=ago(organization_today(world.org), 30))
    return vendor


def add(world: World, vendor: Vendor, doc_type: str, **dates: dt.date) -> None:
    opinion = AuditOpinion.UNQUALIFIED if doc_type != DocumentType.BRIDGE_LETTER else ""
    vendor_document_upload(
        actor=world.users["admin"], vendor=vendor, doc_type=doc_type, opinion=opinion,
        upload=SimpleUploadedFile("r.pdf", b"%PDF report"), **dates,
    )  # fmt: skip


def test_expired_and_stale_soc2_reports_fail_with_the_reason(world: World) -> None:
    today = organization_today(world.org)
    fresh = critical(world, "Fresh")
    add(world, fresh, DocumentType.SOC2_TYPE2, period_start=ago(today, 400),
        period_end=ago(today, 40))  # fmt: skip
    expired = critical(world, "Expired")
    add(world, expired, DocumentType.SOC2_TYPE1, as_of=ago(today, 500), issued_on=ago(today, 480),
        valid_until=ago(today, 3))  # fmt: skip
    stale = critical(world, "Stale")
    add(world, stale, DocumentType.SOC2_TYPE2, period_start=ago(today, 800),
        period_end=ago(today, 400))  # fmt: skip
    bridged = critical(world, "Bridged")
    add(world, bridged, DocumentType.SOC2_TYPE2, period_start=ago(today, 800),
        period_end=ago(today, 400))  # fmt: skip
    add(world, bridged, DocumentType.BRIDGE_LETTER, period_start=ago(today, 399),
        period_end=ago(today, 20))  # fmt: skip
    critical(world, "No report")

    results = run_check(world)
    assert results["Fresh"].status == ResultStatus.PASS
    assert results["Bridged"].status == ResultStatus.PASS
    assert results["No report"].status == ResultStatus.PASS
    assert results["Expired"].status == ResultStatus.FAIL
    assert results["Expired"].message.startswith("Its SOC 2 Type I report expired on ")
    assert results["Stale"].status == ResultStatus.FAIL
    assert "more than 12 months ago" in results["Stale"].message
    assert "no valid bridge letter" in results["Stale"].message
