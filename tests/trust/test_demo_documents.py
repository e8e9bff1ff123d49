"""The demo's trust documents: what it seeds, and nothing dated in the future or decided
before it was asked."""

from __future__ import annotations

import pytest
from django.utils import timezone

from compliance.demo_timeline import Timeline
from evidence import storage
from tests.conftest import World
from trust import demo_documents
from trust.models import AccessRequest, AccessRequestStatus, DocumentDownload, TrustDocument

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_documents_requests_and_downloads_in_the_past(world: World) -> None:
    timeline = Timeline.of(world.org)
    demo_documents.seed(
        organization=world.org, users={"dana": world.users["admin"]}, timeline=timeline
    )
    documents = {d.title: d for d in TrustDocument.objects.filter(page__organization=world.org)}
    # No audit with a past report date in this world: the gated document is the pen test.
    assert set(documents) == {"Security overview", "Penetration test summary"}
    assert documents["Security overview"].access == "public"
    assert documents["Penetration test summary"].access == "gated"
    for document in documents.values():
        assert storage.hash_file(document.storage_key) == (document.size, document.sha256)
        assert storage.open_file(document.storage_key).read(5) == b"%PDF-"
    statuses = sorted(AccessRequest.objects.values_list("status", flat=True))
    assert statuses == sorted(
        [AccessRequestStatus.APPROVED] * 2
        + [AccessRequestStatus.DENIED, AccessRequestStatus.PENDING]
    )
    now = timezone.now()
    for request in AccessRequest.objects.all():
        assert request.created_at <= now
        if request.decided_at:
            assert request.created_at <= request.decided_at <= now
        for grant in request.grants.all():
            assert grant.created_at <= now
    assert DocumentDownload.objects.count() == 2
    assert all(d.at <= now for d in DocumentDownload.objects.all())
