"""Partial uploads left in the incoming folder (a web worker killed mid-upload) are reported by
the integrity sweep and ``verify_evidence``, and deleted by the hourly incoming sweep on beat."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError

from compliance.settings import _beat_schedule
from evidence import services, tasks
from evidence.models import EvidenceRevision, IntegrityRun
from tests.conftest import World
from tests.evidence.conftest import add_evidence

MB = 1024 * 1024


def partial_upload(name: str, size: int, hours_old: float) -> Path:
    """A file as HashingUploadHandler leaves it when its worker dies: in the incoming folder,
    last written ``hours_old`` hours ago."""
    incoming = Path(django_settings.EVIDENCE_INCOMING_DIR)
    incoming.mkdir(parents=True, exist_ok=True)
    path = incoming / name
    with path.open("wb") as out:
        out.truncate(size)
    when = time.time() - hours_old * 3600
    os.utime(path, (when, when))
    return path


def test_the_incoming_sweep_deletes_dead_uploads_and_keeps_live_ones(world: Any) -> None:
    dead = partial_upload("upload-dead", 31 * MB, hours_old=7)
    live = partial_upload("upload-live", 2 * MB, hours_old=0.1)

    result = tasks.incoming_sweep()

    assert result == {"removed": 1, "freed_bytes": 31 * MB}
    assert not dead.exists()
    assert live.exists()  # it may still be streaming in
    assert tasks.incoming_sweep() == {"removed": 0, "freed_bytes": 0}  # idempotent


def test_the_age_of_a_dead_upload_is_a_setting(world: Any, settings: Any) -> None:
    settings.EVIDENCE_INCOMING_MAX_AGE_HOURS = 1
    dead = partial_upload("upload-dead", MB, hours_old=2)
    assert services.incoming_sweep().removed == 1
    assert not dead.exists()


def test_the_incoming_sweep_leaves_stored_evidence_alone(world: World) -> None:
    add_evidence(world, world.control)
    stored = Path(django_settings.EVIDENCE_ROOT) / EvidenceRevision.objects.get().storage_key
    when = time.time() - 48 * 3600
    os.utime(stored, (when, when))
    assert services.incoming_sweep().removed == 0
    assert stored.exists()


def test_verify_evidence_reports_dead_uploads(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    add_evidence(world, world.control)
    partial_upload("upload-k1ll3d", 31 * MB, hours_old=7)
    partial_upload("upload-streaming", MB, hours_old=0)

    with pytest.raises(CommandError) as raised:
        call_command("verify_evidence")

    assert "1 files checked: 0 missing, 0 altered, 0 orphaned; 1 partial upload(s)" in str(
        raised.value
    )
    err = capsys.readouterr().err
    assert "STALE UPLOAD upload-k1ll3d (31.0 MB, 7 h untouched)" in err
    assert "upload-streaming" not in err
    run = IntegrityRun.objects.get()
    assert (run.stale_uploads, run.status) == (1, IntegrityRun.Status.PROBLEMS)
    assert (Path(django_settings.EVIDENCE_INCOMING_DIR) / "upload-k1ll3d").exists()  # only reported


def test_after_the_sweep_verify_evidence_is_clean_again(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    partial_upload("upload-k1ll3d", MB, hours_old=7)
    tasks.incoming_sweep()
    call_command("verify_evidence")
    assert "0 partial upload(s) left in the incoming folder." in capsys.readouterr().out


def test_the_incoming_sweep_is_on_beat_hourly_and_expires_before_the_next() -> None:
    entry = _beat_schedule()["evidence_incoming_sweep"]
    assert entry["task"] == "evidence.tasks.incoming_sweep"
    assert str(entry["schedule"]) == "<crontab: 29 * * * * (m/h/dM/MY/d)>"
    assert entry["options"] == {"expires": 3000}  # below the hour
    scheduled = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert "evidence.tasks.incoming_sweep" in scheduled
