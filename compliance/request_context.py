"""Per-request values that services read without being handed the request (the request id)."""

from __future__ import annotations

from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("attest_request_id", default="")


def current_request_id() -> str:
    return request_id_var.get()
