"""The weekly page: the record of the program's weekly meeting, one ISO week at a time.

The page is a list of sections, each drawn by its own template (``templates/weekly/``) from the
context its own small function builds (``sections``): each adopted framework's weekly readiness
with its trend chart and forecast, what changed since last week (``compliance.changes``), the
meeting's notes and its action items.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic import TemplateView

from compliance.meetings import selectors, services
from compliance.meetings.forms import CONTROL_OPTIONS_ID, ActionItemForm, NotesForm
from compliance.meetings.weeks import Week, current_week, local_date
from compliance.models import ActionItem
from compliance.permissions import Capability
from compliance.views.mixins import OrganizationMixin, apply_validation_error, paginate
from policies.rendering import render_markdown

ITEMS_PER_PAGE = 25
STATUS_FILTERS = {"open": "Open", "done": "Done"}


class WeeklyMixin(OrganizationMixin):
    nav = "weekly"

    @cached_property
    def this_week(self) -> Week:
        return current_week(self.organization)

    @cached_property
    def now(self) -> Any:
        return timezone.now()

    @cached_property
    def today(self) -> Any:
        return local_date(self.organization, self.now)

    @property
    def can_manage(self) -> bool:
        return self.can(Capability.MANAGE_MEETINGS)

    @cached_property
    def adoptions(self) -> list[Any]:
        from compliance import selectors as program

        return program.adoptions_of(self.organization)

    @cached_property
    def can_raise(self) -> bool:
        return services.may_raise(self.actor, self.organization)

    def weekly_url(self, week: Week | None = None, anchor: str = "") -> str:
        url = reverse("weekly", args=[self.organization.slug])
        if week is not None and week != self.this_week:
            url += f"?week={week.key}"
        return url + (f"#{anchor}" if anchor else "")

    def back_url(self, fallback: str) -> str:
        """Where a form posted from the weekly page returns: the page it came from (its week,
        filters and page), never anywhere else."""
        target = self.request.POST.get("next", "")
        page = reverse("weekly", args=[self.organization.slug])
        allowed = url_has_allowed_host_and_scheme(
            target, allowed_hosts={self.request.get_host()}, require_https=False
        )
        if allowed and target.startswith(page) and not target.startswith("//"):
            return target
        return fallback

    def get_item(self) -> ActionItem:
        """The item of the URL: hidden, or another organization's, answers 404."""
        return selectors.action_item_get(
            user=self.actor, organization=self.organization, pk=self.kwargs["pk"]
        )

    def get_changeable_item(self) -> ActionItem:
        """The item of the URL if the user may change it: hidden → 404, read-only → 403."""
        item = self.get_item()
        if not selectors.action_item_can_change(user=self.actor, item=item):
            raise PermissionDenied("Only its owner and admins change this action item.")
        return item

    def item_form(self, data: Any = None, item: ActionItem | None = None) -> ActionItemForm:
        return ActionItemForm(
            data,
            user=self.actor,
            organization=self.organization,
            manager=self.can_manage,
            item=item,
            search_url=reverse("weekly_control_search", args=[self.organization.slug]),
        )


# --- the page -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemFilters:
    owner: str = ""  # "" (everyone), "me" or a user id
    status: str = ""  # "", "open" or "done"

    @property
    def active(self) -> bool:
        return bool(self.owner or self.status)


@dataclass(frozen=True)
class Section:
    """One part of the weekly page: its template and the function that builds its context."""

    name: str
    template: str
    build: Callable[[WeeklyView, Week], dict[str, Any]]


def notes_section(view: WeeklyView, week: Week) -> dict[str, Any]:
    """The week's notes, rendered and sanitised as policy bodies are, and the form to edit
    them for admins (this week's or an earlier one's)."""
    meeting = selectors.meeting_get(user=view.actor, organization=view.organization, week=week)
    form = view.forms.get("notes_form")
    if form is None and view.can_manage:
        form = NotesForm(initial={"notes": meeting.notes if meeting else ""})
    return {
        "meeting": meeting,
        "notes_html": render_markdown(meeting.notes) if meeting and meeting.notes else "",
        "notes_form": form,
    }


