from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from audits.api import views
from compliance.api.base import ORG

router = SimpleRouter()
router.register(f"{ORG}/audits", views.AuditViewSet, basename="api-audit")
router.register(
    rf"{ORG}/audits/(?P<audit>[0-9]+)/requests",
    views.AuditRequestViewSet,
    basename="api-audit-request",
)
router.register(
    rf"{ORG}/audits/(?P<audit>[0-9]+)/findings",
    views.AuditFindingViewSet,
    basename="api-audit-finding",
)

urlpatterns: list[URLPattern | URLResolver] = list(router.urls)
