"""The questionnaires of a vendor (send, revoke, answers and score, the review recorded from
them) and the organization's questionnaire templates.

Who may do what: program readers (admins, members, viewers) see a vendor's questionnaires and
their answers; those who change the vendor (admins, the member who owns it) send and revoke
them and record reviews from them; admins copy starter templates. Auditors get 403 on these
pages, as on every vendor page (the vendor inventory is not part of the audits app's
engagement pages); another organization's vendor is a 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.utils.http import content_disposition_header
from django.views.generic import TemplateView

from compliance.permissions import Capability
from compliance.views.mixins import OrganizationMixin, apply_validation_error, paginate
from evidence import storage
from evidence.uploads import download_content_type
from vendors import questionnaire_services as services
from vendors import selectors
from vendors.models import SentQuestionnaire, Vendor
from vendors.questionnaire_forms import (
    QuestionnaireReviewForm,
    TemplateForm,
    TemplateImportForm,
    question_lines,
    send_form,
    templates_of,
)
from vendors.questionnaires import answer_label, score, starter_library
from vendors.views import VendorMixin


class _QuestionnaireMixin(VendorMixin):
    def get_questionnaire(self, vendor: Vendor) -> SentQuestionnaire:
        found = (
            selectors.vendor_questionnaires(user=self.actor, vendor=vendor)
            .filter(pk=self.kwargs["qid"])
            .first()
        )
        if found is None:
            raise Http404("No such questionnaire.")
        return found


class QuestionnaireSendView(_QuestionnaireMixin, TemplateView):
    template_name = "vendors/questionnaires/send.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        vendor = self.get_changeable_vendor()
        return self.render_to_response(
            self.get_context_data(vendor=vendor, form=send_form(self.organization))
        )

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        vendor = self.get_changeable_vendor()
        form = send_form(self.organization, request.POST)
        if form.is_valid():
            try:
                questionnaire, _token = services.questionnaire_send(
                    actor=self.actor, vendor=vendor, **form.cleaned_data
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(
                    request,
                    f"“{questionnaire.title}” sent to {questionnaire.contact_email}.",
                )
                return redirect("vendor_detail", org=self.organization.slug, pk=vendor.pk)
        return self.render_to_response(self.get_context_data(vendor=vendor, form=form), status=400)


class QuestionnaireRevokeView(_QuestionnaireMixin):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        vendor = self.get_vendor()
        self.get_questionnaire(vendor)
        return redirect("vendor_detail", org=self.organization.slug, pk=vendor.pk)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        vendor = self.get_changeable_vendor()
        questionnaire = self.get_questionnaire(vendor)
        try:
            services.questionnaire_revoke(actor=self.actor, questionnaire=questionnaire)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"The link of “{questionnaire.title}” no longer works.")
        return redirect("vendor_detail", org=self.organization.slug, pk=vendor.pk)


def answer_rows(questionnaire: SentQuestionnaire) -> list[dict[str, Any]]:
    saved = services.answers_by_key(questionnaire)
    files: dict[str, list[Any]] = {}
    for attachment in questionnaire.attachments.all():
        files.setdefault(attachment.question_key, []).append(attachment)
    rows, section = [], None
    for question in questionnaire.questions:
        answer = saved.get(question["key"])
        value = answer.value if answer else ""
        rows.append(
            {
                "q": question,
                "new_section": question["section"] != section,
                "label": answer_label(question, value),
                "comment": answer.comment if answer else "",
                "scores": bool(question.get("scoring_answer"))
                and value == question["scoring_answer"],
                "scored": bool(question.get("scoring_answer")) and value not in ("", "n/a"),
                "files": files.get(question["key"], []),
            }
        )
        section = question["section"]
    return rows


class QuestionnaireDetailView(_QuestionnaireMixin, TemplateView):
    template_name = "vendors/questionnaires/detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        vendor = kwargs.get("vendor") or self.get_vendor()
        questionnaire = kwargs.get("questionnaire") or self.get_questionnaire(vendor)
        context = super().get_context_data(**kwargs)
        can_change = selectors.vendor_can_change(user=self.actor, vendor=vendor)
        answers = {k: a.value for k, a in services.answers_by_key(questionnaire).items()}
        review_form = kwargs.get("review_form")
        if (
            review_form is None
            and can_change
            and vendor.is_active
            and questionnaire.status == "submitted"
            and questionnaire.review_id is None
        ):
            review_form = QuestionnaireReviewForm(initial={"reviewed_on": self.today})
        context.update(
            vendor=vendor,
            questionnaire=questionnaire,
            rows=answer_rows(questionnaire),
            general_files=[a for a in questionnaire.attachments.all() if not a.question_key],
            score=score(questionnaire.questions, answers),
            can_change=can_change,
            review_form=review_form,
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        vendor = self.get_changeable_vendor()
        questionnaire = self.get_questionnaire(vendor)
        form = QuestionnaireReviewForm(request.POST)
        if form.is_valid():
            try:
                services.questionnaire_review_record(
                    actor=self.actor, questionnaire=questionnaire, today=self.today,
                    **form.cleaned_data,
                )  # fmt: skip
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, f"Review of {vendor.name} recorded.")
                return redirect(
                    "vendor_questionnaire_detail",
                    org=self.organization.slug,
                    pk=vendor.pk,
                    qid=questionnaire.pk,
                )
        context = self.get_context_data(
            vendor=vendor, questionnaire=questionnaire, review_form=form
        )
        return self.render_to_response(context, status=400)


class AttachmentDownloadView(_QuestionnaireMixin):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        vendor = self.get_vendor()
        questionnaire = self.get_questionnaire(vendor)
        attachment = questionnaire.attachments.filter(pk=kwargs["aid"]).first()
        if attachment is None:
            raise Http404("No such file.")
        try:
            stored = storage.open_file(attachment.storage_key)
        except FileNotFoundError:
            raise Http404("The file is missing from storage.") from None
        response = FileResponse(stored, content_type=download_content_type(attachment.content_type))
        response["Content-Disposition"] = content_disposition_header(True, attachment.original_name)
        response["Content-Length"] = str(attachment.size)
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response["Cache-Control"] = "private, no-store"
        return response


# --- templates ----------------------------------------------------------------------------------


class TemplateListView(OrganizationMixin, TemplateView):
    """The organization's templates and the starter library (admins copy from it)."""

    nav = "vendors"
    template_name = "vendors/questionnaires/templates.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        templates = list(templates_of(self.organization).prefetch_related("questions")[:200])
        have = {t.library_key for t in templates if t.library_key}
        context.update(
            page=paginate(self.request, templates, per_page=50),
            library=list(starter_library().values()),
            have=have,
            can_manage=self.can(Capability.MANAGE_VENDORS),
        )
        if context["can_manage"]:
            context.setdefault("import_form", TemplateImportForm())
        return context


