"""Acknowledgements: sending to the people in scope, acknowledging in the app and through a
signed link (expired and tampered links change nothing), once per round, and the yearly
re-acknowledgement round of the daily task."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from django.core import signing
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from compliance.models import AuditEvent, OutboundEmail
from people.models import Person
from policies import links, services
from policies.models import Acknowledgement, AcknowledgementRequest, AcknowledgementVia
from policies.tasks import policies_tick
from tests.policies.factories import (
    PersonFactory,
    PolicyWorld,
    approve,
    approved_policy,
    days_ago,
)

IN_SCOPE = ["member", "owner", "eng", "sales", "contractor"]


def send(pw: PolicyWorld, version, **kwargs):  # type: ignore[no-untyped-def]
    return services.policy_send_for_acknowledgement(
        actor=pw.world.users["admin"], version=version, **kwargs
    )


def asked(version) -> set[str]:  # type: ignore[no-untyped-def]
    return set(
        AcknowledgementRequest.objects.filter(version=version).values_list(
            "person__full_name", flat=True
        )
    )


def names(pw: PolicyWorld, *keys: str) -> set[str]:
    return {pw.people[k].full_name for k in keys}


def link_in(email: OutboundEmail) -> str:
    match = re.search(r"https?://\S+/ack/(\S+)/", email.text_body)
    assert match, email.text_body
    return reverse("policy_ack_link", args=[match.group(1)])


def old_token(version_id: int, person_id: int, days: int) -> str:
    class PastSigner(signing.TimestampSigner):
        def timestamp(self) -> str:
            return signing.b62_encode(int(time.time()) - days * 86400)

    return PastSigner(salt=links.SALT).sign_object({"v": version_id, "p": person_id})


# --- sending ------------------------------------------------------------------------------------


def test_sending_asks_every_active_person_once_and_emails_them_a_link(
    pw: PolicyWorld, mailbox
) -> None:  # type: ignore[no-untyped-def]
    _, version = approved_policy(pw.world)

    result = send(pw, version)

    assert result.sent == 5
    assert asked(version) == names(pw, *IN_SCOPE)  # not who left, not the future hire
    emails = mailbox("policy_acknowledgement")
    assert sorted(e.to[0].lower() for e in emails) == sorted(
        pw.people[k].email.lower() for k in IN_SCOPE
    )
    email = emails[0]
    assert email.subject.startswith("Please read and acknowledge the Access Control Policy")
    assert "/ack/" in email.html_body
    assert AuditEvent.objects.filter(action="policy.send").get().after["sent"] == 5


def test_sending_again_emails_nobody_twice(pw: PolicyWorld, mailbox) -> None:  # type: ignore[no-untyped-def]
    _, version = approved_policy(pw.world)
    send(pw, version)

    again = send(pw, version)

    assert (again.sent, again.already_asked) == (0, 5)
    assert len(mailbox("policy_acknowledgement")) == 5
    assert AcknowledgementRequest.objects.count() == 5


def test_the_audience_can_be_one_department_or_one_employment_type(pw: PolicyWorld) -> None:
    _, version = approved_policy(pw.world)

    send(pw, version, department="sales")
    assert asked(version) == names(pw, "sales")

    send(pw, version, employment_type="contractor")
    assert asked(version) == names(pw, "sales", "contractor")
    assert version.distribution.employment_type == "contractor"


def test_only_the_approved_version_can_be_sent(pw: PolicyWorld) -> None:
    from tests.policies.factories import first_version, make_policy

    policy = make_policy(pw.world)

    with pytest.raises(ValidationError) as excinfo:
        send(pw, first_version(policy))

    assert "approved version" in excinfo.value.message_dict["version"][0]
    assert not AcknowledgementRequest.objects.exists()


def test_an_unknown_employment_type_is_refused(pw: PolicyWorld) -> None:
    _, version = approved_policy(pw.world)

    with pytest.raises(ValidationError) as excinfo:
        send(pw, version, employment_type="intern")

    assert "employment_type" in excinfo.value.message_dict
    assert not AcknowledgementRequest.objects.exists()


# --- in the app ---------------------------------------------------------------------------------


def test_a_signed_in_person_acknowledges_in_the_app_once(pw: PolicyWorld) -> None:
    policy, version = approved_policy(pw.world)
    send(pw, version)
    client = pw.world.client("member")
    url = reverse("policy_acknowledge", args=["acme", policy.pk])
    events = AuditEvent.objects.count()

    first = client.post(url, follow=True)
    second = client.post(url, follow=True)

    ack = Acknowledgement.objects.get()
    assert (ack.person, ack.version, ack.round, ack.via, ack.user) == (
        pw.people["member"],
        version,
        1,
        AcknowledgementVia.APP,
        pw.world.users["member"],
    )
    assert "Thank you" in first.content.decode()
    assert "You already acknowledged" in second.content.decode()
    assert AuditEvent.objects.count() == events + 1
    assert AuditEvent.objects.order_by("seq").last().action == "policy.acknowledge"


def test_the_person_is_found_by_email_when_the_account_is_not_linked(pw: PolicyWorld) -> None:
    policy, version = approved_policy(pw.world)
    send(pw, version)

    response = pw.world.client("owner").post(
        reverse("policy_acknowledge", args=["acme", policy.pk])
    )

    assert response.status_code == 302
    assert Acknowledgement.objects.get().person == pw.people["owner"]  # OWNER@acme.test


def test_a_user_without_a_person_cannot_acknowledge(pw: PolicyWorld) -> None:
    policy, version = approved_policy(pw.world)
    send(pw, version)

    response = pw.world.client("viewer").post(
        reverse("policy_acknowledge", args=["acme", policy.pk])
    )

    assert response.status_code == 403
    assert not Acknowledgement.objects.exists()


def test_people_out_of_scope_cannot_acknowledge_and_nothing_is_written(pw: PolicyWorld) -> None:
    _, version = approved_policy(pw.world)
    send(pw, version, department="Sales")
    events = AuditEvent.objects.count()

    for key in ("member", "left", "future"):
        with pytest.raises(ValidationError):
            services.policy_acknowledge(
                version=version, person=pw.people[key], via=AcknowledgementVia.APP
            )
    with pytest.raises(ValidationError):
        services.policy_acknowledge(
            version=version, person=pw.people["globex"], via=AcknowledgementVia.APP
        )

    assert not Acknowledgement.objects.exists()
    assert AuditEvent.objects.count() == events


def test_a_version_that_was_not_sent_cannot_be_acknowledged(pw: PolicyWorld) -> None:
    _, version = approved_policy(pw.world)

    with pytest.raises(ValidationError, match="not been sent"):
        services.policy_acknowledge(
            version=version, person=pw.people["member"], via=AcknowledgementVia.APP
        )


def test_a_retired_version_cannot_be_acknowledged(pw: PolicyWorld) -> None:
    _, version = approved_policy(pw.world)
    send(pw, version)
    services.policy_version_retire(actor=pw.world.users["admin"], version=version, reason="Gone")

    with pytest.raises(ValidationError, match="no longer the current version"):
        services.policy_acknowledge(
            version=version, person=pw.people["member"], via=AcknowledgementVia.APP
        )


# --- the signed link ----------------------------------------------------------------------------


def test_the_emailed_link_shows_the_policy_and_acknowledges_only_on_confirmation(
    pw: PolicyWorld, mailbox, client
) -> None:  # type: ignore[no-untyped-def]
    _, version = approved_policy(pw.world)
    send(pw, version)
    email = next(e for e in mailbox() if e.to == [pw.people["eng"].email])
    url = link_in(email)

    page = client.get(url)
    assert page.status_code == 200
    assert "Hello Eli Engineer" in page.content.decode()
    assert "<h2>Purpose</h2>" in page.content.decode()
    assert page["Referrer-Policy"] == "same-origin"
    assert page["Cache-Control"] == "private, no-store"
    assert not Acknowledgement.objects.exists()  # reading is not acknowledging

    unconfirmed = client.post(url, {})
    assert unconfirmed.status_code == 400
    assert not Acknowledgement.objects.exists()

    done = client.post(url, {"confirm": "yes"})
    assert done.status_code == 302
    ack = Acknowledgement.objects.get()
    assert (ack.person, ack.via, ack.user) == (pw.people["eng"], AcknowledgementVia.LINK, None)
    thanks = client.get(done["Location"])
    assert "Thank you." in thanks.content.decode()
    assert "Acknowledge</button>" not in thanks.content.decode()


def test_acknowledging_twice_through_the_link_keeps_one_row(pw: PolicyWorld, client) -> None:  # type: ignore[no-untyped-def]
    _, version = approved_policy(pw.world)
    send(pw, version)
    url = reverse(
        "policy_ack_link",
        args=[links.make_token(version_id=version.pk, person_id=pw.people["sales"].pk)],
    )

    client.post(url, {"confirm": "yes"})
    client.post(url, {"confirm": "yes"})

    assert Acknowledgement.objects.count() == 1
    assert "Already done." in client.get(url).content.decode()


def test_an_expired_link_is_refused_with_410_and_changes_nothing(
    pw: PolicyWorld, client, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.ACKNOWLEDGEMENT_LINK_DAYS = 30
    _, version = approved_policy(pw.world)
    send(pw, version)
    token = old_token(version.pk, pw.people["eng"].pk, days=31)
    url = reverse("policy_ack_link", args=[token])
    events = AuditEvent.objects.count()

    for response in (client.get(url), client.post(url, {"confirm": "yes"})):
        assert response.status_code == 410
        assert "This link has expired" in response.content.decode()

    assert not Acknowledgement.objects.exists()
    assert AuditEvent.objects.count() == events
    # The same link a day younger still works.
    assert (
        client.get(
            reverse("policy_ack_link", args=[old_token(version.pk, pw.people["eng"].pk, 29)])
        ).status_code
        == 200
    )


def tamper(token: str) -> list[str]:
    payload, timestamp, signature = token.rsplit(":", 2)
    other = signing.dumps({"v": 1, "p": 1}, salt="something.else")
    return [
        f"{payload}:{timestamp}:{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
        f"{payload[:-2]}xx:{timestamp}:{signature}",
        f"{payload}:{signing.b62_encode(int(time.time()) + 5)}:{signature}",
        other,
        "not-a-token",
    ]


def test_a_tampered_link_is_refused_with_400_and_changes_nothing(pw: PolicyWorld, client) -> None:  # type: ignore[no-untyped-def]
    _, version = approved_policy(pw.world)
    send(pw, version)
    token = links.make_token(version_id=version.pk, person_id=pw.people["eng"].pk)

    for bad in tamper(token):
        url = reverse("policy_ack_link", args=[bad])
        for response in (client.get(url), client.post(url, {"confirm": "yes"})):
            assert response.status_code == 400, bad
            assert "This link is not valid" in response.content.decode()

    assert not Acknowledgement.objects.exists()


def test_a_link_for_a_replaced_version_answers_410(pw: PolicyWorld, client) -> None:  # type: ignore[no-untyped-def]
    admin = pw.world.users["admin"]
    policy, v1 = approved_policy(pw.world, effective=timezone.localdate() - dt.timedelta(days=5))
    send(pw, v1)
    url = reverse(
        "policy_ack_link", args=[links.make_token(version_id=v1.pk, person_id=pw.people["eng"].pk)]
    )
    v2 = services.policy_version_create(actor=admin, policy=policy)
    approve(pw.world, v2)

    response = client.post(url, {"confirm": "yes"})

    assert response.status_code == 410
    assert "no longer current" in response.content.decode()
    assert not Acknowledgement.objects.exists()


def test_a_link_naming_a_person_of_another_organization_is_invalid(pw: PolicyWorld, client) -> None:  # type: ignore[no-untyped-def]
    _, version = approved_policy(pw.world)
    send(pw, version)
    token = links.make_token(version_id=version.pk, person_id=pw.people["globex"].pk)

    response = client.post(reverse("policy_ack_link", args=[token]), {"confirm": "yes"})

    assert response.status_code == 400
    assert not Acknowledgement.objects.exists()


# --- the yearly round ---------------------------------------------------------------------------


def test_an_acknowledgement_older_than_a_year_is_asked_again_by_the_daily_task(
    pw: PolicyWorld, mailbox
) -> None:  # type: ignore[no-untyped-def]
    _, version = approved_policy(pw.world, effective=timezone.localdate() - dt.timedelta(days=500))
    send(pw, version, now=days_ago(420), notify=False)
    services.policy_acknowledge(
        version=version, person=pw.people["member"], via=AcknowledgementVia.APP, now=days_ago(410)
    )
    services.policy_acknowledge(
        version=version, person=pw.people["sales"], via=AcknowledgementVia.LINK, now=days_ago(20)
    )

    first = policies_tick()
    second = policies_tick()

    # Mia's acknowledgement expired: she is asked in round 2. Sara's is recent. The others were
    # asked in round 1 and have not answered: they are not asked again in the same round.
    rounds = set(
        AcknowledgementRequest.objects.filter(version=version).values_list(
            "person__full_name", "round"
        )
    )
    assert ("Mia Member", 2) in rounds
    assert not any(round_ == 2 for name, round_ in rounds if name != "Mia Member")
    assert first["sent"] == 1
    assert second["sent"] == 0
    renewal = mailbox("policy_acknowledgement")
    assert [e.to for e in renewal] == [["member@acme.test"]]
    assert renewal[0].subject.startswith("Yearly reminder: please re-acknowledge")

    ack = services.policy_acknowledge(
        version=version, person=pw.people["member"], via=AcknowledgementVia.APP
    )
    assert (ack.created, ack.acknowledgement.round) == (True, 2)
    assert Acknowledgement.objects.filter(person=pw.people["member"]).count() == 2


def test_the_daily_task_asks_people_who_joined_after_the_policy_was_sent(
    pw: PolicyWorld, mailbox
) -> None:  # type: ignore[no-untyped-def]
    _, version = approved_policy(pw.world)
    send(pw, version, notify=False)
    newcomer = PersonFactory(
        organization=pw.org, full_name="Nina New", start_date=timezone.localdate()
    )

    policies_tick()
    policies_tick()

    assert list(
        AcknowledgementRequest.objects.filter(person=newcomer).values_list("round", flat=True)
    ) == [1]
    assert [e.to for e in mailbox("policy_acknowledgement")] == [[newcomer.email]]
    assert not AcknowledgementRequest.objects.filter(person=pw.people["future"]).exists()


def test_the_daily_task_leaves_policies_that_were_never_sent_alone(
    pw: PolicyWorld, mailbox
) -> None:  # type: ignore[no-untyped-def]
    approved_policy(pw.world)

    assert policies_tick()["sent"] == 0
    assert mailbox() == []


def test_the_daily_task_reminds_the_owner_of_a_due_review_once(pw: PolicyWorld, mailbox) -> None:  # type: ignore[no-untyped-def]
    owner = pw.world.users["owner"]
    approved_policy(pw.world, owner=owner, effective=timezone.localdate() - dt.timedelta(days=350))
    approved_policy(
        pw.world,
        title="Fresh Policy",
        owner=owner,
        effective=timezone.localdate() - dt.timedelta(days=10),
    )

    policies_tick()
    policies_tick()

    reminders = mailbox("policy_review_due")
    assert [e.to for e in reminders] == [["owner@acme.test"]]
    assert "Access Control Policy" in reminders[0].subject
    assert AuditEvent.objects.filter(action="policy.review_reminder").count() == 1


def test_acknowledgements_of_people_in_another_organization_are_untouched(
    pw: PolicyWorld,
) -> None:
    _, version = approved_policy(pw.world)
    send(pw, version)

    assert not AcknowledgementRequest.objects.filter(person__organization=pw.world.other_org)
    assert Person.objects.filter(organization=pw.world.other_org).count() == 1
