"""The auditors' own work in the controls matrix: each control's requests (the PBC list),
the samples drawn from populations of that control, and the findings that name it. One query
per group, whatever the number of rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from audits.models import (
    AuditFinding,
    AuditRequest,
    FindingSeverity,
    FindingStatus,
    RequestStatus,
    Sample,
)
from audits.package.matrix import (
    MatrixColumns,
    MatrixContext,
    MatrixRow,
    RowValues,
    register_matrix_columns,
)


def _by_control(pairs: Any) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    for control_id, text in pairs:
        if control_id is not None:
            found[control_id].append(text)
    return found


def _joined(found: dict[int, list[str]]) -> RowValues:
    def values(row: MatrixRow) -> Sequence[Any]:
        texts = found.get(row.control.pk, []) if row.control else []
        return (len(texts), "; ".join(texts))

    return values


def _requests(context: MatrixContext) -> RowValues:
    labels = dict(RequestStatus.choices)
    rows = (
        AuditRequest.objects.filter(audit=context.audit)
        .order_by("number")
        .values_list("control_id", "number", "status")
    )
    return _joined(
        _by_control(
            (control, f"PBC-{number} ({str(labels.get(status, status)).lower()})")
            for control, number, status in rows
        )
    )


def _samples(context: MatrixContext) -> RowValues:
    rows = (
        Sample.objects.filter(population__audit=context.audit)
        .order_by("population__name", "pk")
        .values_list(
            "population__control_id", "population__name", "size", "population__item_count", "seed"
        )
    )
    return _joined(
        _by_control(
            (control, f"{name}: {size} of {count} (seed {seed})")
            for control, name, size, count, seed in rows
        )
    )


def _findings(context: MatrixContext) -> RowValues:
    severities = dict(FindingSeverity.choices)
    statuses = dict(FindingStatus.choices)
    rows = (
        AuditFinding.controls.through.objects.filter(auditfinding__audit=context.audit)
        .order_by("auditfinding__number")
        .values_list(
            "control_id", "auditfinding__number", "auditfinding__severity", "auditfinding__status"
        )
    )
    return _joined(
        _by_control(
            (
                control,
                f"F-{number} {str(severities.get(severity, severity)).lower()}, "
                f"{str(statuses.get(status, status)).lower()}",
            )
            for control, number, severity, status in rows
        )
    )


register_matrix_columns(
    MatrixColumns("requests", ("Requests", "Requests (PBC)"), 30, _requests, (9, 36))
)
register_matrix_columns(
    MatrixColumns("samples", ("Samples", "Samples drawn"), 40, _samples, (9, 36))
)
register_matrix_columns(
    MatrixColumns("findings", ("Findings", "Findings (exceptions)"), 50, _findings, (9, 36))
)
