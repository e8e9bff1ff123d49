"""A vendor's documents (SOC 2 reports, bridge letters, certificates, DPAs ...): the list, the
upload form, a document with its report exceptions and CUECs, and the download.

Who may do what (docs/vendors.md): whoever sees the vendor — program readers (admins, members,
viewers) — sees its documents and downloads their files; vendor managers (admins) upload
documents and add exceptions and CUECs. Auditors get 403, as on every vendor page; another
organization's vendor or document is a 404.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import TemplateView

from compliance.permissions import Capability
from compliance.views.mixins import Capped, apply_validation_error, paginate
from evidence import storage
from evidence.downloads import attachment_response
from vendors import document_selectors as selectors
from vendors import documents as services
from vendors.document_forms import CuecForm, DocumentUploadForm, ReportExceptionForm
from vendors.models import Vendor, VendorDocument
from vendors.views import VendorMixin

logger = logging.getLogger(__name__)

# A document's exceptions and CUECs are listed up to this many each (a report has a handful).
DOCUMENT_LIST_LIMIT = 100


class _DocumentMixin(VendorMixin):
    def get_document(self, vendor: Vendor) -> VendorDocument:
        return selectors.vendor_document_get(user=self.actor, vendor=vendor, pk=self.kwargs["did"])


class DocumentListView(_DocumentMixin, TemplateView):
    """All of a vendor's documents, newest first, in pages of 50."""

    template_name = "vendors/documents/list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        vendor = self.get_vendor()
        context = super().get_context_data(**kwargs)
        page = paginate(
            self.request, selectors.vendor_documents(user=self.actor, vendor=vendor), per_page=50
        )
        context.update(
            vendor=vendor, page=page, rows=selectors.document_rows(page.object_list, self.today)
        )
        return context


class DocumentCreateView(_DocumentMixin, TemplateView):
    """Upload a document (vendor managers). Nothing is stored unless every fact is valid."""

    capability = Capability.MANAGE_VENDORS
    template_name = "vendors/documents/upload.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("vendor", self.get_vendor())
        context.setdefault("form", DocumentUploadForm())
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        vendor = self.get_vendor()
        form = DocumentUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                document = services.vendor_document_upload(
                    actor=self.actor, vendor=vendor, **form.service_arguments()
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            except storage.StorageFull as exc:
                form.add_error("file", exc.message)
            else:
                messages.success(
                    request, f"{document.get_doc_type_display()} of {vendor.name} uploaded."
                )
                return redirect(
                    "vendor_document_detail", self.organization.slug, vendor.pk, document.pk
                )
        context = self.get_context_data(vendor=vendor, form=form)
        return self.render_to_response(context, status=400)


class DocumentDetailView(_DocumentMixin, TemplateView):
    """A document's facts and validity, the exceptions its auditor noted and the CUECs it asks
    of us (with the controls of ours that do them); the add forms for vendor managers."""

    template_name = "vendors/documents/detail.html"

    def control_choices(self) -> Any:
        return selectors.cuec_control_choices(user=self.actor, organization=self.organization)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        vendor = kwargs.get("vendor") or self.get_vendor()
        document = kwargs.get("document") or self.get_document(vendor)
        context = super().get_context_data(**kwargs)
        exceptions = selectors.report_exceptions(document)
        cuecs = selectors.document_cuecs(user=self.actor, document=document)
        can_change = self.can_manage
        if can_change:
            context.setdefault("exception_form", ReportExceptionForm())
            context.setdefault("cuec_form", CuecForm(controls=self.control_choices()))
        context.update(
            vendor=vendor,
            document=document,
            validity=selectors.validity(document, self.today),
            period=selectors.covered_period(document),
            exceptions=Capped(
                rows=list(exceptions[:DOCUMENT_LIST_LIMIT]), total=exceptions.count()
            ),
            cuecs=Capped(rows=list(cuecs[:DOCUMENT_LIST_LIMIT]), total=cuecs.count()),
            can_change=can_change,
        )
        return context


class _DocumentPostView(DocumentDetailView):
    """A form posted from the document page (vendor managers); opening its URL leads back."""

    capability = Capability.MANAGE_VENDORS

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        vendor = self.get_vendor()
        document = self.get_document(vendor)
        return redirect("vendor_document_detail", self.organization.slug, vendor.pk, document.pk)

    def done(self, vendor: Vendor, document: VendorDocument, anchor: str) -> HttpResponse:
        url = reverse(
            "vendor_document_detail", args=[self.organization.slug, vendor.pk, document.pk]
        )
        return redirect(f"{url}#{anchor}")


class ReportExceptionCreateView(_DocumentPostView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        vendor = self.get_vendor()
        document = self.get_document(vendor)
        form = ReportExceptionForm(request.POST)
        if form.is_valid():
            try:
                services.report_exception_add(
                    actor=self.actor, document=document, **form.cleaned_data
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, "Exception recorded.")
                return self.done(vendor, document, "exceptions")
        context = self.get_context_data(vendor=vendor, document=document, exception_form=form)
        return self.render_to_response(context, status=400)


class CuecCreateView(_DocumentPostView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        vendor = self.get_vendor()
        document = self.get_document(vendor)
        form = CuecForm(request.POST, controls=self.control_choices())
        if form.is_valid():
            try:
                services.cuec_add(actor=self.actor, document=document, **form.cleaned_data)
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, "Complementary user entity control recorded.")
                return self.done(vendor, document, "cuecs")
        context = self.get_context_data(vendor=vendor, document=document, cuec_form=form)
        return self.render_to_response(context, status=400)


def document_file_response(document: VendorDocument) -> FileResponse:
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
            "Vendor document file missing: document %s, key %s", document.pk, document.storage_key
        )
        raise Http404("The file of this document is missing.") from None


class DocumentDownloadView(_DocumentMixin):
    """The document's file, for whoever sees the vendor."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        vendor = self.get_vendor()
        return document_file_response(self.get_document(vendor))
