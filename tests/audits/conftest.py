"""An engagement of the world's organization: SOC-like framework, the Security category in
scope, a Type II period (the first half of 2026) shared with the world's auditor."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from audits import services
from audits.models import Audit, AuditType
from controls.models import AdoptedFramework
from evidence import services as evidence_services
from evidence.models import EvidenceItem
from tests.conftest import World
from tests.evidence.conftest import pdf_upload

PERIOD = (dt.date(2026, 1, 1), dt.date(2026, 6, 30))


@pytest.fixture
def adoption(world: World) -> AdoptedFramework:
    return AdoptedFramework.objects.get(organization=world.org)


@pytest.fixture
def make_audit(world: World, adoption: AdoptedFramework) -> Callable[..., Audit]:
    def make(**values: Any) -> Audit:
        arguments: dict[str, Any] = {
            "name": "SOC 2 Type II 2026",
            "kind": AuditType.TYPE_2,
            "period_start": PERIOD[0],
            "period_end": PERIOD[1],
            "firm": "Example CPA",
            "report_date": dt.date(2027, 1, 31),
        }
        arguments.update(values)
        return services.audit_create(
            actor=world.users["admin"],
            organization=world.org,
            adoption=adoption,
            scope=[world.security],
            **arguments,
        )

    return make


@pytest.fixture
def engagement(world: World, make_audit: Callable[..., Audit]) -> Audit:
    audit = make_audit()
    services.auditor_invite(actor=world.users["admin"], audit=audit, email="auditor@acme.test")
    return audit


@pytest.fixture
def make_evidence(world: World) -> Callable[..., EvidenceItem]:
    def make(
        effective: dt.date, *, control: Any = None, title: str = "", **kw: Any
    ) -> EvidenceItem:
        return evidence_services.evidence_create(
            actor=world.users["admin"],
            organization=kw.pop("organization", world.org),
            title=title or f"Evidence of {effective}",
            kind="file",
            effective_date=effective,
            controls=[control or world.control],
            upload=pdf_upload(f"evidence-{effective}.pdf"),
            **kw,
        )

    return make
