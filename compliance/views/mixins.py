"""What every organization page shares: who is asking, in which organization, with what role."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.template.response import SimpleTemplateResponse
from django.utils import timezone
from django.views import View

from compliance import mfa
from compliance.models import Membership, Organization, User
from compliance.permissions import ROLE_CAPABILITIES, Capability, active_memberships

LAST_ORGANIZATION_SESSION_KEY = "attest_last_org"


def membership_or_404(request: HttpRequest, slug: str) -> Membership:
    """The signed-in user's active membership in ``slug``; a stranger's view of it is a 404."""
    for membership in active_memberships(request.user).values():
        if membership.organization.slug == slug:
            return membership
    raise Http404("No such organization.")


class OrganizationMixin(View):
    """Resolves ``<org>`` from the URL. Not a member → 404; role lacks ``capability`` → 403."""

    capability: Capability | None = Capability.VIEW_PROGRAM
    nav = ""  # which sidebar item is highlighted
    organization: Organization
    membership: Membership

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        self.membership = membership_or_404(request, kwargs["org"])
        self.organization = self.membership.organization
        request.organization = self.organization  # type: ignore[attr-defined]
        request.membership = self.membership  # type: ignore[attr-defined]
        if self.organization.require_two_factor and not mfa.is_enabled(self.actor):
            messages.warning(
                request,
                f"{self.organization.name} requires two-factor sign-in. Turn it on to continue.",
            )
            return redirect("two_factor")
        if self.capability is not None and not self.can(self.capability):
            raise PermissionDenied("Your role in this organization does not allow this.")
        # Remember the organization for the next sign-in, writing the session only when it
        # changes: setting a key marks the session modified even to the same value, which would
        # cost an UPDATE on django_session on every page.
        if request.session.get(LAST_ORGANIZATION_SESSION_KEY) != self.organization.slug:
            request.session[LAST_ORGANIZATION_SESSION_KEY] = self.organization.slug
        # Times on the organization's pages read in its time zone; the template is rendered
        # here, inside the override, rather than later by the handler.
        with timezone.override(zoneinfo.ZoneInfo(self.organization.time_zone)):
            response = super().dispatch(request, *args, **kwargs)
            if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
                response.render()
        return response

    @property
    def actor(self) -> User:
        """The signed-in user (dispatch has checked authentication)."""
        return cast(User, self.request.user)

    def can(self, capability: Capability) -> bool:
        return capability in ROLE_CAPABILITIES.get(self.membership.role, frozenset())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)  # type: ignore[misc]
        context.update(organization=self.organization, membership=self.membership, nav=self.nav)
        return context


def apply_validation_error(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: on its field when the form has it."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


def paginate(request: HttpRequest, items: Any, per_page: int = 50) -> Page[Any]:
    paginator = Paginator(items, per_page)
    return paginator.get_page(request.GET.get("page"))


# How many rows a list inside a detail page shows; the rest are behind its "All …" link.
DETAIL_LIST_LIMIT = 10


@dataclass(frozen=True)
class Capped:
    """The first rows of a list inside a page, and how many there are in all."""

    rows: list[Any]
    total: int
    all_url: str = ""  # the list page filtered to exactly these rows ("" when there is none)

    @property
    def more(self) -> int:
        return max(self.total - len(self.rows), 0)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> Any:
        return self.rows[index]

    def __bool__(self) -> bool:
        return bool(self.rows)


def capped(items: Any, limit: int = DETAIL_LIST_LIMIT, *, all_url: str = "") -> Capped:
    """The first ``limit`` of ``items`` (a queryset: two queries, whatever its size)."""
    rows = list(items[:limit])
    total = items.count() if hasattr(items, "count") and not isinstance(items, list) else len(items)
    return Capped(rows=rows, total=total, all_url=all_url)
