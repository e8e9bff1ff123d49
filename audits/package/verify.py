"""Checking a package: the manifest's signature, then every file listed (present, same size and
SHA-256), and nothing in the ZIP that the manifest does not list. Reads the ZIP entry by entry
in chunks (flat memory); the manifest is read whole (it is what was signed)."""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from typing import IO, Any

from audits.package import keys
from audits.package.build import CHUNK, FORMAT, MANIFEST, SIGNATURE


class PackageUnreadable(Exception):
    """Not a package at all (not a ZIP, no manifest, a manifest that is not JSON)."""


@dataclass
class Verification:
    signature_ok: bool = False
    key_source: str = ""  # "given" or "manifest"
    public_key: str = ""
    checked: int = 0
    altered: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    engagement: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.signature_ok and not (self.altered or self.removed or self.added)


def _hash_entry(archive: zipfile.ZipFile, name: str) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with archive.open(name) as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def verify_package(source: str | IO[bytes], public_key: str | None = None) -> Verification:
    """Verify the package at ``source``. With ``public_key`` (base64, as the app shows it) the
    signature must be that organization's; without, the key written in the manifest is used,
    which proves the files match the manifest but not who signed it."""
    result = Verification()
    try:
        archive = zipfile.ZipFile(source)
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, OSError) as exc:
        raise PackageUnreadable(f"This is not a ZIP file ({exc}).") from exc
    with archive:
        names = archive.namelist()
        if MANIFEST not in names:
            raise PackageUnreadable(f"The ZIP holds no {MANIFEST}: it is not an audit package.")
        manifest_bytes = archive.read(MANIFEST)
        signature = archive.read(SIGNATURE).decode("ascii", "replace") if SIGNATURE in names else ""
        try:
            manifest = json.loads(manifest_bytes)
        except ValueError as exc:
            raise PackageUnreadable(f"{MANIFEST} is not valid JSON ({exc}).") from exc
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise PackageUnreadable(f"{MANIFEST} is not an Attest audit package manifest.")
        embedded = str((manifest.get("public_key") or {}).get("key", ""))
        result.key_source = "given" if public_key else "manifest"
        result.public_key = (public_key or embedded).strip()
        key = keys.load_public_key(result.public_key)
        result.signature_ok = bool(signature) and keys.signature_valid(
            key, signature, manifest_bytes
        )
        result.engagement = manifest.get("engagement") or {}
        listed: set[str] = set()
        present = set(names)
        for entry in manifest.get("files") or []:
            path = str(entry.get("path", ""))
            listed.add(path)
            if path not in present:
                result.removed.append(path)
                continue
            size, sha = _hash_entry(archive, path)
            result.checked += 1
            if size != entry.get("size") or sha != entry.get("sha256"):
                result.altered.append(path)
        for name in names:
            if name not in listed and name not in (MANIFEST, SIGNATURE) and not name.endswith("/"):
                result.added.append(name)
    return result
