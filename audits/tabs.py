"""The tabs of an engagement's pages. Each part of the audits app adds its own (requests,
samples, findings, the package) with :func:`register_tab`; a tab shows only to those it is
for, so no link leads to a 403."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from audits.models import Audit
from compliance.models import Membership, Role


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    url_name: str  # reversed with (org slug, audit pk)
    order: int
    visible: Callable[[Audit, Membership], bool] = lambda audit, membership: True


TABS: list[Tab] = []


def register_tab(tab: Tab) -> Tab:
    TABS[:] = [t for t in TABS if t.key != tab.key] + [tab]
    TABS.sort(key=lambda t: t.order)
    return tab


def admins_only(audit: Audit, membership: Membership) -> bool:
    return membership.role == Role.ADMIN


for _tab in (
    Tab("overview", "Overview", "audit_detail", 0),
    Tab("controls", "Controls", "audit_controls", 10),
    Tab("evidence", "Evidence", "audit_evidence", 20),
    Tab("tests", "Automated tests", "audit_tests", 30),
    Tab("policies", "Policies", "audit_policies", 40),
    Tab("people", "People & vendors", "audit_people", 50),
    Tab("access_log", "Access log", "audit_access_log", 90, admins_only),
):
    register_tab(_tab)
