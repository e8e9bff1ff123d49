"""Where evidence files live, and the few operations Attest needs from that place.

Files are keyed ``<organization id>/<random hex>``: never derived from what the user called the
file, never reused, never overwritten. The local default lives outside the web root; S3-compatible
object storage is configured with ``EVIDENCE_S3_*`` (django-storages).
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from django.core.files.storage import FileSystemStorage, Storage, storages

CHUNK = 1024 * 1024


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
            with os.fdopen(fd, "wb") as out:
                content.seek(0)
                for chunk in content.chunks(CHUNK):
                    out.write(chunk)
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
        yield key
