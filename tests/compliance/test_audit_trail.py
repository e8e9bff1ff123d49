"""The audit trail: written with the change, hash-chained, and tamper-evident."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.urls import reverse

from compliance.audit import audit_record, verify_all
from compliance.models import AuditEvent
from controls import services as controls
from controls.models import Control
from tests.conftest import World


def rename(world: World, name: str) -> None:
    controls.control_update(
        actor=world.users["admin"], control=world.control, changes={"name": name}
    )


def test_a_service_write_appends_an_event_with_actor_before_after_and_request_id(
    world: World,
) -> None:
    client = world.client("admin")
    response = client.post(
        reverse("control_edit", args=["acme", world.control.pk]),
        {
            "ref_id": "IAM-01",
            "name": "MFA on every account",
            "category": "access",
            "status": "implemented",
            "frequency": "event_driven",
            "owner": world.users["owner"].pk,
            "requirements": [world.req_a.pk],
            "reason": "Rolled out to everyone",
        },
        HTTP_X_REQUEST_ID="req-1234567890",
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="control.update")
    assert event.actor == world.users["admin"]
    assert event.actor_label == "admin@acme.test"
    assert event.organization == world.org
    assert event.object_type == "controls.control" and event.object_id == str(world.control.pk)
    assert event.before == {"name": "MFA everywhere", "status": "not_started"}
    assert event.after["name"] == "MFA on every account"
    assert event.after["status"] == "implemented"
    assert event.after["reason"] == "Rolled out to everyone"
    assert event.request_id == "req-1234567890"
    assert response["X-Request-ID"] == "req-1234567890"


def test_the_event_and_the_change_commit_together_or_not_at_all(world: World) -> None:
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():  # noqa: PT012 - write, then fail
        rename(world, "Renamed")
        raise RuntimeError("the request failed after the write")
    assert AuditEvent.objects.count() == before
    assert Control.objects.get(pk=world.control.pk).name == "MFA everywhere"


def test_recording_outside_a_transaction_is_refused(transactional_db: None) -> None:
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_record(actor=None, organization=None, action="x.y")


def test_each_organization_has_its_own_unbroken_chain(world: World) -> None:
    rename(world, "One")
    rename(world, "Two")
    controls.control_update(
        actor=world.users["outsider"], control=world.foreign_control, changes={"name": "Globex"}
    )
    events = list(AuditEvent.objects.filter(chain=f"org:{world.org.pk}").order_by("seq"))
    assert [e.seq for e in events] == [1, 2]
    assert events[1].prev_hash == events[0].hash
    assert all(report.problem is None for report in verify_all())


def test_verify_command_passes_on_an_intact_trail(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    rename(world, "One")
    call_command("verify_audit_trail")
    assert "OK" in capsys.readouterr().out


def test_verify_command_names_the_first_altered_event(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("One", "Two", "Three"):
        rename(world, name)
    second = AuditEvent.objects.get(chain=f"org:{world.org.pk}", seq=2)
    with connection.cursor() as cursor:  # someone with database access edits history
        cursor.execute(
            "UPDATE compliance_auditevent SET actor_label = %s WHERE id = %s",
            ["someone-else@acme.test", second.pk],
        )
    with pytest.raises(CommandError, match="failed"):
        call_command("verify_audit_trail")
    err = capsys.readouterr().err
    assert f"seq 2 (event id={second.pk})" in err
    assert "altered" in err


def test_verify_detects_a_deleted_event(world: World) -> None:
    for name in ("One", "Two", "Three"):
        rename(world, name)
    AuditEvent.objects.filter(chain=f"org:{world.org.pk}", seq=2).delete()
    [report] = [r for r in verify_all() if r.chain == f"org:{world.org.pk}"]
    assert report.problem is not None
    assert "deleted" in report.problem.problem


def test_verify_detects_a_deleted_last_event(world: World) -> None:
    rename(world, "One")
    rename(world, "Two")
    AuditEvent.objects.filter(chain=f"org:{world.org.pk}", seq=2).delete()
    [report] = [r for r in verify_all() if r.chain == f"org:{world.org.pk}"]
    assert report.problem is not None
    assert "tail deleted" in report.problem.problem


def test_admins_browse_the_trail_and_others_cannot(world: World) -> None:
    rename(world, "Visible change")
    response = world.client("admin").get(reverse("audit_trail", args=["acme"]))
    assert response.status_code == 200
    assert "control.update" in response.content.decode()
    assert "Visible change" in response.content.decode()
    assert world.client("member").get(reverse("audit_trail", args=["acme"])).status_code == 403


def test_the_trail_page_shows_only_this_organizations_events(world: World) -> None:
    controls.control_update(
        actor=world.users["outsider"],
        control=world.foreign_control,
        changes={"name": "Globex only"},
    )
    response = world.client("admin").get(reverse("audit_trail", args=["acme"]))
    assert "Globex only" not in response.content.decode()


def test_the_trail_is_read_only_in_the_django_admin(world: World) -> None:
    from django.contrib import admin

    from compliance.admin import AuditEventAdmin

    model_admin = AuditEventAdmin(AuditEvent, admin.site)
    assert not model_admin.has_change_permission(None)  # type: ignore[arg-type]
    assert not model_admin.has_delete_permission(None)  # type: ignore[arg-type]
    assert not model_admin.has_add_permission(None)  # type: ignore[arg-type]
