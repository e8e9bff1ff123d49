from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from django.http import HttpRequest, HttpResponse

from compliance.request_context import request_id_var

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Gives every request an id (or keeps a sane ``X-Request-ID`` from the proxy).

    The id is written on every audit event and log line and returned in the response header, so a
    user's report can be traced to the rows it wrote.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get() or "-"
        return True


NULL_MESSAGE = "Null characters are not allowed."
_JSON_NULL = b"\\u0000"  # how JSON spells a NUL inside a string; a raw NUL is not valid JSON


class RejectNullCharactersMiddleware:
    """Answers 400 when the path, the query string, a cookie, a form field or a JSON string
    carries a NUL character.

    PostgreSQL cannot store or compare text containing NUL, so such a value reaching any query
    is a 500 from the database driver. Refusing it here, once, protects every view, filter and
    API endpoint. Multipart bodies are left to the view (their text fields go through form and
    serializer fields, which refuse NUL themselves; the files are never read here).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = self.find_null(request)
        if problem is not None:
            return self.refuse(request, *problem)
        return self.get_response(request)

    @staticmethod
    def find_null(request: HttpRequest) -> tuple[str, str] | None:
        """(where, name) of the first NUL found, or None."""
        if "\x00" in request.path_info:
            return "path", ""
        for source, values in (("query", request.GET), ("cookie", request.COOKIES)):
            for name, value in _pairs(values):
                if "\x00" in name or "\x00" in value:
                    return source, name
        content_type = request.content_type or ""
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return None
        if content_type == "application/x-www-form-urlencoded":
            for name, value in _pairs(request.POST):
                if "\x00" in name or "\x00" in value:
                    return "form", name
        elif content_type == "application/json" or content_type.endswith("+json"):
            body = request.body  # bounded by DATA_UPLOAD_MAX_MEMORY_SIZE (else RequestDataTooBig)
            if _JSON_NULL in body:
                try:
                    data = json.loads(body)
                except (ValueError, RecursionError):
                    return None  # malformed JSON: the parser answers 400 with its own message
                path = _null_in_json(data)
                if path is not None:
                    return "json", path
        return None

    @staticmethod
    def refuse(request: HttpRequest, where: str, name: str) -> HttpResponse:
        from compliance.views.errors import html_bad_request, is_api, json_error

        shown = name.replace("\x00", "\\0")
        if where == "path":
            message = "The address contains a null character (%00)."
        else:
            label = {"query": "query parameter", "cookie": "cookie", "form": "field"}.get(
                where, "field"
            )
            message = f"The {label} “{shown}” contains a null character, which is not allowed."
        if is_api(request):
            if where in ("form", "json", "query") and shown:
                return json_error(400, {shown: [NULL_MESSAGE]})
            return json_error(400, {"detail": message})
        return html_bad_request(message)


def _pairs(values: Any) -> Iterator[tuple[str, str]]:
    if hasattr(values, "lists"):
        for name, items in values.lists():
            for item in items:
                yield name, item
    else:
        yield from values.items()


def _null_in_json(data: Any) -> str | None:
    """The dotted path of the first string (or key) holding a NUL in a parsed JSON value.
    Iterative, so a deeply nested body cannot exhaust the stack."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return path or "body"
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                here = f"{path}.{key}" if path else str(key)
                if "\x00" in key:
                    return here
                stack.append((here, item))
        elif isinstance(value, list):
            for index in range(len(value) - 1, -1, -1):
                stack.append((f"{path}.{index}" if path else str(index), value[index]))
    return None
