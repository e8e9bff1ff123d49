"""The vendor inventory's pages: thin views over vendors.selectors and vendors.services."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.formats import date_format
from django.views.generic import TemplateView

from compliance.exports import csv_download
from compliance.permissions import Capability
from compliance.views.mixins import (
    DETAIL_LIST_LIMIT,
    Capped,
    OrganizationMixin,
    apply_validation_error,
    paginate,
)
from people.completion import organization_today
from vendors import document_selectors, selectors, services
from vendors.forms import OffboardForm, ReviewForm, VendorForm
from vendors.models import Category, RiskTier, Vendor
from vendors.questionnaire_forms import send_form, templates_of
from vendors.reviews import review_status
from vendors.selectors import InventorySummary, VendorFilterSet, VendorRow
from vendors.templatetags.vendor_tags import cadence


class VendorMixin(OrganizationMixin):
    nav = "vendors"

    @cached_property
    def today(self) -> Any:
        return organization_today(self.organization)

    @property
    def can_manage(self) -> bool:
        return self.can(Capability.MANAGE_VENDORS)

    def get_vendor(self) -> Vendor:
        """The vendor of the URL; hidden (or another organization's) answers 404."""
        return selectors.vendor_get(
            user=self.actor, organization=self.organization, pk=self.kwargs["pk"]
        )

    def get_changeable_vendor(self) -> Vendor:
        """The vendor of the URL if the user may change it: hidden → 404, read-only → 403."""
        vendor = self.get_vendor()
        if not selectors.vendor_can_change(user=self.actor, vendor=vendor):
            raise PermissionDenied("You may not change this vendor.")
        return vendor

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(can_manage=self.can_manage, today=self.today)
        return context


# --- the inventory ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inventory:
    filterset: VendorFilterSet
    rows: list[VendorRow]  # filtered and sorted
    sort: str
    review: str
    owner: str
    summary: InventorySummary  # of the whole inventory, whatever the filters
    total: int  # vendors in the inventory, offboarded ones included


class InventoryMixin(VendorMixin):
    def filter_data(self) -> QueryDict:
        data = self.request.GET.copy()
        if not data.get("status"):
            data["status"] = "active"
        return data

    def inventory(self) -> Inventory:
        """Every visible vendor with its review status (a fixed number of queries), the
        database filters applied through the filterset, then review state and sorting."""
        data = self.filter_data()
        owner = data.get("owner", "")
        if owner == "me":
            data["owner"] = str(self.actor.pk)
        elif owner == "none":
            data.pop("owner")
        queryset = selectors.vendor_list(user=self.actor, organization=self.organization)
        everything = selectors.with_status(list(queryset), self.today)
        filterset = VendorFilterSet(data, queryset=queryset, today=self.today)
        if filterset.is_valid():
            matching = filterset.qs
            if owner == "none":
                matching = matching.filter(owner__isnull=True)
            ids = set(matching.values_list("pk", flat=True))
        else:
            ids = set()
        review = data.get("review", "")
        review = review if review in selectors.REVIEW_FILTERS else ""
        rows = selectors.filter_rows([r for r in everything if r.vendor.pk in ids], review)
        rows, sort = selectors.order_rows(rows, data.get("sort"))
        return Inventory(
            filterset=filterset,
            rows=rows,
            sort=sort,
            review=review,
            owner=owner,
            summary=selectors.summarize(everything),
            total=len(everything),
        )


class VendorListView(InventoryMixin, TemplateView):
    """The inventory: tiles, filters, sortable columns, pages of 50; htmx gets the table only."""

    template_name = "vendors/vendor_list.html"

    def get_template_names(self) -> list[str]:
        if self.request.htmx and not self.request.htmx.boosted:  # type: ignore[attr-defined]
            return ["vendors/_vendor_table.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        inventory = self.inventory()
        context.update(
            filterset=inventory.filterset,
            page=paginate(self.request, inventory.rows, per_page=50),
            sort=inventory.sort,
            summary=inventory.summary,
            total=inventory.total,
            filters=self.filter_data(),
            review=inventory.review,
            owner=inventory.owner,
            tiers=RiskTier.choices,
            categories=Category.choices,
            statuses=selectors.STATUSES,
            review_filters={**selectors.REVIEW_FILTERS, "attention": "Needs attention"},
            soc2_filters=document_selectors.SOC2_FILTERS,
            owners=selectors.owner_choices(self.organization),
        )
        return context


CSV_HEADER = [
    "Name", "Website", "Category", "Risk tier", "Review cadence", "Owner",
    "Owner email", "Data access", "Subprocessor", "Data location", "Status", "Onboarded on",
    "Offboarded on", "Last review", "Last review outcome", "Next review due", "Review state",
]  # fmt: skip


def _iso(day: Any) -> str:
    return day.isoformat() if day else ""


class VendorExportView(InventoryMixin):
    """The filtered inventory as a CSV attachment (what an auditor asks for under VEN-01)."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        inventory = self.inventory()

        def rows() -> Iterator[list[str]]:
            yield CSV_HEADER
            for row in inventory.rows:
                vendor, status = row.vendor, row.status
                latest = status.latest
                yield [
                    vendor.name,
                    vendor.website,
                    vendor.get_category_display(),
                    vendor.get_risk_tier_display(),
                    cadence(vendor),
                    vendor.owner.display_name if vendor.owner else "",
                    vendor.owner.email if vendor.owner else "",
                    "; ".join(vendor.get_data_access_display()),
                    "yes" if vendor.is_subprocessor else "no",
                    vendor.location,
                    vendor.get_status_display(),
                    _iso(vendor.onboarded_on),
                    _iso(vendor.offboarded_on),
                    _iso(latest.reviewed_on if latest else None),
                    latest.get_outcome_display() if latest else "",
                    _iso(status.due),
                    status.label,
                ]

        name = f"{self.organization.slug}-vendors-{self.today.isoformat()}.csv"
        return csv_download(rows(), filename=name)


# --- one vendor ---------------------------------------------------------------------------------


class VendorDetailView(VendorMixin, TemplateView):
    """Facts, review status and history; the forms for those who may use them."""

    template_name = "vendors/vendor_detail.html"

    def review_form(self, data: Any = None) -> ReviewForm:
        return ReviewForm(
            data,
            evidence=selectors.evidence_choices(user=self.actor, organization=self.organization),
            initial={"reviewed_on": self.today} if data is None else None,
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        vendor = kwargs.get("vendor") or self.get_vendor()
        context = super().get_context_data(**kwargs)
        reviews = selectors.vendor_reviews(user=self.actor, vendor=vendor)
        can_change = selectors.vendor_can_change(user=self.actor, vendor=vendor)
        review_form = kwargs.get("review_form")
        if review_form is None and can_change and vendor.is_active:
            review_form = self.review_form()
        offboard_form = kwargs.get("offboard_form")
        if offboard_form is None and self.can_manage and vendor.is_active:
            offboard_form = OffboardForm(initial={"offboarded_on": self.today})
        sent = selectors.vendor_questionnaires(user=self.actor, vendor=vendor)
        sending = kwargs.get("questionnaire_send_form")
        if (
            sending is None
            and can_change
            and vendor.is_active
            and templates_of(self.organization).exists()
        ):
            sending = send_form(self.organization)
        documents = document_selectors.vendor_documents(user=self.actor, vendor=vendor)
        context.update(
            documents=Capped(
                rows=document_selectors.document_rows(documents[:DETAIL_LIST_LIMIT], self.today),
                total=documents.count(),
                all_url=reverse("vendor_documents", args=[self.organization.slug, vendor.pk]),
            ),
            questionnaires=Capped(rows=list(sent[:DETAIL_LIST_LIMIT]), total=sent.count()),
            questionnaire_send_form=sending,
            vendor=vendor,
            # The history in pages of 10, newest first; the latest review sets the status.
            page=paginate(self.request, reviews.prefetch_related("questionnaires"), per_page=10),
            status=review_status(vendor, reviews.first(), self.today),
            can_change=can_change,
            review_form=review_form,
            offboard_form=offboard_form,
        )
        return context


class _VendorPostView(VendorDetailView):
    """A form posted from the vendor page; opening its URL leads back to the page."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.get_vendor()  # a hidden vendor stays a 404
        return redirect("vendor_detail", org=self.organization.slug, pk=kwargs["pk"])

    def invalid(self, vendor: Vendor, **forms: Any) -> HttpResponse:
        return self.render_to_response(self.get_context_data(vendor=vendor, **forms), status=400)


class ReviewCreateView(_VendorPostView):
    """Record a due-diligence review (the vendor's owner, or an admin)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        vendor = self.get_changeable_vendor()
        form = self.review_form(request.POST)
        if form.is_valid():
            try:
                review = services.vendor_review_record(
                    actor=self.actor, vendor=vendor, today=self.today, **form.service_arguments()
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                status = review_status(vendor, review, self.today)
                message = f"Review of {vendor.name} recorded."
                if status.due:
                    message += f" The next one is due on {date_format(status.due, 'j M Y')}."
                messages.success(request, message)
                return redirect("vendor_detail", org=self.organization.slug, pk=vendor.pk)
        return self.invalid(vendor, review_form=form)


class VendorOffboardView(_VendorPostView):
    capability = Capability.MANAGE_VENDORS

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        vendor = self.get_vendor()
        form = OffboardForm(request.POST)
        if form.is_valid():
            try:
                services.vendor_offboard(
                    actor=self.actor,
                    vendor=vendor,
                    offboarded_on=form.cleaned_data["offboarded_on"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, f"{vendor.name} offboarded.")
                return redirect("vendor_detail", org=self.organization.slug, pk=vendor.pk)
        return self.invalid(vendor, offboard_form=form)


class VendorReinstateView(_VendorPostView):
    capability = Capability.MANAGE_VENDORS

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        vendor = self.get_vendor()
        try:
            vendor = services.vendor_reinstate(actor=self.actor, vendor=vendor)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return self.invalid(vendor)
        messages.success(request, f"{vendor.name} is active again.")
        return redirect("vendor_detail", org=self.organization.slug, pk=vendor.pk)


# --- add and edit -------------------------------------------------------------------------------


class VendorCreateView(VendorMixin, TemplateView):
    capability = Capability.MANAGE_VENDORS
    template_name = "vendors/vendor_form.html"

    def form(self, data: Any = None) -> VendorForm:
        return VendorForm(
            data,
            owners=selectors.owner_choices(self.organization),
            manager=True,
            initial={"onboarded_on": self.today} if data is None else None,
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", self.form())
        context["creating"] = True
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self.form(request.POST)
        if form.is_valid():
            try:
                vendor = services.vendor_create(
                    actor=self.actor, organization=self.organization, **form.service_arguments()
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, f"{vendor.name} added to the inventory.")
                return redirect("vendor_detail", org=self.organization.slug, pk=vendor.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class VendorEditView(VendorMixin, TemplateView):
    """Admins change everything; a member who owns the vendor changes all but the manager-only
    fields (shown disabled). Anyone else who can see the vendor gets 403."""

    template_name = "vendors/vendor_form.html"

    def form(self, vendor: Vendor, data: Any = None) -> VendorForm:
        return VendorForm(
            data,
            instance=vendor,
            owners=selectors.owner_choices(self.organization),
            manager=self.can_manage,
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        vendor = kwargs.get("vendor") or self.get_changeable_vendor()
        context = super().get_context_data(**kwargs)
        context["vendor"] = vendor
        context.setdefault("form", self.form(vendor))
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        vendor = self.get_changeable_vendor()
        form = self.form(vendor, request.POST)
        if form.is_valid():
            try:
                saved = services.vendor_update(
                    actor=self.actor,
                    vendor=vendor,
                    changes=cast(services.VendorChanges, form.service_arguments()),
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, f"{saved.name} saved.")
                return redirect("vendor_detail", org=self.organization.slug, pk=saved.pk)
        return self.render_to_response(self.get_context_data(form=form, vendor=vendor), status=400)
