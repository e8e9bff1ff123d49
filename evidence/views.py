from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import F, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.generic import TemplateView

from compliance.permissions import Capability
from compliance.views.mixins import OrganizationMixin, apply_validation_error, paginate
from controls.models import Control
from evidence import selectors, services, storage
from evidence.downloads import attachment_response
from evidence.forms import EvidenceForm, EvidenceRequestForm, LogEventForm, ReviewForm, RevisionForm
from evidence.models import (
    Cadence,
    EvidenceKind,
    EvidenceRevision,
    IntegrityAlert,
    IntegrityRun,
    ReviewStatus,
)
from evidence.uploads import upload_refusal

logger = logging.getLogger(__name__)


class EvidenceFileMissing(Http404):
    """A revision's file is not in storage (the API answers it as a 404 with this message)."""


MISSING_FILE = (
    "The file of this revision is missing from storage. The integrity check reports it to the "
    "operators; upload it again as a new revision if you still have it."
)

# Each order is served by an index of EvidenceItem (organization, column, id).
EVIDENCE_SORTS = {
    "effective_date": ("effective_date", "pk"),
    "title": ("title", "pk"),
}
# Chips per row of the list; the rest is counted ("+3 more") and listed on the item's page.
LIST_CONTROLS_SHOWN = 5


class EvidenceListView(OrganizationMixin, TemplateView):
    nav = "evidence"
    template_name = "evidence/evidence_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        items: QuerySet[Any] = selectors.evidence_list(
            user=self.actor, organization=self.organization
        )
        params = self.request.GET
        review = params.get("review", "")
        if review in ReviewStatus.values:
            items = selectors.filter_latest_review(items, status=review)
        kind = params.get("kind", "")
        if kind in EvidenceKind.values:
            items = items.filter(kind=kind)
        control = params.get("control", "")
        if control.isdigit():
            items = selectors.filter_control(items, int(control))
        query = params.get("q", "").strip()[:100]
        if query:
            items = items.filter(title__icontains=query)
        uploader = "me" if params.get("uploader") == "me" else ""
        if uploader:
            items = selectors.last_uploaded_by(items, user=self.actor)
        sort = params.get("sort", "-effective_date")
        key = sort.lstrip("-")
        if key not in EVIDENCE_SORTS:
            sort, key = "-effective_date", "effective_date"
        fields = EVIDENCE_SORTS[key]
        items = items.order_by(*[f"-{f}" if sort.startswith("-") else f for f in fields])
        page = paginate(self.request, items, per_page=50)
        page.object_list = selectors.with_revision_facts(
            list(page.object_list), controls_shown=LIST_CONTROLS_SHOWN
        )
        can_review = self.can(Capability.REVIEW_EVIDENCE)
        context.update(
            page=page,
            sort=sort,
            filters={
                "review": review,
                "kind": kind,
                "control": control,
                "q": query,
                "uploader": uploader,
            },
            review_choices=ReviewStatus.choices,
            kind_choices=EvidenceKind.choices,
            can_review=can_review,
            can_add=selectors.can_upload(user=self.actor, organization=self.organization),
            pending_count=selectors.pending_review_count(
                user=self.actor, organization=self.organization
            )
            if can_review
            else 0,
        )
        return context


