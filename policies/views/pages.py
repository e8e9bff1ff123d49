"""The policy list, creating and editing policies, and the policy library."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
)
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import TemplateView

from compliance.permissions import Capability
from compliance.views.mixins import OrganizationMixin, apply_validation_error, paginate
from controls.models import AdoptedFramework, Control
from controls.services import assignable_owners
from policies import selectors, services
from policies.dates import organization_today
from policies.forms import (
    LibraryImportForm,
    PolicyForm,
)
from policies.library_files import LibraryFileError
from policies.models import (
    Policy,
    PolicyCategory,
)
from policies.rendering import word_count
from policies.selectors import owed_acknowledgements, person_for_user

# --- the list -----------------------------------------------------------------------------------

STATUS_FILTERS = {
    "approved": ("Approved", lambda row: row.current is not None),
    "none": ("Not approved", lambda row: row.current is None),
    "in_review": ("In review", lambda row: row.open is not None and row.open.status == "in_review"),
    "draft": ("Draft open", lambda row: row.open is not None and row.open.status == "draft"),
}
REVIEW_FILTERS = {
    "overdue": "Overdue",
    "due_soon": "Due within 30 days",
    "due": "Overdue or due within 30 days",
}


def _none_last(value: Any) -> tuple[bool, Any]:
    return (value is None or value == "", value if value is not None else "")


ROW_SORTS: dict[str, Callable[[selectors.PolicyRow], Any]] = {
    "title": lambda r: r.policy.title.lower(),
    "category": lambda r: (r.policy.get_category_display(), r.policy.title.lower()),
    "owner": lambda r: (
        _none_last(r.policy.owner.display_name.lower() if r.policy.owner else None),
        r.policy.title.lower(),
    ),
    "status": lambda r: (r.status, r.policy.title.lower()),
    "effective": lambda r: (
        _none_last(r.current.effective_date if r.current else None),
        r.policy.title.lower(),
    ),
    "review": lambda r: (_none_last(r.review_due), r.policy.title.lower()),
    "acks": lambda r: (
        _none_last(r.acks.percent if r.acks and r.acks.in_scope else None),
        r.policy.title.lower(),
    ),
}


def sort_rows(rows: list[selectors.PolicyRow], sort: str) -> tuple[list[selectors.PolicyRow], str]:
    sort = (sort or "").strip()
    key = sort.lstrip("-")
    if key not in ROW_SORTS:
        return sorted(rows, key=ROW_SORTS["title"]), "title"
    ordered = sorted(rows, key=ROW_SORTS[key], reverse=sort.startswith("-"))
    if sort.startswith("-"):
        # Keep rows without a value at the end in both directions.
        ordered = [r for r in ordered if not _empty(key, r)] + [
            r for r in ordered if _empty(key, r)
        ]
    return ordered, sort


def _empty(key: str, row: selectors.PolicyRow) -> bool:
    value = ROW_SORTS[key](row)
    return isinstance(value, tuple) and isinstance(value[0], tuple) and value[0][0]


class PolicyListView(OrganizationMixin, TemplateView):
    nav = "policies"
    template_name = "policies/policy_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        today = organization_today(self.organization)
        policies = list(selectors.policy_list(user=self.actor, organization=self.organization))
        rows = selectors.policy_rows(policies=policies, organization=self.organization, today=today)
        params = self.request.GET
        status = params.get("status", "")
        review = params.get("review", "")
        category = params.get("category", "")
        owner = params.get("owner", "")
        query = params.get("q", "").strip().lower()[:100]
        filtered = rows
        if status in STATUS_FILTERS:
            filtered = [r for r in filtered if STATUS_FILTERS[status][1](r)]
        if review == "due":
            filtered = [r for r in filtered if r.review_state in ("overdue", "due_soon")]
        elif review in REVIEW_FILTERS:
            filtered = [r for r in filtered if r.review_state == review]
        ack = "me" if params.get("ack") == "me" else ""
        if ack:
            # The current versions the user, as a person of the roster, still has to acknowledge.
            person = person_for_user(user=self.actor, organization=self.organization)
            owed = (
                owed_acknowledgements(person=person, organization=self.organization, today=today)
                if person is not None
                else []
            )
            owed_ids = {o.version.policy_id for o in owed}
            filtered = [r for r in filtered if r.policy.pk in owed_ids]
        if category in PolicyCategory.values:
            filtered = [r for r in filtered if r.policy.category == category]
        if owner == "me":
            filtered = [r for r in filtered if r.policy.owner_id == self.actor.pk]
        elif owner == "none":
            filtered = [r for r in filtered if r.policy.owner_id is None]
        elif owner.isdigit():
            filtered = [r for r in filtered if r.policy.owner_id == int(owner)]
        if query:
            filtered = [
                r for r in filtered if query in f"{r.policy.title} {r.policy.description}".lower()
            ]
        filtered, sort = sort_rows(filtered, params.get("sort", ""))
        page = paginate(self.request, filtered, per_page=50)
        outstanding = sum(r.acks.outstanding for r in rows if r.acks)
        context.update(
            page=page,
            sort=sort,
            total=len(rows),
            stats={
                "approved": sum(1 for r in rows if r.current is not None),
                "none": sum(1 for r in rows if r.current is None),
                "in_review": sum(1 for r in rows if STATUS_FILTERS["in_review"][1](r)),
                "draft": sum(1 for r in rows if STATUS_FILTERS["draft"][1](r)),
                "overdue": sum(1 for r in rows if r.review_state == "overdue"),
                "due_soon": sum(1 for r in rows if r.review_state == "due_soon"),
                "outstanding": outstanding,
            },
            filters={
                "status": status,
                "review": review,
                "category": category,
                "owner": owner,
                "q": query,
                "ack": ack,
            },
            status_filters=[(k, v[0]) for k, v in STATUS_FILTERS.items()],
            review_filters=list(REVIEW_FILTERS.items()),
            categories=PolicyCategory.choices,
            owners=assignable_owners(self.organization),
            can_manage=self.can(Capability.MANAGE_POLICIES),
            has_framework=AdoptedFramework.objects.filter(organization=self.organization).exists(),
            today=today,
        )
        return context


# --- create, edit, library ----------------------------------------------------------------------


class PolicyCreateView(OrganizationMixin, TemplateView):
    nav = "policies"
    template_name = "policies/policy_form.html"
    capability = Capability.MANAGE_POLICIES

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["creating"] = True
        context["form"] = kwargs.get("form") or PolicyForm(
            organization=self.organization, user=self.actor, creating=True
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = PolicyForm(
            request.POST, organization=self.organization, user=self.actor, creating=True
        )
        if form.is_valid():
            try:
                policy = services.policy_create(
                    actor=self.actor,
                    organization=self.organization,
                    body=form.cleaned_data["body"],
                    **form.service_arguments(),
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, f"Policy “{policy.title}” created with a first draft.")
                return redirect("policy_detail", org=self.organization.slug, pk=policy.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class PolicyEditView(OrganizationMixin, TemplateView):
    nav = "policies"
    template_name = "policies/policy_form.html"
    capability = Capability.MANAGE_POLICIES

    def get_policy(self) -> Policy:
        return selectors.policy_get(
            user=self.actor, organization=self.organization, pk=self.kwargs["pk"]
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        policy = kwargs.get("policy") or self.get_policy()
        context["policy"] = policy
        context["form"] = kwargs.get("form") or PolicyForm(
            organization=self.organization, user=self.actor, creating=False, instance=policy
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        policy = self.get_policy()
        form = PolicyForm(
            request.POST,
            organization=self.organization,
            user=self.actor,
            creating=False,
            instance=policy,
        )
        if form.is_valid():
            try:
                services.policy_update(
                    actor=self.actor,
                    policy=policy,
                    changes=cast(services.PolicyChanges, form.service_arguments()),
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, "Policy saved.")
                return redirect("policy_detail", org=self.organization.slug, pk=policy.pk)
        return self.render_to_response(
            self.get_context_data(form=form, policy=self.get_policy()), status=400
        )


class PolicyLibraryView(OrganizationMixin, TemplateView):
    """Attest's starter policies, importable into the organization (admins)."""

    nav = "policies"
    template_name = "policies/library.html"
    capability = Capability.MANAGE_POLICIES

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        try:
            templates = services.library_templates()
        except LibraryFileError as exc:
            context.update(library_error=str(exc), entries=[], form=None)
            return context
        imported = dict(
            Policy.objects.filter(organization=self.organization)
            .exclude(library_key="")
            .values_list("library_key", "pk")
        )
        starter_refs = set(
            Control.objects.filter(organization=self.organization, archived_at__isnull=True)
            .exclude(source_key="")
            .values_list("ref_id", flat=True)
        )
        entries = [
            {
                "template": t,
                "words": word_count(t.body),
                "imported_pk": imported.get(t.key),
                "controls": [(ref, ref in starter_refs) for ref in t.controls],
            }
            for t in templates
        ]
        context.update(
            entries=entries,
            new=sum(1 for e in entries if e["imported_pk"] is None),
            form=kwargs.get("form"),
            has_framework=AdoptedFramework.objects.filter(organization=self.organization).exists(),
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        templates = services.library_templates()
        form = LibraryImportForm(request.POST, choices=[(t.key, t.title) for t in templates])
        if not form.is_valid():
            messages.error(request, "Choose at least one policy to import.")
            return self.render_to_response(self.get_context_data(form=form), status=400)
        try:
            result = services.library_import(
                actor=self.actor, organization=self.organization, keys=form.cleaned_data["keys"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return self.render_to_response(self.get_context_data(form=form), status=400)
        text = f"Imported {len(result.created)} polic{'y' if len(result.created) == 1 else 'ies'}"
        if result.skipped:
            text += f"; skipped {len(result.skipped)} already in place"
        messages.success(request, text + ". Each starts as a draft: assign owners, then review.")
        return redirect(reverse("policy_list", args=[self.organization.slug]) + "?owner=none")
