from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from audits.api import views
from compliance.api.base import ORG

router = SimpleRouter()
router.register(f"{ORG}/audits", views.AuditViewSet, basename="api-audit")

urlpatterns: list[URLPattern | URLResolver] = list(router.urls)
