"""The trust app's pages inside an organization (/o/<org>/...)."""

from django.urls import URLPattern, URLResolver

from trust.documents.urls import organization_patterns as document_patterns

urlpatterns: list[URLPattern | URLResolver] = [*document_patterns]
