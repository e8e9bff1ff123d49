"""Fixtures of the automated-test engine's tests: isolated evidence storage (every finished run
is stored as an evidence file), a helper that runs a test synchronously, people on the roster."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from controls.models import ControlTest, TestRun, Trigger
from controls.monitoring import runner
from controls.monitoring.services import control_test_create
from tests.conftest import World


@pytest.fixture
def make_test(world: World) -> Callable[..., ControlTest]:
    def make(**kwargs: Any) -> ControlTest:
        arguments: dict[str, Any] = {
            "actor": world.users["admin"],
            "control": world.control,
            "name": "Background checks",
            "check_key": "attest.personnel_requirement",
            "parameters": {"requirement": "background_check"},
        }
        arguments.update(kwargs)
        return control_test_create(**arguments)

    return make


@pytest.fixture
def run_it() -> Callable[[ControlTest], TestRun]:
    """Queue a run of the test and execute it here, as a worker would."""

    def run(test: ControlTest) -> TestRun:
        queued = TestRun.objects.create(
            control_test=test, organization=test.organization, trigger=Trigger.MANUAL
        )
        runner.execute_run(queued.pk, worker="pytest")
        queued.refresh_from_db()
        return queued

    return run


def days_ago(days: int) -> dt.date:
    return dt.date.today() - dt.timedelta(days=days)
