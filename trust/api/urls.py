from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from compliance.api.base import ORG
from trust.api import views
from trust.library import api as library_api

router = SimpleRouter()
router.register(f"{ORG}/trust-documents", views.TrustDocumentViewSet, basename="api-trust-document")
router.register(
    f"{ORG}/trust-access-requests", views.AccessRequestViewSet, basename="api-trust-access-request"
)
router.register(f"{ORG}/trust-downloads", views.DownloadViewSet, basename="api-trust-download")
router.register(
    f"{ORG}/answer-library", library_api.AnswerEntryViewSet, basename="api-answer-entry"
)
router.register(
    f"{ORG}/questionnaires", library_api.QuestionnaireViewSet, basename="api-questionnaire"
)

urlpatterns: list[URLPattern | URLResolver] = list(router.urls)
