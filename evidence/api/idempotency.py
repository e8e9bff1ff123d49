"""``Idempotency-Key`` for API writes that machines retry: the first answer is kept and a retry
with the same key gets it again, so nothing is added twice.

A key belongs to its sender: a user, or a ``scope`` for callers that are not people (a test's
push token). The same key with a different request is refused. Two concurrent requests with one
key: the second to commit loses the unique constraint, its writes roll back, and it answers with
the winner's response (``discard`` removes what a rollback cannot, such as stored files).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from django.db import IntegrityError, transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from evidence.models import IdempotencyRecord

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="A retry with the same key returns the first answer; nothing is added twice.",
)


class _Replay(Exception):
    pass


def idempotency_key(request: Request) -> str | None:
    """The request's key, or None; a malformed key is a 400 (check it before anything else)."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > 200 or not key.isprintable():
        raise exceptions.ValidationError({"Idempotency-Key": ["Use 1-200 printable characters."]})
    return key


def fingerprint(request: Request, data: Mapping[str, Any]) -> str:
    """SHA-256 of the method, the path and the validated body (uploads by their hash)."""
    facts: dict[str, Any] = {"method": request.method, "path": request.path}
    for name, value in sorted(data.items()):
        if hasattr(value, "read"):  # an upload: its hash, computed while it streamed in
            facts[name] = {
                "sha256": getattr(value, "sha256", ""),
                "size": value.size,
                "name": value.name,
            }
        elif isinstance(value, list):
            facts[name] = [getattr(v, "pk", v) for v in value]
        else:
            facts[name] = getattr(value, "pk", value)
    encoded = json.dumps(facts, sort_keys=True, default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


def _replayed(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise exceptions.ValidationError(
            {"Idempotency-Key": ["This key was already used for a different request."]}
        )
    return Response(
        record.response, status=record.status_code, headers={"Idempotent-Replayed": "true"}
    )


def respond_once(
    request: Request,
    *,
    key: str | None,
    owner: Mapping[str, Any],
    data: Mapping[str, Any],
    perform: Callable[[], Any],
    status_code: int,
    discard: Callable[[], None] = lambda: None,
) -> Response:
    """Answer with ``perform()`` (the write; returns the response body) once per ``key``.

    ``owner`` is ``{"user": user}`` or ``{"scope": "…"}``; ``data`` is the validated body the
    fingerprint is taken from. Without a key, ``perform`` simply runs.
    """
    if key is None:
        return Response(perform(), status=status_code)
    digest = fingerprint(request, data)
    record = IdempotencyRecord.objects.filter(**owner, key=key).first()
    if record is not None:
        return _replayed(record, digest)
    try:
        with transaction.atomic():
            body = perform()
            try:
                with transaction.atomic():
                    IdempotencyRecord.objects.create(
                        **owner,
                        key=key,
                        fingerprint=digest,
                        status_code=status_code,
                        response=body,
                    )
            except IntegrityError:
                raise _Replay from None  # a concurrent request with the key won
    except _Replay:
        discard()  # its rows were rolled back; so goes what lives outside the database
        return _replayed(IdempotencyRecord.objects.get(**owner, key=key), digest)
    return Response(body, status=status_code)
