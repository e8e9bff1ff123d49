"""The public trust page (/trust/<org-slug>/...): no account needed."""

from django.urls import URLPattern, URLResolver, path

from trust.documents.urls import public_patterns as document_patterns
from trust.views import page

urlpatterns: list[URLPattern | URLResolver] = [
    path("<slug:slug>/", page.public_page, name="trust_public_page"),
    path("<slug:slug>/security.txt", page.security_txt, name="trust_security_txt"),
    *document_patterns,
]
