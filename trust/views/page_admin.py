"""The trust page's admin side (/o/<org>/trust/…): admins edit; members and viewers may open
the preview; auditors (who see nothing of the program) and outsiders get a 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import TemplateView

from compliance.permissions import Capability
from compliance.views.mixins import OrganizationMixin, apply_validation_error
from trust import selectors, services
from trust.models import TrustCertification, TrustControlCategory, TrustFaq, TrustPage
from trust.page_forms import (
    CategoryForm,
    CertificationForm,
    EngagementCertificationForm,
    FaqForm,
    PageSettingsForm,
)
from trust.views.page_render import render_page


class TrustPageMixin(OrganizationMixin):
    """Members of the program may look (the preview); admins change. Auditors and outsiders
    are told nothing exists (404)."""

    nav = "trust"
    capability = None
    edit = True  # the view changes the page: admins only (others 403)

    def check(self) -> None:
        if not self.can(Capability.VIEW_PROGRAM):
            raise Http404("No such page.")
        if self.edit and not self.can(Capability.MANAGE_ORGANIZATION):
            raise PermissionDenied("Only an admin changes the trust page.")

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.check()
        return self.on_get(request)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.check()
        return self.on_post(request)

    def on_get(self, request: HttpRequest) -> HttpResponse:
        raise Http404("No such page.")

    def on_post(self, request: HttpRequest) -> HttpResponse:
        raise Http404("No such page.")

    @property
    def page(self) -> TrustPage:
        if not hasattr(self, "_page"):
            self._page = selectors.page_for(self.organization)
        return self._page

    def row(self, model: type[Model]) -> Any:
        """A row of this organization's page; another organization's is a 404."""
        return get_object_or_404(model, page=self.page, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["trust_page"] = self.page
        return context

    def to_settings(self) -> HttpResponse:
        return redirect("trust_settings", self.organization.slug)


class SettingsView(TrustPageMixin, TemplateView):
    template_name = "trust/admin/settings.html"

    def on_get(self, request: HttpRequest, form: Any = None) -> HttpResponse:
        form = form or PageSettingsForm(instance=self.page)
        page = self.page
        context = self.get_context_data(
            form=form,
            certifications=[
                (c, selectors.certification_view(c))
                for c in page.certifications.select_related("audit").order_by("position", "id")[
                    : selectors.PUBLIC_LIST_LIMIT
                ]
            ],
            categories=list(
                page.categories.annotate(control_count=Count("controls")).order_by(
                    "position", "id"
                )[: selectors.PUBLIC_LIST_LIMIT]
            ),
            faqs=list(page.faqs.order_by("position", "id")[: selectors.PUBLIC_LIST_LIMIT]),
            engagement_form=EngagementCertificationForm(organization=self.organization),
            public_url=request.build_absolute_uri(f"/trust/{self.organization.slug}/"),
        )
        return self.render_to_response(context)

    def on_post(self, request: HttpRequest) -> HttpResponse:
        form = PageSettingsForm(request.POST, instance=selectors.page_for(self.organization))
        if form.is_valid():
            try:
                services.trust_page_update(
                    actor=self.actor, organization=self.organization, **form.cleaned_data
                )
            except ValidationError as error:
                apply_validation_error(form, error)
            else:
                messages.success(request, "Trust page settings saved.")
                return self.to_settings()
        self._page = selectors.page_for(self.organization)
        return self.on_get(request, form=form)


class PublishView(TrustPageMixin, TemplateView):
    def on_post(self, request: HttpRequest) -> HttpResponse:
        if self.kwargs.get("publish"):
            services.trust_page_publish(actor=self.actor, organization=self.organization)
            messages.success(request, "The trust page is public.")
        else:
            services.trust_page_unpublish(actor=self.actor, organization=self.organization)
            messages.success(request, "The trust page is no longer public.")
        return self.to_settings()


class PreviewView(TrustPageMixin, TemplateView):
    """Exactly the public page's HTML, for the current state, published or not."""

    edit = False

    def on_get(self, request: HttpRequest) -> HttpResponse:
        # The same body the public gets; the policy is the application's own (strict, with a
        # nonce), since the preview is a page of the signed-in application.
        return HttpResponse(render_page(self.page), content_type="text/html; charset=utf-8")


