from django.urls import path
from rest_framework.routers import SimpleRouter

from compliance.api.base import ORG
from controls.api import monitoring, push

router = SimpleRouter()
router.register(f"{ORG}/integrations", monitoring.IntegrationViewSet, basename="api-integration")
router.register(f"{ORG}/control-tests", monitoring.ControlTestViewSet, basename="api-control-test")
router.register(f"{ORG}/test-runs", monitoring.TestRunViewSet, basename="api-test-run")

urlpatterns = [
    path("checks/", monitoring.CheckListView.as_view(), name="api-checks"),
    path("push/test-results/", push.PushResultsView.as_view(), name="api-push-test-results"),
    *router.urls,
]
