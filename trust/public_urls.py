"""The public trust page (/trust/<org-slug>/...): no account needed."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
