"""The vendor import pages: upload a CSV or XLSX file, see every bad row by line and column."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.generic import TemplateView

from compliance.permissions import Capability
from compliance.views.mixins import OrganizationMixin
from vendors.import_forms import VendorImportForm
from vendors.import_services import vendors_import
from vendors.importer import MAX_ROWS, TEMPLATE_ROWS
from vendors.models import Category, DataAccess, RiskTier
from vendors.views import VendorMixin


class VendorImportView(VendorMixin, TemplateView):
    """Upload the file; every bad row is listed with its line, column and reason. All or
    nothing by default; the valid rows only if asked."""

    capability = Capability.MANAGE_VENDORS
    template_name = "vendors/import/import.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", VendorImportForm())
        context.update(
            columns=TEMPLATE_ROWS[0],
            categories=Category.labels,
            tiers=RiskTier.labels,
            data_access=DataAccess.labels,
            max_rows=MAX_ROWS,
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = VendorImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        upload = form.cleaned_data["file"]
        result = vendors_import(
            actor=self.actor,
            organization=self.organization,
            source=upload,
            filename=upload.name or "",
            mode=form.cleaned_data["mode"],
        )
        if not result.imported:
            if not result.errors:
                form.add_error("file", "The file has no vendors below its header line.")
                return self.render_to_response(self.get_context_data(form=form), status=400)
            return self.render_to_response(
                self.get_context_data(form=form, result=result), status=400
            )
        created = len(result.created)
        summary = f"Imported {created} vendor{'' if created == 1 else 's'}."
        if result.errors:
            skipped = len(result.bad_lines)
            summary += (
                f" Skipped {skipped} row{'' if skipped == 1 else 's'} with errors (listed below)."
            )
            messages.warning(request, summary)
            return self.render_to_response(
                self.get_context_data(form=VendorImportForm(), result=result)
            )
        messages.success(request, summary)
        return redirect("vendor_list", org=self.organization.slug)


class VendorImportTemplateView(OrganizationMixin):
    """A CSV with the header and two example rows."""

    capability = Capability.MANAGE_VENDORS

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        buffer = io.StringIO()
        csv.writer(buffer).writerows(TEMPLATE_ROWS)
        response = HttpResponse(buffer.getvalue(), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="vendors-template.csv"'
        return response
