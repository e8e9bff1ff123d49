"""Pages of the answer library and the questionnaires: thin views over the library's selectors
and services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views import View
from django.views.generic import TemplateView

from compliance.models import Membership
from compliance.permissions import PROGRAM_READERS
from compliance.tabular import TableError, column_letter
from compliance.views.mixins import OrganizationMixin, apply_validation_error, paginate
from trust.library import exports, selectors, services
from trust.library.forms import PREVIEW_ROWS, DecisionForm, EntryForm, MappingForm, UploadForm
from trust.models import AnswerEntry, Questionnaire, QuestionnaireStatus, RowDecision


class _ProgramReadersOnly(View):
    """Runs after OrganizationMixin resolved the membership: the library is not in any audit's
    scope, so an auditor is told it does not exist (404), like an outsider."""

    membership: Membership

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if self.membership.role not in PROGRAM_READERS:
            raise Http404("No such page.")
        return super().dispatch(request, *args, **kwargs)


class LibraryMixin(OrganizationMixin, _ProgramReadersOnly):
    nav = "answer_library"
    capability = None  # _ProgramReadersOnly decides

    @property
    def can_manage(self) -> bool:
        return services.may_manage_library(self.actor, self.organization)

    @property
    def can_review(self) -> bool:
        return services.may_review(self.actor, self.organization)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(can_manage=self.can_manage, can_review=self.can_review)
        return context

    def get_entry(self) -> AnswerEntry:
        return selectors.answer_entry_get(
            user=self.actor, organization=self.organization, pk=self.kwargs["pk"]
        )

    def get_changeable_entry(self) -> AnswerEntry:
        entry = self.get_entry()
        if not selectors.answer_entry_can_change(user=self.actor, entry=entry):
            raise PermissionDenied("You may not change this answer.")
        return entry


# --- the library --------------------------------------------------------------------------------


class EntryListView(LibraryMixin, TemplateView):
    template_name = "trust/library/entry_list.html"

    def get_template_names(self) -> list[str]:
        if self.request.htmx and not self.request.htmx.boosted:  # type: ignore[attr-defined]
            return ["trust/library/_entry_table.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        filters = {
            "q": self.request.GET.get("q", "").strip()[:200],
            "stale": self.request.GET.get("stale", ""),
            "owner": self.request.GET.get("owner", ""),
        }
        entries = selectors.answer_entry_list(
            user=self.actor,
            organization=self.organization,
            search=filters["q"],
            stale=filters["stale"] if filters["stale"] in selectors.STALE_FILTERS else "",
            owner=filters["owner"],
        )
        context.update(
            page=paginate(self.request, entries, per_page=50),
            filters=filters,
            stale_filters=selectors.STALE_FILTERS,
        )
        return context


class EntryCreateView(LibraryMixin, TemplateView):
    template_name = "trust/library/entry_form.html"

    def check(self) -> None:
        if not self.can_manage:
            raise PermissionDenied("Only admins add answers to the library.")

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.check()
        form = EntryForm(organization=self.organization, can_manage=True)
        return self.render_to_response(self.get_context_data(form=form))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.check()
        form = EntryForm(request.POST, organization=self.organization, can_manage=True)
        if form.is_valid():
            data = form.cleaned_data
            try:
                entry = services.answer_entry_create(
                    actor=self.actor,
                    organization=self.organization,
                    question=data["question"],
                    answer=data["answer"],
                    aliases=data["aliases"],
                    notes=data["notes"],
                    owner=data["owner"],
                    review_by=data["review_by"],
                    controls=list(data["controls"]),
                    policies=list(data["policies"]),
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, "Answer added to the library.")
                return redirect("answer_entry_detail", self.organization.slug, entry.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class EntryDetailView(LibraryMixin, TemplateView):
    template_name = "trust/library/entry_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        entry = self.get_entry()
        context.update(
            entry=entry,
            can_change=selectors.answer_entry_can_change(user=self.actor, entry=entry),
        )
        return context


class EntryEditView(LibraryMixin, TemplateView):
    template_name = "trust/library/entry_form.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        entry = self.get_changeable_entry()
        form = EntryForm(instance=entry, organization=self.organization, can_manage=self.can_manage)
        return self.render_to_response(self.get_context_data(form=form, entry=entry))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        entry = self.get_changeable_entry()
        form = EntryForm(
            request.POST, instance=entry, organization=self.organization, can_manage=self.can_manage
        )
        if form.is_valid():
            data = form.cleaned_data
            changes = {
                name: data[name] for name in ("question", "answer", "aliases", "notes", "review_by")
            }
            if self.can_manage:
                changes["owner"] = data["owner"]
            try:
                services.answer_entry_update(
                    actor=self.actor,
                    entry=AnswerEntry.objects.get(pk=entry.pk),
                    changes=changes,
                    controls=list(data["controls"]),
                    policies=list(data["policies"]),
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, "Answer saved.")
                return redirect("answer_entry_detail", self.organization.slug, entry.pk)
        return self.render_to_response(self.get_context_data(form=form, entry=entry), status=400)


class EntryDeleteView(LibraryMixin, TemplateView):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        entry = self.get_entry()
        if not self.can_manage:
            raise PermissionDenied("Only admins remove answers from the library.")
        services.answer_entry_delete(actor=self.actor, entry=entry)
        messages.success(request, "Answer removed from the library.")
        return redirect("answer_entry_list", self.organization.slug)


# --- questionnaires -----------------------------------------------------------------------------


class QuestionnaireMixin(LibraryMixin):
    nav = "questionnaires"

    def get_questionnaire(self) -> Questionnaire:
        return selectors.questionnaire_get(
            user=self.actor, organization=self.organization, pk=self.kwargs["pk"]
        )

    def get_reviewable(self) -> Questionnaire:
        questionnaire = self.get_questionnaire()
        if not self.can_review:
            raise PermissionDenied("Only admins and members review questionnaires.")
        return questionnaire


class QuestionnaireListView(QuestionnaireMixin, TemplateView):
    template_name = "trust/library/questionnaire_list.html"

    def get_template_names(self) -> list[str]:
        if self.request.htmx and not self.request.htmx.boosted:  # type: ignore[attr-defined]
            return ["trust/library/_questionnaire_table.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        filters = {
            "q": self.request.GET.get("q", "").strip()[:200],
            "status": self.request.GET.get("status", ""),
        }
        queryset = selectors.questionnaire_list(
            user=self.actor,
            organization=self.organization,
            search=filters["q"],
            status=filters["status"],
        )
        context.update(
            page=paginate(self.request, queryset, per_page=50),
            filters=filters,
            statuses=QuestionnaireStatus.choices,
        )
        return context


class QuestionnaireUploadView(QuestionnaireMixin, TemplateView):
    template_name = "trust/library/questionnaire_upload.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.can_review:
            raise PermissionDenied("Only admins and members import questionnaires.")
        return self.render_to_response(self.get_context_data(form=UploadForm()))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.can_review:
            raise PermissionDenied("Only admins and members import questionnaires.")
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                questionnaire = services.questionnaire_upload(
                    actor=self.actor,
                    organization=self.organization,
                    name=form.cleaned_data["name"],
                    customer=form.cleaned_data["customer"],
                    upload=form.cleaned_data["file"],
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                return redirect("questionnaire_detail", self.organization.slug, questionnaire.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class QuestionnaireDetailView(QuestionnaireMixin, TemplateView):
    """Mapping (choose the sheet and columns from a preview) until the columns are chosen,
    then the review: the rows, 25 a page, each with its suggestion and decision."""

    def get_template_names(self) -> list[str]:
        if self.get_questionnaire().status == QuestionnaireStatus.MAPPING:
            return ["trust/library/questionnaire_mapping.html"]
        if self.request.htmx and not self.request.htmx.boosted:  # type: ignore[attr-defined]
            return ["trust/library/_row_table.html"]
        return ["trust/library/questionnaire_review.html"]

    def mapping_context(
        self, questionnaire: Questionnaire, form: MappingForm | None = None
    ) -> dict[str, Any]:
        try:
            table = services.questionnaire_table(questionnaire)
        except TableError as exc:  # the stored file no longer reads: say so
            return {"table_error": str(exc)}
        sheet = (
            self.request.GET.get("sheet")
            or (form.data.get("sheet") if form else "")
            or questionnaire.sheet
        )
        if sheet not in table.sheet_names:
            sheet = table.sheet_names[0]
        if form is None:
            guess_q, guess_a = _guess_columns(
                table.sheet(sheet).rows[0] if table.sheet(sheet).rows else []
            )
            form = MappingForm(
                table=table,
                sheet=sheet,
                initial={
                    "sheet": sheet,
                    "question_column": guess_q,
                    "answer_column": guess_a,
                    "header_row": 1,
                },
            )
        data = form.sheet_data
        width = max(data.width, 1) + 1
        return {
            "form": form,
            "sheet": sheet,
            "letters": [column_letter(i) for i in range(width)],
            "preview": [
                (index + 1, [data.cell(index, c) for c in range(width)])
                for index in range(min(len(data.rows), PREVIEW_ROWS))
            ],
            "row_total": len(data.rows),
        }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        questionnaire = self.get_questionnaire()
        context["questionnaire"] = questionnaire
        if questionnaire.status == QuestionnaireStatus.MAPPING:
            if "form" not in kwargs:
                context.update(self.mapping_context(questionnaire))
            return context
        decision = self.request.GET.get("decision", "")
        decision = decision if decision in RowDecision.values else ""
        rows = selectors.questionnaire_rows(
            user=self.actor, questionnaire=questionnaire, decision=decision
        )
        context.update(
            page=paginate(self.request, rows, per_page=25),
            decision=decision,
            decisions=RowDecision.choices,
            counts=_decision_counts(questionnaire),
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        questionnaire = self.get_reviewable()
        if questionnaire.status != QuestionnaireStatus.MAPPING:
            return redirect("questionnaire_detail", self.organization.slug, questionnaire.pk)
        table = services.questionnaire_table(questionnaire)
        form = MappingForm(request.POST, table=table, sheet=request.POST.get("sheet", ""))
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.questionnaire_map(
                    actor=self.actor,
                    questionnaire=questionnaire,
                    sheet=data["sheet"],
                    question_column=data["question_column"],
                    answer_column=data["answer_column"],
                    header_row=data["header_row"],
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                return redirect("questionnaire_detail", self.organization.slug, questionnaire.pk)
        context = self.get_context_data(form=form)
        context.update(self.mapping_context(questionnaire, form))
        return self.render_to_response(context, status=400)


def _guess_columns(header: list[str]) -> tuple[int, int]:
    lowered = [cell.lower() for cell in header]
    question = next((i for i, c in enumerate(lowered) if "question" in c), 0)
    answer = next(
        (i for i, c in enumerate(lowered) if "answer" in c or "response" in c),
        question + 1,
    )
    return question, answer


def _decision_counts(questionnaire: Questionnaire) -> dict[str, int]:
    counts = dict(
        questionnaire.rows.values("decision").annotate(n=Count("pk")).values_list("decision", "n")
    )
    return {label: counts.get(value, 0) for value, label in RowDecision.choices}


class RowDecideView(QuestionnaireMixin, TemplateView):
    """A reviewer's decision on one row; htmx gets the row back."""

    http_method_names = ["post"]
    template_name = "trust/library/_row.html"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        questionnaire = self.get_reviewable()
        row = selectors.questionnaire_row_get(
            user=self.actor, questionnaire=questionnaire, pk=kwargs["row"]
        )
        form = DecisionForm(request.POST)
        error = ""
        if form.is_valid():
            try:
                services.questionnaire_row_decide(
                    actor=self.actor,
                    row=row,
                    decision=form.cleaned_data["decision"],
                    answer=form.cleaned_data["answer"],
                )
            except ValidationError as exc:
                error = " ".join(exc.messages)
        else:
            error = "Choose accept, edit or reject."
        if not request.htmx:  # type: ignore[attr-defined]
            if error:
                messages.error(request, f"Row {row.row_number}: {error}")
            page = request.POST.get("page", "")
            url = reverse("questionnaire_detail", args=[self.organization.slug, questionnaire.pk])
            return redirect(f"{url}?page={page}" if page.isdigit() else url)
        row = selectors.questionnaire_row_get(
            user=self.actor, questionnaire=questionnaire, pk=kwargs["row"]
        )
        context = self.get_context_data(
            row=row,
            questionnaire=questionnaire,
            row_error=error,
            counts=_decision_counts(questionnaire),
            counts_out_of_band=True,  # the tiles above the table follow the decision
        )
        return self.render_to_response(context, status=400 if error else 200)


