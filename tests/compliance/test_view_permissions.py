"""Every page of the app against every persona: hidden → 404, visible but not allowed → 403."""

from __future__ import annotations

import pytest
from django.urls import reverse

from compliance.models import AuditEvent, Membership
from controls.models import Control
from tests.conftest import World
from tests.matrix import (
    ADMIN_ONLY_READ,
    HIDDEN_FROM_ALL,
    READ_PROGRAM,
    Case,
    admin_only_write,
    check_page_case,
    control_writers,
)


def u(name: str, *args: object) -> str:
    return reverse(name, args=args)


def control_state(world: World) -> tuple:
    control = Control.objects.get(pk=world.control.pk)
    return control.name, control.status, control.archived_at, control.mappings.count()


def edit_data(world: World) -> dict:
    return {
        "ref_id": "IAM-01",
        "name": "MFA everywhere (edited)",
        "category": "access",
        "status": "in_progress",
        "frequency": "quarterly",
        "owner": world.users["owner"].pk,
        "requirements": [world.req_a.pk],
        "reason": "Rolling out",
    }


CASES = [
    Case("dashboard", "get", lambda w: u("dashboard", "acme"), {**READ_PROGRAM, "auditor": 302}),
    Case("my work", "get", lambda w: u("my_work", "acme"), READ_PROGRAM),
    Case("control list", "get", lambda w: u("control_list", "acme"), READ_PROGRAM),
    Case("control export", "get", lambda w: u("control_export", "acme"), READ_PROGRAM),
    Case("framework list", "get", lambda w: u("framework_list", "acme"), READ_PROGRAM),
    Case("framework detail", "get", lambda w: u("framework_detail", "acme", "tsc"), READ_PROGRAM),
    Case(
        "requirement detail",
        "get",
        lambda w: u("requirement_detail", "acme", w.req_a.pk),
        READ_PROGRAM,
    ),
    Case("starter controls", "get", lambda w: u("framework_starter", "acme", "tsc"), READ_PROGRAM),
    Case("member list", "get", lambda w: u("member_list", "acme"), READ_PROGRAM),
    Case("audit trail", "get", lambda w: u("audit_trail", "acme"), ADMIN_ONLY_READ),
    Case(
        "control detail", "get", lambda w: u("control_detail", "acme", w.control.pk), READ_PROGRAM
    ),
    Case(
        "another organization's control through our URL",
        "get",
        lambda w: u("control_detail", "acme", w.foreign_control.pk),
        {**HIDDEN_FROM_ALL, "auditor": 403},
    ),
    Case(
        "another organization's control through its URL",
        "get",
        lambda w: u("control_detail", "globex", w.foreign_control.pk),
        {**HIDDEN_FROM_ALL, "outsider": 200},
    ),
    Case(
        "control edit form",
        "get",
        lambda w: u("control_edit", "acme", w.control.pk),
        control_writers(200),
    ),
    Case(
        "control edit",
        "post",
        lambda w: u("control_edit", "acme", w.control.pk),
        control_writers(302),
        data=edit_data,
        state=control_state,
    ),
    Case(
        "edit of a control the member does not own",
        "post",
        lambda w: u("control_edit", "acme", w.unowned_control.pk),
        admin_only_write(302),
        data=lambda w: {**edit_data(w), "ref_id": "CHG-01", "owner": ""},
        state=lambda w: Control.objects.get(pk=w.unowned_control.pk).name,
    ),
    Case(
        "edit of another organization's control",
        "post",
        lambda w: u("control_edit", "acme", w.foreign_control.pk),
        {**HIDDEN_FROM_ALL, "auditor": 403},
        data=edit_data,
        state=lambda w: Control.objects.get(pk=w.foreign_control.pk).name,
    ),
    Case(
        "control create form", "get", lambda w: u("control_create", "acme"), admin_only_write(200)
    ),
    Case(
        "control create",
        "post",
        lambda w: u("control_create", "acme"),
        admin_only_write(302),
        data=lambda w: {**edit_data(w), "ref_id": "NEW-01"},
        state=lambda w: Control.objects.count(),
    ),
    Case(
        "control archive",
        "post",
        lambda w: u("control_archive", "acme", w.control.pk),
        admin_only_write(302),
        state=control_state,
    ),
    Case(
        "control access grant",
        "post",
        lambda w: u("control_access", "acme", w.control.pk),
        admin_only_write(302),
        data=lambda w: {"user": w.users["member"].pk},
        state=lambda w: AuditEvent.objects.count(),
    ),
    Case(
        "framework adopt (scope change)",
        "post",
        lambda w: u("framework_adopt", "acme", "tsc"),
        admin_only_write(302),
        data=lambda w: {"scope": ["SEC", "AV"]},
        state=lambda w: sorted(w.adoption.scope.values_list("code", flat=True)),
    ),
    Case(
        "member role change",
        "post",
        lambda w: u("member_update", "acme", Membership.objects.get(user=w.users["viewer"]).pk),
        admin_only_write(302),
        data=lambda w: {"role": "admin"},
        state=lambda w: Membership.objects.get(user=w.users["viewer"]).role,
    ),
    Case(
        "invite",
        "post",
        lambda w: u("member_list", "acme"),
        admin_only_write(302),
        data=lambda w: {"email": "new@acme.test", "role": "member"},
        state=lambda w: AuditEvent.objects.count(),
    ),
]

PARAMS = [param for case in CASES for param in case.params()]


@pytest.mark.parametrize(("case", "persona"), PARAMS, ids=[f"{c.name}-{p}" for c, p in PARAMS])
def test_page_permissions(world: World, case: Case, persona: str) -> None:
    check_page_case(world, case, persona, write_changes=False)
