"""The Django admin site, opened only through Attest's own sign-in and a second factor.

Django's admin brings a sign-in form of its own that knows neither the throttle nor the
two-factor step. Here that form is gone: ``/admin/login/`` never reads a password, it sends
the person to where they can go next (Attest's sign-in, the two-factor page, the code step or
the admin itself). The admin's own password-change form goes the same way, to the account's
throttled one.

This module is loaded while apps are being set up (``AttestAdminConfig`` in INSTALLED_APPS), so
it imports nothing that touches models at module level.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache


class AttestAdminSite(AdminSite):
    site_header = "Attest operators"
    site_title = "Attest admin"
    index_title = "Operations"

    def has_permission(self, request: HttpRequest) -> bool:
        """Active staff whose session has passed the second factor of their current device."""
        from compliance.views import auth

        return auth.admin_access(request) is auth.AdminAccess.OK

    @method_decorator(never_cache)
    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        from compliance.views import auth

        return auth.admin_sign_in(request)

    # The stubs say these render a template; here they redirect (hence the ignores).
    def password_change(  # type: ignore[override]
        self, request: HttpRequest, extra_context: Any = None
    ) -> HttpResponse:
        return redirect("password_change")

    def password_change_done(  # type: ignore[override]
        self, request: HttpRequest, extra_context: Any = None
    ) -> HttpResponse:
        return redirect("password_change")


class AttestAdminConfig(AdminConfig):
    default_site = "compliance.admin_site.AttestAdminSite"
