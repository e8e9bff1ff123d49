"""A disk that fills up in the middle of an upload: a clear 507, nothing kept, space given back.

The evidence folder is put on a real, small tmpfs (the suite runs as root here and in CI). Where
mounting is not allowed, the test process's file-size limit (RLIMIT_FSIZE) makes the kernel
refuse the write instead (EFBIG), which the upload treats the same way.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from playwright.sync_api import Page, expect

from evidence.models import EvidenceItem, EvidenceRevision
from evidence.storage import OUT_OF_SPACE_MESSAGE
from tests.browser.conftest import screenshot
from tests.conftest import World
from tests.evidence.conftest import PDF
from tests.factories import PASSWORD

DISK_BYTES = 512 * 1024
OPTIONS = f"size={DISK_BYTES},mode=0700"
BIG = PDF + b"0" * (2 * 1024 * 1024)  # four times the disk
SMALL = PDF + b"1" * 10_000


@dataclass
class SmallDisk:
    path: Path
    mounted: bool

    def used(self) -> int:
        stats = os.statvfs(self.path)
        return (stats.f_blocks - stats.f_bfree) * stats.f_frsize


@contextlib.contextmanager
def small_disk(path: Path) -> Iterator[SmallDisk]:
    path.mkdir(parents=True)
    try:
        mount = subprocess.run(  # noqa: S603 - fixed arguments and our own temporary folder
            ["/usr/bin/mount", "-t", "tmpfs", "-o", OPTIONS, "tmpfs", str(path)],
            capture_output=True,
            check=False,
        )
        mounted = mount.returncode == 0
    except OSError:  # no mount command
        mounted = False
    if mounted:
        try:
            yield SmallDisk(path, mounted=True)
        finally:
            subprocess.run(["/usr/bin/umount", "-l", str(path)], check=True)  # noqa: S603
        return
    # No mount allowed: the kernel refuses writes past DISK_BYTES to any file of this process.
    previous_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (DISK_BYTES, previous_limit[1]))
    try:
        yield SmallDisk(path, mounted=False)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, previous_limit)
        signal.signal(signal.SIGXFSZ, previous_handler)


def use_evidence_root(settings: Any, root: Path, incoming: Path | None = None) -> None:
    settings.EVIDENCE_ROOT = root
    settings.EVIDENCE_INCOMING_DIR = incoming or root / ".incoming"
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "evidence.storage.EvidenceFileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }


@pytest.fixture
def disk(settings: Any, tmp_path: Path) -> Iterator[SmallDisk]:
    """The whole evidence folder (files and uploads in progress) on the small disk."""
    with small_disk(tmp_path / "disk") as mounted:
        use_evidence_root(settings, mounted.path / "evidence")
        yield mounted


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def form_data(world: World, content: bytes, name: str) -> dict[str, Any]:
    return {
        "title": name,
        "kind": "file",
        "file": SimpleUploadedFile(name, content, content_type="application/pdf"),
        "controls": [world.control.pk],
        "effective_date": "2026-10-01",
    }


def test_a_full_disk_mid_upload_is_a_form_error_and_the_next_upload_works(
    world: World, disk: SmallDisk
) -> None:
    client = world.client("owner")
    url = reverse("evidence_create", args=["acme"])

    response = client.post(url, form_data(world, BIG, "big.pdf"))

    assert response.status_code == 507
    assert OUT_OF_SPACE_MESSAGE in response.content.decode()
    assert not EvidenceItem.objects.exists()
    assert files_under(disk.path) == []  # the partial file is gone...
    if disk.mounted:
        assert disk.used() < 64 * 1024  # ...and its space given back

    response = client.post(url, form_data(world, SMALL, "small.pdf"))

    assert response.status_code == 302
    revision = EvidenceRevision.objects.get()
    assert revision.size == len(SMALL)
    assert [p.name for p in files_under(disk.path)] == [revision.storage_key.split("/")[1]]


def test_a_full_disk_mid_upload_is_a_json_507_and_the_next_upload_works(
    world: World, disk: SmallDisk
) -> None:
    api = world.api("owner")
    url = "/api/organizations/acme/evidence/"
    data = {"title": "Scan", "kind": "file", "controls": [world.control.pk]}
    data["effective_date"] = "2026-10-01"

    response = api.post(
        url, {**data, "file": SimpleUploadedFile("big.pdf", BIG)}, format="multipart"
    )

    assert response.status_code == 507
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"file": [OUT_OF_SPACE_MESSAGE]}
    assert not EvidenceItem.objects.exists()
    assert files_under(disk.path) == []

    response = api.post(
        url, {**data, "file": SimpleUploadedFile("small.pdf", SMALL)}, format="multipart"
    )

    assert response.status_code == 201, response.content
    assert len(files_under(disk.path)) == 1

    # A new revision of it, too large for what is left: the same answer, the item unchanged.
    revisions = f"{url}{response.json()['id']}/revisions/"
    response = api.post(revisions, {"file": SimpleUploadedFile("v2.pdf", BIG)}, format="multipart")

    assert response.status_code == 507
    assert response.json() == {"file": [OUT_OF_SPACE_MESSAGE]}
    assert EvidenceRevision.objects.count() == 1
    assert len(files_under(disk.path)) == 1


def test_a_storage_that_fills_up_while_storing_keeps_no_half_file(
    world: World, settings: Any, tmp_path: Path
) -> None:
    """Uploads stream in on one disk and are copied to the storage on another, which is full."""
    with small_disk(tmp_path / "disk") as full:
        if not full.mounted:
            pytest.skip("needs a filesystem of its own (mount -t tmpfs) to be full")
        use_evidence_root(settings, full.path / "evidence", incoming=tmp_path / "incoming")
        client = world.client("owner")
        url = reverse("evidence_create", args=["acme"])

        response = client.post(url, form_data(world, PDF + b"2" * (DISK_BYTES * 2), "a.pdf"))

        assert response.status_code == 507
        assert OUT_OF_SPACE_MESSAGE in response.content.decode()
        assert not EvidenceItem.objects.exists()
        assert files_under(full.path) == []
        assert files_under(tmp_path / "incoming") == []

        response = client.post(url, form_data(world, SMALL, "small.pdf"))

        assert response.status_code == 302
        assert len(files_under(full.path)) == 1


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_owner_uploading_to_a_full_disk_is_told_so_and_can_upload_again(
    world: World, disk: SmallDisk, live_server: Any, page: Page
) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill("owner@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login/"))

    def upload(title: str, name: str, content: bytes) -> None:
        page.goto(live_server.url + reverse("evidence_create", args=["acme"]))
        page.get_by_label("Title").fill(title)
        page.locator("input[type=file]").set_input_files(
            {"name": name, "mimeType": "application/pdf", "buffer": content}
        )
        page.locator("input[name=effective_date]").fill("2026-10-01")
        page.get_by_label(f"{world.control.ref_id} — {world.control.name}").check()
        page.get_by_role("button", name="Upload evidence").click()

    upload("Access review Q3", "big.pdf", BIG)

    expect(page.get_by_text(OUT_OF_SPACE_MESSAGE)).to_be_visible()
    # The form comes back as it was filled in, with that one error.
    expect(page.get_by_label("Title")).to_have_value("Access review Q3")
    expect(page.locator("input[name=effective_date]")).to_have_value("2026-10-01")
    expect(page.get_by_label(f"{world.control.ref_id} — {world.control.name}")).to_be_checked()
    expect(page.locator("ul.errors li")).to_have_count(1)
    if disk.mounted:  # (under RLIMIT_FSIZE a large screenshot could not be written either)
        for width in (1440, 1024):
            page.set_viewport_size({"width": width, "height": 900})
            screenshot(page, f"evidence-upload-disk-full-{width}")
    assert not EvidenceItem.objects.exists()
    assert files_under(disk.path) == []

    upload("Access review Q3", "small.pdf", SMALL)

    expect(page.get_by_role("heading", name="Access review Q3")).to_be_visible()
    assert EvidenceRevision.objects.get().size == len(SMALL)