def action_items_section(view: WeeklyView, week: Week) -> dict[str, Any]:
    """The week's action items (raised this week, or carried over while open), a page at a
    time, with the week's figures and the add form (this week only: an item is raised in the
    week it is added)."""
    organization, user = view.organization, view.actor
    visible = selectors.action_item_list(user=user, organization=organization)
    on_week = selectors.on_week(visible, organization=organization, week=week)
    filters = view.item_filters
    shown = on_week
    if filters.owner:
        shown = shown.filter(owner_id=user.pk if filters.owner == "me" else int(filters.owner))
    if filters.status:
        shown = shown.filter(status=filters.status)
    page = paginate(view.request, selectors.week_order(shown), per_page=ITEMS_PER_PAGE)
    rows = list(page.object_list)
    item_form = view.forms.get("item_form")
    if item_form is None and view.can_raise and week == view.this_week:
        item_form = view.item_form()
    return {
        "items_page": page,
        "item_rows": rows,
        "changeable": selectors.changeable_ids(
            user=user, organization=organization, ids=[item.pk for item in rows]
        ),
        "counts": selectors.week_counts(
            visible, organization=organization, week=week, now=view.now
        ),
        "item_filters": filters,
        "item_form": item_form,
        "control_options_id": CONTROL_OPTIONS_ID,
    }


# How many weeks of each framework's trend the page lists (the snapshots API has them all).
TREND_WEEKS = 12


def readiness_section(view: WeeklyView, week: Week) -> dict[str, Any]:
    """Per adopted framework: its weekly snapshots up to this week (oldest first), the forecast
    from them as it stood at the week's end, and long-lead controls planned after its target
    audit date. A few queries per adopted framework (a handful), whatever the data."""
    from compliance import selectors as program

    frameworks = []
    for adoption in view.adoptions:
        trend = program.snapshot_trend(
            user=view.actor, adoption=adoption, weeks=TREND_WEEKS, until=week.start
        )
        latest = trend[-1] if trend else None
        frameworks.append(
            {
                "adoption": adoption,
                "trend": trend,
                "latest": latest if latest and latest.week == week.start else None,
                # The newest snapshot up to this week: its blockers by reason and its owners.
                "frozen": latest,
                "blockers": _blocker_rows(latest),
                "forecast": program.forecast_of(trend, adoption, min(week.last_day, view.today)),
                "long_lead": program.long_lead_items(
                    user=view.actor, adoption=adoption, today=view.today
                ),
            }
        )
        frameworks[-1]["chart"] = _trend_chart(frameworks[-1])
    return {"readiness_frameworks": frameworks}


def changes_section(view: WeeklyView, week: Week) -> dict[str, Any]:
    """What changed in the week (``compliance.changes``): against the week before, or for the
    week in progress, since the last snapshot."""
    from compliance.changes import week_changes

    current = week == view.this_week
    return {
        "changes": week_changes(
            organization=view.organization,
            user=view.actor,
            adoptions=view.adoptions,
            week=week.start,
            current=current,
        ),
        "changes_current": current,
    }


def _trend_chart(framework: dict[str, Any]) -> dict[str, str] | None:
    """The framework's trend drawn (``compliance.charts``, the drawing the PDF and the digest
    use) as an image source and its text alternative; None without a snapshot."""
    from compliance import charts

    if not framework["trend"]:
        return None
    adoption, forecast = framework["adoption"], framework["forecast"]
    series = [
        charts.TrendSeries(
            adoption.framework.name, [(s.week, s.percent) for s in framework["trend"]]
        )
    ]
    line = (
        charts.ForecastLine(forecast.ready_on, forecast.optimistic, forecast.pessimistic)
        if forecast.ready_on and framework["trend"][-1].percent < 100
        else None
    )
    svg = charts.readiness_trend_svg_cached(
        series, target=adoption.target_audit_date, forecast=line
    )
    return {
        "src": charts.data_uri(svg),
        "alt": charts.describe(series, target=adoption.target_audit_date),
    }


