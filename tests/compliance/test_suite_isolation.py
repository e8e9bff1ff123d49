"""`make test` leaves the working copy's data (var/) alone: after the suite, the next `make run`
finds the demo's evidence exactly as it left it, and its integrity sweep has nothing to report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile

from evidence import services
from tests.conftest import WORKING_COPY_DATA, World, _data_snapshot, var_changes

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _outside_working_copy(path: str | Path) -> bool:
    resolved = Path(path).resolve()
    return resolved != WORKING_COPY_DATA and WORKING_COPY_DATA not in resolved.parents


def test_every_default_data_path_of_the_suite_is_outside_var() -> None:
    paths = {
        "DATA_DIR": django_settings.DATA_DIR,
        "STATIC_ROOT": django_settings.STATIC_ROOT,
        "default storage": django_settings.STORAGES["default"]["OPTIONS"]["location"],
        "beat schedule": django_settings.CELERY_BEAT_SCHEDULE_FILENAME,
    }
    inside = {name: str(path) for name, path in paths.items() if not _outside_working_copy(path)}
    assert inside == {}


def test_each_test_stores_evidence_in_a_folder_of_its_own(evidence_dir: Path, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert evidence_dir.is_relative_to(tmp_path)
    assert Path(django_settings.EVIDENCE_ROOT) == evidence_dir
    assert django_settings.STORAGES["evidence"]["OPTIONS"]["location"] == str(evidence_dir)
    assert _outside_working_copy(django_settings.EVIDENCE_INCOMING_DIR)


def test_an_upload_from_any_test_lands_in_its_own_folder_and_not_in_var(
    world: World, evidence_dir: Path
) -> None:
    before = _data_snapshot()
    item = services.evidence_create(
        actor=world.users["owner"],
        organization=world.org,
        title="Access review",
        kind="file",
        effective_date=dt.date.today(),
        controls=[world.control],
        upload=SimpleUploadedFile("review.pdf", PDF, content_type="application/pdf"),
    )
    stored = evidence_dir / item.revisions.get().storage_key
    assert stored.read_bytes() == PDF
    assert var_changes(before, _data_snapshot()) == []


@pytest.mark.parametrize(
    ("before", "after", "changed"),
    [
        ({}, {}, []),
        ({"a": (1, 1)}, {"a": (1, 1)}, []),
        ({}, {"evidence/7/x": (3, 9)}, ["evidence/7/x"]),  # a new file
        ({"cache/k": (3, 9)}, {"cache/k": (4, 10)}, ["cache/k"]),  # rewritten
        ({"attest.sqlite3": (3, 9)}, {}, ["attest.sqlite3"]),  # removed
    ],
)
def test_the_session_guard_names_every_file_the_suite_touched_in_var(
    before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]], changed: list[str]
) -> None:
    assert var_changes(before, after) == changed
