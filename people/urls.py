from django.urls import path

from people import views

urlpatterns = [
    path("people/", views.PersonListView.as_view(), name="person_list"),
    path("people/new/", views.PersonCreateView.as_view(), name="person_create"),
    path("people/completion/", views.CompletionView.as_view(), name="person_completion"),
    path("people/import/", views.ImportView.as_view(), name="person_import"),
    path(
        "people/import/template.csv",
        views.ImportTemplateView.as_view(),
        name="person_import_template",
    ),
    path("people/requirements/", views.RequirementListView.as_view(), name="people_requirements"),
    path(
        "people/requirements/<slug:kind>/",
        views.RequirementEditView.as_view(),
        name="people_requirement_edit",
    ),
    path("people/<int:pk>/", views.PersonDetailView.as_view(), name="person_detail"),
    path("people/<int:pk>/edit/", views.PersonEditView.as_view(), name="person_edit"),
    path("people/<int:pk>/records/", views.RecordCreateView.as_view(), name="person_record_create"),
]
