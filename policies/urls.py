from django.urls import URLPattern, URLResolver, path

from policies import views

VERSION = "policies/<int:pk>/versions/<int:number>"

urlpatterns: list[URLPattern | URLResolver] = [
    path("policies/", views.PolicyListView.as_view(), name="policy_list"),
    path("policies/new/", views.PolicyCreateView.as_view(), name="policy_create"),
    path("policies/library/", views.PolicyLibraryView.as_view(), name="policy_library"),
    path("policies/<int:pk>/", views.PolicyDetailView.as_view(), name="policy_detail"),
    path("policies/<int:pk>/edit/", views.PolicyEditView.as_view(), name="policy_edit"),
    path("policies/<int:pk>/review/", views.PolicyReviewView.as_view(), name="policy_review"),
    path("policies/<int:pk>/send/", views.PolicySendView.as_view(), name="policy_send"),
    path(
        "policies/<int:pk>/acknowledge/",
        views.PolicyAcknowledgeView.as_view(),
        name="policy_acknowledge",
    ),
    path(
        "policies/<int:pk>/versions/new/",
        views.VersionCreateView.as_view(),
        name="policy_version_create",
    ),
    path(f"{VERSION}/", views.VersionDetailView.as_view(), name="policy_version_detail"),
    path(f"{VERSION}/edit/", views.VersionEditView.as_view(), name="policy_version_edit"),
    path(f"{VERSION}/preview/", views.VersionPreviewView.as_view(), name="policy_version_preview"),
    path(f"{VERSION}/submit/", views.VersionSubmitView.as_view(), name="policy_version_submit"),
    path(f"{VERSION}/return/", views.VersionReturnView.as_view(), name="policy_version_return"),
    path(f"{VERSION}/approve/", views.VersionApproveView.as_view(), name="policy_version_approve"),
    path(f"{VERSION}/retire/", views.VersionRetireView.as_view(), name="policy_version_retire"),
    path(f"{VERSION}/pdf/", views.VersionPdfView.as_view(), name="policy_version_pdf"),
]
