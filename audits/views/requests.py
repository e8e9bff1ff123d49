"""The PBC list of an engagement: its requests (filtered by status, paginated), a request with
its thread, evidence and the actions its viewer may take, and "New request" for auditors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.generic import TemplateView

from audits import pbc_selectors, pbc_services, selectors
from audits.models import AuditRequest, RequestStatus
from audits.pbc_forms import AssignForm, AttachForm, CommentForm, RequestForm, UploadForm
from audits.tabs import Tab, register_tab
from audits.views.base import AuditMixin
from compliance.views.mixins import apply_validation_error, paginate
from controls.services import assignable_owners
from evidence.models import EvidenceItem

register_tab(Tab("requests", "Requests", "audit_requests", 60))

# How many existing items the answer form offers (the newest of the request's control).
ATTACH_CHOICES = 100


class RequestListView(AuditMixin, TemplateView):
    template_name = "audits/requests.html"
    tab = "requests"
    log_label = "requests"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        status = self.request.GET.get("status", "")
        if status not in RequestStatus.values:
            status = ""
        requests = pbc_selectors.request_list(user=self.actor, audit=self.audit, status=status)
        context.update(
            page=paginate(self.request, requests, per_page=25),
            status=status,
            statuses=RequestStatus.choices,
            may_raise=pbc_services.is_engagement_auditor(self.actor, self.audit),
        )
        return context


class RequestCreateView(AuditMixin, TemplateView):
    template_name = "audits/request_form.html"
    tab = "requests"
    log_label = "new request"

    def check(self) -> None:
        if not pbc_services.is_engagement_auditor(self.actor, self.audit):
            raise PermissionDenied("Only the engagement's auditors raise requests.")

    def form(self, data: Any = None) -> RequestForm:
        controls = selectors.controls(user=self.actor, audit=self.audit).order_by("ref_id")
        return RequestForm(data, controls=controls)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.check()
        return self.render_to_response(self.get_context_data(form=self.form()))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.check()
        form = self.form(request.POST)
        if form.is_valid():
            try:
                created = pbc_services.request_create(
                    actor=self.actor, audit=self.audit, **form.cleaned_data
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, f"{created.label} sent to {self.organization.name}.")
                return redirect(
                    "audit_request_detail", self.organization.slug, self.audit.pk, created.pk
                )
        return self.render_to_response(self.get_context_data(form=form), status=400)


class RequestDetailView(AuditMixin, TemplateView):
    template_name = "audits/request_detail.html"
    tab = "requests"

    @property
    def log_label(self) -> str:  # type: ignore[override]
        return self.pbc_request.label

    @property
    def pbc_request(self) -> AuditRequest:
        if not hasattr(self, "_pbc_request"):
            self._pbc_request = pbc_selectors.request_get(
                user=self.actor, audit=self.audit, pk=self.kwargs["pk"]
            )
        return self._pbc_request

    def attach_choices(self) -> Any:
        ids = list(
            pbc_services.answerable_evidence(user=self.actor, request=self.pbc_request)
            .exclude(audit_requests=self.pbc_request)
            .values_list("pk", flat=True)[:ATTACH_CHOICES]
        )
        return EvidenceItem.objects.filter(pk__in=ids).order_by("-effective_date", "-pk")

    def permissions(self) -> dict[str, bool]:
        req, user = self.pbc_request, self.actor
        auditor = pbc_services.is_engagement_auditor(user, self.audit)
        manager = pbc_services.is_audit_manager(user, self.audit)
        open_ = req.status in (RequestStatus.OPEN, RequestStatus.ASSIGNED)
        return {
            "can_assign": manager and open_,
            "can_answer": pbc_services.may_answer(user, req),
            "can_decide": auditor and req.status == RequestStatus.SUBMITTED,
            "can_close": auditor
            and req.status not in (RequestStatus.CLOSED, RequestStatus.ACCEPTED),
            "can_comment": pbc_services.may_comment(user, req),
        }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        req = self.pbc_request
        allowed = self.permissions()
        if allowed["can_assign"]:
            context.setdefault(
                "assign_form",
                AssignForm(
                    initial={"assignee": req.assignee_id, "due_date": req.due_date},
                    people=assignable_owners(self.organization),
                ),
            )
        if allowed["can_answer"]:
            context.setdefault("attach_form", AttachForm(items=self.attach_choices()))
            if req.control_id:
                context.setdefault("upload_form", UploadForm())
        if allowed["can_comment"]:
            context.setdefault("comment_form", CommentForm())
        context.update(
            req=req,
            thread=pbc_selectors.request_thread(req),
            evidence=pbc_selectors.request_evidence(user=self.actor, request=req),
            **allowed,
        )
        return context


class RequestActionView(RequestDetailView):
    """The request page's forms, one URL each (``<action>``)."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return redirect("audit_request_detail", self.organization.slug, self.audit.pk, kwargs["pk"])

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        handler: Callable[[], tuple[str, Form | None, str]] | None = getattr(
            self, f"do_{kwargs['action']}", None
        )
        if handler is None:
            raise Http404("No such action.")
        self.pbc_request  # noqa: B018  (a hidden request is a 404 before anything else)
        done, form, context_name = handler()
        if form is None:
            messages.success(request, done)
            return redirect(
                "audit_request_detail", self.organization.slug, self.audit.pk, kwargs["pk"]
            )
        if done:
            messages.error(request, done)
        return self.render_to_response(self.get_context_data(**{context_name: form}), status=400)

    def _run(
        self, form: Form, context_name: str, write: Callable[[dict[str, Any]], str]
    ) -> tuple[str, Form | None, str]:
        if form.is_valid():
            try:
                return write(form.cleaned_data), None, context_name
            except ValidationError as exc:
                apply_validation_error(form, exc)
        return "", form, context_name

    def do_assign(self) -> tuple[str, Form | None, str]:
        form = AssignForm(self.request.POST, people=assignable_owners(self.organization))

        def write(data: dict[str, Any]) -> str:
            pbc_services.request_assign(actor=self.actor, request=self.pbc_request, **data)
            return f"{self.pbc_request.label} assigned to {data['assignee']}."

        return self._run(form, "assign_form", write)

    def do_attach(self) -> tuple[str, Form | None, str]:
        form = AttachForm(self.request.POST, items=self.attach_choices())

        def write(data: dict[str, Any]) -> str:
            pbc_services.request_attach(
                actor=self.actor, request=self.pbc_request, items=list(data["evidence"])
            )
            return "Evidence attached. Submit the request when its answer is complete."

        return self._run(form, "attach_form", write)

    def do_upload(self) -> tuple[str, Form | None, str]:
        form = UploadForm(self.request.POST, self.request.FILES)

        def write(data: dict[str, Any]) -> str:
            pbc_services.request_upload(
                actor=self.actor,
                request=self.pbc_request,
                title=data["title"],
                kind=data["kind"],
                effective_date=data["effective_date"],
                upload=data.get("file"),
                url=data.get("url") or "",
                note=data.get("note") or "",
            )
            return "Evidence uploaded and attached. Submit the request when its answer is complete."

        return self._run(form, "upload_form", write)

    def _decision(self, service: Callable[..., Any], done: str) -> tuple[str, Form | None, str]:
        form = CommentForm(self.request.POST)

        def write(data: dict[str, Any]) -> str:
            service(actor=self.actor, request=self.pbc_request, body=data["body"])
            return done

        return self._run(form, "comment_form", write)

    def do_submit(self) -> tuple[str, Form | None, str]:
        return self._decision(pbc_services.request_submit, "Sent to the auditor.")

    def do_accept(self) -> tuple[str, Form | None, str]:
        return self._decision(pbc_services.request_accept, "Request accepted.")

    def do_return(self) -> tuple[str, Form | None, str]:
        return self._decision(pbc_services.request_return, "Request returned: it is open again.")

    def do_close(self) -> tuple[str, Form | None, str]:
        return self._decision(pbc_services.request_close, "Request closed.")

    def do_comment(self) -> tuple[str, Form | None, str]:
        return self._decision(pbc_services.request_comment, "Comment added.")

    def do_detach(self) -> tuple[str, Form | None, str]:
        item = next(
            (
                i
                for i in pbc_selectors.request_evidence(user=self.actor, request=self.pbc_request)
                if str(i.pk) == self.request.POST.get("evidence", "")
            ),
            None,
        )
        if item is None:
            form = CommentForm()
            return "This evidence is not attached to the request.", form, "comment_form"
        try:
            pbc_services.request_detach(actor=self.actor, request=self.pbc_request, item=item)
        except ValidationError as exc:
            return " ".join(exc.messages), CommentForm(), "comment_form"
        return f"{item.title} detached.", None, ""
