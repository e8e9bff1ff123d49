from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from compliance.api.base import ORG
from trust.api import views

router = SimpleRouter()
router.register(f"{ORG}/trust-documents", views.TrustDocumentViewSet, basename="api-trust-document")
router.register(
    f"{ORG}/trust-access-requests", views.AccessRequestViewSet, basename="api-trust-access-request"
)
router.register(f"{ORG}/trust-downloads", views.DownloadViewSet, basename="api-trust-download")

urlpatterns: list[URLPattern | URLResolver] = list(router.urls)
