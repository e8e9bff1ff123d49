"""Where evidence files live, and the few operations Attest needs from that place.

Files are keyed ``<organization id>/<random hex>``: never derived from what the user called the
file, never reused, never overwritten. The local default lives outside the web root; S3-compatible
object storage is configured with ``EVIDENCE_S3_*`` (django-storages).
"""

from __future__ import annotations

import errno
import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from django.core.files.storage import FileSystemStorage, Storage, storages

CHUNK = 1024 * 1024
# The errors of a full disk (or a full quota, or a file the filesystem cannot hold).
NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
OUT_OF_SPACE_MESSAGE = (
    "The server ran out of storage space while saving the file, so nothing was saved. "
    "Try again later; if it happens again, tell your administrator."
)


def is_out_of_space(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in NO_SPACE_ERRNOS


class StorageFull(Exception):
    """The evidence storage has no room for a file; the upload was not kept (HTTP 507)."""

    def __init__(self, message: str = OUT_OF_SPACE_MESSAGE) -> None:
        super().__init__(message)
        self.message = message


class EvidenceFileSystemStorage(FileSystemStorage):
    """A local folder where a file, once written, is never replaced."""

    def save_new(self, name: str, content: Any) -> None:
        """Store ``content`` under ``name``; fail if anything is there already.

        An upload that already sits on disk beside the storage (see evidence.uploads) is hard
        linked into place: no copy, and the name appears only once the file is complete.
        """
        path = Path(self.path(name))
        path.parent.mkdir(parents=True, exist_ok=True)
        source = getattr(content, "temporary_file_path", None)
        if source is not None:
            try:
                os.link(source(), path)  # atomic, and refuses to replace an existing file
            except OSError as exc:
                if isinstance(exc, FileExistsError):
                    raise
                source = None  # another filesystem: copy instead
        if source is None:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            fd = os.open(path, flags, 0o640)
            try:
                with os.fdopen(fd, "wb") as out:
                    content.seek(0)
                    for chunk in content.chunks(CHUNK):
                        out.write(chunk)
                    out.flush()
                    os.fsync(out.fileno())
            except BaseException:
                path.unlink(missing_ok=True)  # no half-written file under a real key
                raise
        _fsync(path)
        _fsync(path.parent)

    def keys(self) -> Iterator[str]:
        root = Path(self.location)
        if not root.exists():
            return
        for path in root.rglob("*"):
            relative = path.relative_to(root)
            if path.is_file() and not relative.parts[0].startswith("."):
                yield relative.as_posix()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def evidence_storage() -> Storage:
    return storages["evidence"]


def new_key(organization_id: int) -> str:
    return f"{organization_id}/{uuid.uuid4().hex}"


def store(key: str, content: Any) -> None:
    """Store a new file under ``key``; :class:`StorageFull` when there is no room for it."""
    try:
        _store(key, content)
    except OSError as exc:
        if is_out_of_space(exc):
            raise StorageFull() from exc
        raise


def _store(key: str, content: Any) -> None:
    storage = evidence_storage()
    if isinstance(storage, EvidenceFileSystemStorage):
        storage.save_new(key, content)
        return
    if storage.exists(key):
        raise FileExistsError(key)
    content.seek(0)
    saved = storage.save(key, content)
    if saved != key:  # the backend chose another name: refuse rather than lose track
        storage.delete(saved)
        raise FileExistsError(key)


def delete(key: str) -> None:
    """Only for a file whose row never committed (a failed upload)."""
    evidence_storage().delete(key)


def open_file(key: str) -> IO[bytes]:
    return evidence_storage().open(key, "rb")


def exists(key: str) -> bool:
    return evidence_storage().exists(key)


def hash_file(key: str) -> tuple[int, str]:
    """Size and SHA-256 of a stored file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with open_file(key) as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def all_keys() -> Iterator[str]:
    """Every stored file, for the orphan check."""
    storage = evidence_storage()
    if isinstance(storage, EvidenceFileSystemStorage):
        yield from storage.keys()
        return
    bucket = storage.bucket  # type: ignore[attr-defined]
    prefix = storage.location  # type: ignore[attr-defined]
    for obj in bucket.objects.filter(Prefix=prefix):
        key = obj.key[len(prefix) :].lstrip("/") if prefix else obj.key
        if not key.startswith("."):  # as on disk: "." folders are not evidence (audit packages)
            yield key
