from rest_framework.routers import SimpleRouter

from compliance.api.base import ORG
from evidence.api import views

router = SimpleRouter()
router.register(f"{ORG}/evidence", views.EvidenceViewSet, basename="api-evidence")
router.register(
    f"{ORG}/evidence-revisions", views.RevisionViewSet, basename="api-evidence-revision"
)
router.register(
    f"{ORG}/evidence-requests", views.EvidenceRequestViewSet, basename="api-evidence-request"
)

urlpatterns = router.urls
