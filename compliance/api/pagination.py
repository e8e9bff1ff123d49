from __future__ import annotations

from functools import cached_property
from typing import Any, cast

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import QuerySet
from rest_framework import exceptions
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response


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


class _CappedPage(Page):
    def __init__(self, rows: list[Any], number: int, paginator: Paginator, *, more: bool) -> None:
        super().__init__(rows, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        return self.more

    def next_page_number(self) -> int:
        return self.number + 1


class CappedCountPaginator(Paginator):
    """Counts at most ``cap`` + 1 rows (an index range, whatever the table's size); a page
    knows whether another follows by reading one row more than it shows."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        # Any cap + 1 rows will do: no ORDER BY, so no sort of the whole filtered set.
        rows = cast(QuerySet[Any], self.object_list).order_by()
        return rows[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    def page(self, number: Any) -> _CappedPage:
        if not self.capped:
            page = super().page(number)
            return _CappedPage(list(page.object_list), page.number, self, more=page.has_next())
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger("That page number is not an integer") from None
        if number < 1:
            raise EmptyPage("That page number is less than 1")
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage("That page contains no results")
        return _CappedPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)


class CappedCountPagination(Pagination):
    """For lists that grow without end (an hourly test's runs): ``count`` is exact up to
    ``COUNT_CAP``; past it ``count`` is ``COUNT_CAP`` and ``count_capped`` true, and pages go
    on (``next`` is there while rows are). Counting every row of a long history would cost more
    than the page itself."""

    COUNT_CAP = 10_000

    def django_paginator_class(self, *args: Any, **kwargs: Any) -> CappedCountPaginator:  # type: ignore[override]
        paginator = CappedCountPaginator(*args, **kwargs)
        paginator.cap = self.COUNT_CAP
        return paginator

    def get_paginated_response(self, data: Any) -> Response:
        paginator = self.page.paginator  # type: ignore[union-attr]
        capped = bool(getattr(paginator, "capped", False))
        return Response(
            {
                "count": min(paginator.count, self.COUNT_CAP),
                "count_capped": capped,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count"]["description"] = (
            f"Exact up to {self.COUNT_CAP:,}; past that, {self.COUNT_CAP:,} with count_capped."
        )
        response["properties"]["count_capped"] = {
            "type": "boolean",
            "description": f"More than {self.COUNT_CAP:,} rows match: page on with next.",
        }
        response["required"] = [*response.get("required", []), "count_capped"]
        return response
