"""The trust app's pages inside an organization (/o/<org>/...)."""

from django.urls import URLPattern, URLResolver, include, path

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("trust.library.urls")),
]
