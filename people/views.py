from __future__ import annotations

import csv
import io
from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.generic import TemplateView

from compliance.permissions import Capability
from compliance.views.mixins import (
    Capped,
    OrganizationMixin,
    apply_validation_error,
    capped,
    paginate,
)
from people import completion, selectors, services
from people.completion import NOT_REQUIRED
from people.forms import ImportForm, PersonForm, RecordForm, RequirementForm
from people.importer import TEMPLATE_ROWS
from people.models import EmploymentType, Person, PersonnelRequirement, RequirementKind


class PeopleMixin(OrganizationMixin):
    nav = "people"

    def setup_people(self) -> None:
        """The organization's requirements (created with defaults on first use) and today.

        Views look up the object they act on first, so a 404 writes nothing."""
        if hasattr(self, "requirements"):
            return
        self.today = completion.organization_today(self.organization)
        self.requirements = services.people_requirements_ensure(organization=self.organization)
        self.enabled = [r for r in self.requirements if r.is_enabled]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        self.setup_people()
        context = super().get_context_data(**kwargs)
        context.update(
            can_manage=self.can(Capability.MANAGE_PEOPLE),
            today=self.today,
            requirements=self.enabled,
        )
        return context


def _query_without(request: HttpRequest, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


# --- roster -------------------------------------------------------------------------------------


class PersonListView(PeopleMixin, TemplateView):
    """The roster: filter by department, type, status and completion; sort; paginate."""

    template_name = "people/person_list.html"

    def get_template_names(self) -> list[str]:
        if self.request.htmx and not self.request.htmx.boosted:  # type: ignore[attr-defined]
            return ["people/_person_table.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        queryset = selectors.person_list(user=self.actor, organization=self.organization)
        filterset = selectors.PersonFilterSet(
            self.request.GET or None, queryset=queryset, today=self.today
        )
        people = queryset
        if filterset.is_bound:
            people = filterset.qs if filterset.is_valid() else queryset.none()
        filters = selectors.clean_completion_filters(self.request.GET, self.enabled)
        people, completions = selectors.filter_by_completion(
            people,
            organization=self.organization,
            requirements=self.enabled,
            today=self.today,
            filters=filters,
        )
        people, sort = selectors.order_people(people, self.request.GET.get("sort"))
        page = paginate(self.request, people, per_page=50)
        rows = list(page.object_list)
        missing = [p for p in rows if p.pk not in completions]
        if missing:
            completions.update(
                selectors.completion_for(
                    organization=self.organization,
                    people=missing,
                    requirements=self.enabled,
                    today=self.today,
                )
            )
        filter_kind = filters["requirement"]
        context.update(
            filterset=filterset,
            page=page,
            rows=[(p, completions[p.pk]) for p in rows],
            sort=sort,
            filters=filters,
            filter_requirement=next((r for r in self.enabled if r.kind == filter_kind), None),
            departments=selectors.departments(user=self.actor, organization=self.organization),
            statuses=selectors.STATUSES,
            overall=selectors.OVERALL,
            states=completion.CELL_STATES,
            employment_types=EmploymentType.choices,
            query=_query_without(self.request, "page"),
        )
        return context


class CompletionView(PeopleMixin, TemplateView):
    """People by requirements: done / due / overdue / not required, overdue people first."""

    template_name = "people/completion.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        data = self.request.GET.copy()
        data.setdefault("status", "open")
        queryset = selectors.person_list(user=self.actor, organization=self.organization)
        filterset = selectors.PersonFilterSet(data, queryset=queryset, today=self.today)
        people = filterset.qs if filterset.is_valid() else queryset.none()
        people = people.select_related(None).only(
            "pk", "full_name", "email", "title", "department", "employment_type", "start_date",
            "end_date", "organization_id",
        )  # fmt: skip
        results = sorted(
            selectors.completion_for(
                organization=self.organization,
                people=list(people),
                requirements=self.enabled,
                today=self.today,
            ).values(),
            key=lambda c: c.sort_key,
        )
        tallies = completion.tally(results, self.enabled)
        page = Paginator(results, 100).get_page(self.request.GET.get("page"))
        list_filters = {
            key: data[key]
            for key in ("status", "department", "employment_type", "q")
            if data.get(key)
        }
        context.update(
            filterset=filterset,
            page=page,
            rows=[(c.person, c, c.cell_list(self.enabled)) for c in page.object_list],
            tallies=tallies,
            total=len(results),
            people_overdue=sum(1 for c in results if c.overdue),
            status=data["status"],
            statuses=selectors.STATUSES,
            departments=selectors.departments(user=self.actor, organization=self.organization),
            employment_types=EmploymentType.choices,
            list_query=urlencode(list_filters),
            list_filters=list_filters,
        )
        return context


# --- one person ---------------------------------------------------------------------------------


NO_RECORDS = Capped(rows=[], total=0)


class PersonDetailView(PeopleMixin, TemplateView):
    template_name = "people/person_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        person = kwargs.get("person") or selectors.person_get(
            user=self.actor, organization=self.organization, pk=self.kwargs["pk"]
        )
        context = super().get_context_data(**kwargs)
        result = selectors.completion_for(
            organization=self.organization,
            people=[person],
            requirements=self.enabled,
            today=self.today,
        )[person.pk]
        records = selectors.person_records(user=self.actor, person=person)
        # Per requirement: the latest record and how many there are (two queries, not every
        # record of the person); the timeline below is paged.
        latest = {
            r.kind: r for r in records.order_by("kind", "-completed_on", "-id").distinct("kind")
        }
        counts = dict(
            records.order_by().values_list("kind").annotate(n=Count("id")).values_list("kind", "n")
        )
        history = {kind: Capped(rows=[r], total=counts.get(kind, 1)) for kind, r in latest.items()}
        form = kwargs.get("form")
        if form is None and self.can(Capability.MANAGE_PEOPLE):
            form = RecordForm(
                person=person,
                evidence=selectors.evidence_choices(
                    user=self.actor, organization=self.organization
                ),
                initial={"completed_on": self.today, "kind": self.request.GET.get("kind", "")},
            )
        context.update(
            person=person,
            completion=result,
            cells=[
                (r, result.cells.get(r.kind, NOT_REQUIRED), history.get(r.kind, NO_RECORDS))
                for r in self.enabled
            ],
            page=paginate(self.request, records, per_page=20),
            reports=capped(person.reports.order_by("full_name"), limit=20),
            form=form,
            is_self=person.user_id == self.actor.pk,
            has_left=completion.has_left(person, self.today),
        )
        return context


class RecordCreateView(PeopleMixin, TemplateView):
    """Record a completion for one person (admins); errors re-render the person's page."""

    capability = Capability.MANAGE_PEOPLE
    template_name = "people/person_detail.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return redirect("person_detail", org=self.organization.slug, pk=kwargs["pk"])

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        person = selectors.person_get(
            user=self.actor, organization=self.organization, pk=kwargs["pk"]
        )
        self.setup_people()
        form = RecordForm(
            request.POST,
            person=person,
            evidence=selectors.evidence_choices(user=self.actor, organization=self.organization),
        )
        if form.is_valid():
            try:
                record = services.record_create(
                    actor=self.actor, person=person, today=self.today, **form.service_arguments()
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(
                    request, f"{record.get_kind_display()} recorded for {person.full_name}."
                )
                return redirect("person_detail", org=self.organization.slug, pk=person.pk)
        return self.render_to_response(self.get_context_data(person=person, form=form), status=400)


class PersonCreateView(PeopleMixin, TemplateView):
    capability = Capability.MANAGE_PEOPLE
    template_name = "people/person_form.html"

    def form(self, data: Any = None) -> PersonForm:
        return PersonForm(
            data,
            managers=selectors.manager_choices(user=self.actor, organization=self.organization),
            initial={"start_date": self.today} if data is None else None,
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", self.form())
        context["creating"] = True
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.setup_people()
        form = self.form(request.POST)
        if form.is_valid():
            try:
                person = services.person_create(
                    actor=self.actor, organization=self.organization, **form.service_arguments()
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, f"{person.full_name} added to the roster.")
                return redirect("person_detail", org=self.organization.slug, pk=person.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class PersonEditView(PeopleMixin, TemplateView):
    capability = Capability.MANAGE_PEOPLE
    template_name = "people/person_form.html"

    def get_person(self) -> Person:
        return selectors.person_get(
            user=self.actor, organization=self.organization, pk=self.kwargs["pk"]
        )

    def form(self, person: Person, data: Any = None) -> PersonForm:
        return PersonForm(
            data,
            instance=person,
            managers=selectors.manager_choices(
                user=self.actor, organization=self.organization, exclude=person
            ),
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        person = kwargs.get("person") or self.get_person()
        context = super().get_context_data(**kwargs)
        context["person"] = person
        context.setdefault("form", self.form(person))
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        person = self.get_person()
        self.setup_people()
        form = self.form(person, request.POST)
        if form.is_valid():
            try:
                services.person_update(
                    actor=self.actor,
                    person=person,
                    changes=cast(services.PersonChanges, form.service_arguments()),
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, f"{person.full_name} saved.")
                return redirect("person_detail", org=self.organization.slug, pk=person.pk)
        # The form's instance was changed by validation; show the stored person's header.
        stored = self.get_person()
        return self.render_to_response(self.get_context_data(form=form, person=stored), status=400)


# --- import -------------------------------------------------------------------------------------


class ImportView(PeopleMixin, TemplateView):
    """Upload a roster CSV; every bad row is listed with its line and reason."""

    capability = Capability.MANAGE_PEOPLE
    template_name = "people/person_import.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", ImportForm())
        context["columns"] = TEMPLATE_ROWS[0]
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.setup_people()
        form = ImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        try:
            result = services.people_import(
                actor=self.actor,
                organization=self.organization,
                source=form.cleaned_data["file"],
                mode=form.cleaned_data["mode"],
                update_existing=form.cleaned_data["update_existing"],
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
            return self.render_to_response(self.get_context_data(form=form), status=400)
        if result.errors and not result.imported:
            return self.render_to_response(
                self.get_context_data(form=form, result=result), status=400
            )
        created = len(result.created)
        summary = f"Imported {created} new {'person' if created == 1 else 'people'}"
        if result.update_existing:
            summary += f", updated {len(result.updated)}"
        summary += "."
        if result.errors:
            summary += f" Skipped {len(result.bad_lines)} rows with errors (listed below)."
            messages.warning(request, summary)
            return self.render_to_response(self.get_context_data(form=ImportForm(), result=result))
        messages.success(request, summary)
        return redirect("person_list", org=self.organization.slug)


class ImportTemplateView(OrganizationMixin):
    """A CSV with the header and two example rows."""

    capability = Capability.MANAGE_PEOPLE

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        buffer = io.StringIO()
        csv.writer(buffer).writerows(TEMPLATE_ROWS)
        response = HttpResponse(buffer.getvalue(), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="people-template.csv"'
        return response


# --- requirements -------------------------------------------------------------------------------


class RequirementListView(PeopleMixin, TemplateView):
    """The organization's onboarding and offboarding requirements (admins change them)."""

    template_name = "people/requirement_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["all_requirements"] = self.requirements
        return context


class RequirementEditView(PeopleMixin, TemplateView):
    capability = Capability.MANAGE_PEOPLE
    template_name = "people/requirement_form.html"

    def get_requirement(self) -> PersonnelRequirement:
        kind = self.kwargs["kind"]
        if kind not in RequirementKind.values:
            raise Http404("No such requirement.")
        self.setup_people()  # creates the defaults on first use
        return selectors.requirement_get(user=self.actor, organization=self.organization, kind=kind)

    def form(self, requirement: PersonnelRequirement, data: Any = None) -> RequirementForm:
        return RequirementForm(
            data,
            instance=requirement,
            controls=selectors.control_choices(user=self.actor, organization=self.organization),
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        requirement = kwargs.get("requirement") or self.get_requirement()
        context["requirement"] = requirement
        context.setdefault("form", self.form(requirement))
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        requirement = self.get_requirement()
        form = self.form(requirement, request.POST)
        if form.is_valid():
            try:
                services.requirement_update(
                    actor=self.actor,
                    requirement=requirement,
                    changes=cast(services.RequirementChanges, form.service_arguments()),
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, f"{requirement.get_kind_display()} saved.")
                return redirect("people_requirements", org=self.organization.slug)
        stored = self.get_requirement()
        return self.render_to_response(
            self.get_context_data(form=form, requirement=stored), status=400
        )
