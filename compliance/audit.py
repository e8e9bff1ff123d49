"""The audit trail: append events in the caller's transaction, and verify the hash chains.

Every service that writes calls :func:`audit_record` inside its ``transaction.atomic`` block, so
the business row and its event commit together or not at all.

Lock order. The chain head is locked by every write of an organization, and PostgreSQL checks
Django's foreign keys at COMMIT, i.e. after the chain head: each new row then takes FOR KEY SHARE
on the rows it references (the organization, a person, a policy version). A writer that held
FOR UPDATE on such a row and then waited here would deadlock with them, so services lock the
rows they change with ``select_for_update(no_key=True)`` (FOR NO KEY UPDATE, which serialises
writers of the row but lets foreign-key checks through), and name the locked table with
``of=("self",)`` when they join others (tests/compliance/test_lock_order.py checks both).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from compliance.models import AuditChainHead, AuditEvent, Organization, User
from compliance.request_context import current_request_id

GENESIS_HASH = "0" * 64
SYSTEM_ACTOR = "system"


def chain_for(organization: Organization | None) -> str:
    return f"org:{organization.pk}" if organization is not None else "global"


def to_json(value: Any) -> Any:
    """Plain JSON types only (dates, decimals and UUIDs become strings), as stored and hashed."""
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields of a row as JSON values (foreign keys by id)."""
    data: dict[str, Any] = {}
    for name in fields:
        field = instance._meta.get_field(name)
        data[name] = getattr(instance, field.attname)  # type: ignore[union-attr]
    return to_json(data)


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose value differs, as (before, after)."""
    keys = [key for key in after if before.get(key) != after.get(key)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def _event_digest(event: AuditEvent) -> str:
    created = event.created_at.astimezone(dt.UTC).isoformat(timespec="microseconds")
    payload = {
        "chain": event.chain,
        "seq": event.seq,
        "created_at": created,
        "actor": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "before": event.before,
        "after": event.after,
        "request_id": event.request_id,
        "prev_hash": event.prev_hash,
    }
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def audit_record(
    *,
    actor: User | None,
    organization: Organization | None,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the organization's chain. Must run inside the writer's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record() must be called inside the transaction of the write.")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)
    chain = chain_for(organization)
    try:
        head = AuditChainHead.objects.select_for_update(no_key=True).get(chain=chain)
    except AuditChainHead.DoesNotExist:
        AuditChainHead.objects.bulk_create([AuditChainHead(chain=chain)], ignore_conflicts=True)
        head = AuditChainHead.objects.select_for_update(no_key=True).get(chain=chain)

    event = AuditEvent(
        chain=chain,
        seq=head.seq + 1,
        organization=organization,
        actor=actor,
        actor_label=actor.email if actor is not None else SYSTEM_ACTOR,
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:200],
        before=to_json(before),
        after=to_json(after),
        request_id=current_request_id(),
        # Truncated to microseconds, as every database stores it.
        created_at=timezone.now(),
        prev_hash=head.hash,
    )
    event.hash = _event_digest(event)
    event.save(force_insert=True)
    AuditChainHead.objects.filter(chain=chain).update(seq=event.seq, hash=event.hash)
    return event


@dataclass(frozen=True)
class ChainProblem:
    chain: str
    event_id: int | None
    seq: int
    problem: str

    def __str__(self) -> str:
        where = f"event id={self.event_id}" if self.event_id is not None else "end of chain"
        return f"{self.chain} seq {self.seq} ({where}): {self.problem}"


@dataclass(frozen=True)
class ChainReport:
    chain: str
    checked: int
    problem: ChainProblem | None


def _walk(chain: str) -> Iterator[AuditEvent]:
    yield from AuditEvent.objects.filter(chain=chain).order_by("seq").iterator(chunk_size=2000)


def verify_chain(chain: str) -> ChainReport:
    """Recompute one chain from its first event; stop at the first inconsistency."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for event in _walk(chain):
        if event.seq != expected_seq:
            problem = f"sequence jumps from {expected_seq - 1} to {event.seq} (events deleted)"
            return ChainReport(chain, checked, ChainProblem(chain, event.pk, event.seq, problem))
        if event.prev_hash != expected_prev:
            problem = "prev_hash does not match the previous event (chain broken or reordered)"
            return ChainReport(chain, checked, ChainProblem(chain, event.pk, event.seq, problem))
        if _event_digest(event) != event.hash:
            problem = "content does not match its hash (the row was altered)"
            return ChainReport(chain, checked, ChainProblem(chain, event.pk, event.seq, problem))
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
    head = AuditChainHead.objects.filter(chain=chain).first()
    if head is not None and (head.seq != checked or head.hash != expected_prev):
        problem = f"chain head says {head.seq} events but {checked} were found (tail deleted)"
        return ChainReport(chain, checked, ChainProblem(chain, None, checked + 1, problem))
    return ChainReport(chain, checked, None)


def verify_all() -> list[ChainReport]:
    chains = set(AuditChainHead.objects.values_list("chain", flat=True))
    chains |= set(AuditEvent.objects.order_by().values_list("chain", flat=True).distinct())
    return [verify_chain(chain) for chain in sorted(chains)]
