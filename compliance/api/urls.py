from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from compliance.api import reports, views, weekly
from compliance.api.base import ORG
from compliance.api.docs import RedocView, SwaggerView
from compliance.api.snapshots import ReadinessSnapshotListView
from controls.api import views as control_views

router = DefaultRouter()
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register(f"{ORG}/memberships", views.MembershipViewSet, basename="membership")
router.register(f"{ORG}/invitations", views.InvitationViewSet, basename="invitation")
router.register(f"{ORG}/weekly/action-items", weekly.ActionItemViewSet, basename="api-action-item")
router.register(f"{ORG}/weekly/notes", weekly.WeeklyNotesViewSet, basename="api-weekly-notes")
router.register("frameworks", control_views.FrameworkViewSet, basename="framework")
router.register("requirements", control_views.RequirementViewSet, basename="requirement")
router.register(
    f"{ORG}/adopted-frameworks", control_views.AdoptedFrameworkViewSet, basename="adopted-framework"
)
router.register(f"{ORG}/controls", control_views.ControlViewSet, basename="control")
router.register(f"{ORG}/mappings", control_views.MappingViewSet, basename="mapping")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
    path(
        "organizations/<slug:org>/readiness/",
        control_views.ReadinessView.as_view(),
        name="readiness",
    ),
    path(
        "organizations/<slug:org>/readiness/snapshots/",
        ReadinessSnapshotListView.as_view(),
        name="readiness-snapshots",
    ),
    path(
        "organizations/<slug:org>/reports/gap-analysis.xlsx",
        reports.GapAnalysisXlsxView.as_view(),
        name="api-gap-analysis-xlsx",
    ),
    path(
        "organizations/<slug:org>/reports/gap-analysis.pdf",
        reports.GapAnalysisPdfView.as_view(),
        name="api-gap-analysis-pdf",
    ),
    path("", include(router.urls)),
    path("", include("controls.api.urls")),
    path("", include("evidence.api.urls")),
    path("", include("policies.api.urls")),
    path("", include("people.api.urls")),
    path("", include("vendors.api.urls")),
    path("", include("audits.api.urls")),
    path("", include("trust.api.urls")),
]
