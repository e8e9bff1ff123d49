from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import TemplateView

from compliance.exports import csv_download
from compliance.models import Membership, Organization, Role, User
from compliance.permissions import Capability
from compliance.readiness import (
    RequirementState,
    control_blockers,
    control_is_ready,
    stored_organization_readiness,
)
from compliance.views.mixins import OrganizationMixin, apply_validation_error, capped, paginate
from controls import selectors, services
from controls.filters import ControlFilterSet, order_controls
from controls.forms import AdoptFrameworkForm, ArchiveForm, ControlForm, GrantForm
from controls.models import Control, ControlStatus, Framework
from controls.monitoring import selectors as monitoring_selectors
from controls.services import control_set_plan, control_sets_parse
from evidence.freshness import fresh_until, needs_evidence
from evidence.selectors import control_evidence
from evidence.services import organization_today

# --- frameworks ---------------------------------------------------------------------------------


class FrameworkListView(OrganizationMixin, TemplateView):
    nav = "frameworks"
    template_name = "controls/framework_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        adoptions = {
            a.framework_id: a
            for a in selectors.adoption_list(user=self.actor, organization=self.organization)
        }
        readiness = {
            r.framework.pk: r for r in stored_organization_readiness(organization=self.organization)
        }
        context["frameworks"] = [
            (framework, adoptions.get(framework.pk), readiness.get(framework.pk))
            for framework in selectors.framework_list()
        ]
        context["can_adopt"] = self.can(Capability.ADOPT_FRAMEWORK)
        return context


def _control_sets_for(framework: Framework) -> list[Any]:
    return [
        s for s in control_sets_parse() if any(framework.slug in c.mappings for c in s.controls)
    ]


class FrameworkDetailView(OrganizationMixin, TemplateView):
    """A catalog as a tree, with each requirement's state for this organization once adopted."""

    nav = "frameworks"

    template_name = "controls/framework_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        framework = selectors.framework_get(slug=kwargs["slug"])
        adoption = selectors.adoption_get(
            user=self.actor,
            organization=self.organization,
            framework=framework,
        )
        requirements = list(selectors.requirement_list(framework=framework).filter(withdrawn=False))
        scope_codes = {c.code for c in adoption.scope.all()} if adoption else set()
        # Each requirement's stored state and counts; its controls are listed on demand
        # (RequirementControlsView), so the page does not grow with the number of controls.
        states = (
            selectors.stored_requirement_states(organization=self.organization, framework=framework)
            if adoption
            else {}
        )
        category = self.request.GET.get("category", "")
        state = self.request.GET.get("state", "")
        query = self.request.GET.get("q", "").strip().lower()[:100]
        rows = []
        for requirement in requirements:
            readiness = states.get(requirement.pk)
            in_scope = requirement.category.code in scope_codes
            if category and requirement.category.code != category:
                continue
            if requirement.assessable:
                if state and (not readiness or not in_scope or readiness.state != state):
                    continue
                if query and query not in f"{requirement.ref_id} {requirement.title}".lower():
                    continue
            elif state or query:
                continue
            rows.append({"requirement": requirement, "readiness": readiness, "in_scope": in_scope})
        context.update(
            framework=framework,
            adoption=adoption,
            categories=list(framework.categories.all()),
            scope_codes=scope_codes,
            rows=rows,
            filters={"category": category, "state": state, "q": query},
            states=list(RequirementState),
            can_adopt=self.can(Capability.ADOPT_FRAMEWORK),
            can_manage_policies=self.can(Capability.MANAGE_POLICIES),
            control_sets=_control_sets_for(framework) if adoption else [],
            adopt_form=AdoptFrameworkForm(categories=list(framework.categories.all()))
            if not adoption
            else AdoptFrameworkForm(
                categories=list(framework.categories.all()), initial={"scope": sorted(scope_codes)}
            ),
        )
        return context