class TemplateImportView(TemplateListView):
    capability = Capability.MANAGE_VENDORS

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return redirect("vendor_questionnaire_templates", org=self.organization.slug)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = TemplateImportForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            upload = data["file"]
            try:
                template = services.template_import(
                    actor=self.actor,
                    organization=self.organization,
                    name=data["name"],
                    source=upload,
                    filename=upload.name or "",
                    sheet=data["sheet"],
                    question_column=data["question_column"],
                    section_column=data["section_column"],
                    kind=data["kind"],
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                count = template.questions.count()
                messages.success(request, f"“{template.name}” imported with {count} questions.")
                return redirect(
                    "vendor_questionnaire_template", org=self.organization.slug, tid=template.pk
                )
        return self.render_to_response(self.get_context_data(import_form=form), status=400)


class TemplateUseView(OrganizationMixin):
    capability = Capability.MANAGE_VENDORS

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return redirect("vendor_questionnaire_templates", org=self.organization.slug)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            template = services.template_from_library(
                actor=self.actor, organization=self.organization, key=request.POST.get("key", "")
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"“{template.name}” added to your templates.")
        return redirect("vendor_questionnaire_templates", org=self.organization.slug)


class TemplateDetailView(OrganizationMixin, TemplateView):
    nav = "vendors"
    template_name = "vendors/questionnaires/template_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        template = templates_of(self.organization).filter(pk=self.kwargs["tid"]).first()
        if template is None:
            raise Http404("No such template.")
        context = super().get_context_data(**kwargs)
        context.update(
            template=template,
            questions=list(template.questions.all()),
            can_manage=self.can(Capability.MANAGE_VENDORS),
        )
        return context


class TemplateEditView(OrganizationMixin, TemplateView):
    """Create a template (no ``tid``) or edit one: admins."""

    capability = Capability.MANAGE_VENDORS
    nav = "vendors"
    template_name = "vendors/questionnaires/template_form.html"

    def get_template(self) -> Any:
        if "tid" not in self.kwargs:
            return None
        template = templates_of(self.organization).filter(pk=self.kwargs["tid"]).first()
        if template is None:
            raise Http404("No such template.")
        return template

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        template = kwargs.get("template", self.get_template())
        if "form" not in kwargs:
            initial = {}
            if template is not None:
                initial = {"name": template.name, "description": template.description,
                           "questions": question_lines(template)}  # fmt: skip
            context["form"] = TemplateForm(initial=initial)
        context["template"] = template
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        template = self.get_template()
        form = TemplateForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if template is None:
                    template = services.template_create(
                        actor=self.actor, organization=self.organization, name=data["name"],
                        description=data["description"], questions=data["questions"],
                    )  # fmt: skip
                else:
                    template = services.template_update(
                        actor=self.actor, template=template, name=data["name"],
                        description=data["description"], questions=data["questions"],
                    )  # fmt: skip
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, f"“{template.name}” saved.")
                return redirect(
                    "vendor_questionnaire_template", org=self.organization.slug, tid=template.pk
                )
        context = self.get_context_data(form=form, template=template)
        return self.render_to_response(context, status=400)
