from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from compliance.api.base import ORG
from vendors.api import questionnaires, views

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

urlpatterns: list[URLPattern | URLResolver] = list(router.urls)
