"""The API's filter backends: the query parameters the schema documents are checked as strictly
as the schema states them. A value the schema does not allow is a 400 naming the parameter,
never silently ignored (DRF drops an unknown ``ordering``; django-filter reads ``enabled=null``
or ``status=`` as "no filter")."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import django_filters
from django.db.models import QuerySet
from django_filters import rest_framework as drf_filters
from rest_framework import exceptions
from rest_framework import filters as drf
from rest_framework.request import Request

BOOLEANS = {"true", "false"}
# Filters whose values the schema types (boolean, number, date, enum): an empty value is not
# one of them. Free-text filters (a search, a slug) accept "".
TYPED = (
    django_filters.BooleanFilter,
    django_filters.ChoiceFilter,
    django_filters.MultipleChoiceFilter,
    django_filters.NumberFilter,
    django_filters.DateFilter,
    django_filters.DateTimeFilter,
    django_filters.ModelChoiceFilter,
    django_filters.ModelMultipleChoiceFilter,
)


class DjangoFilterBackend(drf_filters.DjangoFilterBackend):
    def get_filterset(self, request: Request, queryset: QuerySet[Any], view: Any) -> Any:
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None:
            return None
        errors: dict[str, list[str]] = {}
        for name, declared in filterset.filters.items():
            values = request.query_params.getlist(name)
            if not values or not isinstance(declared, TYPED):
                continue
            if isinstance(declared, django_filters.BooleanFilter):
                if any(value.lower() not in BOOLEANS for value in values):
                    errors[name] = ["Use true or false."]
            elif any(value == "" for value in values):
                errors[name] = ["Give a value, or leave the parameter out."]
        if errors:
            raise exceptions.ValidationError(errors)
        return filterset


class OrderingFilter(drf.OrderingFilter):
    """``ordering`` is a comma-separated list of the view's ``ordering_fields``, each optionally
    prefixed with ``-`` for descending; anything else is a 400 listing the allowed names."""

    def remove_invalid_fields(
        self, queryset: QuerySet[Any], fields: Iterable[str], view: Any, request: Request
    ) -> list[str]:
        fields = list(fields)
        valid = [name for name, _ in self.get_valid_fields(queryset, view, {"request": request})]
        unknown = [term for term in fields if term.removeprefix("-") not in valid]
        if unknown:
            raise exceptions.ValidationError(
                {
                    "ordering": [
                        f"Cannot order by {', '.join(repr(t) for t in unknown)}: use "
                        f"{', '.join(valid)}, each with - in front for descending."
                    ]
                }
            )
        return list(super().remove_invalid_fields(queryset, fields, view, request))

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        names = [
            name if isinstance(name, str) else name[0]
            for name in getattr(view, "ordering_fields", None) or []
        ]
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": "Order by these fields, comma-separated; - in front for descending.",
                "schema": {
                    "type": "array",
                    "items": {"type": "string", "enum": [*names, *(f"-{n}" for n in names)]},
                },
                "style": "form",
                "explode": False,
            }
        ]
