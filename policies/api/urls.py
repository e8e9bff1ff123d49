from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from compliance.api.base import ORG
from policies.api import views

router = SimpleRouter()
router.register(f"{ORG}/policies", views.PolicyViewSet, basename="policy")
router.register(
    rf"{ORG}/policies/(?P<policy_pk>[0-9]+)/versions",
    views.PolicyVersionViewSet,
    basename="policy-version",
)

urlpatterns: list[URLPattern | URLResolver] = list(router.urls)
