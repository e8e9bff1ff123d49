"""Evidence on S3-compatible object storage, against moto's S3 server on loopback."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from django.urls import reverse

from evidence import services
from evidence.models import EvidenceRevision, IntegrityAlert
from tests.conftest import World
from tests.evidence.conftest import PDF, add_evidence, pdf_upload
from tests.moto_server import CREDENTIALS, moto_server


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def bucket(settings: Any, moto_endpoint: str) -> Any:
    name = f"evidence-{uuid.uuid4().hex[:12]}"
    s3 = boto3.resource("s3", endpoint_url=moto_endpoint, **CREDENTIALS)
    s3.create_bucket(Bucket=name)
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": name,
                "endpoint_url": moto_endpoint,
                "access_key": "testing",
                "secret_key": "testing",
                "region_name": "us-east-1",
                "file_overwrite": False,
                "default_acl": "private",
            },
        },
    }
    return s3.Bucket(name)


def test_an_upload_lands_in_the_bucket_unchanged_and_downloads_through_the_app(
    world: World, bucket: Any
) -> None:
    response = world.client("owner").post(
        reverse("evidence_create", args=["acme"]),
        {
            "title": "Scan",
            "kind": "file",
            "file": pdf_upload(),
            "controls": [world.control.pk],
            "effective_date": "2026-10-01",
        },
    )
    assert response.status_code == 302
    revision = EvidenceRevision.objects.get()
    stored = bucket.Object(revision.storage_key).get()["Body"].read()
    assert stored == PDF
    download = world.client("viewer").get(reverse("evidence_download", args=["acme", revision.pk]))
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith("attachment;")


def test_the_sweep_checks_objects_in_the_bucket(
    world: World, bucket: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_evidence(world, world.control)
    add_evidence(world, world.control, title="Second")
    first, second = EvidenceRevision.objects.order_by("pk")
    assert services.integrity_sweep().checked == 2
    bucket.put_object(Key=first.storage_key, Body=b"rewritten in the bucket")
    bucket.Object(second.storage_key).delete()
    bucket.put_object(Key=f"{world.org.pk}/not-ours", Body=b"stray")
    monkeypatch.setattr(services, "ORPHAN_MIN_AGE", services.dt.timedelta(0))
    run = services.integrity_sweep()
    assert (run.altered, run.missing, run.orphaned) == (1, 1, 1)
    kinds = dict(IntegrityAlert.objects.filter(run=run).values_list("storage_key", "kind"))
    assert kinds == {
        first.storage_key: "altered",
        second.storage_key: "missing",
        f"{world.org.pk}/not-ours": "orphaned",
    }
    assert bucket.Object(first.storage_key).get()["Body"].read() == b"rewritten in the bucket"


def test_a_stored_object_is_never_overwritten(world: World, bucket: Any) -> None:
    from evidence import storage

    key = f"{world.org.pk}/fixed-key"
    storage.store(key, pdf_upload())
    with pytest.raises(FileExistsError):
        storage.store(key, pdf_upload("other.pdf", b"%PDF-1.7 other"))
    assert bucket.Object(key).get()["Body"].read() == PDF