class RowFormView(TrustPageMixin, TemplateView):
    """Add or edit one certification, category or FAQ entry."""

    template_name = "trust/admin/row_form.html"
    model: type[Model]
    form_class: type[Any]
    noun = ""
    needs_organization = False

    def instance(self) -> Any:
        return self.row(self.model) if "pk" in self.kwargs else None

    def form(self, data: Any = None) -> Any:
        kwargs: dict[str, Any] = {"instance": self.instance()}
        if self.needs_organization:
            kwargs["organization"] = self.organization
        return self.form_class(data, **kwargs)

    def on_get(self, request: HttpRequest, form: Any = None) -> HttpResponse:
        form = form or self.form()
        return self.render_to_response(
            self.get_context_data(
                form=form, noun=self.noun, creating="pk" not in self.kwargs, row=form.instance
            )
        )

    def on_post(self, request: HttpRequest) -> HttpResponse:
        form = self.form(request.POST)
        if form.is_valid():
            try:
                self.save(form)
            except ValidationError as error:
                apply_validation_error(form, error)
            else:
                messages.success(request, f"{self.noun.capitalize()} saved.")
                return self.to_settings()
        return self.on_get(request, form=form)

    def save(self, form: Any) -> None:
        raise NotImplementedError


class CertificationFormView(RowFormView):
    model, form_class, noun = TrustCertification, CertificationForm, "certification"

    def save(self, form: Any) -> None:
        if "pk" in self.kwargs:
            services.trust_certification_update(
                actor=self.actor, cert=form.instance, **form.cleaned_data
            )
        else:
            services.trust_certification_create(
                actor=self.actor, organization=self.organization, **form.cleaned_data
            )


class CategoryFormView(RowFormView):
    model, form_class, noun = TrustControlCategory, CategoryForm, "control category"
    needs_organization = True

    def save(self, form: Any) -> None:
        values = dict(form.cleaned_data)
        controls = list(values.pop("controls"))
        if "pk" in self.kwargs:
            services.trust_category_update(
                actor=self.actor, category=form.instance, controls=controls, **values
            )
        else:
            services.trust_category_create(
                actor=self.actor, organization=self.organization, controls=controls, **values
            )


class FaqFormView(RowFormView):
    model, form_class, noun = TrustFaq, FaqForm, "FAQ entry"

    def save(self, form: Any) -> None:
        if "pk" in self.kwargs:
            services.trust_faq_update(actor=self.actor, faq=form.instance, **form.cleaned_data)
        else:
            services.trust_faq_create(
                actor=self.actor, organization=self.organization, **form.cleaned_data
            )


class EngagementCertificationView(TrustPageMixin, TemplateView):
    def on_post(self, request: HttpRequest) -> HttpResponse:
        form = EngagementCertificationForm(request.POST, organization=self.organization)
        if form.is_valid():
            try:
                services.trust_certification_from_audit(
                    actor=self.actor,
                    organization=self.organization,
                    audit=form.cleaned_data["audit"],
                    is_published=form.cleaned_data["is_published"],
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, "Certification added from the engagement.")
        else:
            messages.error(request, "Choose an engagement of this organization.")
        return self.to_settings()


class RowDeleteView(TrustPageMixin, TemplateView):
    def on_post(self, request: HttpRequest) -> HttpResponse:
        kind = self.kwargs["kind"]
        if kind == "certification":
            services.trust_certification_delete(actor=self.actor, cert=self.row(TrustCertification))
        elif kind == "category":
            services.trust_category_delete(
                actor=self.actor, category=self.row(TrustControlCategory)
            )
        elif kind == "faq":
            services.trust_faq_delete(actor=self.actor, faq=self.row(TrustFaq))
        else:
            raise Http404("No such row.")
        messages.success(request, "Removed from the trust page.")
        return self.to_settings()
