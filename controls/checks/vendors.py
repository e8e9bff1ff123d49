"""A check on the vendor inventory: every vendor of a risk tier (critical by default, or that
tier and above) was reviewed within its cadence, and its latest review did not reject it."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django import forms
from django.utils.formats import date_format

from controls.checks import Check, CheckContext, Resource, register

if TYPE_CHECKING:
    from vendors.models import VendorDocument

# A SOC 2 Type II report speaks for 12 months after its period ends; a bridge letter extends it
# while the letter is valid (its valid-until date, else 3 months after the period it covers).
TYPE2_FRESH_DAYS = 365
BRIDGE_FRESH_DAYS = 92


def document_recency(document: VendorDocument) -> tuple[dt.date, int]:
    """Which of a vendor's documents is the latest: the latest issue date, else the latest
    upload (UTC) date, then the later row. ``vendors.expiry`` asks the same in SQL."""
    return (document.issued_on or document.uploaded_at.date(), document.pk)


def soc2_expired(documents: list, today: dt.date) -> str | None:
    """Why the latest SOC 2 report among ``documents`` (one vendor's SOC 2 reports and bridge
    letters) no longer covers the vendor, in words; None when it does or there is none."""
    from vendors.models import SOC2_TYPES, DocumentType

    reports = [d for d in documents if d.doc_type in SOC2_TYPES]
    if not reports:
        return None
    latest = max(reports, key=document_recency)
    label = latest.get_doc_type_display()
    if latest.valid_until and latest.valid_until < today:
        return f"Its {label} expired on {_day(latest.valid_until)}."
    if latest.doc_type == DocumentType.SOC2_TYPE2 and latest.period_end:
        if (today - latest.period_end).days <= TYPE2_FRESH_DAYS:
            return None
        for letter in documents:
            if letter.doc_type != DocumentType.BRIDGE_LETTER or not letter.period_start:
                continue
            if letter.period_start > latest.period_end + dt.timedelta(days=1):
                continue
            until = letter.valid_until or (
                letter.period_end + dt.timedelta(days=BRIDGE_FRESH_DAYS)
                if letter.period_end
                else None
            )
            if until and until >= today:
                return None
        return (
            f"Its {label} covers a period that ended on {_day(latest.period_end)}, more than "
            "12 months ago, and no valid bridge letter covers the time since."
        )
    return None


def _day(value: dt.date) -> str:
    return date_format(value, "j M Y")


class VendorReviewParameters(forms.Form):
    min_tier = forms.ChoiceField(
        label="Vendors of tier",
        choices=[
            ("critical", "Critical"),
            ("high", "Critical and high"),
            ("medium", "Critical, high and medium"),
            ("low", "All tiers"),
        ],
        initial="critical",
        help_text="Which vendors must be reviewed within their cadence.",
    )


@register
class VendorReviewsCurrent(Check):
    key = "attest.vendor_reviews"
    title = "Critical vendors were reviewed within their cadence"
    description = (
        "One result per active vendor of the chosen tiers: passes while its latest due-diligence "
        "review is within the vendor's cadence (12 months for critical and high vendors unless "
        "set otherwise) and did not reject it; fails when it was never reviewed, is overdue, or "
        "was rejected. A critical vendor also fails when its latest SOC 2 report has expired "
        "(its valid-until date passed, or a Type II period ended over 12 months ago with no "
        "valid bridge letter since). An empty inventory fails."
    )
    Parameters = VendorReviewParameters

    def run(self, context: CheckContext) -> Iterable[Resource]:
        from vendors.models import (
            SOC2_TYPES,
            TIER_ORDER,
            DocumentType,
            RiskTier,
            Vendor,
            VendorDocument,
            VendorStatus,
        )
        from vendors.reviews import ReviewState
        from vendors.selectors import with_status

        organization = context.organization
        tiers = TIER_ORDER[: TIER_ORDER.index(context.parameters["min_tier"]) + 1]
        active = Vendor.objects.filter(organization=organization, status=VendorStatus.ACTIVE)
        if not active.exists():
            return [
                Resource.failed(
                    "inventory",
                    "Vendor inventory",
                    message="No active vendors in the inventory.",
                    remediation="Add the vendors you rely on, with their risk tiers.",
                )
            ]
        vendors = list(active.filter(risk_tier__in=tiers).order_by("name"))
        tier_names = ", ".join(str(t.label).lower() for t in tiers)
        context.log(f"{len(vendors)} active vendors of tier {tier_names}.")
        if not vendors:
            return [
                Resource.not_applicable(
                    "inventory",
                    "Vendor inventory",
                    message=f"No active vendor is {tier_names}.",
                )
            ]
        today = context.now.astimezone(zoneinfo.ZoneInfo(organization.time_zone)).date()
        documents: dict[int, list] = {}
        critical = [v.pk for v in vendors if v.risk_tier == RiskTier.CRITICAL]
        for document in VendorDocument.objects.filter(
            vendor_id__in=critical,
            doc_type__in=[*SOC2_TYPES, DocumentType.BRIDGE_LETTER],
        ).order_by("pk"):
            documents.setdefault(document.vendor_id, []).append(document)
        results = []
        for row in with_status(vendors, today):
            vendor, status = row.vendor, row.status
            expired = soc2_expired(documents.get(vendor.pk, []), today)
            if expired and status.state not in (ReviewState.NEVER, ReviewState.REJECTED):
                results.append(
                    Resource.failed(
                        f"vendor:{vendor.pk}",
                        vendor.name,
                        message=expired,
                        remediation="Obtain the vendor's current SOC 2 report (or a bridge "
                        "letter) and upload it on the vendor's page.",
                        tier=vendor.risk_tier,
                    )
                )
                continue
            rid, name = f"vendor:{vendor.pk}", vendor.name
            latest = status.latest
            raw = {
                "tier": vendor.risk_tier,
                "cadence_months": vendor.cadence_months,
                "last_review": str(latest.reviewed_on) if latest else None,
                "outcome": latest.outcome if latest else None,
                "next_due": str(status.due) if status.due else None,
            }
            fix = "Review the vendor (its SOC 2 report or questionnaire) and record the review."
            if status.state == ReviewState.NEVER:
                results.append(
                    Resource.failed(
                        rid,
                        name,
                        message=f"Never reviewed; onboarded on {_day(vendor.onboarded_on)}.",
                        remediation=fix,
                        **raw,
                    )
                )
            elif status.state == ReviewState.OVERDUE:
                assert latest is not None and status.due is not None
                results.append(
                    Resource.failed(
                        rid,
                        name,
                        message=(
                            f"Last reviewed on {_day(latest.reviewed_on)}; the next review was "
                            f"due on {_day(status.due)}."
                        ),
                        remediation=fix,
                        **raw,
                    )
                )
            elif status.state == ReviewState.REJECTED:
                assert latest is not None
                results.append(
                    Resource.failed(
                        rid,
                        name,
                        message=f"Rejected at its review on {_day(latest.reviewed_on)}.",
                        remediation="Offboard the vendor, or review it again once its issues "
                        "are fixed.",
                        **raw,
                    )
                )
            elif latest is None:  # not onboarded yet; its review is due by its start date
                results.append(
                    Resource.not_applicable(
                        rid,
                        name,
                        message=f"Starts on {_day(vendor.onboarded_on)}; review due by then.",
                        **raw,
                    )
                )
            else:
                due = f"; next due {_day(status.due)}" if status.due else ""
                results.append(
                    Resource.passed(
                        rid,
                        name,
                        message=(
                            f"Reviewed on {_day(latest.reviewed_on)} "
                            f"({latest.get_outcome_display().lower()}){due}."
                        ),
                        **raw,
                    )
                )
        return results
