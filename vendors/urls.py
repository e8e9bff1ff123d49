from django.urls import path

from vendors import document_views as dviews
from vendors import import_views, views
from vendors import questionnaire_views as qviews

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
    path(
        "vendors/<int:pk>/questionnaires/send/",
        qviews.QuestionnaireSendView.as_view(),
        name="vendor_questionnaire_send",
    ),
    path(
        "vendors/<int:pk>/questionnaires/<int:qid>/",
        qviews.QuestionnaireDetailView.as_view(),
        name="vendor_questionnaire_detail",
    ),
    path(
        "vendors/<int:pk>/questionnaires/<int:qid>/revoke/",
        qviews.QuestionnaireRevokeView.as_view(),
        name="vendor_questionnaire_revoke",
    ),
    path(
        "vendors/<int:pk>/questionnaires/<int:qid>/files/<int:aid>/",
        qviews.AttachmentDownloadView.as_view(),
        name="vendor_questionnaire_file",
    ),
    path(
        "vendor-questionnaires/",
        qviews.TemplateListView.as_view(),
        name="vendor_questionnaire_templates",
    ),
    path(
        "vendor-questionnaires/use/",
        qviews.TemplateUseView.as_view(),
        name="vendor_questionnaire_template_use",
    ),
    path(
        "vendor-questionnaires/import/",
        qviews.TemplateImportView.as_view(),
        name="vendor_questionnaire_template_import",
    ),
    path(
        "vendor-questionnaires/new/",
        qviews.TemplateEditView.as_view(),
        name="vendor_questionnaire_template_create",
    ),
    path(
        "vendor-questionnaires/<int:tid>/edit/",
        qviews.TemplateEditView.as_view(),
        name="vendor_questionnaire_template_edit",
    ),
    path(
        "vendor-questionnaires/<int:tid>/",
        qviews.TemplateDetailView.as_view(),
        name="vendor_questionnaire_template",
    ),
    path("vendors/<int:pk>/documents/", dviews.DocumentListView.as_view(), name="vendor_documents"),
    path(
        "vendors/<int:pk>/documents/new/",
        dviews.DocumentCreateView.as_view(),
        name="vendor_document_create",
    ),
    path(
        "vendors/<int:pk>/documents/<int:did>/",
        dviews.DocumentDetailView.as_view(),
        name="vendor_document_detail",
    ),
    path(
        "vendors/<int:pk>/documents/<int:did>/file/",
        dviews.DocumentDownloadView.as_view(),
        name="vendor_document_file",
    ),
    path(
        "vendors/<int:pk>/documents/<int:did>/exceptions/",
        dviews.ReportExceptionCreateView.as_view(),
        name="vendor_document_exception_create",
    ),
    path(
        "vendors/<int:pk>/documents/<int:did>/cuecs/",
        dviews.CuecCreateView.as_view(),
        name="vendor_document_cuec_create",
    ),
    path("vendors/import/", import_views.VendorImportView.as_view(), name="vendor_import"),
    path(
        "vendors/import/template.csv",
        import_views.VendorImportTemplateView.as_view(),
        name="vendor_import_template",
    ),
]
