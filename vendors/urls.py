from django.urls import path

from vendors import views

urlpatterns = [
    path("vendors/", views.VendorListView.as_view(), name="vendor_list"),
    path("vendors/new/", views.VendorCreateView.as_view(), name="vendor_create"),
    path("vendors/export.csv", views.VendorExportView.as_view(), name="vendor_export"),
    path("vendors/<int:pk>/", views.VendorDetailView.as_view(), name="vendor_detail"),
    path("vendors/<int:pk>/edit/", views.VendorEditView.as_view(), name="vendor_edit"),
    path(
        "vendors/<int:pk>/reviews/", views.ReviewCreateView.as_view(), name="vendor_review_create"
    ),
    path("vendors/<int:pk>/offboard/", views.VendorOffboardView.as_view(), name="vendor_offboard"),
    path(
        "vendors/<int:pk>/reinstate/",
        views.VendorReinstateView.as_view(),
        name="vendor_reinstate",
    ),
]