class QuestionnaireStatusView(QuestionnaireMixin, View):
    """Mark the review complete, or reopen it (``reopen`` in the URL's extra arguments)."""

    http_method_names = ["post"]
    reopen = False

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        questionnaire = self.get_reviewable()
        service = services.questionnaire_reopen if self.reopen else services.questionnaire_complete
        try:
            service(actor=self.actor, questionnaire=questionnaire)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                "Review reopened: rows can be decided again."
                if self.reopen
                else "Review marked complete.",
            )
        return redirect("questionnaire_detail", self.organization.slug, questionnaire.pk)


class RowToLibraryView(QuestionnaireMixin, TemplateView):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        questionnaire = self.get_reviewable()
        row = selectors.questionnaire_row_get(
            user=self.actor, questionnaire=questionnaire, pk=kwargs["row"]
        )
        update = request.POST.get("mode") == "update"
        try:
            entry = services.questionnaire_row_save_to_library(
                actor=self.actor, row=row, update_source=update
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                f"Row {row.row_number} {'updated' if update else 'added to'} the library "
                f"(“{entry.question[:60]}”).",
            )
        return redirect("questionnaire_detail", self.organization.slug, questionnaire.pk)


class QuestionnaireExportView(QuestionnaireMixin, TemplateView):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        questionnaire = self.get_questionnaire()
        if questionnaire.status == QuestionnaireStatus.MAPPING:
            raise PermissionDenied("Choose the columns before exporting.")
        return export_response(questionnaire)


def export_response(questionnaire: Questionnaire) -> HttpResponse:
    response = HttpResponse(
        exports.export_questionnaire(questionnaire),
        content_type=exports.CONTENT_TYPES[questionnaire.format],  # type: ignore[index]
    )
    response["Content-Disposition"] = content_disposition_header(
        True, exports.export_filename(questionnaire)
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
