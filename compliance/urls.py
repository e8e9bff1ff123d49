from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from compliance.views import (
    account,
    auth,
    dashboard,
    email_settings,
    organizations,
    reports,
    weekly,
)
from compliance.views.health import healthz

# admin.site is compliance.admin_site.AttestAdminSite: operators sign in through Attest's own
# sign-in (throttled, with its two-factor step) and need a second factor to open it.

organization_patterns: list[URLPattern | URLResolver] = [
    path("", dashboard.DashboardView.as_view(), name="dashboard"),
    path("my-work/", dashboard.MyWorkView.as_view(), name="my_work"),
    path("weekly/", weekly.WeeklyView.as_view(), name="weekly"),
    path("weekly/notes/", weekly.NotesSaveView.as_view(), name="weekly_notes"),
    path("weekly/controls/", weekly.ControlSearchView.as_view(), name="weekly_control_search"),
    path("weekly/action-items/", weekly.ActionItemCreateView.as_view(), name="action_item_create"),
    path(
        "weekly/action-items/<int:pk>/edit/",
        weekly.ActionItemEditView.as_view(),
        name="action_item_edit",
    ),
    path(
        "weekly/action-items/<int:pk>/done/",
        weekly.ActionItemCloseView.as_view(),
        name="action_item_close",
    ),
    path(
        "weekly/action-items/<int:pk>/reopen/",
        weekly.ActionItemReopenView.as_view(),
        name="action_item_reopen",
    ),
    path(
        "weekly/action-items/<int:pk>/delete/",
        weekly.ActionItemDeleteView.as_view(),
        name="action_item_delete",
    ),
    path("reports/gap-analysis/", reports.GapAnalysisView.as_view(), name="gap_analysis"),
    path(
        "reports/gap-analysis.xlsx",
        reports.GapAnalysisDownloadView.as_view(kind="xlsx"),
        name="gap_analysis_xlsx",
    ),
    path(
        "reports/gap-analysis.pdf",
        reports.GapAnalysisDownloadView.as_view(kind="pdf"),
        name="gap_analysis_pdf",
    ),
    path("members/", organizations.MemberListView.as_view(), name="member_list"),
    path("members/<int:pk>/", organizations.MemberUpdateView.as_view(), name="member_update"),
    path(
        "invitations/<int:pk>/revoke/",
        organizations.InvitationRevokeView.as_view(),
        name="invitation_revoke",
    ),
    path("audit-trail/", organizations.AuditTrailView.as_view(), name="audit_trail"),
    path(
        "settings/",
        organizations.OrganizationSettingsView.as_view(),
        name="organization_settings",
    ),
    path("", include("controls.urls")),
    path("", include("evidence.urls")),
    path("", include("policies.urls")),
    path("", include("people.urls")),
    path("", include("vendors.urls")),
    path("", include("audits.urls")),
    path("", include("trust.urls")),
]

urlpatterns = [
    path("", organizations.home, name="home"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("login/code/", auth.login_mfa, name="login_mfa"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("password-reset/", auth.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", auth.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        auth.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("invite/<str:token>/", auth.invitation_accept, name="invitation_accept"),
    path("account/password/", account.PasswordChangeView.as_view(), name="password_change"),
    path("account/two-factor/", account.two_factor, name="two_factor"),
    path("account/tokens/", account.api_tokens, name="api_tokens"),
    path("account/email/", email_settings.email_settings, name="email_settings"),
    path(
        "email/unsubscribe/<str:token>/",
        email_settings.email_unsubscribe,
        name="email_unsubscribe",
    ),
    path("account/tokens/<int:pk>/revoke/", account.api_token_revoke, name="api_token_revoke"),
    path("organizations/new/", organizations.organization_create, name="organization_create"),
    path("o/<slug:org>/", include(organization_patterns)),
    path("ack/", include("policies.public_urls")),
    path("trust/", include("trust.public_urls")),
    path("vq/", include("vendors.public_urls")),
    path("api/", include("compliance.api.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]

# Errors answer JSON under /api/ (a database outage included) and the HTML pages elsewhere.
handler400 = "compliance.views.errors.bad_request"
handler403 = "compliance.views.errors.permission_denied"
handler404 = "compliance.views.errors.page_not_found"
handler500 = "compliance.views.errors.server_error"