def _blocker_rows(snapshot: Any) -> list[tuple[str, int]]:
    """A snapshot's controls by blocker reason, in words, most first (zeros left out)."""
    if snapshot is None:
        return []
    from controls.models import BlockerKind

    labels = dict(BlockerKind.choices)
    rows = [
        (str(labels.get(kind, kind)), count)
        for kind, count in snapshot.controls_by_blocker.items()
        if count and kind in labels
    ]
    return sorted(rows, key=lambda row: (-row[1], row[0]))


class WeeklyView(WeeklyMixin, TemplateView):
    """``/o/<org>/weekly/``: this week in the organization's time zone, or ``?week=2026-W48``.
    A week that is not one, or has not begun, is explained and this week shown instead."""

    template_name = "weekly/week.html"
    sections: list[Section] = [
        Section("readiness", "weekly/_readiness.html", readiness_section),
        Section("changes", "weekly/_changes.html", changes_section),
        Section("notes", "weekly/_notes.html", notes_section),
        Section("action_items", "weekly/_action_items.html", action_items_section),
    ]
    forms: dict[str, Any]

    def setup(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().setup(request, *args, **kwargs)
        self.forms = {}

    @cached_property
    def chosen_week(self) -> tuple[Week, str]:
        """The week asked for, and why another is shown instead ("" when it is shown)."""
        raw = self.request.GET.get("week", "").strip()
        if not raw:
            return self.this_week, ""
        try:
            week = Week.parse(raw)
        except ValueError as exc:
            return self.this_week, f"“{raw[:20]}” is not a week. {exc} This week is shown."
        if week > self.this_week:
            return self.this_week, f"{week.label} has not begun yet. This week is shown."
        return week, ""

    @cached_property
    def owners(self) -> list[Any]:
        return list(selectors.owner_choices(self.organization))

    @cached_property
    def filter_state(self) -> tuple[ItemFilters, list[str]]:
        owner = self.request.GET.get("owner", "").strip()
        status = self.request.GET.get("status", "").strip()
        problems = []
        if owner and owner != "me" and owner not in {str(user.pk) for user in self.owners}:
            problems.append("No such admin or member here: everyone's items are shown.")
            owner = ""
        if status and status not in STATUS_FILTERS:
            problems.append("Filter by status open or done: every item is shown.")
            status = ""
        return ItemFilters(owner=owner, status=status), problems

    @property
    def item_filters(self) -> ItemFilters:
        return self.filter_state[0]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        week, week_problem = self.chosen_week
        context.update(
            week=week,
            this_week=self.this_week,
            previous_week=week.previous(),
            next_week=week.next() if week < self.this_week else None,
            week_problem=week_problem,
            filter_problems=self.filter_state[1],
            owners=self.owners,
            status_filters=STATUS_FILTERS,
            can_manage=self.can_manage,
            can_raise=self.can_raise,
            today=self.today,
            page_url=self.request.get_full_path(),
        )
        for section in self.sections:
            context.update(section.build(self, week))
        return context

    def rerender(self, **forms: Any) -> HttpResponse:
        """The page again with a refused form and its errors (400)."""
        self.forms = forms
        return self.render_to_response(self.get_context_data(), status=400)


class _WeeklyPostView(WeeklyView):
    """A form posted from the weekly page; opening its URL leads back to the page."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return redirect("weekly", org=self.organization.slug)


class NotesSaveView(_WeeklyPostView):
    capability = Capability.MANAGE_MEETINGS

    @cached_property
    def chosen_week(self) -> tuple[Week, str]:
        try:
            return Week.parse(self.request.POST.get("week", "")), ""
        except ValueError:
            return self.this_week, ""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = NotesForm(request.POST)
        try:
            week = Week.parse(request.POST.get("week", ""))
        except ValueError as exc:
            form.add_error(None, f"Which week? {exc}")
            week = None
        if week is not None and form.is_valid():
            try:
                services.meeting_notes_save(
                    actor=self.actor,
                    organization=self.organization,
                    week=week,
                    notes=form.cleaned_data["notes"],
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, f"Notes of {week.label.lower()} saved.")
                return redirect(self.weekly_url(week, "notes"))
        return self.rerender(notes_form=form)


class ActionItemCreateView(_WeeklyPostView):
    """Raise an item this week: admins for anyone, members for themselves."""

    @cached_property
    def chosen_week(self) -> tuple[Week, str]:
        return self.this_week, ""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.can_raise:
            raise PermissionDenied("Only admins and members raise action items.")
        form = self.item_form(request.POST)
        if form.is_valid():
            try:
                item = services.action_item_create(
                    actor=self.actor, organization=self.organization, **form.service_arguments()
                )
            except services.FieldsDenied as exc:
                for field, message in exc.messages.items():
                    form.add_error(field if field in form.fields else None, message)
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                owner = item.owner.display_name if item.owner else ""
                due = date_format(item.due_on, "j M Y")
                messages.success(request, f"“{item.title}” added for {owner}, due {due}.")
                return redirect(self.weekly_url(anchor=f"action-item-{item.pk}"))
        return self.rerender(item_form=form)


class _ItemActionView(WeeklyMixin):
    """Mark done, reopen, delete: a button on the weekly page; back to where it was pressed."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.get_item()  # a hidden item stays a 404
        return redirect("weekly", org=self.organization.slug)

    def target(self) -> ActionItem:
        return self.get_changeable_item()

    def act(self, item: ActionItem) -> str:
        raise NotImplementedError

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        item = self.target()
        try:
            message = self.act(item)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, message)
        return redirect(self.back_url(self.weekly_url(anchor=f"action-item-{item.pk}")))


