from django.urls import path

from audits.views import effectiveness, engagements, findings, package, portal, requests, sampling

urlpatterns = [
    path("audits/", engagements.AuditListView.as_view(), name="audit_list"),
    path("audits/new/", engagements.AuditCreateView.as_view(), name="audit_create"),
    path("audits/<int:audit>/", engagements.AuditDetailView.as_view(), name="audit_detail"),
    path("audits/<int:audit>/edit/", engagements.AuditEditView.as_view(), name="audit_edit"),
    path(
        "audits/<int:audit>/auditors/",
        engagements.AuditorInviteView.as_view(),
        name="audit_auditor_invite",
    ),
    path(
        "audits/<int:audit>/auditors/<int:pk>/revoke/",
        engagements.AuditorRevokeView.as_view(),
        name="audit_auditor_revoke",
    ),
    path(
        "audits/<int:audit>/access-log/",
        engagements.AccessLogView.as_view(),
        name="audit_access_log",
    ),
    path("audits/<int:audit>/controls/", portal.ControlsView.as_view(), name="audit_controls"),
    path("audits/<int:audit>/evidence/", portal.EvidenceView.as_view(), name="audit_evidence"),
    path(
        "audits/<int:audit>/evidence/revisions/<int:pk>/download/",
        portal.EvidenceDownloadView.as_view(),
        name="audit_evidence_download",
    ),
    path("audits/<int:audit>/tests/", portal.TestRunsView.as_view(), name="audit_tests"),
    path("audits/<int:audit>/policies/", portal.PoliciesView.as_view(), name="audit_policies"),
    path("audits/<int:audit>/people/", portal.PeopleView.as_view(), name="audit_people"),
    path("audits/<int:audit>/requests/", requests.RequestListView.as_view(), name="audit_requests"),
    path(
        "audits/<int:audit>/requests/new/",
        requests.RequestCreateView.as_view(),
        name="audit_request_create",
    ),
    path(
        "audits/<int:audit>/requests/<int:pk>/",
        requests.RequestDetailView.as_view(),
        name="audit_request_detail",
    ),
    path(
        "audits/<int:audit>/requests/<int:pk>/<slug:action>/",
        requests.RequestActionView.as_view(),
        name="audit_request_action",
    ),
    path("audits/<int:audit>/findings/", findings.FindingListView.as_view(), name="audit_findings"),
    path(
        "audits/<int:audit>/findings/new/",
        findings.FindingCreateView.as_view(),
        name="audit_finding_create",
    ),
    path(
        "audits/<int:audit>/findings/<int:pk>/",
        findings.FindingDetailView.as_view(),
        name="audit_finding_detail",
    ),
    path(
        "audits/<int:audit>/findings/<int:pk>/<slug:action>/",
        findings.FindingActionView.as_view(),
        name="audit_finding_action",
    ),
    path("audits/<int:audit>/package/", package.PackageView.as_view(), name="audit_package"),
    path(
        "audits/<int:audit>/package/new/",
        package.PackageStartView.as_view(),
        name="audit_package_start",
    ),
    path(
        "audits/<int:audit>/package/<int:pk>/download/",
        package.PackageDownloadView.as_view(),
        name="audit_package_download",
    ),
    path(
        "audits/<int:audit>/effectiveness/",
        effectiveness.EffectivenessView.as_view(),
        name="audit_effectiveness",
    ),
    path("audits/<int:audit>/samples/", sampling.SamplesView.as_view(), name="audit_samples"),
    path(
        "audits/<int:audit>/populations/<int:population>/",
        sampling.PopulationView.as_view(),
        name="audit_population",
    ),
    path(
        "audits/<int:audit>/populations/<int:population>/samples/<int:pk>/",
        sampling.SampleView.as_view(),
        name="audit_sample",
    ),
]
