from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from compliance.permissions import (
    ROLE_CAPABILITIES,
    active_memberships,
    may_create_organization,
)


def organization(request: HttpRequest) -> dict[str, Any]:
    """The organization switcher and the navigation's role-dependent items."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    memberships = active_memberships(user)
    current = getattr(request, "organization", None)
    membership = getattr(request, "membership", None)
    if membership is None:
        # Pages outside an organization (account, API tokens) keep the last one's navigation.
        last = request.session.get("attest_last_org") if hasattr(request, "session") else None
        membership = next((m for m in memberships.values() if m.organization.slug == last), None)
        current = membership.organization if membership else None
    caps = ROLE_CAPABILITIES.get(membership.role, frozenset()) if membership else frozenset()
    return {
        "switcher": sorted(memberships.values(), key=lambda m: m.organization.name.lower()),
        "current_organization": current,
        "current_membership": membership,
        "caps": {str(c) for c in caps},
        "can_create_organization": may_create_organization(user),
    }


def csp_nonce(request: HttpRequest) -> dict[str, Any]:
    """This response's Content-Security-Policy nonce (compliance.middleware), for inline scripts
    and <style> elements: ``<script nonce="{{ csp_nonce }}">``."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}
