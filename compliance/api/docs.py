"""The API's own documentation pages (Swagger UI, Redoc) and the OpenAPI document.

drf-spectacular renders the two pages with a template; DRF answers ``OPTIONS`` with metadata,
which those templates cannot render (``OPTIONS /api/docs/`` was a 500). The pages answer it as
Django's own views do: the allowed methods, no body.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView


class OptionsWithoutBody:
    allowed_methods: list[str]

    def options(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        response = HttpResponse(headers={"Allow": ", ".join(self.allowed_methods)})
        response["Content-Length"] = "0"
        return response


class SwaggerView(OptionsWithoutBody, SpectacularSwaggerView):
    pass


class RedocView(OptionsWithoutBody, SpectacularRedocView):
    pass
