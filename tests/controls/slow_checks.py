"""Checks for the reliability tests and the throughput benchmark, never shipped.

A worker started by those tests loads this module through the test settings
(``ATTEST_TEST_EXTRA_CHECK_MODULES=tests.controls.slow_checks``); the test process registers the
same classes for the duration of a test (the ``testing_checks`` fixture).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from django import forms

from controls.checks import Check, CheckContext, Resource, register


@register
class Sleep(Check):
    """Sleeps ``seconds``, or less when the file ``stop_file`` appears, then passes."""

    key = "testing.sleep"
    title = "Testing: sleep, then pass"
    description = "Takes its time; for the reliability tests."
    time_limit = 120

    class Parameters(forms.Form):
        seconds = forms.FloatField(min_value=0)
        stop_file = forms.CharField(required=False)

    def run(self, context: CheckContext) -> Iterable[Resource]:
        stop_file = context.parameters.get("stop_file")
        deadline = time.monotonic() + context.parameters["seconds"]
        while time.monotonic() < deadline:
            if stop_file and Path(stop_file).exists():
                break
            time.sleep(0.1)
        return [Resource.passed("slept", "Slept")]


@register
class Hang(Check):
    """Never returns: the worker's soft time limit has to stop it."""

    key = "testing.hang"
    title = "Testing: hang"
    description = "Sleeps forever; for the time-limit test."
    time_limit = 3

    def run(self, context: CheckContext) -> Iterable[Resource]:
        while True:
            time.sleep(1)


@register
class Boom(Check):
    """Fails the way a bug in a check does: a generic exception."""

    key = "testing.boom"
    title = "Testing: raise"
    description = "Raises an unexpected exception."

    def run(self, context: CheckContext) -> Iterable[Resource]:
        raise ZeroDivisionError("the check divided by zero")


@register
class Cheap(Check):
    """Passes at once: what the engine costs around a check that costs nothing."""

    key = "testing.cheap"
    title = "Testing: pass at once"
    description = "Returns one passing resource immediately; for the benchmark."

    def run(self, context: CheckContext) -> Iterable[Resource]:
        return [Resource.passed("cheap", "Cheap")]


CHECKS: list[type[Check]] = [Sleep, Hang, Boom, Cheap]
