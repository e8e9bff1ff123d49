"""The trust page's documents: the admins' pages inside the organization, and the public
request form, signed link and downloads. Thin: forms, selectors and services do the work."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views import View
from django.views.generic import TemplateView

from compliance.models import Role
from compliance.throttle import client_ip, over_rate
from compliance.views.mixins import OrganizationMixin, apply_validation_error, capped, paginate
from evidence.downloads import attachment_response
from trust.documents import links, selectors, services
from trust.documents.forms import (
    AccessRequestForm,
    DecisionForm,
    DocumentEditForm,
    DocumentUploadForm,
    DomainForm,
    NdaForm,
    RequestFilterForm,
)
from trust.models import AccessGrant, AccessRequestStatus, TrustDocument, TrustPage
from trust.selectors import page_for

logger = logging.getLogger(__name__)


# --- admin side ---------------------------------------------------------------------------------


class _AdminsOnly(View):
    """Only the organization's admins see the documents and the requests (names and emails of
    people outside): for anyone else in the organization these pages do not exist (404)."""

    membership: Any

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if self.membership.role != Role.ADMIN:
            raise Http404("No such page.")
        return super().dispatch(request, *args, **kwargs)


class TrustAdminMixin(OrganizationMixin, _AdminsOnly):
    capability = None  # checked by _AdminsOnly: 404, not 403
    nav = "trust"

    @property
    def page(self) -> TrustPage:
        if not hasattr(self, "_page"):
            self._page = page_for(self.organization)
        return self._page

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["trust_page"] = self.page
        return context


class DocumentListView(TrustAdminMixin, TemplateView):
    template_name = "trust/documents/document_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["documents"] = paginate(self.request, selectors.document_list(page=self.page))
        context["pending"] = self.page.access_requests.filter(
            status=AccessRequestStatus.PENDING
        ).count()
        return context


class DocumentUploadView(TrustAdminMixin, TemplateView):
    template_name = "trust/documents/document_form.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", DocumentUploadForm())
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = DocumentUploadForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                document = services.document_upload(
                    actor=self.actor,
                    organization=self.organization,
                    title=data["title"],
                    description=data["description"],
                    access=data["access"],
                    is_published=data["is_published"],
                    upload=data["file"],
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, f"Uploaded {document.title}.")
                return redirect("trust_document_detail", self.organization.slug, document.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class DocumentDetailView(TrustAdminMixin, TemplateView):
    """A document's settings and its download log."""

    template_name = "trust/documents/document_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        document = selectors.document_get(page=self.page, pk=self.kwargs["pk"])
        context["document"] = document
        context.setdefault(
            "form",
            DocumentEditForm(
                initial={
                    "title": document.title,
                    "description": document.description,
                    "access": document.access,
                    "is_published": document.is_published,
                }
            ),
        )
        context["downloads"] = paginate(
            self.request, selectors.download_list(page=self.page, document=document)
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        document = selectors.document_get(page=self.page, pk=self.kwargs["pk"])
        form = DocumentEditForm(request.POST)
        if form.is_valid():
            try:
                services.document_update(actor=self.actor, document=document, **form.cleaned_data)
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, "Saved.")
                return redirect("trust_document_detail", self.organization.slug, document.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class DocumentFileView(TrustAdminMixin, View):
    """The admins' own copy of the file (not counted in the download log)."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return file_response(selectors.document_get(page=self.page, pk=self.kwargs["pk"]))


class AccessSettingsView(TrustAdminMixin, TemplateView):
    """The NDA (a new version per change) and the auto-approve domains."""

    template_name = "trust/documents/access_settings.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        nda = selectors.nda_current(self.page)
        context["nda"] = nda
        # Every version stays in the audit trail; the page lists the newest and says how many.
        context["versions"] = capped(self.page.ndas.order_by("-version"), 20)
        context.setdefault("nda_form", NdaForm(initial={"text": nda.text if nda else ""}))
        context.setdefault("domain_form", DomainForm())
        context["page"] = paginate(self.request, selectors.rule_list(page=self.page), per_page=100)
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        action = request.POST.get("action")
        org = self.organization.slug
        if action == "nda":
            nda_form = NdaForm(request.POST)
            if nda_form.is_valid():
                try:
                    nda = services.nda_publish(
                        actor=self.actor,
                        organization=self.organization,
                        text=nda_form.cleaned_data["text"],
                    )
                except ValidationError as exc:
                    apply_validation_error(nda_form, exc)
                else:
                    messages.success(request, f"NDA version {nda.version} is now in force.")
                    return redirect("trust_access_settings", org)
            return self.render_to_response(self.get_context_data(nda_form=nda_form), status=400)
        if action == "add_domain":
            domain_form = DomainForm(request.POST)
            if domain_form.is_valid():
                try:
                    rule = services.auto_approve_add(
                        actor=self.actor,
                        organization=self.organization,
                        domain=domain_form.cleaned_data["domain"],
                    )
                except ValidationError as exc:
                    apply_validation_error(domain_form, exc)
                else:
                    messages.success(request, f"Requests from {rule.domain} are approved at once.")
                    return redirect("trust_access_settings", org)
            return self.render_to_response(
                self.get_context_data(domain_form=domain_form), status=400
            )
        if action == "remove_domain":
            raw = str(request.POST.get("rule", ""))
            removed = (
                selectors.rule_list(page=self.page).filter(pk=int(raw)).first()
                if raw.isdigit() and len(raw) < 12
                else None
            )
            if removed is None:
                raise Http404("No such domain.")
            services.auto_approve_remove(actor=self.actor, rule=removed)
            messages.success(request, f"{removed.domain} removed.")
            return redirect("trust_access_settings", org)
        return HttpResponse("Unknown action.", status=400)


class RequestListView(TrustAdminMixin, TemplateView):
    """The queue: pending first, filtered by status."""

    template_name = "trust/documents/request_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = RequestFilterForm(self.request.GET)
        status = form.cleaned_data["status"] if form.is_valid() else ""
        context["filter_form"] = form
        context["status"] = status
        context["requests"] = paginate(
            self.request, selectors.request_list(page=self.page, status=status)
        )
        return context


class RequestDetailView(TrustAdminMixin, TemplateView):
    template_name = "trust/documents/request_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        access_request = selectors.request_get(page=self.page, pk=self.kwargs["pk"])
        grants = list(access_request.grants.all())
        context.update(
            access_request=access_request,
            grants=grants,
            live=[g for g in grants if services.grant_is_live(g)],
            decision_form=kwargs.get("decision_form") or DecisionForm(),
            downloads=paginate(
                self.request, selectors.download_list(page=self.page, request=access_request)
            ),
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        access_request = selectors.request_get(page=self.page, pk=self.kwargs["pk"])
        action = request.POST.get("action")
        form = DecisionForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(decision_form=form), status=400)
        note = form.cleaned_data["note"]
        try:
            if action == "approve":
                services.access_request_approve(
                    actor=self.actor, access_request=access_request, note=note
                )
                messages.success(
                    request, f"Approved; the link was emailed to {access_request.email}."
                )
            elif action == "deny":
                services.access_request_deny(
                    actor=self.actor, access_request=access_request, note=note
                )
                messages.success(request, "Denied.")
            elif action == "resend":
                services.grant_resend(actor=self.actor, access_request=access_request)
                messages.success(
                    request,
                    f"A new link was emailed to {access_request.email}; "
                    "the old one no longer works.",
                )
            elif action == "revoke":
                live = [g for g in access_request.grants.all() if services.grant_is_live(g)]
                if not live:
                    raise ValidationError("There is no working link to revoke.")
                for grant in live:
                    services.grant_revoke(actor=self.actor, grant=grant)
                messages.success(request, "The link was revoked.")
            else:
                return HttpResponse("Unknown action.", status=400)
        except ValidationError as exc:
            form.add_error(None, exc.messages)
            return self.render_to_response(self.get_context_data(decision_form=form), status=400)
        return redirect("trust_request_detail", self.organization.slug, access_request.pk)


# --- files --------------------------------------------------------------------------------------


def file_response(document: TrustDocument) -> FileResponse:
    """A stored document as a download (evidence.downloads)."""
    try:
        return attachment_response(
            document.storage_key,
            original_name=document.original_name,
            content_type=document.content_type,
            size=document.size,
        )
    except FileNotFoundError:
        logger.error(
            "Trust document file missing: document %s, key %s", document.pk, document.storage_key
        )
        raise Http404("The file of this document is missing.") from None


# --- public side --------------------------------------------------------------------------------


def _throttle_keys(ip: str, email: str) -> list[str]:
    keys = [f"trust-request:ip:{hashlib.sha256(ip.encode()).hexdigest()[:32]}"]
    if email:
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        keys.append(f"trust-request:email:{digest}")
    return keys


def _over_limit(ip: str, email: str) -> bool:
    """Count one request from this address (and email); True past the limit. A failing cache
    lets the request through (the honeypot still stands) rather than refuse every customer."""
    return over_rate(
        _throttle_keys(ip, email),
        limit=settings.TRUST_REQUEST_LIMIT,
        window=settings.TRUST_REQUEST_WINDOW,
        what="trust access requests",
    )


def _throttled(request: HttpRequest, page: TrustPage, *, downloads: bool = False) -> HttpResponse:
    minutes = max(1, round(settings.TRUST_REQUEST_WINDOW / 60))
    response = render(
        request,
        "trust/documents/public_throttled.html",
        {
            "trust_page": page,
            "organization": page.organization,
            "minutes": minutes,
            "downloads": downloads,
        },
        status=429,
    )
    response["Retry-After"] = str(settings.TRUST_REQUEST_WINDOW)
    return response


def _downloads_over_limit(request: HttpRequest) -> bool:
    """Count one download (or signed-link visit) from this address; True past the limit."""
    digest = hashlib.sha256(client_ip(request).encode()).hexdigest()[:32]
    return over_rate(
        [f"trust-download:ip:{digest}"],
        limit=settings.TRUST_DOWNLOAD_LIMIT,
        window=settings.TRUST_REQUEST_WINDOW,
        what="trust document downloads",
    )


class RequestAccessView(View):
    """The public access request form: 404 unless the page is published with a published gated
    document."""

    template_name = "trust/documents/public_request.html"

    def _setup(self, slug: str) -> tuple[TrustPage, Any, Any]:
        page = selectors.public_page(slug)
        documents = list(selectors.public_gated_documents(page))
        if not documents:
            raise Http404("No documents to request.")
        return page, documents, selectors.nda_current(page)

    def _render(
        self, request: HttpRequest, page: TrustPage, form: Any, nda: Any, status: int = 200
    ) -> HttpResponse:
        return render(
            request,
            self.template_name,
            {"trust_page": page, "organization": page.organization, "form": form, "nda": nda},
            status=status,
        )

    def get(self, request: HttpRequest, slug: str) -> HttpResponse:
        page, _documents, nda = self._setup(slug)
        form = AccessRequestForm(
            documents=selectors.public_gated_documents(page), has_nda=nda is not None
        )
        return self._render(request, page, form, nda)

    def post(self, request: HttpRequest, slug: str) -> HttpResponse:
        page, _documents, nda = self._setup(slug)
        ip = client_ip(request)
        form = AccessRequestForm(
            request.POST, documents=selectors.public_gated_documents(page), has_nda=nda is not None
        )
        if _over_limit(ip, str(request.POST.get("email", ""))[:254]):
            return _throttled(request, page)
        if request.POST.get("website"):
            logger.info("Trust access request dropped by the honeypot (page %s, %s)", page.pk, ip)
            return self._done(request, page, approved=False)
        if form.is_valid():
            data = form.cleaned_data
            shown_version = str(request.POST.get("nda_version", ""))
            if nda is not None and shown_version != str(nda.version):
                form.add_error(
                    "accept_nda",
                    "The NDA changed while you were reading it: read it again and accept.",
                )
                return self._render(request, page, form, nda, status=400)
            try:
                access_request = services.access_request_submit(
                    page=page,
                    name=data["name"],
                    email=data["email"],
                    company=data["company"],
                    reason=data["reason"],
                    documents=list(data["documents"]),
                    nda=nda,
                    ip=ip,
                    user_agent=str(request.META.get("HTTP_USER_AGENT", "")),
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                return self._done(
                    request, page, approved=access_request.status == AccessRequestStatus.APPROVED
                )
        return self._render(request, page, form, nda, status=400)

    def _done(self, request: HttpRequest, page: TrustPage, *, approved: bool) -> HttpResponse:
        return render(
            request,
            "trust/documents/public_request_sent.html",
            {"trust_page": page, "organization": page.organization, "approved": approved},
        )


def _dead(request: HttpRequest, page: TrustPage | None) -> HttpResponse:
    """One page for every dead link, never saying why."""
    return render(
        request,
        "trust/documents/public_link_dead.html",
        {"trust_page": page, "organization": page.organization if page else None},
        status=410,
    )


def _live_grant(
    request: HttpRequest, slug: str, token: str
) -> tuple[TrustPage | None, AccessGrant | None]:
    try:
        digest = links.token_hash(token)
    except links.LinkDead:
        return None, None
    try:
        page = selectors.public_page(slug)
    except Http404:
        return None, None
    grant = selectors.grant_by_hash(page, digest)
    if grant is None or not services.grant_is_live(grant):
        return page, None
    return page, grant


class AccessLinkView(View):
    """The signed link: the granted documents, each downloaded through it."""

    def get(self, request: HttpRequest, slug: str, token: str) -> HttpResponse:
        page, grant = _live_grant(request, slug, token)
        if page is None or grant is None:
            return _dead(request, page)
        documents = grant.request.documents.filter(is_published=True).order_by("position", "id")
        response = render(
            request,
            "trust/documents/public_access.html",
            {
                "trust_page": page,
                "organization": page.organization,
                "grant": grant,
                "access_request": grant.request,
                "documents": documents,
                "token": token,
            },
        )
        response["Cache-Control"] = "private, no-store"
        response["Referrer-Policy"] = "no-referrer"
        return response


class AccessDownloadView(View):
    def get(self, request: HttpRequest, slug: str, token: str, pk: int) -> HttpResponseBase:
        page, grant = _live_grant(request, slug, token)
        if page is None or grant is None:
            return _dead(request, page)
        if _downloads_over_limit(request):
            return _throttled(request, page, downloads=True)
        document = grant.request.documents.filter(pk=pk, is_published=True).first()
        if document is None:
            raise Http404("No such document.")
        response = file_response(document)
        services.download_record(document=document, grant=grant, request=request)
        return response


class PublicDownloadView(View):
    def get(self, request: HttpRequest, slug: str, pk: int) -> HttpResponseBase:
        page = selectors.public_page(slug)
        document = selectors.public_document(page, pk)
        if _downloads_over_limit(request):
            return _throttled(request, page, downloads=True)
        response = file_response(document)
        services.download_record(document=document, grant=None, request=request)
        return response
