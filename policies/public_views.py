"""The acknowledgement page behind an emailed link, for people without a login.

Reading the page (GET) never changes anything, so mail scanners that open links do not
acknowledge on anyone's behalf; the person confirms with a button (POST). A tampered link
answers 400, an expired one (or one for a version that was replaced) 410, and neither writes.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views import View

from people.models import Person
from policies import links
from policies.dates import ack_valid_from, organization_today
from policies.models import Acknowledgement, AcknowledgementVia, PolicyVersion, VersionStatus
from policies.rendering import render_markdown
from policies.services import policy_acknowledge


def _private(response: HttpResponseBase) -> HttpResponseBase:
    # The token is a credential: keep it out of caches, search engines and Referer headers sent
    # to other sites ("same-origin", not "no-referrer": browsers then send "Origin: null" with
    # the form, which the CSRF check rightly refuses).
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def link_error(request: HttpRequest, *, kind: str, status: int, detail: str = "") -> HttpResponse:
    response = render(
        request, "policies/ack_link_error.html", {"kind": kind, "detail": detail}, status=status
    )
    return _private(response)  # type: ignore[return-value]


class AcknowledgementLinkView(View):
    def resolve(self, token: str) -> tuple[PolicyVersion, Person] | HttpResponse:
        try:
            target = links.read_token(token)
        except links.LinkExpired:
            return link_error(self.request, kind="expired", status=410)
        except links.LinkInvalid:
            return link_error(self.request, kind="invalid", status=400)
        version = (
            PolicyVersion.objects.select_related("policy__organization", "approved_by")
            .filter(pk=target.version_id)
            .first()
        )
        person = None
        if version is not None:
            person = Person.objects.filter(
                pk=target.person_id, organization=version.policy.organization
            ).first()
        if version is None or person is None:
            return link_error(self.request, kind="invalid", status=400)
        if version.status != VersionStatus.APPROVED:
            return link_error(self.request, kind="replaced", status=410)
        return version, person

    def page(self, version: PolicyVersion, person: Person, **extra: Any) -> HttpResponse:
        organization = version.policy.organization
        today = organization_today(organization)
        latest = (
            Acknowledgement.objects.filter(version=version, person=person)
            .order_by("-acknowledged_at")
            .first()
        )
        valid = latest is not None and latest.acknowledged_at >= ack_valid_from(organization, today)
        context = {
            "version": version,
            "policy": version.policy,
            "organization": organization,
            "person": person,
            "body": render_markdown(version.body),
            "acknowledgement": latest if valid else None,
            **extra,
        }
        return render(
            self.request, "policies/ack_link.html", context, status=extra.get("status", 200)
        )

    def get(self, request: HttpRequest, token: str) -> HttpResponseBase:
        resolved = self.resolve(token)
        if isinstance(resolved, HttpResponse):
            return resolved
        return _private(self.page(*resolved, just_done=request.GET.get("done") == "1"))

    def post(self, request: HttpRequest, token: str) -> HttpResponseBase:
        resolved = self.resolve(token)
        if isinstance(resolved, HttpResponse):
            return resolved
        version, person = resolved
        if request.POST.get("confirm") != "yes":
            return _private(
                self.page(version, person, error="Tick the box to confirm you read the policy.",
                          status=400)
            )  # fmt: skip
        try:
            policy_acknowledge(version=version, person=person, via=AcknowledgementVia.LINK)
        except ValidationError as exc:
            return link_error(request, kind="refused", status=400, detail=" ".join(exc.messages))
        return _private(redirect(request.path + "?done=1"))