class EvidenceCreateView(OrganizationMixin, TemplateView):
    nav = "evidence"
    template_name = "evidence/evidence_form.html"

    def _occurrence(self) -> Any:
        raw = self.request.POST.get("occurrence") or self.request.GET.get("occurrence")
        if not raw:
            return None
        try:
            return selectors.occurrence_for_upload(
                user=self.actor, organization=self.organization, pk=raw
            )
        except PermissionError as exc:
            raise PermissionDenied(str(exc)) from None

    def _controls(self) -> QuerySet[Control]:
        return selectors.uploadable_controls(user=self.actor, organization=self.organization)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        occurrence = kwargs.get("occurrence", self._occurrence())
        if "form" not in kwargs:
            initial: dict[str, Any] = {
                "effective_date": services.organization_today(self.organization)
            }
            control = self.request.GET.get("control", "")
            if control.isdigit():
                initial["controls"] = [int(control)]
            if occurrence is not None:
                initial["title"] = (
                    f"{occurrence.request.title} — due {occurrence.due_date:%d %b %Y}"
                )
                initial["controls"] = list(occurrence.request.controls.values_list("pk", flat=True))
                initial["covers_from"] = occurrence.period_start
                initial["covers_until"] = occurrence.period_end
            context["form"] = EvidenceForm(controls=self._controls(), initial=initial)
        context["occurrence"] = occurrence
        return context

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        occurrence = self._occurrence()
        if occurrence is None and not selectors.can_upload(
            user=self.actor, organization=self.organization
        ):
            raise PermissionDenied("You can add evidence only to controls you own or were granted.")
        return self.render_to_response(self.get_context_data(occurrence=occurrence))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        occurrence = self._occurrence()
        controls = self._controls()
        if occurrence is not None:
            # The request's controls come with the occurrence, whoever owns them.
            controls = controls | occurrence.request.controls.all()
        elif not controls.exists():
            raise PermissionDenied("You can add evidence only to controls you own or were granted.")
        form = EvidenceForm(request.POST, request.FILES, controls=controls.distinct())
        refusal = upload_refusal(request)
        if refusal is not None:
            message, status = refusal
            form.is_valid()
            form.errors["file"] = form.error_class([message])  # the one thing wrong with it
            return self.render_to_response(
                self.get_context_data(form=form, occurrence=occurrence), status=status
            )
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                item = services.evidence_create(
                    actor=self.actor,
                    organization=self.organization,
                    title=data["title"],
                    kind=data["kind"],
                    effective_date=data["effective_date"],
                    covers_from=data["covers_from"],
                    covers_until=data["covers_until"],
                    controls=list(data["controls"]),
                    occurrence=occurrence,
                    upload=data["file"] if data["kind"] == EvidenceKind.FILE else None,
                    url=data["url"],
                    note=data["note"],
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            except storage.StorageFull as exc:
                form.add_error("file", exc.message)
                status = 507
            else:
                messages.success(request, f"“{item.title}” uploaded; it waits for review.")
                return redirect("evidence_detail", org=self.organization.slug, pk=item.pk)
        return self.render_to_response(
            self.get_context_data(form=form, occurrence=occurrence), status=status
        )


# The item's controls: the first few beside its revisions, all of them a page at a time on demand.
DETAIL_CONTROLS_SHOWN = 12
CONTROLS_PER_PAGE = 50


class EvidenceDetailView(OrganizationMixin, TemplateView):
    nav = "evidence"
    template_name = "evidence/evidence_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        item = selectors.evidence_get(
            user=self.actor, organization=self.organization, pk=kwargs["pk"]
        )
        selectors.with_revision_facts([item], controls_shown=DETAIL_CONTROLS_SHOWN)
        controls_page = None
        if (
            self.request.GET.get("controls") == "all" and item.control_count > DETAIL_CONTROLS_SHOWN  # type: ignore[attr-defined]
        ):
            controls_page = Paginator(
                item.controls.order_by("ref_id", "pk"), CONTROLS_PER_PAGE
            ).get_page(self.request.GET.get("controls_page"))
        context.update(
            item=item,
            revisions=paginate(self.request, selectors.revision_list(item=item), per_page=20),
            controls_page=controls_page,
            can_change=selectors.item_can_change(user=self.actor, item=item),
            can_review=self.can(Capability.REVIEW_EVIDENCE),
            revision_form=kwargs.get("revision_form") or RevisionForm(),
            review_form=ReviewForm(),
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """A new revision."""
        item = selectors.evidence_get(
            user=self.actor, organization=self.organization, pk=kwargs["pk"]
        )
        if not selectors.item_can_change(user=self.actor, item=item):
            raise PermissionDenied("You can add revisions only to evidence of controls you own.")
        form = RevisionForm(request.POST, request.FILES)
        refusal = upload_refusal(request)
        status = 400
        if refusal is not None:
            form.is_valid()
            form.errors["file"] = form.error_class([refusal[0]])
            status = refusal[1]
        elif form.is_valid():
            try:
                revision = services.evidence_add_revision(
                    actor=self.actor,
                    item=item,
                    upload=form.cleaned_data["file"],
                    url=form.cleaned_data["url"],
                    note=form.cleaned_data["note"],
                    effective_date=form.cleaned_data["effective_date"],
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            except storage.StorageFull as exc:
                form.add_error("file", exc.message)
                status = 507
            else:
                messages.success(request, f"Revision {revision.number} added; it waits for review.")
                return redirect("evidence_detail", org=self.organization.slug, pk=item.pk)
        return self.render_to_response(
            self.get_context_data(revision_form=form, **kwargs), status=status
        )


def file_response(revision: EvidenceRevision) -> FileResponse:
    """A stored file as a download (evidence.downloads).

    A file gone from storage is a 404 that says so (and an error in the log for the operators),
    never a server error: the integrity sweep reports it; nothing here repairs it."""
    try:
        return attachment_response(
            revision.storage_key,
            original_name=revision.original_name,
            content_type=revision.content_type,
            size=revision.size,
        )
    except FileNotFoundError:
        logger.error(
            "Evidence file missing: revision %s (organization %s), storage key %s",
            revision.pk,
            revision.item.organization_id,
            revision.storage_key,
        )
        raise EvidenceFileMissing(MISSING_FILE) from None


class RevisionDownloadView(OrganizationMixin):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        revision = selectors.revision_get(
            user=self.actor, organization=self.organization, pk=kwargs["pk"]
        )
        if not revision.storage_key:
            raise Http404("This revision is a link or a note, not a file.")
        try:
            response = file_response(revision)
        except EvidenceFileMissing:
            context = {"organization": self.organization, "revision": revision}
            return render(request, "evidence/file_missing.html", context, status=404)
        services.revision_download_record(actor=self.actor, revision=revision, via="web")
        return response


class RevisionReviewView(OrganizationMixin):
    capability = Capability.REVIEW_EVIDENCE

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        revision = selectors.revision_get(
            user=self.actor, organization=self.organization, pk=kwargs["pk"]
        )
        form = ReviewForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose accept or reject.")
        else:
            try:
                services.revision_review(
                    actor=self.actor,
                    revision=revision,
                    decision=form.cleaned_data["decision"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                verb = (
                    "accepted"
                    if form.cleaned_data["decision"] == ReviewStatus.ACCEPTED
                    else "rejected"
                )
                messages.success(request, f"Revision {revision.number} {verb}.")
        return redirect("evidence_detail", org=self.organization.slug, pk=revision.item_id)


# --- requests -----------------------------------------------------------------------------------


class EvidenceRequestListView(OrganizationMixin, TemplateView):
    nav = "evidence"
    template_name = "evidence/request_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        requests = selectors.request_list(user=self.actor, organization=self.organization)
        if self.request.GET.get("mine") == "1":
            requests = requests.filter(owner=self.actor)
        control = self.request.GET.get("control", "")
        if control.isdigit():  # a control's requests (the control page's "all" link)
            requests = requests.filter(controls=int(control))
        waiting = self.request.GET.get("waiting") == "me"
        if waiting:
            # What "My work" lists: the user's requests with an occurrence still to deliver.
            mine = selectors.requests_waiting_for(user=self.actor, organization=self.organization)
            requests = requests.filter(pk__in=mine.values("pk"))
        context.update(
            page=paginate(self.request, requests, per_page=50),
            can_manage=self.can(Capability.MANAGE_EVIDENCE_REQUESTS),
            today=services.organization_today(self.organization),
            waiting=waiting,
        )
        return context


class EvidenceRequestFormView(OrganizationMixin, TemplateView):
    nav = "evidence"
    capability = Capability.MANAGE_EVIDENCE_REQUESTS
    template_name = "evidence/request_form.html"

    def get_request(self) -> Any:
        if "pk" not in self.kwargs:
            return None
        return selectors.request_get(
            user=self.actor, organization=self.organization, pk=self.kwargs["pk"]
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        instance = kwargs.get("instance", self.get_request())
        context["evidence_request"] = instance
        context["form"] = kwargs.get("form") or EvidenceRequestForm(
            organization=self.organization, instance=instance
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        instance = self.get_request()
        form = EvidenceRequestForm(request.POST, organization=self.organization, instance=instance)
        if form.is_valid():
            data = form.service_arguments()
            try:
                if instance is None:
                    saved = services.request_create(
                        actor=self.actor, organization=self.organization, **data
                    )
                else:
                    saved = services.request_update(
                        actor=self.actor, request=instance, changes=data
                    )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, f"Evidence request “{saved.title}” saved.")
                return redirect("evidence_request_detail", org=self.organization.slug, pk=saved.pk)
        return self.render_to_response(
            self.get_context_data(form=form, instance=instance), status=400
        )


class EvidenceRequestDetailView(OrganizationMixin, TemplateView):
    nav = "evidence"
    template_name = "evidence/request_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        evidence_request = selectors.request_get(
            user=self.actor, organization=self.organization, pk=kwargs["pk"]
        )
        context.update(
            evidence_request=evidence_request,
            page=paginate(
                self.request,
                selectors.request_occurrences(evidence_request=evidence_request),
                per_page=25,
            ),
            can_manage=self.can(Capability.MANAGE_EVIDENCE_REQUESTS),
            can_submit=selectors.request_can_submit(
                user=self.actor, evidence_request=evidence_request
            ),
            event_form=LogEventForm() if evidence_request.cadence == Cadence.EVENT_DRIVEN else None,
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """Log an event of an event-driven request (admins)."""
        if not self.can(Capability.MANAGE_EVIDENCE_REQUESTS):
            raise PermissionDenied
        evidence_request = selectors.request_get(
            user=self.actor, organization=self.organization, pk=kwargs["pk"]
        )
        form = LogEventForm(request.POST)
        if form.is_valid():
            try:
                services.occurrence_log_event(
                    actor=self.actor,
                    request=evidence_request,
                    due_date=form.cleaned_data["due_date"],
                    note=form.cleaned_data["note"],
                )
                messages.success(request, "Event logged; evidence is now requested for it.")
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
        else:
            messages.error(request, "Give the date the evidence is due.")
        return redirect(
            "evidence_request_detail", org=self.organization.slug, pk=evidence_request.pk
        )


class IntegrityView(OrganizationMixin, TemplateView):
    """The sweep's findings for this organization's files (admins)."""

    nav = "evidence"
    capability = Capability.REVIEW_EVIDENCE
    template_name = "evidence/integrity.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        alerts = (
            IntegrityAlert.objects.filter(organization=self.organization)
            .select_related("revision__item", "acknowledged_by", "run")
            .order_by(F("acknowledged_at").asc(nulls_first=True), "-detected_at")
        )
        context.update(
            page=paginate(self.request, alerts, per_page=50),
            last_run=IntegrityRun.objects.exclude(status=IntegrityRun.Status.RUNNING).first(),
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        alert = get_object_or_404(
            IntegrityAlert, pk=request.POST.get("alert", 0) or 0, organization=self.organization
        )
        services.integrity_alert_acknowledge(
            actor=self.actor, alert=alert, note=request.POST.get("note", "")[:500]
        )
        messages.success(request, "Alert acknowledged. The file was left as found.")
        return redirect("evidence_integrity", org=self.organization.slug)
