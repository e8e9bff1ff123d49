"""The integrity sweep re-hashes stored files and reports, never repairs."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from compliance.models import OutboundEmail
from evidence import services
from evidence.models import EvidenceRevision, IntegrityAlert, IntegrityRun
from tests.conftest import World
from tests.evidence.conftest import add_evidence


def test_a_clean_store_passes(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    add_evidence(world, world.control)
    call_command("verify_evidence")
    assert (
        "OK  1 files checked: 0 missing, 0 altered, 0 orphaned; "
        "0 partial upload(s) left in the incoming folder."
    ) in capsys.readouterr().out
    assert IntegrityRun.objects.get().status == IntegrityRun.Status.OK


def test_an_altered_file_is_reported_and_left_as_found(world: World, evidence_dir: Path) -> None:
    add_evidence(world, world.control)
    revision = EvidenceRevision.objects.get()
    path = evidence_dir / revision.storage_key
    path.write_bytes(b"%PDF-1.7 tampered\n")
    run = services.integrity_sweep()
    assert (run.checked, run.altered, run.missing, run.status) == (
        1,
        1,
        0,
        IntegrityRun.Status.PROBLEMS,
    )
    alert = IntegrityAlert.objects.get()
    assert alert.kind == IntegrityAlert.Kind.ALTERED
    assert alert.revision == revision
    assert alert.expected_sha256 == revision.sha256
    assert alert.found_sha256 != revision.sha256
    assert path.read_bytes() == b"%PDF-1.7 tampered\n"  # nothing repaired
    revision.refresh_from_db()
    assert alert.expected_sha256 == revision.sha256  # the record was not "fixed" either
    # The organization's admins are told.
    email = OutboundEmail.objects.get(template="evidence_integrity")
    assert email.to == ["admin@acme.test"]


def test_a_missing_file_is_reported(world: World, evidence_dir: Path) -> None:
    add_evidence(world, world.control)
    revision = EvidenceRevision.objects.get()
    (evidence_dir / revision.storage_key).unlink()
    run = services.integrity_sweep()
    assert run.missing == 1
    assert IntegrityAlert.objects.get().kind == IntegrityAlert.Kind.MISSING


def test_an_orphaned_file_is_reported_once_it_is_old_enough(
    world: World, evidence_dir: Path
) -> None:
    add_evidence(world, world.control)
    stray = evidence_dir / str(world.org.pk) / "0123456789abcdef"
    stray.write_bytes(b"left behind")
    assert services.integrity_sweep().orphaned == 0  # may belong to an upload still committing
    two_hours_ago = time.time() - 7200
    os.utime(stray, (two_hours_ago, two_hours_ago))
    run = services.integrity_sweep()
    assert run.orphaned == 1
    alert = IntegrityAlert.objects.get(kind=IntegrityAlert.Kind.ORPHANED)
    assert alert.storage_key == f"{world.org.pk}/0123456789abcdef"
    assert alert.organization == world.org
    assert stray.exists()


def test_the_command_fails_naming_the_problem(world: World, evidence_dir: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    add_evidence(world, world.control)
    revision = EvidenceRevision.objects.get()
    (evidence_dir / revision.storage_key).write_bytes(b"changed")
    with pytest.raises(CommandError, match="1 altered"):
        call_command("verify_evidence")
    assert f"ALTERED  {revision.storage_key}" in capsys.readouterr().err


def test_admins_see_and_acknowledge_alerts_others_cannot(world: World, evidence_dir: Path) -> None:
    from django.urls import reverse

    add_evidence(world, world.control)
    (evidence_dir / EvidenceRevision.objects.get().storage_key).write_bytes(b"changed")
    services.integrity_sweep()
    alert = IntegrityAlert.objects.get()
    page = world.client("admin").get(reverse("evidence_integrity", args=["acme"]))
    assert "Altered" in page.content.decode()
    assert (
        world.client("member").get(reverse("evidence_integrity", args=["acme"])).status_code == 403
    )
    assert (
        world.client("outsider")
        .post(reverse("evidence_integrity", args=["acme"]), {"alert": alert.pk})
        .status_code
        == 404
    )
    world.client("admin").post(reverse("evidence_integrity", args=["acme"]), {"alert": alert.pk})
    alert.refresh_from_db()
    assert alert.acknowledged_by == world.users["admin"]
