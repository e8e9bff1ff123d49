from django.urls import path

from controls import views

urlpatterns = [
    path("frameworks/", views.FrameworkListView.as_view(), name="framework_list"),
    path("frameworks/<slug:slug>/", views.FrameworkDetailView.as_view(), name="framework_detail"),
    path(
        "frameworks/<slug:slug>/adopt/",
        views.FrameworkAdoptView.as_view(),
        name="framework_adopt",
    ),
    path(
        "frameworks/<slug:slug>/starter-controls/",
        views.StarterControlsView.as_view(),
        name="framework_starter",
    ),
    path(
        "requirements/<int:pk>/",
        views.RequirementDetailView.as_view(),
        name="requirement_detail",
    ),
    path("controls/", views.ControlListView.as_view(), name="control_list"),
    path("controls/export.csv", views.ControlExportView.as_view(), name="control_export"),
    path("controls/new/", views.ControlCreateView.as_view(), name="control_create"),
    path("controls/<int:pk>/", views.ControlDetailView.as_view(), name="control_detail"),
    path("controls/<int:pk>/edit/", views.ControlEditView.as_view(), name="control_edit"),
    path("controls/<int:pk>/archive/", views.ControlArchiveView.as_view(), name="control_archive"),
    path(
        "controls/<int:pk>/restore/",
        views.ControlArchiveView.as_view(),
        {"restore": True},
        name="control_restore",
    ),
    path("controls/<int:pk>/access/", views.ControlAccessView.as_view(), name="control_access"),
]
