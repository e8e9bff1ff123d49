"""Results of a custom check posted by an outside system (a CI job, a scanner).

The caller authenticates with the test's push token (``Authorization: Bearer attt_…``), which
works for that one test and nowhere else; a personal API token or a session is not accepted
here. Retries are safe with an ``Idempotency-Key``.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from controls.api.monitoring_serializers import PushSerializer, TestRunSerializer, flatten_errors
from controls.checks import Resource
from controls.models import ControlTest, TestRun
from controls.monitoring import services
from evidence import storage
from evidence.api.idempotency import IDEMPOTENCY_HEADER, idempotency_key, respond_once


class PushTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer attt_…``: the request acts for one test (``request.auth``)."""

    def authenticate(self, request: Request) -> tuple[Any, ControlTest] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"bearer":
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header: use 'Bearer <push token>'."
            )
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid push token.") from None
        if not token.startswith(services.PUSH_TOKEN_PREFIX):
            raise exceptions.AuthenticationFailed(
                f"Use the test's push token ({services.PUSH_TOKEN_PREFIX}…), "
                "not a personal API token."
            )
        test = services.test_for_push_token(token)
        if test is None:
            raise exceptions.AuthenticationFailed(
                "Invalid or replaced push token, or the test is disabled."
            )
        return AnonymousUser(), test

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="attest-push"'


class PushTokenScheme(OpenApiAuthenticationExtension):
    target_class = PushTokenAuthentication
    name = "pushToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "A test's push token (attt_…), from POST …/control-tests/{id}/push-token/."
            ),
        }


class HasPushToken(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, ControlTest)


class PushResultsView(APIView):
    """Post the per-resource results of a pushed test; they are recorded as a finished run
    (passed, failed, or error when ``error`` is given) and frozen as evidence. A malformed body
    is refused as a whole with the offending fields named (``results[3].status``)."""

    authentication_classes = [PushTokenAuthentication]
    permission_classes = [HasPushToken]

    @extend_schema(
        request=PushSerializer,
        responses={201: TestRunSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        test = cast(ControlTest, request.auth)
        key = idempotency_key(request)
        serializer = PushSerializer(data=request.data)
        if not serializer.is_valid():
            raise exceptions.ValidationError(flatten_errors(serializer.errors))
        data = serializer.validated_data
        resources = [
            Resource(
                id=r["id"],
                name=r["name"] or r["id"],
                status=r["status"],
                message=r["message"],
                remediation=r["remediation"],
                raw=r["raw"],
            )
            for r in data["results"]
        ]
        stored: list[str] = []

        def perform() -> Any:
            run = services.push_results(
                test=test, resources=resources, log=data["log"], error=data["error"]
            )
            if run.evidence_revision is not None and run.evidence_revision.storage_key:
                stored.append(run.evidence_revision.storage_key)
            fresh = TestRun.objects.select_related("control_test__control", "requested_by")
            return TestRunSerializer(fresh.get(pk=run.pk)).data

        def discard() -> None:
            for storage_key in stored:
                storage.delete(storage_key)

        return respond_once(
            request,
            key=key,
            owner={"scope": f"control-test:{test.pk}"},
            data=data,
            perform=perform,
            status_code=status.HTTP_201_CREATED,
            discard=discard,
        )
