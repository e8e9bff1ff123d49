"""Writes of packages: asking for one (admins and the engagement's auditors) and building it
(the worker). The request and the finished package are events of the audit trail; the build
is idempotent (a redelivered task after a worker died starts it again from nothing)."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import tempfile
import uuid

from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from audits import selectors as audit_selectors
from audits.models import Audit, AuditPackage, PackageStatus
from audits.package import build
from audits.package.selectors import may_export
from compliance.audit import audit_record
from compliance.models import User
from compliance.permissions import membership_for
from evidence import storage

logger = logging.getLogger(__name__)

# A package is given up after this many deliveries of its task (a worker killed each time).
MAX_ATTEMPTS = 3
PACKAGE_FOLDER = ".packages"  # in the evidence storage; the orphan check skips "." folders


def package_key(organization_id: int) -> str:
    return f"{PACKAGE_FOLDER}/{organization_id}/{uuid.uuid4().hex}.zip"


def _enqueue(package_id: int) -> None:
    from audits.tasks import build_audit_package

    try:
        build_audit_package.apply_async(args=[package_id], retry=False)
    except Exception as exc:  # kombu/redis raise a variety of connection errors
        # The package stays queued; asking again hands it to the broker again.
        logger.warning("Could not queue audit package %s: %s", package_id, exc)


def package_request(*, actor: User, audit: Audit) -> AuditPackage:
    """Ask for a package of ``audit``. While one is waiting or being built it is handed to the
    workers again (nothing is lost when the broker was down) rather than started twice."""
    if not may_export(membership_for(actor, audit.organization), audit):
        raise PermissionDenied("Only admins and the engagement's auditors export its package.")
    with transaction.atomic():
        Audit.objects.select_for_update(no_key=True).filter(pk=audit.pk).first()
        pending = (
            AuditPackage.objects.filter(
                audit=audit, status__in=[PackageStatus.QUEUED, PackageStatus.RUNNING]
            )
            .order_by("-created_at")
            .first()
        )
        if pending is not None:
            package = pending
        else:
            package = AuditPackage.objects.create(audit=audit, requested_by=actor)
            audit_record(
                actor=actor,
                organization=audit.organization,
                action="audit.package_request",
                obj=audit,
                after={"package": package.pk},
            )
        package_id = package.pk
        transaction.on_commit(lambda: _enqueue(package_id))
    return package


def _fail(package_id: int, message: str) -> None:
    AuditPackage.objects.filter(pk=package_id).exclude(status=PackageStatus.DONE).update(
        status=PackageStatus.FAILED, error=message[:2000], finished_at=timezone.now()
    )


def package_build(package_id: int) -> str:
    """Build the package ``package_id`` (the worker's task). Returns its status."""
    claimed = AuditPackage.objects.filter(
        pk=package_id, status__in=[PackageStatus.QUEUED, PackageStatus.RUNNING]
    ).update(
        status=PackageStatus.RUNNING,
        attempts=F("attempts") + 1,
        started_at=timezone.now(),
        files_done=0,
    )
    package = (
        AuditPackage.objects.select_related("audit__organization", "requested_by")
        .filter(pk=package_id)
        .first()
    )
    if package is None:
        logger.info("Audit package %s is gone; nothing to build.", package_id)
        return "gone"
    if not claimed:
        return str(package.status)  # done or failed already: a redelivery changes nothing
    if package.attempts > MAX_ATTEMPTS:
        _fail(package_id, "The build stopped several times (a worker was killed); ask again.")
        return PackageStatus.FAILED
    user = package.requested_by
    audit = package.audit
    organization = audit.organization
    if (
        user is None
        or not may_export(membership_for(user, organization), audit)
        or not audit_selectors.audit_list(user=user, organization=organization)
        .filter(pk=audit.pk)
        .exists()
    ):
        _fail(package_id, "Whoever asked for this package no longer has access to the engagement.")
        return PackageStatus.FAILED

    def progress(done: int, total: int) -> None:
        AuditPackage.objects.filter(pk=package_id, status=PackageStatus.RUNNING).update(
            files_done=done, files_total=total
        )

    key = package_key(audit.organization_id)
    try:
        with tempfile.TemporaryFile(prefix="attest-package-", suffix=".zip") as out:
            built = build.write_package(
                audit=audit,
                user=user,
                out=out,
                progress=progress,
                generated_by=user.email if user else "",
            )
            out.flush()
            size = out.seek(0, 2)
            out.seek(0)
            digest = hashlib.sha256()
            while chunk := out.read(build.CHUNK):
                digest.update(chunk)
            out.seek(0)
            storage.store(key, File(out, name=key))
    except build.PackageError as exc:
        _fail(package_id, str(exc))
        return PackageStatus.FAILED
    except storage.StorageFull as exc:
        _fail(package_id, exc.message)
        return PackageStatus.FAILED
    except Exception as exc:
        _fail(package_id, f"The package could not be built ({type(exc).__name__}); ask again.")
        with contextlib.suppress(Exception):
            storage.delete(key)
        raise
    with transaction.atomic():
        updated = AuditPackage.objects.filter(
            Q(pk=package_id), Q(status=PackageStatus.RUNNING)
        ).update(
            status=PackageStatus.DONE,
            storage_key=key,
            size=size,
            sha256=digest.hexdigest(),
            files_done=built.files,
            files_total=built.files,
            finished_at=timezone.now(),
            error="",
        )
        if updated:
            audit_record(
                actor=None,
                organization=audit.organization,
                action="audit.package_done",
                obj=audit,
                after={
                    "package": package_id,
                    "files": built.files,
                    "size": size,
                    "sha256": digest.hexdigest(),
                },
            )
    if not updated:  # failed meanwhile (given up): keep nothing
        with contextlib.suppress(Exception):
            storage.delete(key)
        return PackageStatus.FAILED
    return PackageStatus.DONE


def package_export_file(*, audit: Audit, path: str) -> tuple[build.Built, int, str]:
    """The command line's export: the whole engagement to ``path`` (which must not exist),
    written beside it first and renamed into place once complete. Returns what was built, the
    size and the SHA-256 of the ZIP. An event of the audit trail records it."""
    import os

    partial = f"{path}.partial"
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(partial, flags, 0o600)
    try:
        with os.fdopen(fd, "w+b") as out:
            built = build.write_package(
                audit=audit, user=None, out=out, generated_by="manage.py export_audit_package"
            )
            out.flush()
            size = out.seek(0, 2)
            out.seek(0)
            digest = hashlib.sha256()
            while chunk := out.read(build.CHUNK):
                digest.update(chunk)
            os.fsync(out.fileno())
        if os.path.exists(path):
            raise FileExistsError(path)
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise
    with transaction.atomic():
        audit_record(
            actor=None,
            organization=audit.organization,
            action="audit.package_export",
            obj=audit,
            after={
                "via": "command line",
                "file": os.path.basename(path),
                "files": built.files,
                "size": size,
                "sha256": digest.hexdigest(),
            },
        )
    return built, size, digest.hexdigest()
