"""The policy page and the actions on a policy: review, send, acknowledge."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import (
    HttpRequest,
    HttpResponseBase,
)
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.formats import date_format
from django.views.generic import TemplateView

from compliance.permissions import Capability
from compliance.views.mixins import OrganizationMixin, capped, paginate
from policies import selectors, services
from policies.dates import ack_valid_from, organization_today
from policies.forms import (
    ReasonForm,
    SendForm,
)
from policies.models import (
    Acknowledgement,
    AcknowledgementVia,
    Distribution,
    Policy,
    PolicyVersion,
    VersionStatus,
)
from policies.rendering import render_markdown

# --- the policy page ----------------------------------------------------------------------------


class PolicyDetailView(OrganizationMixin, TemplateView):
    nav = "policies"
    template_name = "policies/policy_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        today = organization_today(self.organization)
        policy = selectors.policy_get(
            user=self.actor, organization=self.organization, pk=kwargs["pk"]
        )
        row = selectors.policy_rows(policies=[policy], organization=self.organization, today=today)[
            0
        ]
        current = row.current
        distribution: Distribution | None = getattr(current, "distribution", None)
        if current is not None and distribution is None:
            distribution = Distribution.objects.filter(version=current).first()
        can_manage = self.can(Capability.MANAGE_POLICIES)
        context.update(
            policy=policy,
            row=row,
            current=current,
            versions=capped(policy.version_list, limit=20),  # type: ignore[attr-defined]
            history=list(selectors.policy_history(policy=policy)[:30]),
            can_manage=can_manage,
            can_change=bool(
                selectors.policy_changeable_ids(
                    user=self.actor, organization=self.organization, ids=[policy.pk]
                )
            ),
            distribution=distribution,
            today=today,
            link_days=settings.ACKNOWLEDGEMENT_LINK_DAYS,
        )
        if current is not None:
            context["body"] = render_markdown(
                PolicyVersion.objects.values_list("body", flat=True).get(pk=current.pk)
            )
        if current is not None and distribution is not None:
            state = self.request.GET.get("ack", "all")
            state = state if state in selectors.ACK_STATES else "all"
            people, sort = selectors.acknowledgement_people(
                version=current,
                distribution=distribution,
                organization=self.organization,
                today=today,
                state=state,
                sort=self.request.GET.get("sort", ""),
            )
            context.update(
                ack_page=paginate(self.request, people, per_page=25),
                ack_state=state,
                sort=sort,
                valid_from=ack_valid_from(self.organization, today),
            )
        if can_manage and current is not None:
            initial = {}
            if distribution is not None:
                initial = {
                    "employment_type": distribution.employment_type,
                    "department": distribution.department,
                }
            context["send_form"] = SendForm(organization=self.organization, initial=initial)
        # The signed-in person's own acknowledgement of the current version.
        person = selectors.person_for_user(user=self.actor, organization=self.organization)
        context["person"] = person
        if person is not None and current is not None and distribution is not None:
            mine = (
                Acknowledgement.objects.filter(version=current, person=person)
                .order_by("-acknowledged_at")
                .first()
            )
            context["my_ack"] = mine
            context["my_ack_valid"] = bool(
                mine and mine.acknowledged_at >= ack_valid_from(self.organization, today)
            )
            context["my_scope"] = services.in_scope(person, distribution, today)
        return context


class PolicyActionView(OrganizationMixin):
    """A POST on a policy; subclasses do the work and say what happened."""

    def get_policy(self) -> Policy:
        return selectors.policy_get(
            user=self.actor, organization=self.organization, pk=self.kwargs["pk"]
        )

    def back(self, policy: Policy, anchor: str = "") -> HttpResponseBase:
        return redirect(reverse("policy_detail", args=[self.organization.slug, policy.pk]) + anchor)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        policy = self.get_policy()
        try:
            text = self.act(policy)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, text)
        return self.back(policy, self.anchor)

    anchor = ""

    def act(self, policy: Policy) -> str:
        raise NotImplementedError


class PolicyReviewView(PolicyActionView):
    capability = Capability.MANAGE_POLICIES

    def act(self, policy: Policy) -> str:
        form = ReasonForm(self.request.POST)
        note = form.cleaned_data["reason"] if form.is_valid() else ""
        policy = services.policy_mark_reviewed(actor=self.actor, policy=policy, note=note)
        return f"Review recorded on {date_format(policy.last_reviewed_on or '', 'j M Y')}."


class PolicySendView(PolicyActionView):
    capability = Capability.MANAGE_POLICIES
    anchor = "#acknowledgements"

    def act(self, policy: Policy) -> str:
        current = next((v for v in policy.version_list if v.status == VersionStatus.APPROVED), None)  # type: ignore[attr-defined]
        if current is None:
            raise ValidationError("Approve a version before sending the policy.")
        form = SendForm(self.request.POST, organization=self.organization)
        if not form.is_valid():
            raise ValidationError("Choose who receives the policy.")
        result = services.policy_send_for_acknowledgement(
            actor=self.actor,
            version=current,
            employment_type=form.cleaned_data["employment_type"],
            department=form.cleaned_data["department"],
        )
        text = f"Sent to {result.sent} {'person' if result.sent == 1 else 'people'}"
        extras = []
        if result.up_to_date:
            extras.append(f"{result.up_to_date} already acknowledged")
        if result.already_asked:
            extras.append(f"{result.already_asked} asked before")
        return text + (f" ({', '.join(extras)})" if extras else "") + "."


class PolicyAcknowledgeView(PolicyActionView):
    """The signed-in person acknowledges the current version."""

    anchor = "#acknowledge"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        policy = self.get_policy()
        person = selectors.person_for_user(user=self.actor, organization=self.organization)
        if person is None:
            raise PermissionDenied("You are not on this organization's people roster.")
        current = next((v for v in policy.version_list if v.status == VersionStatus.APPROVED), None)  # type: ignore[attr-defined]
        if current is None:
            messages.error(request, "This policy has no approved version to acknowledge.")
            return self.back(policy)
        try:
            result = services.policy_acknowledge(
                version=current, person=person, via=AcknowledgementVia.APP, user=self.actor
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            when = date_format(result.acknowledgement.acknowledged_at, "j M Y")
            messages.success(
                request,
                f"Thank you. You acknowledged version {current.number} on {when}."
                if result.created
                else f"You already acknowledged version {current.number} on {when}.",
            )
        return self.back(policy, self.anchor)
