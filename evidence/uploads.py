"""Receiving evidence files: streamed to disk and hashed on the way, then checked.

Django hands each chunk of a multipart upload to :class:`HashingUploadHandler`, which writes it
to a temporary file beside the evidence storage and feeds it to SHA-256, so a 2 GB upload needs
no more memory than a 64 KB one and the hash is known the moment the upload ends. The first
bytes are kept to detect the real content type; the extension must agree with it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import re
import stat
import tempfile
import threading
import unicodedata
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import filetype
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopUpload

from evidence.storage import OUT_OF_SPACE_MESSAGE, is_out_of_space

logger = logging.getLogger(__name__)

HEAD_BYTES = 8192

# Content that a browser would run if shown inline; always downloaded as opaque bytes.
ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "image/svg+xml",
        "application/xhtml+xml",
        "text/xml",
        "application/xml",
        "application/javascript",
        "text/javascript",
    }
)
TEXT = "text/plain"
OOXML = "application/vnd.openxmlformats-officedocument"
# What each allowed extension may contain (detected from the content, not the name).
EXPECTED: dict[str, set[str]] = {
    "pdf": {"application/pdf"},
    "png": {"image/png"},
    "jpg": {"image/jpeg"},
    "jpeg": {"image/jpeg"},
    "gif": {"image/gif"},
    "webp": {"image/webp"},
    "txt": {TEXT},
    "log": {TEXT},
    "md": {TEXT},
    "csv": {TEXT},
    "json": {TEXT},
    "eml": {TEXT},
    "xml": {TEXT, "text/xml", "image/svg+xml"},
    "html": {TEXT, "text/html"},
    "htm": {TEXT, "text/html"},
    "svg": {"image/svg+xml"},
    "docx": {f"{OOXML}.wordprocessingml.document", "application/zip"},
    "xlsx": {f"{OOXML}.spreadsheetml.sheet", "application/zip"},
    "pptx": {f"{OOXML}.presentationml.presentation", "application/zip"},
    "odt": {"application/vnd.oasis.opendocument.text", "application/zip"},
    "ods": {"application/vnd.oasis.opendocument.spreadsheet", "application/zip"},
    "zip": {"application/zip"},
    "gz": {"application/gzip"},
}  # fmt: skip
DESCRIBED = {
    "application/pdf": "a PDF document",
    "image/png": "a PNG image",
    "image/jpeg": "a JPEG image",
    "image/gif": "a GIF image",
    "image/webp": "a WebP image",
    "text/html": "HTML",
    "image/svg+xml": "an SVG image",
    "application/zip": "a ZIP archive",
    "application/gzip": "a gzip archive",
    TEXT: "plain text",
    "application/octet-stream": "binary data",
}


class HashedUpload(UploadedFile):
    """An upload on disk with its size, SHA-256 and first bytes already known."""

    def __init__(self, path: str, name: str, content_type: str, charset: str | None) -> None:
        super().__init__(open(path, "rb"), name, content_type, 0, charset)  # noqa: SIM115
        self.path = path
        self.sha256 = ""
        self.head = b""

    def temporary_file_path(self) -> str:
        return self.path

    def close(self) -> None:
        try:
            super().close()
        finally:
            with contextlib.suppress(FileNotFoundError):  # moved into the storage
                os.unlink(self.path)


def _remove_partial(out: Any, path: str) -> None:
    """Close and delete a file that is not (or no longer) an upload in progress."""
    with contextlib.suppress(OSError):
        if not out.closed:
            out.close()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


_in_progress = threading.local()  # this thread's partial files: their cleanups


def _partials() -> set[weakref.finalize]:
    if not hasattr(_in_progress, "cleanups"):
        _in_progress.cleanups = set()
    return _in_progress.cleanups


def discard_partial_uploads(**kwargs: Any) -> None:
    """When a request ends (``request_finished``), whatever it left half-received is deleted:
    an upload the client abandoned, or one stopped by an error in the middle of parsing."""
    cleanups = _partials()
    while cleanups:
        cleanups.pop()()


class HashingUploadHandler(FileUploadHandler):
    """Stream each uploaded file to the incoming folder, hashing it; enforce the size limit.

    A partial file never outlives its request: it is closed and deleted when the upload is too
    large, when the disk fills up (the request then answers 507), when the upload is
    interrupted, and, should the request end in any other way (the client went away), when
    the request finishes or the handler is garbage-collected, whichever comes first. (A killed
    worker leaves its file behind: the incoming sweep removes it.)
    """

    chunk_size = 1024 * 1024

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        incoming = Path(settings.EVIDENCE_INCOMING_DIR)
        try:
            incoming.mkdir(parents=True, exist_ok=True)
            fd, self.path = tempfile.mkstemp(dir=incoming, prefix="upload-")
        except OSError as exc:
            self._write_failed(exc)
        self.out = os.fdopen(fd, "wb")
        self._cleanup = weakref.finalize(self, _remove_partial, self.out, self.path)
        _partials().add(self._cleanup)
        self.digest = hashlib.sha256()
        self.head = b""
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > settings.EVIDENCE_MAX_UPLOAD_BYTES:
            self._discard()
            self._refuse(too_large_message(), status=413)
            raise StopUpload(connection_reset=True)
        self.digest.update(raw_data)
        if len(self.head) < HEAD_BYTES:
            self.head += raw_data[: HEAD_BYTES - len(self.head)]
        try:
            self.out.write(raw_data)
        except OSError as exc:
            self._write_failed(exc)
        return None

    def file_complete(self, file_size: int) -> HashedUpload:
        try:
            self.out.flush()
            os.fsync(self.out.fileno())
            self.out.close()
        except OSError as exc:
            self._write_failed(exc, file_done=True)
        self._cleanup.detach()  # the file now belongs to the HashedUpload
        _partials().discard(self._cleanup)
        upload = HashedUpload(
            self.path, self.file_name or "", self.content_type or "", self.charset
        )
        upload.size = file_size
        upload.sha256 = self.digest.hexdigest()
        upload.head = self.head
        return upload

    def upload_interrupted(self) -> None:
        self._discard()

    def _discard(self) -> None:
        cleanup = getattr(self, "_cleanup", None)
        if cleanup is not None:
            cleanup()  # runs once: closes the file and deletes it

    def _write_failed(self, exc: OSError, *, file_done: bool = False) -> NoReturn:
        """The disk is full (or failing): free what this upload took and skip the file.

        Out of space answers 507 with a message; any other error propagates (a 500 for the
        operators), but without leaving the partial file behind either way. The rest of the
        file is read and dropped, and the fields after it are still parsed, so the form comes
        back as it was filled in.
        """
        self._discard()
        if not is_out_of_space(exc):
            raise exc
        logger.error(
            "Evidence upload stopped: no space left in %s (%s); the partial file was removed.",
            settings.EVIDENCE_INCOMING_DIR,
            exc,
        )
        self._refuse(OUT_OF_SPACE_MESSAGE, status=507)
        if file_done:  # Django asks for the file's end outside its SkipFile handling
            raise StopUpload(connection_reset=False)  # drain the body: the client gets the answer
        raise SkipFile()

    def _refuse(self, message: str, *, status: int) -> None:
        if self.request is not None:
            self.request.evidence_upload_error = message  # type: ignore[attr-defined]
            self.request.evidence_upload_status = status  # type: ignore[attr-defined]


def upload_refusal(request: Any) -> tuple[str, int] | None:
    """The message and status of an upload stopped while streaming in (too large, disk full)."""
    message = getattr(request, "evidence_upload_error", None)
    if not message:
        return None
    return message, getattr(request, "evidence_upload_status", 413)


@dataclass(frozen=True)
class StaleUpload:
    """A file in the incoming folder that no upload has written to for a long time."""

    path: Path
    size: int
    modified: dt.datetime

    def describe(self, now: dt.datetime) -> str:
        hours = (now - self.modified).total_seconds() / 3600
        return f"{self.path.name} ({self.size / (1024 * 1024):.1f} MB, {hours:.0f} h untouched)"


def stale_uploads(now: dt.datetime) -> list[StaleUpload]:
    """Files in the incoming folder untouched for ``EVIDENCE_INCOMING_MAX_AGE_HOURS``: uploads
    whose worker died mid-request. Younger ones may still be streaming in."""
    incoming = Path(settings.EVIDENCE_INCOMING_DIR)
    cutoff = now - dt.timedelta(hours=settings.EVIDENCE_INCOMING_MAX_AGE_HOURS)
    found: list[StaleUpload] = []
    if not incoming.is_dir():
        return found
    for path in sorted(incoming.iterdir()):
        try:
            stats = path.lstat()
        except FileNotFoundError:  # finished (or swept) meanwhile
            continue
        if not stat.S_ISREG(stats.st_mode):
            continue
        modified = dt.datetime.fromtimestamp(stats.st_mtime, tz=dt.UTC)
        if modified < cutoff:
            found.append(StaleUpload(path, stats.st_size, modified))
    return found


def too_large_message() -> str:
    limit_mb = settings.EVIDENCE_MAX_UPLOAD_BYTES // (1024 * 1024)
    return f"The file is larger than the {limit_mb} MB limit."


_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


def sanitize_filename(name: str) -> str:
    """A display name safe for Content-Disposition: no path, no control characters."""
    name = unicodedata.normalize("NFC", name)
    name = re.split(r"[/\\]", name)[-1]  # drop any directory part, Windows or POSIX
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name).strip().lstrip(".").strip()
    name = re.sub(r"\s+", " ", name)
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 200 - len(ext) - 1] + "." + ext) if dot and len(ext) <= 10 else name[:200]
    return name or "evidence"


def extension(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def detect_content_type(head: bytes) -> str:
    """What the first bytes say the file is."""
    kind = filetype.guess(head)
    if kind is not None:
        return str(kind.mime)
    if b"\x00" in head:
        return "application/octet-stream"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut in half at the end
            return "application/octet-stream"
        text = head[: exc.start].decode("utf-8")
    lowered = text.lstrip("\ufeff \t\r\n").lower()
    if "<svg" in lowered[:2048]:
        return "image/svg+xml"
    if lowered.startswith(("<!doctype html", "<html")) or re.search(
        r"<(script|iframe|body|head)\b", lowered
    ):
        return "text/html"
    if lowered.startswith("<?xml"):
        return "text/xml"
    return TEXT


@dataclass(frozen=True)
class CheckedFile:
    name: str
    content_type: str
    size: int
    sha256: str


def check_upload(upload: UploadedFile) -> CheckedFile:
    """Validate an upload; raise ``ValidationError`` on ``file`` with a message to act on."""
    from django.core.exceptions import ValidationError

    name = sanitize_filename(upload.name or "")
    size = upload.size or 0
    if size == 0:
        raise ValidationError({"file": "The file is empty."})
    if size > settings.EVIDENCE_MAX_UPLOAD_BYTES:
        raise ValidationError({"file": too_large_message()})
    ext = extension(name)
    allowed = {e.lower() for e in settings.EVIDENCE_ALLOWED_EXTENSIONS}
    if ext not in allowed:
        shown = f".{ext} files are" if ext else "Files without an extension are"
        raise ValidationError(
            {"file": f"{shown} not accepted. Allowed: {', '.join(sorted(allowed))}."}
        )
    head = getattr(upload, "head", None)
    if head is None:
        upload.seek(0)
        head = upload.read(HEAD_BYTES)
        upload.seek(0)
    detected = detect_content_type(head)
    expected = EXPECTED.get(ext)
    if expected is not None and detected not in expected:
        raise ValidationError(
            {
                "file": f"The content is {DESCRIBED.get(detected, detected)}, which does not "
                f"match the .{ext} extension."
            }
        )
    sha256 = getattr(upload, "sha256", "") or _hash(upload)
    return CheckedFile(name=name, content_type=detected, size=size, sha256=sha256)


def _hash(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def download_content_type(content_type: str) -> str:
    """What a download is labelled as: active content is never given a type a browser runs."""
    if content_type in ACTIVE_TYPES or not content_type:
        return "application/octet-stream"
    return content_type
