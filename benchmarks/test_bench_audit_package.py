"""The signed audit package at 1,000 and 10,000 evidence files: time, queries and peak memory,
next to references measured in the same run on the same files.

Each size is an organization whose engagement (Type II, one category in scope) covers N
evidence items of one control, each with one stored file of about 3 KB (rows bulk-inserted and
files written straight into a temporary evidence root: data, not the services under test). For
each size it prints:

- ``package``: ``write_package`` as the worker runs it (as the requesting admin, through the
  choke point) to a temporary file: the ZIP streamed entry by entry, every file hashed while
  copied, the matrix (XLSX and CSV), the manifest written and signed;
- ``zip -r``: Info-ZIP storing the same files (``-0``, no compression, as the package does);
- ``plain zipfile``: Python's zipfile writing the same files (stored) from a list of paths.

Peak memory is tracemalloc's peak over the call (a separate, untimed run). Asserts that every
file is in the package, that the queries do not grow with the files, and that the peak is flat
(10,000 files within 1.5x the 1,000's). ``BENCH_PACKAGE_FILES`` (default 10000) sets the large
size.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audits.models import Audit
from audits.package.build import write_package
from benchmarks.timing import peak_kb, print_two_sizes, timed
from compliance.models import Role
from controls.models import Control, ControlRequirement
from evidence.models import EvidenceItem, EvidenceRevision
from tests.factories import (
    CategoryFactory,
    MembershipFactory,
    OrganizationFactory,
    RequirementFactory,
    UserFactory,
    adopt,
)

pytestmark = pytest.mark.django_db

LARGE = int(os.environ.get("BENCH_PACKAGE_FILES", "10000"))
SMALL = LARGE // 10
BATCH = 2000
FILE_BYTES = 3000


@pytest.fixture
def evidence_root(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "evidence"
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "evidence.storage.EvidenceFileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


def build(files: int, root: Path) -> tuple[Audit, Any, list[Path]]:
    """An organization, an engagement of the first half of 2026 and ``files`` evidence files."""
    import datetime as dt

    organization = OrganizationFactory(slug=f"pkg-{files}")
    admin = UserFactory()
    MembershipFactory(user=admin, organization=organization, role=Role.ADMIN)
    category = CategoryFactory()
    requirement = RequirementFactory(category=category)
    adoption = adopt(organization, category.framework, category)
    control = Control.objects.create(
        organization=organization, ref_id="OPS-01", name="Operations are logged",
        category="operations", frequency="daily", owner=admin,
    )  # fmt: skip
    ControlRequirement.objects.create(control=control, requirement=requirement)
    audit = Audit.objects.create(
        organization=organization, name=f"Type II ({files} files)", adoption=adoption,
        kind="type2", period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 6, 30),
    )  # fmt: skip
    audit.scope.set([category])
    paths: list[Path] = []
    through = EvidenceItem.controls.through
    for start in range(0, files, BATCH):
        count = min(BATCH, files - start)
        items = EvidenceItem.objects.bulk_create(
            EvidenceItem(
                organization=organization,
                title=f"Daily operations log {i}",
                kind="file",
                effective_date=dt.date(2026, 1, 1) + dt.timedelta(days=i % 180),
            )
            for i in range(start, start + count)
        )
        through.objects.bulk_create(
            through(evidenceitem_id=item.pk, control_id=control.pk) for item in items
        )
        revisions = []
        for item in items:
            key = f"{organization.pk}/{uuid.uuid4().hex}"
            body = (f"log line of item {item.pk}\n" * 200).encode()[:FILE_BYTES]
            path = root / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
            paths.append(path)
            revisions.append(
                EvidenceRevision(
                    item=item,
                    number=1,
                    storage_key=key,
                    original_name="operations.log",
                    size=len(body),
                    content_type="text/plain",
                    sha256=hashlib.sha256(body).hexdigest(),
                    effective_date=item.effective_date,
                )
            )
        EvidenceRevision.objects.bulk_create(revisions)
    return audit, admin, paths


def package(audit: Audit, admin: Any) -> tuple[int, int]:
    with tempfile.TemporaryFile() as out:
        built = write_package(audit=audit, user=admin, out=out)
        return built.evidence_files, out.seek(0, 2)


def zip_r(root: Path, organization_id: int) -> int:
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "ref.zip"
        subprocess.run(
            ["/usr/bin/zip", "-q", "-r", "-0", str(target), str(organization_id)],
            cwd=root,
            check=True,
        )
        return target.stat().st_size


def plain_zipfile(paths: list[Path]) -> int:
    with tempfile.TemporaryFile() as out:
        with zipfile.ZipFile(out, "w") as archive:
            for path in paths:
                archive.write(path, f"evidence/{path.name}")
        return out.seek(0, 2)


def test_audit_package_streams_10k_files(evidence_root: Path) -> None:
    figures: dict[int, dict[str, float]] = {}
    warm_audit, warm_admin, _ = build(20, evidence_root)
    package(warm_audit, warm_admin)  # imports, the signing key's first use: once per process
    for size in (SMALL, LARGE):
        audit, admin, paths = build(size, evidence_root)
        with CaptureQueriesContext(connection) as captured:
            package_ms, (files, zip_bytes) = timed(lambda a=audit, u=admin: package(a, u))
        assert files == size
        zip_ms, zip_size = timed(lambda o=audit.organization_id: zip_r(evidence_root, o))
        plain_ms, _ = timed(lambda p=paths: plain_zipfile(p))
        figures[size] = {
            "package_ms": package_ms,
            "zip_r_ms": zip_ms,
            "plain_zipfile_ms": plain_ms,
            "queries": len(captured.captured_queries),
            "package_peak_kb": peak_kb(lambda a=audit, u=admin: package(a, u)),
            "plain_zipfile_peak_kb": peak_kb(lambda p=paths: plain_zipfile(p)),
            "package_kb": zip_bytes / 1024,
            "zip_r_kb": zip_size / 1024,
        }

    print_two_sizes(
        f"audit package: {SMALL:,} and {LARGE:,} evidence files of {FILE_BYTES:,} bytes", figures
    )
    for size in (SMALL, LARGE):
        f = figures[size]
        print(
            f"{size:,} files: package / zip -r = {f['package_ms'] / f['zip_r_ms']:.2f}, "
            f"package / plain zipfile = {f['package_ms'] / f['plain_zipfile_ms']:.2f}"
        )

    assert figures[LARGE]["queries"] == figures[SMALL]["queries"]
    assert figures[LARGE]["package_peak_kb"] < 1.5 * figures[SMALL]["package_peak_kb"]
