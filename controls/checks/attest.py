"""Checks on Attest's own data: evidence freshness, policy acknowledgements, onboarding.

They need no integration: they read what the organization keeps in Attest, so that a control
backed by evidence, a policy or an onboarding item is monitored like any other.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.formats import date_format

from controls.checks import Check, CheckContext, CheckError, Resource, register
from controls.checks.fields import StrictBooleanField


def _today(context: CheckContext) -> dt.date:
    return context.now.astimezone(zoneinfo.ZoneInfo(context.organization.time_zone)).date()


def _day(value: dt.date) -> str:
    return date_format(value, "j M Y")


@register
class EvidenceFresh(Check):
    key = "attest.evidence_fresh"
    title = "Evidence of the control is fresh"
    description = (
        "Passes while the control has accepted evidence, uploaded by people (not this test's own "
        "runs), that is still current for the control's frequency."
    )

    def run(self, context: CheckContext) -> Iterable[Resource]:
        from evidence.freshness import fresh_until, needs_evidence
        from evidence.models import EvidenceItem, ReviewStatus

        control = context.control
        resource = {"id": f"control:{control.ref_id}", "name": f"{control.ref_id} {control.name}"}
        if not needs_evidence(control.frequency):
            return [Resource.not_applicable(**resource, message="Event-driven: never stale.")]
        latest = (
            EvidenceItem.objects.filter(
                controls=control,
                system_key="",
                revisions__review_status=ReviewStatus.ACCEPTED,
            )
            .order_by("-effective_date")
            .values_list("effective_date", "title")
            .first()
        )
        if latest is None:
            return [
                Resource.failed(
                    **resource,
                    message="No accepted evidence.",
                    remediation="Upload evidence for the control and have it reviewed.",
                )
            ]
        effective, title = latest
        until = fresh_until(effective, control.frequency)
        today = _today(context)
        raw = {"evidence": title, "effective_date": str(effective), "fresh_until": str(until)}
        if until is not None and today > until:
            return [
                Resource.failed(
                    **resource,
                    message=f"Latest evidence (“{title}”) went stale on {_day(until)}.",
                    remediation="Upload current evidence for the control.",
                    **raw,
                )
            ]
        fresh = f"Fresh until {_day(until)}." if until else "Fresh."
        return [Resource.passed(**resource, message=fresh, **raw)]


class PolicyParameters(forms.Form):
    policy = forms.CharField(
        max_length=100,
        help_text="The policy's library key (e.g. acceptable-use) or its number in Attest.",
    )


@register
class PolicyAcknowledged(Check):
    key = "attest.policy_acknowledged"
    title = "Everyone in scope acknowledged a policy"
    description = (
        "One result per active person: passes when they acknowledged the current approved "
        "version of the policy within the last year; people outside its audience are not "
        "applicable."
    )
    Parameters = PolicyParameters

    def run(self, context: CheckContext) -> Iterable[Resource]:
        from people.models import Person, active_people_q
        from policies.models import Policy, VersionStatus
        from policies.selectors import outstanding_acknowledgements
        from policies.services.acknowledgements import in_scope

        wanted = str(context.parameters["policy"]).strip()
        policies = Policy.objects.filter(organization=context.organization)
        policy = (
            policies.filter(pk=int(wanted)).first()
            if wanted.isdigit()
            else policies.filter(library_key=wanted).first()
        )
        if policy is None:
            raise CheckError(f"No policy {wanted!r} in this organization.")
        version = (
            policy.versions.filter(status=VersionStatus.APPROVED)
            .select_related("distribution")
            .first()
        )
        today = _today(context)
        resource_id = f"policy:{policy.pk}"
        if version is None or not hasattr(version, "distribution"):
            what = "has no approved version" if version is None else "was not sent to anyone"
            return [
                Resource.failed(
                    resource_id,
                    policy.title,
                    message=f"“{policy.title}” {what}.",
                    remediation="Approve the policy and send it for acknowledgement.",
                )
            ]
        people = list(
            Person.objects.filter(active_people_q(today), organization=context.organization)
        )
        owed = outstanding_acknowledgements(
            organization=context.organization, person_ids=[p.pk for p in people], today=today
        )
        results = []
        for person in people:
            rid, name = f"person:{person.email}", person.full_name
            if not in_scope(person, version.distribution, today):
                results.append(Resource.not_applicable(rid, name, "Not in the policy's audience."))
                continue
            mine = [o for o in owed.get(person.pk, []) if o.version.pk == version.pk]
            if mine:
                results.append(
                    Resource.failed(
                        rid,
                        name,
                        message=(
                            f"Has not acknowledged version {version.number}; due "
                            f"{_day(mine[0].due_date)}."
                        ),
                        remediation="Remind them, or resend the acknowledgement link.",
                        email=person.email,
                    )
                )
            else:
                results.append(
                    Resource.passed(rid, name, f"Acknowledged version {version.number}.")
                )
        context.log(f"Version {version.number} of “{policy.title}”: {len(results)} people.")
        return results


class PersonnelParameters(forms.Form):
    requirement = forms.ChoiceField(choices=[])
    fail_when_due = StrictBooleanField(
        label="Also fail people not overdue yet",
        help_text="Also fail people who are not overdue yet (a new starter within the deadline).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from people.models import RequirementKind

        self.fields["requirement"].choices = [  # type: ignore[attr-defined]
            (k, label)
            for k, label in RequirementKind.choices
            if k != RequirementKind.POLICY_ACKNOWLEDGEMENTS
        ]


@register
class PersonnelRequirementMet(Check):
    key = "attest.personnel_requirement"
    title = "Every person meets an onboarding requirement"
    description = (
        "One result per person the requirement applies to (background check, signed "
        "agreement, current security training, password manager, MFA, access revoked on "
        "leaving): fails when it is overdue."
    )
    Parameters = PersonnelParameters

    def run(self, context: CheckContext) -> Iterable[Resource]:
        from people import completion
        from people.models import Person, PersonnelRequirement
        from people.services import people_requirements_ensure

        kind = context.parameters["requirement"]
        fail_when_due = bool(context.parameters.get("fail_when_due"))
        people_requirements_ensure(organization=context.organization)
        requirement = PersonnelRequirement.objects.get(organization=context.organization, kind=kind)
        if not requirement.is_enabled:
            raise CheckError(
                f"“{requirement.get_kind_display()}” is turned off for this organization."
            )
        today = _today(context)
        results = completion.evaluate(
            organization=context.organization,
            people=list(Person.objects.filter(organization=context.organization)),
            requirements=[requirement],
            today=today,
        )
        label = requirement.get_kind_display()
        out = []
        for result in results:
            person, cell = result.person, result.cells[kind]
            rid, name = f"person:{person.email}", person.full_name
            state = cell.state
            if state == completion.CellState.NOT_REQUIRED:
                continue
            if state == completion.CellState.DONE:
                out.append(Resource.passed(rid, name, cell.note or f"{label}: done."))
            elif state == completion.CellState.DUE and not fail_when_due:
                due = f" by {_day(cell.due)}" if cell.due else ""
                out.append(Resource.passed(rid, name, f"{label}: not overdue yet (due{due})."))
            else:
                due = f" (due {_day(cell.due)})" if cell.due else ""
                out.append(
                    Resource.failed(
                        rid,
                        name,
                        message=f"{label}: {state.label.lower()}{due}. {cell.note}".strip(),
                        remediation=f"Record the {label.lower()} on the person's page.",
                    )
                )
        return out