class FrameworkAdoptView(OrganizationMixin):
    """Adopt a framework with its scope, or change the scope of an adopted one."""

    capability = Capability.ADOPT_FRAMEWORK

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        framework = selectors.framework_get(slug=kwargs["slug"])
        categories = list(framework.categories.all())
        # Mandatory categories are always in scope (their checkbox is disabled in the page).
        data = request.POST.copy()
        for category in categories:
            if category.mandatory and category.code not in data.getlist("scope"):
                data.update({"scope": category.code})
        form = AdoptFrameworkForm(data, categories=categories)
        adoption = selectors.adoption_get(
            user=self.actor,
            organization=self.organization,
            framework=framework,
        )
        if not form.is_valid():
            if "target_audit_date" in form.errors:
                messages.error(request, f"Target audit date: {form.errors['target_audit_date'][0]}")
            else:
                messages.error(request, "Choose the categories in scope.")
            return redirect("framework_detail", org=self.organization.slug, slug=framework.slug)
        try:
            if adoption is None:
                services.framework_adopt(
                    actor=self.actor,
                    organization=self.organization,
                    framework=framework,
                    scope_codes=form.cleaned_data["scope"],
                    target_audit_date=form.cleaned_data["target_audit_date"],
                )
                messages.success(request, f"{framework.short_name} adopted.")
                if _control_sets_for(framework):
                    return redirect(
                        "framework_starter", org=self.organization.slug, slug=framework.slug
                    )
            else:
                with transaction.atomic():
                    services.framework_change_scope(
                        actor=self.actor,
                        adoption=adoption,
                        scope_codes=form.cleaned_data["scope"],
                    )
                    services.framework_set_target_audit_date(
                        actor=self.actor,
                        adoption=adoption,
                        target_audit_date=form.cleaned_data["target_audit_date"],
                    )
                messages.success(request, f"Scope of {framework.short_name} updated.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("framework_detail", org=self.organization.slug, slug=framework.slug)


class StarterControlsView(OrganizationMixin, TemplateView):
    """Preview and import a starter control set for an adopted framework."""

    nav = "frameworks"

    template_name = "controls/starter_controls.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        framework = selectors.framework_get(slug=kwargs["slug"])
        existing = set(
            Control.objects.filter(organization=self.organization)
            .exclude(source_key="")
            .values_list("source_key", flat=True)
        )
        sets = []
        for control_set in _control_sets_for(framework):
            templates, _ = control_set_plan(organization=self.organization, control_set=control_set)
            rows = [(t, control_set.source_key(t) in existing) for t in templates]
            sets.append(
                {
                    "data": control_set,
                    "rows": rows,
                    "new": sum(1 for _, done in rows if not done),
                }
            )
        context.update(
            framework=framework,
            sets=sets,
            can_import=self.can(Capability.ADD_CONTROL),
            adopted=selectors.adoption_get(
                user=self.actor,
                organization=self.organization,
                framework=framework,
            ),
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not self.can(Capability.ADD_CONTROL):
            raise PermissionDenied
        framework = selectors.framework_get(slug=kwargs["slug"])
        try:
            result = services.control_set_import(
                actor=self.actor,
                organization=self.organization,
                control_set_key=request.POST.get("control_set", ""),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("framework_starter", org=self.organization.slug, slug=framework.slug)
        messages.success(
            request,
            f"Imported {len(result.created)} controls"
            + (f"; added mappings to {len(result.mapped)}" if result.mapped else "")
            + ". Assign owners next.",
        )
        return redirect(reverse("control_list", args=[self.organization.slug]) + "?owner=none")


class RequirementDetailView(OrganizationMixin, TemplateView):
    nav = "frameworks"
    template_name = "controls/requirement_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        requirement = selectors.requirement_get(pk=kwargs["pk"])
        adoption = selectors.adoption_get(
            user=self.actor,
            organization=self.organization,
            framework=requirement.framework,
        )
        limit = selectors.REQUIREMENT_CONTROLS_LIMIT
        controls = selectors.requirement_controls(
            user=self.actor, organization=self.organization, requirement=requirement, limit=limit
        )
        context.update(
            requirement=requirement,
            adoption=adoption,
            in_scope=bool(adoption and requirement.category in adoption.scope.all()),
            readiness=selectors.stored_requirement_state(
                organization=self.organization, requirement=requirement
            ),
            controls=controls,
            limit=limit,
            children=requirement.children.filter(withdrawn=False).order_by("order"),
            can_add=self.can(Capability.ADD_CONTROL) and adoption is not None,
        )
        return context


class RequirementControlsView(RequirementDetailView):
    """The controls of one requirement with their readiness, for the framework page (htmx);
    without htmx, the requirement's page, which lists them too."""

    template_name = "controls/_requirement_controls.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.htmx:  # type: ignore[attr-defined]
            return redirect("requirement_detail", org=self.organization.slug, pk=kwargs["pk"])
        return super().get(request, *args, **kwargs)


# --- controls -----------------------------------------------------------------------------------


class ControlListView(OrganizationMixin, TemplateView):
    nav = "controls"
    template_name = "controls/control_list.html"

    def filtered(self) -> tuple[ControlFilterSet, Any, str]:
        user = self.actor
        archived = self.request.GET.get("archived") == "1"
        queryset = selectors.control_list(
            user=user,
            organization=self.organization,
            archived=archived,
        )
        filterset = ControlFilterSet(
            self.request.GET or None,
            queryset=queryset,
            user=user,
            organization=self.organization,
        )
        controls = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
        if filterset.is_bound and not filterset.is_valid():
            controls = queryset.none()
        controls, sort = order_controls(controls, self.request.GET.get("sort"))
        return filterset, controls, sort

    def get_template_names(self) -> list[str]:
        if self.request.htmx and not self.request.htmx.boosted:  # type: ignore[attr-defined]
            return ["controls/_control_table.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        filterset, controls, sort = self.filtered()
        page = paginate(self.request, controls, per_page=50)
        ids = [c.pk for c in page.object_list]
        query = self.request.GET.copy()
        query.pop("page", None)
        sort_query = query.copy()
        sort_query.pop("sort", None)
        context.update(
            filterset=filterset,
            page=page,
            sort=sort,
            query=query.urlencode(),
            sort_query=sort_query.urlencode(),
            changeable=selectors.control_changeable_ids(
                user=self.actor,
                organization=self.organization,
                ids=ids,
            ),
            can_add=self.can(Capability.ADD_CONTROL),
            owners=services.assignable_owners(self.organization),
            archived=self.request.GET.get("archived") == "1",
        )
        return context


class ControlExportView(ControlListView):
    """The filtered control list as CSV, streamed."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:  # type: ignore[override]
        _, controls, _ = self.filtered()
        controls = controls.prefetch_related("mappings__requirement__framework")

        def rows() -> Iterator[list[str]]:
            yield [
                "ID", "Name", "Category", "Status", "Owner", "Backup owner", "Frequency",
                "Long lead", "Target date", "Requirements",
            ]  # fmt: skip
            for control in controls.iterator(chunk_size=500):
                yield [
                    control.ref_id,
                    control.name,
                    control.get_category_display(),
                    control.get_status_display(),
                    control.owner.email if control.owner else "",
                    control.backup_owner.email if control.backup_owner else "",
                    control.get_frequency_display(),
                    "yes" if control.long_lead else "no",
                    control.target_date.isoformat() if control.target_date else "",
                    " ".join(
                        f"{m.requirement.framework.short_name}:{m.requirement.ref_id}"
                        for m in control.mappings.all()
                    ),
                ]

        return csv_download(rows(), filename=f"{self.organization.slug}-controls.csv")


class ControlDetailView(OrganizationMixin, TemplateView):
    nav = "controls"
    template_name = "controls/control_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        control = selectors.control_get(
            user=self.actor,
            organization=self.organization,
            pk=kwargs["pk"],
        )
        can_grant = self.can(Capability.GRANT_ACCESS)
        is_ready, blockers = _readiness_of(control, self.organization)
        slug = self.organization.slug
        evidence = capped(
            control_evidence(control=control),
            all_url=reverse("evidence_list", args=[slug]) + f"?control={control.pk}",
        )
        for item in evidence.rows:
            item.fresh_until = fresh_until(item.effective_date, control.frequency)
        tests = (
            monitoring_selectors.control_test_list(user=self.actor, organization=self.organization)
            .filter(control=control)
            .order_by("name")
        )
        context.update(
            control=control,
            tests=capped(
                tests, all_url=reverse("control_test_list", args=[slug]) + f"?control={control.pk}"
            ),
            recent_runs=monitoring_selectors.recent_runs_of_control(control=control, limit=10),
            is_ready=is_ready,
            blockers=blockers,
            evidence=evidence,
            evidence_requests=capped(
                control.evidence_requests.select_related("owner").order_by("title"),
                all_url=reverse("evidence_request_list", args=[slug]) + f"?control={control.pk}",
            ),
            history=capped(
                selectors.control_history(control=control),
                all_url=(
                    reverse("audit_trail", args=[slug])
                    + f"?object_type=controls.control&object_id={control.pk}"
                    if self.can(Capability.VIEW_AUDIT_TRAIL)
                    else ""
                ),
            ),
            needs_evidence=needs_evidence(control.frequency),
            today=organization_today(self.organization),
            can_change=selectors.control_can_change(user=self.actor, control=control),
            can_archive=self.can(Capability.ARCHIVE_CONTROL),
            can_grant=can_grant,
            grants=_grants(control) if can_grant else [],
            grant_form=GrantForm(users=_grantable(control)) if can_grant else None,
        )
        return context


def _readiness_of(control: Control, organization: Organization) -> tuple[bool, list[Any]]:
    """Whether the control is ready and its blockers: its stored row (kept current by the changes
    themselves, see compliance.readiness), read with the control; computed live for a control
    without one (archived)."""
    try:
        stored = control.readiness
    except ObjectDoesNotExist:
        stored = None
    if stored is not None:
        return stored.ready, list(stored.blockers)
    blockers: list[Any] = (
        control_blockers(organization=organization, control_ids=[control.pk]).get(control.pk, [])
        if control.status == ControlStatus.IMPLEMENTED
        else []
    )
    return control_is_ready(control.status, blockers), blockers


def _grants(control: Control) -> list[User]:
    from controls.models import ControlUserObjectPermission

    return [
        p.user
        for p in ControlUserObjectPermission.objects.filter(
            content_object=control, permission__codename="change_control"
        ).select_related("user")
    ]


def _grantable(control: Control) -> Any:
    return User.objects.filter(
        memberships__in=Membership.objects.active().filter(
            organization=control.organization, role=Role.MEMBER
        )
    ).exclude(Q(pk=control.owner_id) | Q(pk=control.backup_owner_id))


class ControlCreateView(OrganizationMixin, TemplateView):
    nav = "controls"
    capability = Capability.ADD_CONTROL
    template_name = "controls/control_form.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if "form" not in kwargs:
            initial: dict[str, Any] = {}
            requirement = self.request.GET.get("requirement", "")
            if requirement.isdigit():
                initial["requirements"] = [int(requirement)]
            context["form"] = ControlForm(
                organization=self.organization,
                instance=Control(organization=self.organization),
                initial=initial,
            )
        context["creating"] = True
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = ControlForm(
            request.POST,
            organization=self.organization,
            instance=Control(organization=self.organization),
        )
        if form.is_valid():
            try:
                control = services.control_create(
                    actor=self.actor,
                    organization=self.organization,
                    reason=form.cleaned_data["reason"],
                    **form.service_arguments(),
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, f"Control {control.ref_id} created.")
                return redirect("control_detail", org=self.organization.slug, pk=control.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ControlEditView(OrganizationMixin, TemplateView):
    nav = "controls"
    template_name = "controls/control_form.html"

    def get_control(self) -> Control:
        control = selectors.control_get(
            user=self.actor,
            organization=self.organization,
            pk=self.kwargs["pk"],
        )
        if not selectors.control_can_change(user=self.actor, control=control):
            raise PermissionDenied("You can edit only the controls you own or were granted.")
        if control.is_archived:
            raise PermissionDenied("Archived controls cannot be edited; restore it first.")
        return control

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        control = kwargs.get("control") or self.get_control()
        context["control"] = control
        context["form"] = kwargs.get("form") or ControlForm(
            organization=self.organization, instance=control
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        control = self.get_control()
        form = ControlForm(request.POST, organization=self.organization, instance=control)
        if form.is_valid():
            changes = form.service_arguments()
            try:
                services.control_update(
                    actor=self.actor,
                    control=control,
                    changes=cast(services.ControlChanges, changes),
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, f"Control {control.ref_id} saved.")
                return redirect("control_detail", org=self.organization.slug, pk=control.pk)
        # The form's instance was changed by validation; show the stored control's header.
        stored = selectors.control_get(
            user=self.actor, organization=self.organization, pk=control.pk
        )
        return self.render_to_response(self.get_context_data(form=form, control=stored), status=400)


class ControlArchiveView(OrganizationMixin):
    capability = Capability.ARCHIVE_CONTROL

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        control = selectors.control_get(
            user=self.actor,
            organization=self.organization,
            pk=kwargs["pk"],
        )
        if kwargs.get("restore"):
            services.control_restore(actor=self.actor, control=control)
            messages.success(request, f"Control {control.ref_id} restored.")
        else:
            form = ArchiveForm(request.POST)
            reason = form.cleaned_data["reason"] if form.is_valid() else ""
            services.control_archive(actor=self.actor, control=control, reason=reason)
            messages.success(request, f"Control {control.ref_id} archived.")
        return redirect("control_detail", org=self.organization.slug, pk=control.pk)


class ControlAccessView(OrganizationMixin):
    """Grant or revoke a member's right to edit one control (admins)."""

    capability = Capability.GRANT_ACCESS

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        control = selectors.control_get(
            user=self.actor,
            organization=self.organization,
            pk=kwargs["pk"],
        )
        if request.POST.get("action") == "revoke":
            user = get_object_or_404(User, pk=request.POST.get("user", "0") or 0)
            services.control_revoke_change(actor=self.actor, control=control, user=user)
            messages.success(request, f"{user} can no longer edit {control.ref_id}.")
        else:
            form = GrantForm(request.POST, users=_grantable(control))
            if not form.is_valid():
                messages.error(request, "Choose a member of this organization.")
            else:
                try:
                    services.control_grant_change(
                        actor=self.actor,
                        control=control,
                        user=form.cleaned_data["user"],
                    )
                    messages.success(
                        request, f"{form.cleaned_data['user']} can now edit {control.ref_id}."
                    )
                except ValidationError as exc:
                    messages.error(request, " ".join(exc.messages))
        return redirect("control_detail", org=self.organization.slug, pk=control.pk)
