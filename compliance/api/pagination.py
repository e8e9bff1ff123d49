from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request


def _whole_number(raw: str) -> int | None:
    return int(raw) if raw.isascii() and raw.isdigit() else None


class Pagination(PageNumberPagination):
    """Pages of 50 by default. A ``page`` or ``page_size`` that is not a whole number in range
    is a 400 naming the parameter (DRF would quietly use the default size, and answer a
    non-numeric page with a 404); a page past the last one is a 404."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    last_page_strings = ()  # the schema documents page as an integer: no "last"

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        size = _whole_number(raw)
        if size is None or not 1 <= size <= self.max_page_size:
            raise exceptions.ValidationError(
                {"page_size": [f"Use a whole number from 1 to {self.max_page_size}."]}
            )
        return size

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        raw = request.query_params.get(self.page_query_param)
        if raw is not None:
            number = _whole_number(raw)
            if number is None or number < 1:
                raise exceptions.ValidationError(
                    {"page": ["Use a page number: a whole number from 1."]}
                )
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                }
                parameter["description"] = (
                    f"Results per page, 1 to {self.max_page_size} (default {self.page_size})."
                )
        return parameters
