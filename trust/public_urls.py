"""The public trust page (/trust/<org-slug>/...): no account needed."""

from django.urls import URLPattern, URLResolver

from trust.documents.urls import public_patterns as document_patterns

urlpatterns: list[URLPattern | URLResolver] = [*document_patterns]
