"""URL patterns of the trust page's documents; trust/urls.py and trust/public_urls.py add them."""

from django.urls import path

from trust.documents import views

# Inside an organization (/o/<org>/trust/...).
organization_patterns = [
    path("trust/documents/", views.DocumentListView.as_view(), name="trust_document_list"),
    path("trust/documents/new/", views.DocumentUploadView.as_view(), name="trust_document_upload"),
    path(
        "trust/documents/access/", views.AccessSettingsView.as_view(), name="trust_access_settings"
    ),
    path(
        "trust/documents/<int:pk>/",
        views.DocumentDetailView.as_view(),
        name="trust_document_detail",
    ),
    path(
        "trust/documents/<int:pk>/file/",
        views.DocumentFileView.as_view(),
        name="trust_document_file",
    ),
    path("trust/requests/", views.RequestListView.as_view(), name="trust_request_list"),
    path(
        "trust/requests/<int:pk>/", views.RequestDetailView.as_view(), name="trust_request_detail"
    ),
]

# Public (/trust/...).
public_patterns = [
    path("<slug:slug>/request/", views.RequestAccessView.as_view(), name="trust_request_access"),
    path("<slug:slug>/access/<str:token>/", views.AccessLinkView.as_view(), name="trust_access"),
    path(
        "<slug:slug>/access/<str:token>/<int:pk>/",
        views.AccessDownloadView.as_view(),
        name="trust_access_download",
    ),
    path(
        "<slug:slug>/documents/<int:pk>/download/",
        views.PublicDownloadView.as_view(),
        name="trust_public_download",
    ),
]
