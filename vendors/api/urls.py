from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from compliance.api.base import ORG
from vendors.api import documents, questionnaires, views

router = SimpleRouter()
router.register(
    f"{ORG}/vendor-questionnaire-templates",
    questionnaires.QuestionnaireTemplateViewSet,
    basename="api-vendor-questionnaire-template",
)
router.register(f"{ORG}/vendors", views.VendorViewSet, basename="api-vendor")
router.register(
    rf"{ORG}/vendors/(?P<vendor>[0-9]+)/reviews",
    views.VendorReviewViewSet,
    basename="api-vendor-review",
)

router.register(
    rf"{ORG}/vendors/(?P<vendor>[0-9]+)/questionnaires",
    questionnaires.SentQuestionnaireViewSet,
    basename="api-vendor-questionnaire",
)
router.register(
    rf"{ORG}/vendors/(?P<vendor>[0-9]+)/documents",
    documents.VendorDocumentViewSet,
    basename="api-vendor-document",
)
router.register(
    rf"{ORG}/vendors/(?P<vendor>[0-9]+)/documents/(?P<document>[0-9]+)/exceptions",
    documents.ReportExceptionViewSet,
    basename="api-vendor-document-exception",
)
router.register(
    rf"{ORG}/vendors/(?P<vendor>[0-9]+)/documents/(?P<document>[0-9]+)/cuecs",
    documents.CuecViewSet,
    basename="api-vendor-document-cuec",
)

urlpatterns: list[URLPattern | URLResolver] = list(router.urls)
