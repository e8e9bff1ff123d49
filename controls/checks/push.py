"""Results pushed by an outside system (a CI pipeline, a scanner) through the API."""

from __future__ import annotations

from collections.abc import Iterable

from controls.checks import Check, CheckContext, Resource, register


@register
class PushedResults(Check):
    key = "custom.push"
    title = "Results pushed by an outside system"
    description = (
        "A custom check that runs elsewhere — a CI job, a scanner — and posts its per-resource "
        "results to Attest with a token that works for this test only."
    )
    pushed = True

    def run(self, context: CheckContext) -> Iterable[Resource]:  # pragma: no cover - never run
        raise RuntimeError("Pushed checks are not run by workers.")
