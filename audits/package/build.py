"""Writing an engagement's package: a ZIP streamed entry by entry (each evidence file copied in
chunks and hashed on the way), then ``manifest.json`` (every file's path, size and SHA-256,
and the engagement) signed with the organization's Ed25519 key (``manifest.sig``: base64 of
the raw signature over the manifest's exact bytes).

Memory stays flat whatever the number of files: rows come from querysets in chunks, the ZIP's
central directory waits in a temporary file (audits.package.spool), the manifest's file list is
written to a temporary file as the files go in, and it is signed from a memory map of that file
rather than a copy.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import mmap
import re
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO, Any

from django.utils import timezone
from django.utils.text import slugify

from audits.models import Audit
from audits.package import content, keys, matrix
from audits.package.spool import SpooledZipFile
from compliance.models import User
from evidence import storage
from evidence.uploads import sanitize_filename

FORMAT = "attest-audit-package/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
MATRIX_XLSX = "controls-matrix.xlsx"
MATRIX_CSV = "controls-matrix.csv"
CHUNK = 1024 * 1024
# The manifest's own copies (its file list into it, it into the ZIP) use smaller pieces: it
# grows with the files (~150 bytes each), and a megabyte piece of it would be most of the peak.
MANIFEST_CHUNK = 64 * 1024
PROGRESS_EVERY = 100  # files between two progress reports (or a second, whichever first)

Progress = Callable[[int, int], None]


class PackageError(Exception):
    """The package cannot be built as it should be (a file missing or altered in storage); the
    message says which and what to do."""


@dataclass(frozen=True)
class Built:
    files: int  # entries listed in the manifest
    evidence_files: int
    matrix_rows: int


class _Hashing:
    """Writes through to ``out`` counting and hashing what passes."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.out.write(data)


def engagement_of(audit: Audit) -> dict[str, Any]:
    """The engagement as the manifest names it."""
    info: dict[str, Any] = {
        "id": audit.pk,
        "name": audit.name,
        "type": audit.get_kind_display(),
        "kind": audit.kind,
        "framework": audit.adoption.framework.name,
        "scope": sorted(c.name for c in audit.scope.all()),
        "firm": audit.firm,
        "organization": {"name": audit.organization.name, "slug": audit.organization.slug},
    }
    if audit.is_type_1:
        info["as_of"] = audit.as_of.isoformat() if audit.as_of else None
    else:
        info["period_start"] = audit.period_start.isoformat() if audit.period_start else None
        info["period_end"] = audit.period_end.isoformat() if audit.period_end else None
    return info


def evidence_path(revision: Any) -> str:
    title = slugify(revision.item.title)[:60] or "evidence"
    name = sanitize_filename(revision.original_name or "evidence")
    name = re.sub(r"[\x00-\x1f]", "_", name)
    return f"evidence/{revision.item_id}-{title}/r{revision.number}-{name}"


def _zip_time(moment: dt.datetime) -> tuple[int, int, int, int, int, int]:
    local = timezone.localtime(moment)
    if local.year < 1980:
        return (1980, 1, 1, 0, 0, 0)
    return (local.year, local.month, local.day, local.hour, local.minute, local.second)


class _Writer:
    def __init__(self, archive: zipfile.ZipFile, entries: IO[bytes], moment: dt.datetime) -> None:
        self.zip = archive
        self.entries = entries  # the manifest's file list, one JSON object a line
        self.moment = moment
        self.count = 0

    def add(
        self,
        path: str,
        chunks: Iterable[bytes],
        *,
        size_hint: int = 0,
        compress: bool = False,
        when: dt.datetime | None = None,
        extra: dict[str, Any] | None = None,
    ) -> tuple[int, str]:
        info = zipfile.ZipInfo(path, date_time=_zip_time(when or self.moment))
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.file_size = size_hint  # lets zipfile choose ZIP64 for a large file up front
        with self.zip.open(info, "w", force_zip64=size_hint > zipfile.ZIP64_LIMIT) as dst:
            hashing = _Hashing(dst)
            for chunk in chunks:
                hashing.write(chunk)
        sha256 = hashing.digest.hexdigest()
        entry: dict[str, Any] = {"path": path, "size": hashing.size, "sha256": sha256}
        if extra:
            entry.update(extra)
        self.entries.write(
            (("" if self.count == 0 else ",\n") + json.dumps(entry, sort_keys=True)).encode()
        )
        self.count += 1
        return hashing.size, sha256

    def add_raw(self, path: str, data_file: IO[bytes] | bytes) -> None:
        """An entry that is not listed in the manifest (the manifest and its signature)."""
        info = zipfile.ZipInfo(path, date_time=_zip_time(self.moment))
        info.compress_type = zipfile.ZIP_DEFLATED
        with self.zip.open(info, "w") as dst:
            if isinstance(data_file, bytes):
                dst.write(data_file)
            else:
                while chunk := data_file.read(MANIFEST_CHUNK):
                    dst.write(chunk)


