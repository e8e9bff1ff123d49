"""The "Samples" tab: an engagement's populations and the samples drawn from them. The
engagement's auditors create them; the organization's readers see them."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.generic import TemplateView

from audits import selectors
from audits.sampling import selectors as sampling
from audits.sampling import services
from audits.sampling.forms import PopulationForm, SampleForm
from audits.tabs import Tab, register_tab
from audits.views.base import AuditMixin
from compliance.views.mixins import apply_validation_error, paginate

register_tab(Tab("samples", "Samples", "audit_samples", 60))


class SamplingMixin(AuditMixin):
    tab = "samples"

    @property
    def may_sample(self) -> bool:
        return services.may_sample(self.actor, self.audit)

    def require_sampler(self) -> None:
        if not self.may_sample:
            raise PermissionDenied("Only the engagement's auditors create populations and samples.")

    def controls(self) -> Any:
        return selectors.controls(user=self.actor, audit=self.audit).order_by("ref_id")


class SamplesView(SamplingMixin, TemplateView):
    template_name = "audits/samples.html"
    log_label = "samples"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        may = self.may_sample
        context.update(
            page=paginate(
                self.request, sampling.population_list(user=self.actor, audit=self.audit)
            ),
            may_sample=may,
            form=kwargs.get("form") or (PopulationForm(controls=self.controls()) if may else None),
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.require_sampler()
        form = PopulationForm(request.POST, controls=self.controls())
        if form.is_valid():
            try:
                population = services.population_create(
                    actor=self.actor, audit=self.audit, **form.cleaned_data
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(
                    request, f"Population “{population.name}”: {population.item_count} items."
                )
                return redirect(
                    "audit_population", self.organization.slug, self.audit.pk, population.pk
                )
        return self.render_to_response(self.get_context_data(form=form), status=400)


class PopulationView(SamplingMixin, TemplateView):
    template_name = "audits/population.html"
    log_label = "population"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        population = sampling.population_get(
            user=self.actor, audit=self.audit, pk=self.kwargs["population"]
        )
        page = paginate(self.request, sampling.population_items(population), per_page=50)
        items = list(page.object_list)
        suggested = services.suggested_size(
            services.frequency_of(population), population.item_count
        )
        may = self.may_sample and population.item_count > 0
        context.update(
            population=population,
            page=page,
            items=items,
            files=sampling.downloadable(user=self.actor, audit=self.audit, items=items),
            samples=sampling.sample_list(user=self.actor, population=population)[:50],
            suggested=suggested,
            may_sample=may,
            form=kwargs.get("form") or (SampleForm(initial={"size": suggested}) if may else None),
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.require_sampler()
        population = sampling.population_get(
            user=self.actor, audit=self.audit, pk=kwargs["population"]
        )
        form = SampleForm(request.POST)
        if form.is_valid():
            try:
                sample = services.sample_draw(
                    actor=self.actor, population=population, **form.cleaned_data
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, f"Drew {sample.size} items with seed {sample.seed}.")
                return redirect(
                    "audit_sample", self.organization.slug, self.audit.pk, population.pk, sample.pk
                )
        return self.render_to_response(self.get_context_data(form=form), status=400)


class SampleView(SamplingMixin, TemplateView):
    template_name = "audits/sample.html"
    log_label = "sample"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        population = sampling.population_get(
            user=self.actor, audit=self.audit, pk=self.kwargs["population"]
        )
        sample = sampling.sample_get(user=self.actor, population=population, pk=self.kwargs["pk"])
        items = sampling.sample_items(sample)
        context.update(
            population=population,
            sample=sample,
            items=items,
            files=sampling.downloadable(user=self.actor, audit=self.audit, items=items),
        )
        return context
