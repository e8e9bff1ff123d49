from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.generic import TemplateView

from compliance import mfa, services
from compliance.forms import (
    InvitationForm,
    MembershipRoleForm,
    OrganizationForm,
    OrganizationSettingsForm,
)
from compliance.models import AuditEvent, Invitation, Membership, Role, User
from compliance.permissions import (
    Capability,
    active_memberships,
    may_create_organization,
    organization_creation_refused,
    restrict,
)
from compliance.views.mixins import (
    LAST_ORGANIZATION_SESSION_KEY,
    OrganizationMixin,
    apply_validation_error,
    capped,
    paginate,
)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Back to the organization used last, or the only one, or the choice."""
    memberships = active_memberships(request.user)
    by_slug = {m.organization.slug: m for m in memberships.values()}
    last = request.session.get(LAST_ORGANIZATION_SESSION_KEY)
    if last in by_slug:
        return redirect("dashboard", org=last)
    if len(by_slug) == 1:
        return redirect("dashboard", org=next(iter(by_slug)))
    return render(
        request,
        "organizations/choose.html",
        {"memberships": sorted(memberships.values(), key=lambda m: m.organization.name)},
    )


@login_required
def organization_create(request: HttpRequest) -> HttpResponse:
    if not may_create_organization(request.user):
        raise PermissionDenied(organization_creation_refused())
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organization = services.organization_create(
                actor=cast(User, request.user),
                name=form.cleaned_data["name"],
                slug=form.cleaned_data["slug"],
                time_zone=form.cleaned_data["time_zone"],
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, f"{organization.name} is ready. Adopt a framework to start.")
            return redirect("framework_list", org=organization.slug)
    return render(
        request, "organizations/create.html", {"form": form}, status=400 if form.errors else 200
    )


def _end_of_day(day: dt.date | None, time_zone: str) -> dt.datetime | None:
    if day is None:
        return None
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=zoneinfo.ZoneInfo(time_zone))


class MemberListView(OrganizationMixin, TemplateView):
    nav = "members"
    template_name = "organizations/members.html"

    def memberships(self) -> QuerySet[Membership]:
        return (
            restrict(Membership.objects.all(), self.actor, organization=self.organization)
            .filter(organization=self.organization)
            .select_related("user")
            .annotate(two_factor=mfa.enabled_for(OuterRef("user_id")))
            .order_by("user__full_name", "user__email")
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        manage = self.can(Capability.MANAGE_MEMBERS)
        context.update(
            page=paginate(self.request, self.memberships(), per_page=50),
            can_manage=manage,
            roles=Role.choices,
            # Pending invitations expire on their own: the soonest to expire first, capped.
            invitations=capped(
                Invitation.objects.filter(
                    organization=self.organization,
                    accepted_at__isnull=True,
                    revoked_at__isnull=True,
                    expires_at__gt=timezone.now(),
                )
                .select_related("invited_by")
                .order_by("expires_at", "pk")
                if manage
                else Invitation.objects.none(),
                limit=50,
            ),
            invite_form=kwargs.get("invite_form") or InvitationForm(),
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.can(Capability.MANAGE_MEMBERS):
            raise PermissionDenied
        form = InvitationForm(request.POST)
        if form.is_valid():
            try:
                invitation = services.invitation_create(
                    actor=self.actor,
                    organization=self.organization,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    access_expires_on=form.cleaned_data["access_expires_on"],
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, f"Invitation sent to {invitation.email}.")
                return redirect("member_list", org=self.organization.slug)
        return self.render_to_response(self.get_context_data(invite_form=form), status=400)


class MemberUpdateView(OrganizationMixin):
    capability = Capability.MANAGE_MEMBERS

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        membership = get_object_or_404(
            Membership.objects.select_related("user", "organization"),
            pk=kwargs["pk"],
            organization=self.organization,
        )
        try:
            if request.POST.get("action") == "remove":
                services.membership_remove(actor=self.actor, membership=membership)
                messages.success(request, f"{membership.user} was removed.")
            else:
                form = MembershipRoleForm(request.POST)
                if not form.is_valid():
                    problems = " ".join(
                        f"{form.fields[name].label or name.title()}: {' '.join(map(str, errors))}"
                        for name, errors in form.errors.items()
                    )
                    messages.error(request, f"Nothing was changed. {problems}")
                    return redirect("member_list", org=self.organization.slug)
                services.membership_change_role(
                    actor=self.actor,
                    membership=membership,
                    role=form.cleaned_data["role"],
                    expires_at=_end_of_day(
                        form.cleaned_data["expires_on"], self.organization.time_zone
                    ),
                )
                messages.success(
                    request,
                    f"{membership.user} is now {Role(form.cleaned_data['role']).label.lower()}.",
                )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("member_list", org=self.organization.slug)


class InvitationRevokeView(OrganizationMixin):
    capability = Capability.MANAGE_MEMBERS

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        invitation = get_object_or_404(Invitation, pk=kwargs["pk"], organization=self.organization)
        try:
            services.invitation_revoke(actor=self.actor, invitation=invitation)
            messages.success(request, f"The invitation of {invitation.email} was revoked.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("member_list", org=self.organization.slug)


class AuditTrailView(OrganizationMixin, TemplateView):
    nav = "audit"
    capability = Capability.VIEW_AUDIT_TRAIL
    template_name = "organizations/audit_trail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        events = AuditEvent.objects.filter(organization=self.organization).order_by("-seq")
        action = self.request.GET.get("action", "").strip()[:64]
        actor = self.request.GET.get("actor", "").strip()[:254]
        object_type = self.request.GET.get("object_type", "").strip()[:100]
        object_id = self.request.GET.get("object_id", "").strip()[:64]
        if action:
            events = events.filter(action=action)
        if actor:
            events = events.filter(actor_label__iexact=actor)
        if object_type:
            events = events.filter(object_type=object_type)
        if object_id:
            events = events.filter(object_id=object_id)
        context.update(
            page=paginate(self.request, events, per_page=50),
            actions=AuditEvent.objects.filter(organization=self.organization)
            .order_by("action")
            .values_list("action", flat=True)
            .distinct(),
            filters={
                "action": action,
                "actor": actor,
                "object_type": object_type,
                "object_id": object_id,
            },
        )
        return context


class OrganizationSettingsView(OrganizationMixin, TemplateView):
    """The organization's name, time zone, sign-in rule and weekly snapshot time (admins)."""

    capability = Capability.MANAGE_ORGANIZATION
    nav = "settings"
    template_name = "organizations/settings.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        organization = self.organization
        context["form"] = kwargs.get("form") or OrganizationSettingsForm(
            initial={
                "name": organization.name,
                "time_zone": organization.time_zone,
                "require_two_factor": organization.require_two_factor,
                "snapshot_weekday": organization.snapshot_weekday,
                "snapshot_hour": organization.snapshot_hour,
            }
        )
        members = Membership.objects.active().filter(organization=organization)
        context["members_total"] = members.count()
        context["members_with_two_factor"] = members.filter(
            mfa.enabled_for(OuterRef("user_id"))
        ).count()
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = OrganizationSettingsForm(request.POST)
        if form.is_valid():
            try:
                services.organization_update(
                    actor=self.actor, organization=self.organization, **form.cleaned_data
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, "Settings saved.")
                return redirect("organization_settings", org=self.organization.slug)
        return self.render_to_response(self.get_context_data(form=form), status=400)
