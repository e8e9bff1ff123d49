from django.urls import URLPattern, URLResolver, path

from evidence import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("evidence/", views.EvidenceListView.as_view(), name="evidence_list"),
    path("evidence/new/", views.EvidenceCreateView.as_view(), name="evidence_create"),
    path("evidence/integrity/", views.IntegrityView.as_view(), name="evidence_integrity"),
    path("evidence/<int:pk>/", views.EvidenceDetailView.as_view(), name="evidence_detail"),
    path(
        "evidence/revisions/<int:pk>/download/",
        views.RevisionDownloadView.as_view(),
        name="evidence_download",
    ),
    path(
        "evidence/revisions/<int:pk>/review/",
        views.RevisionReviewView.as_view(),
        name="evidence_review",
    ),
    path(
        "evidence-requests/", views.EvidenceRequestListView.as_view(), name="evidence_request_list"
    ),
    path(
        "evidence-requests/new/",
        views.EvidenceRequestFormView.as_view(),
        name="evidence_request_create",
    ),
    path(
        "evidence-requests/<int:pk>/",
        views.EvidenceRequestDetailView.as_view(),
        name="evidence_request_detail",
    ),
    path(
        "evidence-requests/<int:pk>/edit/",
        views.EvidenceRequestFormView.as_view(),
        name="evidence_request_edit",
    ),
]
