"""Error responses: JSON under ``/api/``, the HTML error pages everywhere else.

Django's handlers (``handler400/403/404/500`` in ``compliance.urls``) and the CSRF failure view
land here, so an API client never has to parse an HTML page, not even when the database is down
(the 500 body is built without touching it). Every JSON error carries the request id, which is
also on the ``X-Request-ID`` header and on every log line, so a report can be traced.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.decorators.csrf import requires_csrf_token

from compliance.request_context import current_request_id

API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def json_error(status: int, body: dict[str, Any]) -> JsonResponse:
    request_id = current_request_id()
    if request_id:
        body = {**body, "request_id": request_id}
    return JsonResponse(body, status=status)


def html_bad_request(message: str) -> HttpResponse:
    """The plain 400 page; rendered without the request so it needs no database."""
    return HttpResponse(render_to_string("400.html", {"message": message}), status=400)


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        message = (
            f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 2**20} MB "
            "(files are not counted: upload them as multipart form data)."
        )
    elif isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
        message = "The request has too many fields or files."
    else:
        message = "The request was malformed."
    if is_api(request):
        return json_error(400, {"detail": message})
    return html_bad_request(message)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api(request):
        message = str(exception) if exception and str(exception) else None
        return json_error(
            403, {"detail": message or "You do not have permission to perform this action."}
        )
    return defaults.permission_denied(request, exception or Exception())


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api(request):
        return json_error(404, {"detail": "Not found."})
    return defaults.page_not_found(request, exception or Exception())


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    if is_api(request):
        return json_error(
            500,
            {
                "detail": "Something went wrong on our side. The error was logged; quote the "
                "request id if you report it."
            },
        )
    return defaults.server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if is_api(request):
        return json_error(
            403,
            {
                "detail": f"CSRF check failed ({reason}). Send an API token instead of a session "
                "cookie, or the CSRF token with it."
            },
        )
    return django_csrf_failure(request, reason=reason)
