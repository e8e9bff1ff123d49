from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from compliance.api.base import ORG
from vendors.api import views

router = SimpleRouter()
router.register(f"{ORG}/vendors", views.VendorViewSet, basename="api-vendor")
router.register(
    rf"{ORG}/vendors/(?P<vendor>[0-9]+)/reviews",
    views.VendorReviewViewSet,
    basename="api-vendor-review",
)

urlpatterns: list[URLPattern | URLResolver] = list(router.urls)
