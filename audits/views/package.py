"""The engagement's Package tab (admins and the engagement's auditors): ask for a package, watch
it being built (htmx polling), download it; and the organization's public key that verifies it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.generic import TemplateView

from audits.models import AccessAction, Audit, PackageStatus
from audits.package import keys, selectors, services
from audits.services import access_log_record
from audits.tabs import Tab, register_tab
from audits.views.base import AuditMixin
from compliance.models import Membership
from evidence import storage

register_tab(
    Tab(
        "package",
        "Package",
        "audit_package",
        80,
        lambda audit, membership: selectors.may_export(membership, audit),
    )
)

PARTIAL = "audits/_packages.html"


class PackageMixin(AuditMixin):
    tab = "package"
    log_label = "Package"

    def check_may_export(self) -> None:
        membership: Membership = self.membership
        if not selectors.may_export(membership, self.audit):
            raise PermissionDenied("Only admins and the engagement's auditors export its package.")


def _packages_context(user: Any, audit: Audit) -> dict[str, Any]:
    packages = selectors.latest_packages(user=user, audit=audit)
    return {"packages": packages, "pending": any(p.is_pending for p in packages)}


class PackageView(PackageMixin, TemplateView):
    template_name = "audits/package.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.check_may_export()
        if request.htmx and not request.htmx.boosted:  # type: ignore[attr-defined]
            # The polling of the list: not a visit of the page (nothing in the access log).
            context = {
                "organization": self.organization,
                "audit": self.audit,
                **_packages_context(self.actor, self.audit),
            }
            return render(request, PARTIAL, context)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            _packages_context(self.actor, self.audit),
            public_key=keys.public_key_of(self.organization),
            key_algorithm=keys.ALGORITHM,
        )
        return context


class PackageStartView(PackageMixin):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.check_may_export()
        package = services.package_request(actor=self.actor, audit=self.audit)
        if package.status == PackageStatus.QUEUED and package.requested_by_id == self.actor.pk:
            messages.success(
                request, "The package is being prepared; this page shows its progress."
            )
        else:
            messages.info(request, "A package of this engagement is already being prepared.")
        return redirect("audit_package", self.organization.slug, self.audit.pk)


class PackageDownloadView(PackageMixin):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.check_may_export()
        package = selectors.package_get(user=self.actor, audit=self.audit, pk=kwargs["pk"])
        if package.status != PackageStatus.DONE or not package.storage_key:
            raise Http404("This package is not ready.")
        try:
            stored = storage.open_file(package.storage_key)
        except FileNotFoundError:
            raise Http404("The package's file is gone from storage; build a new one.") from None
        response = FileResponse(
            stored,
            as_attachment=True,
            filename=f"{self.organization.slug}-audit-{self.audit.pk}-package-{package.pk}.zip",
            content_type="application/zip",
        )
        response["Content-Length"] = str(package.size)
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        access_log_record(
            request=request,
            organization=self.organization,
            audit=self.audit,
            action=AccessAction.EXPORT,
            obj=package,
            object_repr=f"{self.audit.name}: package {package.pk} ({package.sha256[:12]})",
        )
        return response
