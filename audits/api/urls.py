from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from audits.api import sampling, views
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
_POPULATIONS = rf"{ORG}/audits/(?P<audit>\d+)/populations"
router.register(_POPULATIONS, sampling.PopulationViewSet, basename="api-audit-population")
router.register(
    rf"{_POPULATIONS}/(?P<population>\d+)/items",
    sampling.PopulationItemViewSet,
    basename="api-audit-population-item",
)
router.register(
    rf"{_POPULATIONS}/(?P<population>\d+)/samples",
    sampling.SampleViewSet,
    basename="api-audit-sample",
)

urlpatterns: list[URLPattern | URLResolver] = list(router.urls)
