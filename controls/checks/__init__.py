"""The check registry: what an automated control test can verify.

A check type is a subclass of :class:`Check` in a module of this package, decorated with
:func:`register`. It declares a key, a title, a description, the integration it needs (or none),
its typed parameters as a Django form, and a ``run`` that returns one :class:`Resource` per thing
it looked at. Every module of the package is imported the first time the registry is read, so
adding a check type is one file (and its tests); ``docs/checks.md`` shows how.

A check raises :class:`CheckError` when it cannot decide (an integration answered 500, timed
out, returned malformed data): the run is then an *error* with that message, never a pass.
"""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError

if TYPE_CHECKING:
    from compliance.models import Organization
    from controls.models import Control, Integration


class CheckError(Exception):
    """The check could not reach a verdict; the message says why, for the run's page."""


@dataclass(frozen=True)
class Resource:
    """What a check saw of one resource."""

    id: str
    name: str
    status: str  # "pass", "fail" or "not_applicable" (controls.models.ResultStatus)
    message: str = ""
    remediation: str = ""
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def passed(cls, id: str, name: str = "", message: str = "", **raw: Any) -> Resource:
        return cls(id=id, name=name or id, status="pass", message=message, raw=raw)

    @classmethod
    def failed(
        cls, id: str, name: str = "", message: str = "", remediation: str = "", **raw: Any
    ) -> Resource:
        return cls(
            id=id, name=name or id, status="fail", message=message, remediation=remediation,
            raw=raw,
        )  # fmt: skip

    @classmethod
    def not_applicable(cls, id: str, name: str = "", message: str = "", **raw: Any) -> Resource:
        return cls(id=id, name=name or id, status="not_applicable", message=message, raw=raw)


@dataclass
class CheckContext:
    """What a check's ``run`` gets: the organization, the control, its cleaned parameters, the
    integration with its decrypted credentials, the time, and a log for the run's page."""

    organization: Organization
    control: Control
    parameters: dict[str, Any]
    integration: Integration | None = None
    credentials: dict[str, Any] = field(default_factory=dict)
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    log: Callable[[str], None] = lambda line: None
    # Seconds any single outside call may take (below the run's time limit).
    timeout: float = 20.0


class NoParameters(forms.Form):
    pass


class Check:
    key: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    # An IntegrationKind value when the check talks to an outside system.
    integration: ClassVar[str | None] = None
    Parameters: ClassVar[type[forms.Form]] = NoParameters
    # Seconds before the run is stopped and recorded as an error.
    time_limit: ClassVar[int] = 120
    # Results come from outside through the push API; workers never run it.
    pushed: ClassVar[bool] = False

    def run(self, context: CheckContext) -> Iterable[Resource]:
        raise NotImplementedError


_REGISTRY: dict[str, type[Check]] = {}
_loaded = False


def register(cls: type[Check]) -> type[Check]:
    key = cls.key
    if key in _REGISTRY and _REGISTRY[key] is not cls:
        raise RuntimeError(f"Two checks use the key {key!r}: {_REGISTRY[key]!r} and {cls!r}.")
    _REGISTRY[key] = cls
    return cls


def _load() -> None:
    """Import every module of this package once, so that their checks register (and the
    modules of ``CONTROL_TEST_EXTRA_CHECK_MODULES``, which only the test settings fill)."""
    global _loaded
    if _loaded:
        return
    from django.conf import settings

    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    for name in getattr(settings, "CONTROL_TEST_EXTRA_CHECK_MODULES", []):
        importlib.import_module(name)
    _loaded = True


def all_checks() -> list[type[Check]]:
    _load()
    return sorted(_REGISTRY.values(), key=lambda c: (c.integration or "", c.title))


def get_check(key: str) -> type[Check] | None:
    _load()
    return _REGISTRY.get(key)


def check_choices() -> list[tuple[str, str]]:
    return [(c.key, c.title) for c in all_checks()]


def clean_parameters(check: type[Check], data: dict[str, Any] | None) -> dict[str, Any]:
    """The check's parameters, validated and made JSON-ready; ValidationError names each field.

    Unknown parameters are refused rather than ignored: a typo would otherwise silently test
    something else than what the admin meant.
    """
    data = dict(data or {})
    form = check.Parameters(data=data)
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(data) - set(form.fields))
    for name in unknown:
        errors[name] = [f"Unknown parameter for “{check.title}”."]
    if not form.is_valid():
        for name, messages in form.errors.items():
            errors.setdefault(name, []).extend(str(m) for m in messages)
    if errors:
        raise ValidationError(errors)
    return {name: _jsonable(value) for name, value in form.cleaned_data.items()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    return value
