from __future__ import annotations

from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.generic import TemplateView

from compliance.models import Role
from compliance.permissions import Capability
from compliance.readiness import (
    READY_CONTROL_STATUSES,
    blocker_counts,
    not_ready_stored,
    stored_organization_readiness,
)
from compliance.views.mixins import OrganizationMixin
from compliance.work import GROUP_LIMIT, work_groups
from controls.models import BlockerKind, Control, ControlStatus
from controls.monitoring.selectors import monitoring_summary
from controls.selectors import control_list, my_controls
from evidence.models import OccurrenceStatus, RequestOccurrence
from evidence.selectors import pending_review_count


class DashboardView(OrganizationMixin, TemplateView):
    """The compliance lead's page: readiness per framework and category, and what blocks it."""

    nav = "dashboard"

    capability = None  # auditors get their own landing page instead of a 403
    template_name = "dashboard/dashboard.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.can(Capability.VIEW_PROGRAM):
            # Auditors land on the engagements shared with them (the audits app).
            return redirect("audit_list", self.organization.slug)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.actor
        controls = control_list(user=user, organization=self.organization)
        today = timezone.localdate()
        # "Open" is readiness's own "not ready" (the stored state): an implemented control with a
        # blocker counts.
        not_ready = not_ready_stored()
        # Past target date and long lead are about getting a control in place (its status).
        not_done = ~Q(status__in=READY_CONTROL_STATUSES)
        counts = controls.aggregate(
            total=Count("pk"),
            not_started=Count("pk", filter=Q(status=ControlStatus.NOT_STARTED)),
            in_progress=Count("pk", filter=Q(status=ControlStatus.IN_PROGRESS)),
            implemented=Count("pk", filter=Q(status=ControlStatus.IMPLEMENTED)),
            not_applicable=Count("pk", filter=Q(status=ControlStatus.NOT_APPLICABLE)),
            unowned=Count("pk", filter=Q(owner__isnull=True)),
            overdue=Count("pk", filter=Q(target_date__lt=today) & not_done),
            long_lead_open=Count("pk", filter=Q(long_lead=True) & not_done),
            # Controls blocked by each kind of blocker (the stored readiness), in this query.
            **blocker_counts(),
        )
        owners = (
            controls.filter(owner__isnull=False)
            .values("owner_id", "owner__full_name", "owner__email")
            .annotate(
                total=Count("pk"),
                open=Count("pk", filter=not_ready),
                overdue=Count("pk", filter=Q(target_date__lt=today) & not_done),
            )
            .order_by("-open", "owner__full_name")
        )
        # Items, as the list behind the number counts them (an item with two pending
        # revisions is one decision to make).
        evidence_pending = pending_review_count(user=user, organization=self.organization)
        requests_overdue = RequestOccurrence.objects.filter(
            request__organization=self.organization,
            request__active=True,
            status=OccurrenceStatus.OVERDUE,
        ).count()
        context.update(
            evidence_pending=evidence_pending,
            requests_overdue=requests_overdue,
            readiness=stored_organization_readiness(organization=self.organization),
            counts=counts,
            # Every kind the readiness definition knows, with the controls it blocks (links to
            # the controls list's `blocker` filter: exactly those controls).
            blocked_by=[(kind, counts[f"blocked_{kind}"]) for kind in BlockerKind],
            owners=list(owners[:12]),
            long_lead=list(
                controls.filter(not_done, long_lead=True).order_by(
                    F("target_date").asc(nulls_last=True), "ref_id"
                )[:6]
            ),
            status_choices=ControlStatus,
            monitoring=monitoring_summary(user=user, organization=self.organization),
        )
        return context


class MyWorkView(OrganizationMixin, TemplateView):
    """What is the signed-in user's to do, grouped: each group its first items, its total and a
    link to the list filtered to exactly those items; then the controls they own or back up.
    A fixed number of queries and a bounded page, however large the organization."""

    nav = "my_work"

    template_name = "dashboard/my_work.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        mine = my_controls(user=self.actor, organization=self.organization)
        open_controls = mine.exclude(status__in=READY_CONTROL_STATUSES).order_by(
            F("target_date").asc(nulls_last=True), "ref_id"
        )
        done = mine.filter(status__in=READY_CONTROL_STATUSES).order_by("ref_id")
        groups = work_groups(user=self.actor, organization=self.organization)
        control_list_url = reverse("control_list", args=[self.organization.slug])
        context.update(
            groups=groups,
            group_limit=GROUP_LIMIT,
            todo_total=sum(group.total for group in groups),
            open_controls=_first(open_controls),
            open_controls_url=f"{control_list_url}?owner=me&done=false&sort=target_date",
            done_controls=_first(done),
            done_controls_url=f"{control_list_url}?owner=me&done=true",
            today=timezone.localdate(),
            is_member_role=self.membership.role == Role.MEMBER,
        )
        return context


def _first(controls: QuerySet[Control]) -> tuple[list[Control], int]:
    """The first controls of a group and how many there are."""
    rows = list(controls[:GROUP_LIMIT])
    return rows, controls.count()
