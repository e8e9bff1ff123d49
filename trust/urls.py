"""The trust app's pages inside an organization (/o/<org>/...)."""

from django.urls import URLPattern, URLResolver, include, path

from trust.documents.urls import organization_patterns as document_patterns
from trust.views import page_admin as views

page_patterns: list[URLPattern | URLResolver] = [
    path("trust/", views.SettingsView.as_view(), name="trust_settings"),
    path("trust/preview/", views.PreviewView.as_view(), name="trust_preview"),
    path("trust/publish/", views.PublishView.as_view(), {"publish": True}, name="trust_publish"),
    path(
        "trust/unpublish/", views.PublishView.as_view(), {"publish": False}, name="trust_unpublish"
    ),
    path(
        "trust/certifications/new/",
        views.CertificationFormView.as_view(),
        name="trust_certification_create",
    ),
    path(
        "trust/certifications/from-engagement/",
        views.EngagementCertificationView.as_view(),
        name="trust_certification_from_audit",
    ),
    path(
        "trust/certifications/<int:pk>/",
        views.CertificationFormView.as_view(),
        name="trust_certification_edit",
    ),
    path("trust/categories/new/", views.CategoryFormView.as_view(), name="trust_category_create"),
    path(
        "trust/categories/<int:pk>/", views.CategoryFormView.as_view(), name="trust_category_edit"
    ),
    path("trust/faq/new/", views.FaqFormView.as_view(), name="trust_faq_create"),
    path("trust/faq/<int:pk>/", views.FaqFormView.as_view(), name="trust_faq_edit"),
    path(
        "trust/certifications/<int:pk>/delete/",
        views.RowDeleteView.as_view(),
        {"kind": "certification"},
        name="trust_certification_delete",
    ),
    path(
        "trust/categories/<int:pk>/delete/",
        views.RowDeleteView.as_view(),
        {"kind": "category"},
        name="trust_category_delete",
    ),
    path(
        "trust/faq/<int:pk>/delete/",
        views.RowDeleteView.as_view(),
        {"kind": "faq"},
        name="trust_faq_delete",
    ),
]

urlpatterns: list[URLPattern | URLResolver] = [
    *page_patterns,
    *document_patterns,
    path("", include("trust.library.urls")),
]
