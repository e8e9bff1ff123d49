"""Engagements and auditor access (issue 12, items 1 and 2): creating one with its rules, the
forecast's target following it, sharing it (an auditor of the organization at once, a new
address by invitation), revoking, expiry, and two-factor before anything is shown."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from audits import selectors, services
from audits.models import Audit, AuditorAccess, AuditType
from compliance.models import AuditEvent, Invitation, Membership, Role
from compliance.services import invitation_accept
from controls.models import AdoptedFramework
from tests.audits.conftest import PERIOD
from tests.conftest import World
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def errors(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return exc.value.message_dict


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"kind": AuditType.TYPE_1, "as_of": None}, "as_of", "needs its “as of” date"),
        ({"period_end": PERIOD[0]}, "period_end", "ends after it starts"),
        ({"period_end": dt.date(2026, 2, 28)}, "period_end", "at least 3 months"),
        ({"period_end": dt.date(2027, 1, 1)}, "period_end", "at most 12 months"),
        ({"name": "  "}, "name", "Name the engagement"),
        ({"report_date": dt.date(2026, 6, 1)}, "report_date", "on or after the end"),
        ({"kind": "type3"}, "kind", "Type I or Type II"),
    ],
    ids=["type1-no-date", "end-before-start", "too-short", "too-long", "no-name", "report-early",
         "bad-kind"],
)  # fmt: skip
def test_bad_engagements_are_refused_and_change_nothing(
    world: World,
    make_audit: Callable[..., Audit],
    values: dict[str, object],
    field: str,
    message: str,
) -> None:
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as exc:
        make_audit(**values)
    assert any(message in m for m in errors(exc)[field]), errors(exc)
    assert not Audit.objects.exists()
    assert AuditEvent.objects.count() == events


def test_the_scope_stays_within_the_adopted_scope(world: World, adoption: AdoptedFramework) -> None:
    with pytest.raises(ValidationError) as exc:
        services.audit_create(
            actor=world.users["admin"],
            organization=world.org,
            adoption=adoption,
            scope=[world.optional],  # not adopted
            name="Availability",
            kind=AuditType.TYPE_1,
            as_of=dt.date(2027, 2, 1),
        )
    assert "within the framework's adopted scope" in errors(exc)["scope"][0]
    other = AdoptedFramework.objects.get(organization=world.other_org)
    with pytest.raises(ValidationError) as exc:
        services.audit_create(
            actor=world.users["admin"],
            organization=world.org,
            adoption=other,
            scope=[world.security],
            name="Theirs",
            kind=AuditType.TYPE_1,
            as_of=dt.date(2027, 2, 1),
        )
    assert "adopted" in errors(exc)["adoption"][0]
    assert not Audit.objects.exists()


def test_the_planned_engagement_sets_the_forecasts_target(
    world: World, make_audit: Callable[..., Audit], adoption: AdoptedFramework
) -> None:
    audit = make_audit(kind=AuditType.TYPE_1, as_of=dt.date(2027, 3, 1), report_date=None)
    adoption.refresh_from_db()
    assert adoption.target_audit_date == dt.date(2027, 3, 1)
    services.audit_update(
        actor=world.users["admin"],
        audit=audit,
        scope=[world.security],
        name=audit.name,
        kind=AuditType.TYPE_2,
        period_start=dt.date(2027, 4, 1),
        period_end=dt.date(2027, 9, 30),
        status="planning",
    )
    adoption.refresh_from_db()
    assert adoption.target_audit_date == dt.date(2027, 4, 1)
    assert AuditEvent.objects.filter(action="audit.update").count() == 1


def test_the_target_is_the_next_planned_engagement_whatever_the_order_of_creation(
    world: World, make_audit: Callable[..., Audit], adoption: AdoptedFramework
) -> None:
    type_1 = make_audit(
        name="Type I", kind=AuditType.TYPE_1, as_of=dt.date(2027, 3, 1), report_date=None
    )
    make_audit(
        name="Type II", period_start=dt.date(2027, 3, 2), period_end=dt.date(2027, 9, 1),
        report_date=None,
    )  # fmt: skip
    adoption.refresh_from_db()
    assert adoption.target_audit_date == dt.date(2027, 3, 1)  # not the one created last
    # Once the Type I is closed, the Type II's start is the next target.
    services.audit_update(
        actor=world.users["admin"], audit=type_1, scope=[world.security], name="Type I",
        kind=AuditType.TYPE_1, as_of=dt.date(2027, 3, 1), status="closed",
    )  # fmt: skip
    adoption.refresh_from_db()
    assert adoption.target_audit_date == dt.date(2027, 3, 2)


def test_sharing_with_an_auditor_of_the_organization_grants_at_once(
    world: World, engagement: Audit
) -> None:
    access = AuditorAccess.objects.get(audit=engagement)
    assert access.user == world.users["auditor"] and access.state == "active"
    # Access ends at the end of the report date + 30 days, in the organization's zone.
    assert access.expires_at.date() == dt.date(2027, 3, 2)
    auditor = world.users["auditor"]
    assert list(selectors.audit_list(user=auditor, organization=world.org)) == [engagement]
    assert AuditEvent.objects.filter(action="audit.access_grant").count() == 1


def test_a_new_address_is_invited_and_gets_the_engagement_on_acceptance(
    world: World, make_audit: Callable[..., Audit]
) -> None:
    audit = make_audit()
    access = services.auditor_invite(
        actor=world.users["admin"], audit=audit, email="Casey@CPA.example"
    )
    assert access.user is None and access.state == "invited"
    invitation = Invitation.objects.get(email="casey@cpa.example")
    assert invitation.role == Role.AUDITOR
    casey = UserFactory(email="casey@cpa.example")
    # The token is only in the email: accept through the service with a known token.
    from compliance.tokens import new_secret, secret_hash

    token = new_secret()
    invitation.token_hash = secret_hash(token)
    invitation.save(update_fields=["token_hash"])
    membership = invitation_accept(token=token, user=casey)
    assert membership.role == Role.AUDITOR
    access.refresh_from_db()
    assert access.user == casey and access.state == "active"
    assert list(selectors.audit_list(user=casey, organization=world.org)) == [audit]


def test_sharing_refuses_bad_addresses_people_of_the_organization_and_twice(
    world: World, engagement: Audit
) -> None:
    admin = world.users["admin"]
    cases = [
        ("not an address", "email", "valid email"),
        ("viewer@acme.test", "email", "auditors sign in with an account of their own"),
        ("auditor@acme.test", "email", "already has access"),
    ]
    for email, field, message in cases:
        with pytest.raises(ValidationError) as exc:
            services.auditor_invite(actor=admin, audit=engagement, email=email)
        assert message in errors(exc)[field][0]
    with pytest.raises(ValidationError) as exc:
        services.auditor_invite(
            actor=admin, audit=engagement, email="new@cpa.test", expires_on=dt.date(2020, 1, 1)
        )
    assert "in the past" in errors(exc)["expires_on"][0]
    assert AuditorAccess.objects.count() == 1
    assert not Invitation.objects.filter(email="new@cpa.test").exists()


def test_without_a_report_date_the_admin_sets_the_expiry(
    world: World, make_audit: Callable[..., Audit]
) -> None:
    audit = make_audit(report_date=None)
    with pytest.raises(ValidationError) as exc:
        services.auditor_invite(actor=world.users["admin"], audit=audit, email="auditor@acme.test")
    assert "report date" in errors(exc)["expires_on"][0]
    later = timezone.localdate() + dt.timedelta(days=60)
    access = services.auditor_invite(
        actor=world.users["admin"], audit=audit, email="auditor@acme.test", expires_on=later
    )
    assert access.state == "active"
    # The organization membership lasts as long as the longest engagement access.
    membership = Membership.objects.get(user=world.users["auditor"], organization=world.org)
    assert membership.expires_at is not None and membership.expires_at >= access.expires_at


def test_a_revoked_or_expired_auditor_sees_nothing(world: World, engagement: Audit) -> None:
    auditor = world.client("auditor")
    url = reverse("audit_detail", args=["acme", engagement.pk])
    assert auditor.get(url).status_code == 200
    access = AuditorAccess.objects.get(audit=engagement)
    AuditorAccess.objects.filter(pk=access.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    assert world.client("auditor").get(url).status_code == 404
    AuditorAccess.objects.filter(pk=access.pk).update(
        expires_at=timezone.now() + dt.timedelta(days=1)
    )
    assert world.client("auditor").get(url).status_code == 200
    services.auditor_revoke(actor=world.users["admin"], access=access)
    assert world.client("auditor").get(url).status_code == 404
    listing = world.client("auditor").get(reverse("audit_list", args=["acme"]))
    assert "No engagement has been shared with you yet" in listing.content.decode()
    with pytest.raises(ValidationError, match="already revoked"):
        services.auditor_revoke(actor=world.users["admin"], access=access)


def test_an_auditor_turns_on_two_factor_before_seeing_anything(
    world: World, engagement: Audit
) -> None:
    from compliance import mfa

    mfa.mfa_disable(user=world.users["auditor"])
    for name in ("audit_list", "audit_detail", "audit_evidence"):
        args = ["acme"] if name == "audit_list" else ["acme", engagement.pk]
        response = world.client("auditor").get(reverse(name, args=args))
        assert response.status_code == 302
        assert response["Location"] == reverse("two_factor")


def test_an_auditor_of_two_organizations_sees_each_engagement_only_in_its_own(
    world: World, engagement: Audit
) -> None:
    other_adoption = AdoptedFramework.objects.get(organization=world.other_org)
    outsider = world.users["outsider"]
    theirs = services.audit_create(
        actor=outsider,
        organization=world.other_org,
        adoption=other_adoption,
        scope=[world.security],
        name="Globex Type I",
        kind=AuditType.TYPE_1,
        as_of=dt.date(2026, 6, 30),
        report_date=dt.date(2027, 1, 15),
    )
    Membership.objects.create(
        user=world.users["auditor"],
        organization=world.other_org,
        role=Role.AUDITOR,
        expires_at=timezone.now() + dt.timedelta(days=30),
    )
    services.auditor_invite(actor=outsider, audit=theirs, email="auditor@acme.test")
    auditor = world.users["auditor"]
    assert list(selectors.audit_list(user=auditor, organization=world.org)) == [engagement]
    assert list(selectors.audit_list(user=auditor, organization=world.other_org)) == [theirs]
    client = world.client("auditor")
    # The other organization's engagement id under this organization's URL: not found.
    assert client.get(reverse("audit_detail", args=["acme", theirs.pk])).status_code == 404
    assert client.get(reverse("audit_detail", args=["globex", theirs.pk])).status_code == 200
