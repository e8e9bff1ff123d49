"""A check on the vendor inventory: every vendor of a risk tier (critical by default, or that
tier and above) was reviewed within its cadence, and its latest review did not reject it."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable

from django import forms
from django.utils.formats import date_format

from controls.checks import Check, CheckContext, Resource, register


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
        "was rejected. An empty inventory fails."
    )
    Parameters = VendorReviewParameters

    def run(self, context: CheckContext) -> Iterable[Resource]:
        from vendors.models import TIER_ORDER, Vendor, VendorStatus
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
        results = []
        for row in with_status(vendors, today):
            vendor, status = row.vendor, row.status
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
