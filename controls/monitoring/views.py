"""Pages of automated control tests: the list, a test with its run timeline, a run, adding and
editing tests, exceptions, and the integrations admins connect. Thin: selectors read,
services write."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import TemplateView

from compliance.permissions import Capability
from compliance.views.mixins import OrganizationMixin, capped, paginate
from controls import selectors as control_selectors
from controls.checks import all_checks, get_check
from controls.models import (
    ControlTest,
    IntegrationKind,
    ResultStatus,
    RunStatus,
    ScheduleKind,
    TestResult,
)
from controls.monitoring import selectors, services
from controls.monitoring.forms import PARAM_PREFIX, ControlTestForm, ExceptionForm, IntegrationForm
from controls.monitoring.schedule import describe
from controls.monitoring.services import organization_today

STATUS_FILTERS = ("passed", "failed", "error", "not_run")


def _with_schedule(tests: list[ControlTest]) -> list[ControlTest]:
    for test in tests:
        test.schedule_text = describe(  # type: ignore[attr-defined]
            kind=test.schedule_kind, interval_minutes=test.interval_minutes, cron=test.cron
        )
        test.check_title = getattr(get_check(test.check_key), "title", test.check_key)  # type: ignore[attr-defined]
    return tests


class ControlTestListView(OrganizationMixin, TemplateView):
    nav = "tests"
    template_name = "controls/tests/test_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        tests = selectors.control_test_list(user=self.actor, organization=self.organization)
        status = self.request.GET.get("status", "")
        if status == "not_run":
            tests = tests.filter(last_run__isnull=True)
        elif status in STATUS_FILTERS:
            tests = tests.filter(last_run__status=status)
        if self.request.GET.get("findings") == "overdue":
            tests = tests.filter(
                findings__resolved_at__isnull=True,
                findings__due_date__lt=organization_today(self.organization),
            ).distinct()
        control = self.request.GET.get("control", "")
        if control.isdigit():  # a control's tests (the control page's "all" link)
            tests = tests.filter(control_id=int(control))
        page = paginate(self.request, tests.order_by("control__ref_id", "name"))
        _with_schedule(list(page.object_list))
        context.update(
            page=page,
            status=status,
            summary=selectors.monitoring_summary(user=self.actor, organization=self.organization),
            can_manage_integrations=self.can(Capability.MANAGE_INTEGRATIONS),
        )
        return context


class ControlTestChooseView(OrganizationMixin, TemplateView):
    """Step one of adding a test to a control: pick the check."""

    nav = "tests"
    template_name = "controls/tests/test_choose.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        control = _changeable_control(self, kwargs["pk"])
        integrations = selectors.integration_list(user=self.actor, organization=self.organization)
        kinds = set(integrations.values_list("kind", flat=True))
        groups: dict[str, list[Any]] = {}
        for check in all_checks():
            label = dict(IntegrationKind.choices).get(check.integration or "", "Attest and the web")
            if check.pushed:
                label = "Your own systems"
            groups.setdefault(label, []).append(check)
        context.update(
            control=control,
            groups=groups,
            connected=kinds,
            can_manage_integrations=self.can(Capability.MANAGE_INTEGRATIONS),
        )
        return context


def _changeable_control(view: OrganizationMixin, pk: Any) -> Any:
    control = control_selectors.control_get(user=view.actor, organization=view.organization, pk=pk)
    if not control_selectors.control_can_change(user=view.actor, control=control):
        raise PermissionDenied("Only the control's owners and admins add tests to it.")
    if control.archived_at:
        raise PermissionDenied("This control is archived.")
    return control


class ControlTestCreateView(OrganizationMixin, TemplateView):
    nav = "tests"
    template_name = "controls/tests/test_form.html"

    def setup_check(self) -> Any:
        check = get_check(self.request.GET.get("check", ""))
        if check is None:
            raise Http404("No such check.")
        if check.integration and not selectors.may_bind_integrations(
            user=self.actor, organization=self.organization
        ):
            raise PermissionDenied(selectors.INTEGRATION_BINDING_REFUSED)
        return check

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        control = _changeable_control(self, self.kwargs["pk"])
        check = self.setup_check()
        form = kwargs.get("form") or ControlTestForm(
            check=check,
            integrations=selectors.integration_list(
                user=self.actor, organization=self.organization
            ),
            initial={"name": check.title},
        )
        context.update(control=control, check=check, form=form, creating=True)
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        control = _changeable_control(self, kwargs["pk"])
        check = self.setup_check()
        form = ControlTestForm(
            request.POST,
            check=check,
            integrations=selectors.integration_list(
                user=self.actor, organization=control.organization
            ),
        )
        if form.is_valid():
            try:
                test = services.control_test_create(
                    actor=self.actor, control=control, check_key=check.key,
                    **form.service_arguments(),
                )  # fmt: skip
            except ValidationError as exc:
                form.add_service_errors(exc.message_dict)
            else:
                messages.success(request, f"Test “{test.name}” added to {control.ref_id}.")
                return redirect("control_test_detail", org=self.organization.slug, pk=test.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ControlTestDetailView(OrganizationMixin, TemplateView):
    nav = "tests"
    template_name = "controls/tests/test_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        test = selectors.control_test_get(
            user=self.actor, organization=self.organization, pk=kwargs["pk"]
        )
        _with_schedule([test])
        check = get_check(test.check_key)
        runs = paginate(self.request, selectors.runs_of(test), per_page=25)
        last = test.last_run
        slug = self.organization.slug
        # The latest run's results, failures first, capped: the run's page has them all.
        results = capped(
            last.results.order_by("status", "resource_name", "pk")
            if last
            else TestResult.objects.none(),
            limit=50,
            all_url=reverse("test_run_detail", args=[slug, last.pk]) if last else "",
        )
        today = organization_today(self.organization)
        exceptions = selectors.exceptions_of(test)
        in_force = set(
            exceptions.filter(revoked_at__isnull=True, expires_on__gte=today).values_list(
                "resource_id", flat=True
            )
        )
        for result in results.rows:
            result.excepted = result.resource_id in in_force
        can_accept = self.can(Capability.ACCEPT_RISK)
        can_change = selectors.control_test_can_change(user=self.actor, test=test)
        failing = (
            [
                (resource_id, name or resource_id)
                for resource_id, name in last.results.filter(status=ResultStatus.FAIL)
                .exclude(resource_id__in=in_force)
                .order_by("resource_name", "resource_id")
                .values_list("resource_id", "resource_name")
            ]
            if last and can_accept
            else []
        )
        context.update(
            test=test,
            check=check,
            runs=runs,
            last=last,
            results=results,
            findings=capped(selectors.findings_of(test), limit=50),
            exceptions=capped(
                exceptions.order_by(F("revoked_at").asc(nulls_first=True), "-expires_on", "-pk"),
                limit=20,
            ),
            today=today,
            can_change=can_change,
            can_edit=selectors.control_test_can_edit(
                user=self.actor, test=test, organization=self.organization, can_change=can_change
            ),
            can_accept=can_accept,
            exception_form=ExceptionForm(resources=failing) if can_accept and failing else None,
            push_token=kwargs.get("push_token"),
            is_push=test.schedule_kind == ScheduleKind.PUSH,
            parameters=_parameter_rows(test),
        )
        return context


def _parameter_rows(test: ControlTest) -> list[tuple[str, Any]]:
    """The test's parameters with their form labels, and a choice shown by its label (a stored
    value such as ``background_check`` is a key, not something to show people)."""
    check = get_check(test.check_key)
    fields = check.Parameters().fields if check else {}
    rows = []
    for name, value in test.parameters.items():
        field = fields.get(name)
        label = (field.label if field else None) or name.replace("_", " ").capitalize()
        choices = {str(key): str(text) for key, text in getattr(field, "choices", None) or []}
        if choices and isinstance(value, list):
            value = ", ".join(choices.get(str(item), str(item)) for item in value)
        elif choices and not isinstance(value, bool):
            value = choices.get(str(value), value)
        rows.append((str(label), value))
    return rows


def _changeable_test(view: OrganizationMixin, pk: Any) -> ControlTest:
    test = selectors.control_test_get(user=view.actor, organization=view.organization, pk=pk)
    if not selectors.control_test_can_change(user=view.actor, test=test):
        raise PermissionDenied("Only the control's owners and admins change its tests.")
    return test


def _editable_test(view: OrganizationMixin, pk: Any) -> ControlTest:
    test = _changeable_test(view, pk)
    if not selectors.control_test_can_edit(
        user=view.actor, test=test, organization=view.organization
    ):
        raise PermissionDenied(selectors.INTEGRATION_BINDING_REFUSED)
    return test


class ControlTestEditView(OrganizationMixin, TemplateView):
    nav = "tests"
    template_name = "controls/tests/test_form.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        test = _editable_test(self, self.kwargs["pk"])
        check = get_check(test.check_key)
        if check is None:
            raise Http404("This test's check is not known to this version of Attest.")
        integrations = selectors.integration_list(user=self.actor, organization=self.organization)
        form = kwargs.get("form") or ControlTestForm(
            check=check,
            integrations=integrations,
            initial={
                "name": test.name, "integration": test.integration_id,
                "schedule_kind": test.schedule_kind, "interval_minutes": test.interval_minutes,
                "cron": test.cron, "severity": test.severity,
                "readiness_rule": test.readiness_rule, "enabled": test.enabled,
                **{PARAM_PREFIX + k: v for k, v in test.parameters.items()},
            },
        )  # fmt: skip
        context.update(test=test, control=test.control, check=check, form=form, creating=False)
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        test = _editable_test(self, kwargs["pk"])
        check = get_check(test.check_key)
        if check is None:
            raise Http404("This test's check is not known to this version of Attest.")
        form = ControlTestForm(
            request.POST,
            check=check,
            integrations=selectors.integration_list(
                user=self.actor, organization=self.organization
            ),
        )
        if form.is_valid():
            try:
                services.control_test_update(
                    actor=self.actor, test=test, changes=form.service_arguments()
                )
            except ValidationError as exc:
                form.add_service_errors(exc.message_dict)
            else:
                messages.success(request, "Test saved.")
                return redirect("control_test_detail", org=self.organization.slug, pk=test.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ControlTestRunView(OrganizationMixin):
    """Run now. When the queue is down the run waits and the user is told so."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        test = _changeable_test(self, kwargs["pk"])
        try:
            queued = services.run_now(actor=self.actor, test=test)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            if queued.enqueued:
                messages.success(request, "Run queued; refresh in a moment to see its outcome.")
            else:
                messages.warning(
                    request,
                    "The task queue is unavailable right now. The run is saved and will start "
                    "as soon as the queue is back.",
                )
        return redirect("control_test_detail", org=self.organization.slug, pk=test.pk)


