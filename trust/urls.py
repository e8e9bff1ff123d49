"""The trust app's pages inside an organization (/o/<org>/...)."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
