"""Evidence in bulk, for the tests of cost and scale: rows written straight with bulk_create
(notes, no files), shaped like what the services write (revisions numbered 1, 2, 3…)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import connection
from django.db.models import Max

from compliance.models import Organization, User
from controls.models import Control
from evidence.models import EvidenceItem, EvidenceRevision, ReviewStatus
from evidence.services import evidence_refresh_latest


def items(
    organization: Organization,
    count: int,
    *,
    controls: Sequence[Control] = (),
    revisions: int = 1,
    statuses: Sequence[str] = (ReviewStatus.ACCEPTED,),
    title: str = "Generated evidence",
    start: dt.date = dt.date(2026, 11, 30),
    uploader: User | None = None,
) -> list[EvidenceItem]:
    """``count`` note items, one day apart from ``start`` backwards, each attached to
    ``controls`` and with ``revisions`` revisions whose review statuses cycle through
    ``statuses`` (the last revision takes the last status that cycle reaches)."""
    made = EvidenceItem.objects.bulk_create(
        EvidenceItem(
            organization=organization,
            title=f"{title} {i}",
            kind="note",
            effective_date=start - dt.timedelta(days=i),
            created_by=uploader,
        )
        for i in range(count)
    )
    link = EvidenceItem.controls.through
    link.objects.bulk_create(
        link(evidenceitem_id=item.pk, control_id=control.pk)
        for item in made
        for control in controls
    )
    add_revisions(made, revisions, statuses=statuses, uploader=uploader)
    return made


def add_revisions(
    made: Sequence[EvidenceItem],
    count: int,
    *,
    statuses: Sequence[str] = (ReviewStatus.ACCEPTED,),
    uploader: User | None = None,
) -> None:
    """``count`` more revisions for each item, numbered on from its latest (which the items
    then name, as the services keep it)."""
    latest = dict(
        EvidenceRevision.objects.filter(item__in=made)
        .values("item_id")
        .annotate(last=Max("number"))
        .values_list("item_id", "last")
    )
    EvidenceRevision.objects.bulk_create(
        (
            EvidenceRevision(
                item_id=item.pk,
                number=number,
                note=f"Run {number}",
                uploaded_by=uploader,
                review_status=statuses[(number - 1) % len(statuses)],
            )
            for item in made
            for number in range(latest.get(item.pk, 0) + 1, latest.get(item.pk, 0) + count + 1)
        ),
        batch_size=2000,
    )
    evidence_refresh_latest(items=EvidenceItem.objects.filter(pk__in=[item.pk for item in made]))


def analyze() -> None:
    """Fresh planner statistics, as autovacuum would have them on a live database."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE evidence_evidenceitem")
        cursor.execute("ANALYZE evidence_evidencerevision")
        cursor.execute("ANALYZE evidence_evidenceitem_controls")