def _read_chunks(handle: IO[bytes]) -> Iterable[bytes]:
    while chunk := handle.read(CHUNK):
        yield chunk


def write_package(
    *,
    audit: Audit,
    user: User | None,
    out: IO[bytes],
    progress: Progress | None = None,
    generated_by: str = "",
    now: dt.datetime | None = None,
) -> Built:
    """Write the package of ``audit`` as ``user`` may see it (None: the whole engagement, for
    the command line) to ``out``, a seekable file opened for binary writing."""
    moment = now or timezone.now()
    key = keys.signing_key(audit.organization)
    revisions = content.file_revisions(audit, user)
    total = revisions.count() + 2  # the evidence files and the matrix's two files
    done = 0
    last_report = time.monotonic()
    if progress:
        progress(0, total)
    with (
        tempfile.TemporaryFile(prefix="attest-manifest-") as entries,
        SpooledZipFile(out, allowZip64=True) as archive,
    ):
        writer = _Writer(archive, entries, moment)
        for revision in revisions.iterator(chunk_size=500):
            path = evidence_path(revision)
            try:
                handle = storage.open_file(revision.storage_key)
            except FileNotFoundError:
                raise PackageError(
                    f"The file of “{revision.item.title}” (revision {revision.number}) is missing "
                    "from the evidence storage; the integrity check reports it to the admins."
                ) from None
            with handle:
                _, sha = writer.add(
                    path,
                    _read_chunks(handle),
                    size_hint=revision.size,
                    when=revision.uploaded_at,
                    extra={
                        "evidence": revision.item_id,
                        "revision": revision.number,
                        "title": revision.item.title,
                    },
                )
            if revision.sha256 and sha != revision.sha256:
                raise PackageError(
                    f"The stored file of “{revision.item.title}” (revision {revision.number}) no "
                    "longer matches the SHA-256 recorded at upload; it was not packaged. The "
                    "integrity check reports it to the admins."
                )
            done += 1
            if progress and (done % PROGRESS_EVERY == 0 or time.monotonic() - last_report > 1):
                progress(done, total)
                last_report = time.monotonic()
        with tempfile.TemporaryFile(prefix="attest-matrix-", suffix=".xlsx") as book:
            rows = matrix.write_xlsx(audit, user, book)
            book.seek(0)
            writer.add(MATRIX_XLSX, _read_chunks(book), compress=True)
        writer.add(MATRIX_CSV, matrix.csv_lines(audit, user), compress=True)
        done += 2
        header = {
            "format": FORMAT,
            "engagement": engagement_of(audit),
            "generated_at": moment.isoformat(),
            "generated_by": generated_by,
            "public_key": {"algorithm": keys.ALGORITHM, "key": key.public_key},
        }
        with tempfile.TemporaryFile(prefix="attest-manifest-") as manifest:
            manifest.write(json.dumps(header, sort_keys=True)[:-1].encode() + b', "files": [\n')
            entries.seek(0)
            while chunk := entries.read(MANIFEST_CHUNK):
                manifest.write(chunk)
            manifest.write(b"\n]}\n")
            manifest.flush()
            with (
                mmap.mmap(manifest.fileno(), 0, access=mmap.ACCESS_READ) as mapped,
                memoryview(mapped) as view,
            ):
                signature = keys.sign(key, view)
            manifest.seek(0)
            writer.add_raw(MANIFEST, manifest)
        writer.add_raw(SIGNATURE, signature.encode() + b"\n")
    if progress:
        progress(done, total)
    return Built(files=writer.count, evidence_files=done - 2, matrix_rows=rows)
