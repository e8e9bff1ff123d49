"""The PBC world: the conftest's engagement (shared with ``auditor``), a second engagement of
the same organization shared with ``other_auditor`` only, an auditor whose access was revoked,
one whose access expired (their membership still active), a request raised by ``auditor`` on
the world's control, and a piece of evidence of that control in the period."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from audits import pbc_services, services
from audits.models import Audit, AuditorAccess, AuditRequest
from compliance.models import Role, User
from compliance.permissions import grant_object_permission
from evidence.models import EvidenceItem
from tests.conftest import World, enable_mfa
from tests.factories import MembershipFactory, UserFactory

# Every persona of the matrices: the world's, plus the auditors of this module.
HIDDEN = ("other_auditor", "revoked_auditor", "expired_access", "expired_auditor", "outsider")


@dataclass
class Pbc:
    world: World
    audit: Audit
    other: Audit
    request: AuditRequest
    evidence: EvidenceItem
    users: dict[str, User]

    def client(self, persona: str) -> Client:
        client = Client()
        if persona != "anonymous":
            client.force_login(self.users[persona])
        return client

    def api(self, persona: str) -> APIClient:
        client = APIClient()
        if persona != "anonymous":
            client.force_authenticate(self.users[persona])
        return client

    def fresh(self) -> AuditRequest:
        return AuditRequest.objects.get(pk=self.request.pk)


def auditor(world: World, email: str) -> User:
    user = UserFactory(email=email, full_name=email.split("@")[0].replace("_", " ").title())
    MembershipFactory(
        user=user,
        organization=world.org,
        role=Role.AUDITOR,
        expires_at=timezone.now() + dt.timedelta(days=60),
    )
    enable_mfa(user)
    return user


def soon(days: int = 10) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)


@pytest.fixture(name="pbc")
def pbc_fixture(
    world: World,
    engagement: Audit,
    make_audit: Callable[..., Audit],
    make_evidence: Callable[..., EvidenceItem],
) -> Pbc:
    admin = world.users["admin"]
    other = make_audit(name="SOC 2 Type I 2026", kind="type1", as_of=dt.date(2026, 9, 30))
    users = dict(world.users)
    users["other_auditor"] = auditor(world, "other_auditor@cpa.test")
    services.auditor_invite(actor=admin, audit=other, email="other_auditor@cpa.test")
    users["revoked_auditor"] = auditor(world, "revoked_auditor@cpa.test")
    access = services.auditor_invite(
        actor=admin, audit=engagement, email="revoked_auditor@cpa.test"
    )
    services.auditor_revoke(actor=admin, access=access)
    expired = auditor(world, "expired_access@cpa.test")
    users["expired_access"] = expired
    AuditorAccess.objects.create(
        audit=engagement,
        email=expired.email,
        user=expired,
        invited_by=admin,
        expires_at=timezone.now() - dt.timedelta(hours=1),
    )
    grant_object_permission(expired, "view_audit", engagement)
    evidence = make_evidence(dt.date(2026, 3, 1), title="Q1 access review")
    request = pbc_services.request_create(
        actor=users["auditor"],
        audit=engagement,
        title="Q1 access review",
        description="The review with its sign-off.",
        control=world.control,
        due_date=soon(),
    )
    return Pbc(world, engagement, other, request, evidence, users)