class ControlTestPushTokenView(ControlTestDetailView):
    """Issue a new push token and show it once, on the test's page."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return redirect("control_test_detail", org=self.organization.slug, pk=kwargs["pk"])

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        test = _changeable_test(self, kwargs["pk"])
        try:
            token = services.push_token_rotate(actor=self.actor, test=test)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            token = None
        response = self.render_to_response(self.get_context_data(push_token=token, **kwargs))
        response["Cache-Control"] = "no-store"
        return response


class TestRunDetailView(OrganizationMixin, TemplateView):
    nav = "tests"
    template_name = "controls/tests/run_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        run = selectors.test_run_get(
            user=self.actor, organization=self.organization, pk=kwargs["pk"]
        )
        context.update(
            run=run,
            test=run.control_test,
            # Failures first (error, fail, pass sort that way), pages of 50.
            page=paginate(
                self.request, run.results.order_by("status", "resource_name", "pk"), per_page=50
            ),
            finished=run.status in (RunStatus.PASSED, RunStatus.FAILED, RunStatus.ERROR),
        )
        return context


class TestExceptionCreateView(OrganizationMixin):
    capability = Capability.ACCEPT_RISK

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        test = selectors.control_test_get(
            user=self.actor, organization=self.organization, pk=kwargs["pk"]
        )
        resources = list(
            test.last_run.results.filter(status=ResultStatus.FAIL).values_list(
                "resource_id", "resource_name"
            )
            if test.last_run
            else []
        )
        form = ExceptionForm(request.POST, resources=resources)
        if form.is_valid():
            try:
                services.exception_create(actor=self.actor, test=test, **form.cleaned_data)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, "Exception recorded; the resource counts as accepted.")
        else:
            messages.error(
                request,
                " ".join(f"{k}: {' '.join(str(m) for m in v)}" for k, v in form.errors.items()),
            )
        return redirect("control_test_detail", org=self.organization.slug, pk=test.pk)


class TestExceptionRevokeView(OrganizationMixin):
    capability = Capability.ACCEPT_RISK

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        test = selectors.control_test_get(
            user=self.actor, organization=self.organization, pk=kwargs["pk"]
        )
        exception = test.exceptions.filter(pk=kwargs["exception"]).first()
        if exception is None:
            raise Http404("No such exception.")
        try:
            services.exception_revoke(actor=self.actor, exception=exception)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Exception revoked.")
        return redirect("control_test_detail", org=self.organization.slug, pk=test.pk)


# --- integrations -------------------------------------------------------------------------------


class IntegrationListView(OrganizationMixin, TemplateView):
    nav = "integrations"
    capability = Capability.MANAGE_INTEGRATIONS
    template_name = "controls/tests/integration_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            page=paginate(
                self.request,
                selectors.integration_list(
                    user=self.actor, organization=self.organization
                ).order_by("name", "pk"),
                per_page=50,
            ),
            kinds=IntegrationKind.choices,
        )
        return context


class IntegrationFormView(OrganizationMixin, TemplateView):
    nav = "integrations"
    capability = Capability.MANAGE_INTEGRATIONS
    template_name = "controls/tests/integration_form.html"

    def integration(self) -> Any:
        pk = self.kwargs.get("pk")
        if pk is None:
            return None
        return selectors.integration_get(user=self.actor, organization=self.organization, pk=pk)

    def kind(self, integration: Any) -> str:
        kind = integration.kind if integration else self.request.GET.get("kind", "")
        if kind not in IntegrationKind.values:
            raise Http404("No such kind of integration.")
        return str(kind)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        integration = self.integration()
        kind = self.kind(integration)
        if integration is not None:
            initial = {"name": integration.name}
            initial.update({f"config_{k}": v for k, v in integration.config.items()})
        else:
            initial = {"name": IntegrationKind(kind).label}
        form = kwargs.get("form") or IntegrationForm(
            kind=kind, editing=integration is not None, initial=initial
        )
        context.update(form=form, integration=integration, kind_label=IntegrationKind(kind).label)
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        integration = self.integration()
        kind = self.kind(integration)
        form = IntegrationForm(request.POST, kind=kind, editing=integration is not None)
        if form.is_valid():
            try:
                if integration is None:
                    integration = services.integration_create(
                        actor=self.actor, organization=self.organization, kind=kind,
                        name=form.cleaned_data["name"], config=form.config(),
                        credentials=form.credentials() or {},
                    )  # fmt: skip
                else:
                    services.integration_update(
                        actor=self.actor, integration=integration,
                        name=form.cleaned_data["name"], config=form.config(),
                        credentials=form.credentials(),
                    )  # fmt: skip
            except ValidationError as exc:
                form.add_service_errors(
                    exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
                )
            else:
                messages.success(
                    request, f"“{integration.name}” saved. Its credentials are stored encrypted."
                )
                return redirect("integration_list", org=self.organization.slug)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class IntegrationDeleteView(OrganizationMixin):
    capability = Capability.MANAGE_INTEGRATIONS

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        integration = selectors.integration_get(
            user=self.actor, organization=self.organization, pk=kwargs["pk"]
        )
        try:
            services.integration_delete(actor=self.actor, integration=integration)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"“{integration.name}” deleted.")
        return redirect("integration_list", org=self.organization.slug)
