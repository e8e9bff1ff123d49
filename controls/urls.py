from django.urls import path

from controls import views
from controls.monitoring import views as tests

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
    path(
        "requirements/<int:pk>/controls/",
        views.RequirementControlsView.as_view(),
        name="requirement_controls",
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
    # Automated control tests
    path("tests/", tests.ControlTestListView.as_view(), name="control_test_list"),
    path(
        "controls/<int:pk>/tests/new/",
        tests.ControlTestChooseView.as_view(),
        name="control_test_choose",
    ),
    path(
        "controls/<int:pk>/tests/add/",
        tests.ControlTestCreateView.as_view(),
        name="control_test_create",
    ),
    path("tests/<int:pk>/", tests.ControlTestDetailView.as_view(), name="control_test_detail"),
    path("tests/<int:pk>/edit/", tests.ControlTestEditView.as_view(), name="control_test_edit"),
    path("tests/<int:pk>/run/", tests.ControlTestRunView.as_view(), name="control_test_run"),
    path(
        "tests/<int:pk>/push-token/",
        tests.ControlTestPushTokenView.as_view(),
        name="control_test_push_token",
    ),
    path(
        "tests/<int:pk>/exceptions/",
        tests.TestExceptionCreateView.as_view(),
        name="test_exception_create",
    ),
    path(
        "tests/<int:pk>/exceptions/<int:exception>/revoke/",
        tests.TestExceptionRevokeView.as_view(),
        name="test_exception_revoke",
    ),
    path("tests/runs/<int:pk>/", tests.TestRunDetailView.as_view(), name="test_run_detail"),
    path("integrations/", tests.IntegrationListView.as_view(), name="integration_list"),
    path("integrations/new/", tests.IntegrationFormView.as_view(), name="integration_create"),
    path("integrations/<int:pk>/", tests.IntegrationFormView.as_view(), name="integration_edit"),
    path(
        "integrations/<int:pk>/delete/",
        tests.IntegrationDeleteView.as_view(),
        name="integration_delete",
    ),
]