class ActionItemCloseView(_ItemActionView):
    def act(self, item: ActionItem) -> str:
        services.action_item_close(actor=self.actor, item=item)
        return f"“{item.title}” is done."


class ActionItemReopenView(_ItemActionView):
    def act(self, item: ActionItem) -> str:
        services.action_item_reopen(actor=self.actor, item=item)
        return f"“{item.title}” is open again."


class ActionItemDeleteView(_ItemActionView):
    capability = Capability.MANAGE_MEETINGS

    def target(self) -> ActionItem:
        return self.get_item()

    def act(self, item: ActionItem) -> str:
        services.action_item_delete(actor=self.actor, item=item)
        return f"“{item.title}” was deleted."


class ActionItemEditView(WeeklyMixin, TemplateView):
    """Edit one item: its owner (a member) or an admin; admins also reassign and delete it."""

    template_name = "weekly/action_item_form.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        item = kwargs.get("item") or self.get_changeable_item()
        context = super().get_context_data(**kwargs)
        context.update(
            item=item,
            form=kwargs.get("form") or self.item_form(item=item),
            can_manage=self.can_manage,
            raised=Week(item.raised_week),
            control_options_id=CONTROL_OPTIONS_ID,
            back=self.weekly_url(anchor=f"action-item-{item.pk}"),
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        item = self.get_changeable_item()
        form = self.item_form(request.POST, item=item)
        if form.is_valid():
            try:
                saved = services.action_item_update(
                    actor=self.actor,
                    item=item,
                    changes=services.ActionItemChanges(**form.service_arguments()),  # type: ignore[typeddict-item]
                )
            except services.FieldsDenied as exc:
                for field, message in exc.messages.items():
                    form.add_error(field if field in form.fields else None, message)
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, f"“{saved.title}” saved.")
                return redirect(self.weekly_url(anchor=f"action-item-{saved.pk}"))
        return self.render_to_response(self.get_context_data(item=item, form=form), status=400)


class ControlSearchView(WeeklyMixin):
    """Suggestions for the control field: the first active controls matching what was typed,
    as ``<option>`` elements of its datalist."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        text = request.GET.get("control", "") or request.GET.get("q", "")
        controls = selectors.control_search(
            user=self.actor, organization=self.organization, text=text
        )
        return render(request, "weekly/_control_options.html", {"controls": controls})
