from django.urls import path

from trust.library import views

urlpatterns = [
    path("library/", views.EntryListView.as_view(), name="answer_entry_list"),
    path("library/new/", views.EntryCreateView.as_view(), name="answer_entry_create"),
    path("library/<int:pk>/", views.EntryDetailView.as_view(), name="answer_entry_detail"),
    path("library/<int:pk>/edit/", views.EntryEditView.as_view(), name="answer_entry_edit"),
    path("library/<int:pk>/delete/", views.EntryDeleteView.as_view(), name="answer_entry_delete"),
    path("questionnaires/", views.QuestionnaireListView.as_view(), name="questionnaire_list"),
    path(
        "questionnaires/new/", views.QuestionnaireUploadView.as_view(), name="questionnaire_upload"
    ),
    path(
        "questionnaires/<int:pk>/",
        views.QuestionnaireDetailView.as_view(),
        name="questionnaire_detail",
    ),
    path(
        "questionnaires/<int:pk>/export/",
        views.QuestionnaireExportView.as_view(),
        name="questionnaire_export",
    ),
    path(
        "questionnaires/<int:pk>/complete/",
        views.QuestionnaireStatusView.as_view(),
        name="questionnaire_complete",
    ),
    path(
        "questionnaires/<int:pk>/reopen/",
        views.QuestionnaireStatusView.as_view(reopen=True),
        name="questionnaire_reopen",
    ),
    path(
        "questionnaires/<int:pk>/rows/<int:row>/",
        views.RowDecideView.as_view(),
        name="questionnaire_row_decide",
    ),
    path(
        "questionnaires/<int:pk>/rows/<int:row>/library/",
        views.RowToLibraryView.as_view(),
        name="questionnaire_row_library",
    ),
]
