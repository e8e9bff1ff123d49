"""What something was at a past moment, read from the rows that record its changes.

Status changes are rows (old → new, time) next to the current value (see
``compliance.models.StatusChange``). The value at a moment is the new value of the last change
at or before it; before the first recorded change, that change's old value; without any
recorded change, the current value (rows created before their history was recorded).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import CharField, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, NullIf

from controls.models import ControlFrequencyChange, ControlStatusChange


def value_at(
    changes: QuerySet[Any],
    *,
    at: dt.datetime,
    old: str,
    new: str,
    current: str,
) -> Coalesce:
    """An expression for ``annotate()``: the value at ``at``.

    ``changes`` are the change rows of the outer row (filtered with ``OuterRef``); ``old`` and
    ``new`` name their fields; ``current`` names the outer row's field. One subquery per side,
    each reading one row."""
    before = changes.filter(created_at__lte=at).order_by("-created_at", "-id")
    after = changes.filter(created_at__gt=at).order_by("created_at", "id")
    return Coalesce(
        Subquery(before.values(new)[:1]),
        # A first row with no old value is the creation: nothing was there before it.
        NullIf(Subquery(after.values(old)[:1]), Value("")),
        F(current),
        output_field=CharField(),
    )


def control_status_at(at: dt.datetime) -> Any:
    """An expression on Control: its status at ``at``, from its status changes."""
    return value_at(
        ControlStatusChange.objects.filter(control=OuterRef("pk")),
        at=at,
        old="from_status",
        new="to_status",
        current="status",
    )


def control_frequency_at(at: dt.datetime) -> Any:
    """An expression on Control: its frequency at ``at``, from its frequency changes (recorded
    since controls 0007; before that, today's frequency)."""
    return value_at(
        ControlFrequencyChange.objects.filter(control=OuterRef("pk")),
        at=at,
        old="from_frequency",
        new="to_frequency",
        current="frequency",
    )


def controls_active_at(at: dt.datetime) -> Q:
    """Controls that existed and were not archived at ``at``, as a filter on Control."""
    return Q(created_at__lte=at) & (Q(archived_at__isnull=True) | Q(archived_at__gt=at))
