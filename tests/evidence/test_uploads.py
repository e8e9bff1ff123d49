"""Bad uploads get a clear error and change nothing; stored files are served safely."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from compliance.models import AuditEvent
from evidence.models import EvidenceItem, EvidenceRevision
from evidence.uploads import sanitize_filename
from tests.conftest import World
from tests.evidence.conftest import PDF, PNG, pdf_upload


def post_file(world: World, upload: SimpleUploadedFile, persona: str = "owner"):  # type: ignore[no-untyped-def]
    return world.client(persona).post(
        reverse("evidence_create", args=["acme"]),
        {
            "title": "Evidence",
            "kind": "file",
            "file": upload,
            "controls": [world.control.pk],
            "effective_date": "2026-10-01",
        },
    )


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("empty.pdf", b""), "The file is empty."),
        (
            SimpleUploadedFile("tool.exe", b"MZ\x90\x00" + b"\x00" * 60),
            ".exe files are not accepted",
        ),
        (
            SimpleUploadedFile("noextension", b"hello"),
            "Files without an extension are not accepted",
        ),
        (
            SimpleUploadedFile("report.pdf", PNG),
            "The content is a PNG image, which does not match the .pdf extension.",
        ),
        (
            SimpleUploadedFile("scan.png", b"just some text\n"),
            "The content is plain text, which does not match the .png extension.",
        ),
        (
            SimpleUploadedFile("notes.txt", b"\x00\x01\x02binary"),
            "The content is binary data, which does not match the .txt extension.",
        ),
        (
            SimpleUploadedFile("page.svg", b"<html><body>hi</body></html>"),
            "The content is HTML, which does not match the .svg extension.",
        ),
    ],
)
def test_a_bad_file_is_refused_with_a_message_and_nothing_is_stored(
    world: World, evidence_dir: Path, upload: SimpleUploadedFile, message: str
) -> None:
    events = AuditEvent.objects.count()
    response = post_file(world, upload)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert EvidenceItem.objects.count() == 0
    assert AuditEvent.objects.count() == events
    assert stored_files(evidence_dir) == []


def test_an_oversized_upload_is_stopped_while_it_streams(
    world: World, evidence_dir: Path, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.EVIDENCE_MAX_UPLOAD_BYTES = 1024 * 1024
    big = SimpleUploadedFile("big.pdf", b"%PDF-1.7\n" + b"0" * (3 * 1024 * 1024))
    response = post_file(world, big)
    assert response.status_code == 413
    assert "larger than the 1 MB limit" in response.content.decode()
    assert EvidenceItem.objects.count() == 0
    assert stored_files(evidence_dir) == []  # the partial file in .incoming was removed too


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\system.ini.txt", "system.ini.txt"),
        ("re\x00port\x1b[31m.txt", "report[31m.txt"),
        ("  .hidden.txt", "hidden.txt"),
        ("a/b\u202e.txt", "b.txt"),
        ("", "evidence"),
    ],
)
def test_filenames_are_sanitised(given: str, kept: str) -> None:
    assert sanitize_filename(given) == kept


def test_a_traversal_filename_cannot_escape_the_storage(world: World, evidence_dir: Path) -> None:
    response = post_file(world, SimpleUploadedFile("../../../outside.txt", b"plain text\n"))
    assert response.status_code == 302
    revision = EvidenceRevision.objects.get()
    assert revision.original_name == "outside.txt"
    assert revision.storage_key.startswith(f"{world.org.pk}/")
    assert ".." not in revision.storage_key
    [stored] = stored_files(evidence_dir)
    assert evidence_dir in stored.parents
    assert not (evidence_dir.parent / "outside.txt").exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("dashboard.html", b"<!doctype html><html><script>alert(document.cookie)</script></html>"),
        (
            "diagram.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
            b"<script>alert(2)</script></svg>",
        ),
    ],
)
def test_active_content_is_downloaded_never_rendered(
    world: World, name: str, content: bytes
) -> None:
    assert post_file(world, SimpleUploadedFile(name, content)).status_code == 302
    revision = EvidenceRevision.objects.get()
    response = world.client("viewer").get(reverse("evidence_download", args=["acme", revision.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert b"".join(response.streaming_content) == content


def test_a_new_upload_is_a_new_revision_and_the_old_one_stays(world: World) -> None:
    post_file(world, pdf_upload("v1.pdf"))
    item = EvidenceItem.objects.get()
    second = PDF.replace(b"1.7", b"1.4")
    response = world.client("owner").post(
        reverse("evidence_detail", args=["acme", item.pk]),
        {"file": SimpleUploadedFile("v2.pdf", second)},
    )
    assert response.status_code == 302
    first_rev, second_rev = item.revisions.order_by("number")
    client = world.client("viewer")
    old = client.get(reverse("evidence_download", args=["acme", first_rev.pk]))
    new = client.get(reverse("evidence_download", args=["acme", second_rev.pk]))
    assert b"".join(old.streaming_content) == PDF
    assert b"".join(new.streaming_content) == second
    assert first_rev.storage_key != second_rev.storage_key


def test_a_database_failure_after_the_file_is_written_leaves_no_file_and_no_row(
    world: World, evidence_dir: Path
) -> None:
    """A real failure inside the transaction: the database refuses the revision row."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE FUNCTION refuse_revision() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'disk full'; END; $$ LANGUAGE plpgsql;
            CREATE TRIGGER refuse_revision BEFORE INSERT ON evidence_evidencerevision
            FOR EACH ROW EXECUTE FUNCTION refuse_revision();
            """
        )
    from django.db import DatabaseError

    with pytest.raises(DatabaseError, match="disk full"):
        post_file(world, pdf_upload())
    assert EvidenceItem.objects.count() == 0
    assert stored_files(evidence_dir) == []


def test_an_interrupted_upload_leaves_nothing_behind(settings, evidence_dir: Path) -> None:  # type: ignore[no-untyped-def]
    from evidence.uploads import HashingUploadHandler

    handler = HashingUploadHandler()
    handler.new_file("file", "big.pdf", "application/pdf", None)
    handler.receive_data_chunk(b"%PDF-1.7\n" + b"x" * 1000, 0)
    assert len(stored_files(evidence_dir)) == 1  # streaming into .incoming
    handler.upload_interrupted()
    assert stored_files(evidence_dir) == []


def test_links_and_notes_are_evidence_too(world: World) -> None:
    client = world.client("owner")
    for data in (
        {"kind": "link", "url": "https://github.com/acme/app/pull/12"},
        {"kind": "note", "note": "Reviewed the firewall rules with Priya; no change needed."},
    ):
        response = client.post(
            reverse("evidence_create", args=["acme"]),
            {"title": "T", "controls": [world.control.pk], "effective_date": "2026-10-01", **data},
        )
        assert response.status_code == 302
    assert EvidenceItem.objects.count() == 2


@pytest.mark.parametrize(
    ("data", "field_message"),
    [
        ({"kind": "link", "url": "javascript:alert(1)"}, "Enter a full http(s) address."),
        ({"kind": "link", "url": "ftp://example.com/x"}, "Enter a full http(s) address."),
        ({"kind": "note", "note": "   "}, "Write the note."),
        ({"kind": "file"}, "Choose a file to upload."),
        (
            {"kind": "note", "note": "x", "effective_date": "2999-01-01"},
            "The effective date is in the future.",
        ),
        (
            {
                "kind": "note",
                "note": "x",
                "covers_from": "2026-05-01",
                "covers_until": "2026-04-01",
            },
            "The period ends before it starts.",
        ),
        (
            {"kind": "note", "note": "x", "controls": []},
            "Attach the evidence to at least one control.",
        ),
        ({"kind": "note", "note": "x", "effective_date": "yesterday"}, "Enter a date like 2 Apr"),
    ],
)
def test_bad_evidence_details_are_form_errors(world: World, data: dict, field_message: str) -> None:
    payload = {"title": "T", "controls": [world.control.pk], "effective_date": "2026-10-01", **data}
    response = world.client("owner").post(reverse("evidence_create", args=["acme"]), payload)
    assert response.status_code == 400
    assert field_message in response.content.decode()
    assert EvidenceItem.objects.count() == 0


def test_a_member_cannot_attach_evidence_to_a_control_they_do_not_own(world: World) -> None:
    response = world.client("owner").post(
        reverse("evidence_create", args=["acme"]),
        {
            "title": "T",
            "kind": "note",
            "note": "x",
            "controls": [world.unowned_control.pk],
            "effective_date": "2026-10-01",
        },
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert EvidenceItem.objects.count() == 0


def test_another_organizations_control_is_not_offered_or_accepted(world: World) -> None:
    response = world.client("admin").post(
        reverse("evidence_create", args=["acme"]),
        {
            "title": "T",
            "kind": "note",
            "note": "x",
            "controls": [world.foreign_control.pk],
            "effective_date": "2026-10-01",
        },
    )
    assert response.status_code == 400
    assert EvidenceItem.objects.count() == 0
    page = world.client("admin").get(reverse("evidence_create", args=["acme"])).content.decode()
    assert "Globex secret control" not in page


def test_the_audit_event_records_the_hash_and_size(world: World) -> None:
    post_file(world, pdf_upload())
    event = AuditEvent.objects.get(action="evidence.create")
    revision = EvidenceRevision.objects.get()
    assert event.after["sha256"] == revision.sha256
    assert event.after["size"] == len(PDF)
    assert json.dumps(event.after)  # plain JSON
