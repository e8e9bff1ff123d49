from rest_framework.routers import SimpleRouter

from compliance.api.base import ORG
from people.api import views

router = SimpleRouter()
router.register(f"{ORG}/people", views.PersonViewSet, basename="api-person")
router.register(
    rf"{ORG}/people/(?P<person>[0-9]+)/records", views.RecordViewSet, basename="api-person-record"
)

urlpatterns = router.urls
