"""A field the database may leave empty is declared nullable in the API's schema.

DRF derives ``allow_null`` for the fields a ModelSerializer builds itself, but not for the
fields a serializer declares (a user shown by email, a parent shown by key): those were
declared non-null while the API answered null (a person without an account, a run nobody
requested, a top-level requirement, a version nobody approved yet).
"""

from __future__ import annotations

import importlib

import pytest
from django.db import models
from rest_framework import serializers

API_SERIALIZER_MODULES = [
    "compliance.api.serializers",
    "controls.api.serializers",
    "controls.api.monitoring_serializers",
    "evidence.api.serializers",
    "people.api.serializers",
    "policies.api.serializers",
    "vendors.api.serializers",
]


def model_serializers() -> list[type[serializers.ModelSerializer]]:
    found: list[type[serializers.ModelSerializer]] = []
    for name in API_SERIALIZER_MODULES:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, serializers.ModelSerializer)
                and value.__module__ == name
                and getattr(getattr(value, "Meta", None), "model", None) is not None
            ):
                found.append(value)
    return found


def nullable_fields_declared_non_null(serializer_class: type) -> list[str]:
    model = serializer_class.Meta.model
    wrong = []
    for name, field in serializer_class().fields.items():
        if field.write_only or isinstance(field, serializers.SerializerMethodField):
            continue
        source = field.source if field.source not in (None, "*") else name
        if "." in source:
            continue
        try:
            model_field = model._meta.get_field(source)
        except Exception:  # noqa: S112 - a computed attribute, not a column
            continue
        if not isinstance(model_field, models.Field) or not model_field.null:
            continue
        if isinstance(field, serializers.ManyRelatedField):
            continue
        if not field.allow_null:
            wrong.append(f"{serializer_class.__name__}.{name}")
    return wrong


def test_the_sweep_finds_the_api_serializers() -> None:
    names = {s.__name__ for s in model_serializers()}
    expected = {"PersonSerializer", "TestRunSerializer", "RequirementSerializer",
                "PolicyVersionSerializer", "ExceptionSerializer", "RevisionSerializer"}  # fmt: skip
    assert expected <= names


@pytest.mark.parametrize("serializer_class", model_serializers(), ids=lambda s: s.__name__)
def test_fields_the_database_may_leave_empty_are_nullable(serializer_class: type) -> None:
    assert nullable_fields_declared_non_null(serializer_class) == []
