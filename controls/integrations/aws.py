"""Amazon Web Services for the checks: clients built from an integration, and every way a call
can go wrong turned into a :class:`~controls.checks.CheckError` that says what to do about it.

An AWS integration holds an access key (``access_key_id``, ``secret_access_key``) and, in its
config, ``region`` (default us-east-1), ``endpoint_url`` (a stand-in such as moto or LocalStack
serving every service on one address) and ``role_arn`` (assumed with STS before anything else,
for an account the key's own account is allowed into).

Only the integration's own credentials are used: without them the check stops, rather than
falling back on whatever the worker's environment would give boto3 (its instance role).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from botocore.parsers import ResponseParserError

from controls.checks import CheckError

if TYPE_CHECKING:
    from controls.checks import CheckContext

DEFAULT_REGION = "us-east-1"
ROLE_SESSION_NAME = "attest-control-tests"

# Error codes by which AWS says "this identity may not do that".
DENIED_CODES = frozenset({
    "AccessDenied", "AccessDeniedException", "AuthorizationError", "UnauthorizedOperation",
    "UnauthorizedAccess", "Forbidden",
})  # fmt: skip
# Error codes by which AWS says "I do not know this key" (or its signature does not match).
BAD_CREDENTIAL_CODES = frozenset({
    "InvalidClientTokenId", "InvalidAccessKeyId", "SignatureDoesNotMatch", "IncompleteSignature",
    "UnrecognizedClientException", "ExpiredToken", "ExpiredTokenException", "AuthFailure",
})  # fmt: skip


class AwsDenied(CheckError):
    """AWS refused the call: the credentials lack the permission it needs."""


class AwsUnreachable(CheckError):
    """No connection to the AWS endpoint could be made."""


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code") or "")


def check_error(
    action: str, exc: Exception, *, timeout: float | None = None, endpoint: str | None = None
) -> CheckError:
    """The CheckError for ``exc`` raised by the call needing permission ``action``
    (``iam:ListUsers``, ``s3:GetBucketPublicAccessBlock``): never a verdict, always a reason."""
    if isinstance(exc, ClientError):
        code = error_code(exc)
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        message = str(exc.response.get("Error", {}).get("Message") or "").strip()
        if code in DENIED_CODES or (status == 403 and code not in BAD_CREDENTIAL_CODES):
            return AwsDenied(
                f"AWS refused {action}: the credentials lack permission {action}. Grant it to "
                "the integration's user or role (the AWS managed policy SecurityAudit covers it)."
            )
        if code in BAD_CREDENTIAL_CODES:
            return CheckError(
                f"AWS did not accept the integration's credentials ({code}) for {action}: check "
                "the access key, or replace it if it was rotated or deleted."
            )
        if status >= 500:
            return CheckError(
                f"AWS answered {action} with a server error (HTTP {status}{_code(code)}), also "
                "when asked again; try again later."
            )
        detail = f": {message}" if message else ""
        return CheckError(f"AWS refused {action} ({code or f'HTTP {status}'}){detail}.")
    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError):
        limit = f" within {timeout:g} s" if timeout else ""
        return CheckError(f"AWS did not answer {action}{limit}, also when asked again.")
    if isinstance(exc, EndpointConnectionError | ConnectionClosedError):
        url = getattr(exc, "kwargs", {}).get("endpoint_url") or endpoint
        where = f" at {url}" if url else ""
        return AwsUnreachable(
            f"Could not connect to AWS{where} for {action}, also when trying again; check the "
            "network and the integration's endpoint."
        )
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return CheckError("The AWS integration has no usable credentials; enter them again.")
    if isinstance(exc, ResponseParserError):
        return CheckError(f"AWS answered {action} with a response that could not be read.")
    if isinstance(exc, BotoCoreError):
        return CheckError(f"The AWS call {action} failed: {exc}")
    return CheckError(f"The AWS call {action} failed: {type(exc).__name__}: {exc}")


def _code(code: str) -> str:
    return f", {code}" if code and not code.isdigit() else ""


def read(action: str, response: Any, *path: str, kind: type | tuple[type, ...] = object) -> Any:
    """``response[path[0]][path[1]]…``, or a CheckError when AWS left it out or sent the wrong
    kind of value (an answer that cannot be read is never taken for a pass)."""
    value = response
    for key in path:
        if not isinstance(value, dict) or key not in value:
            where = ".".join(path)
            raise CheckError(f"AWS answered {action} without {where}; the answer was not used.")
        value = value[key]
    if not isinstance(value, kind):
        where = ".".join(path)
        raise CheckError(f"AWS answered {action} with an unexpected {where}: {value!r}.")
    return value


class Aws:
    """The AWS clients of one check run: one session, one timeout, errors as CheckError."""

    def __init__(self, context: CheckContext) -> None:
        integration = context.integration
        if integration is None or integration.kind != "aws":
            raise CheckError("This check needs an Amazon Web Services integration.")
        config = integration.config or {}
        key = str(context.credentials.get("access_key_id") or "").strip()
        secret = str(context.credentials.get("secret_access_key") or "").strip()
        if not key or not secret:
            raise CheckError("The AWS integration has no access key; enter its credentials again.")
        self.region: str = config.get("region") or DEFAULT_REGION
        self.endpoint_url: str | None = config.get("endpoint_url") or None
        self.timeout = context.timeout
        self.log = context.log
        self.config = Config(
            connect_timeout=context.timeout,
            read_timeout=context.timeout,
            # Two retries (botocore counts retries here, not attempts), with backoff.
            retries={"max_attempts": 2, "mode": "standard"},
            # Only the integration says where AWS is, not AWS_ENDPOINT_URL* in the worker's env.
            ignore_configured_endpoint_urls=True,
            user_agent_extra="attest-control-tests",
        )
        self.session = boto3.Session(
            aws_access_key_id=key, aws_secret_access_key=secret, region_name=self.region
        )
        self._clients: dict[tuple[str, str], Any] = {}
        self._account_id: str | None = None
        role_arn = config.get("role_arn")
        if role_arn:
            self.session = self._assume(role_arn)

    def _assume(self, role_arn: str) -> boto3.Session:
        answer = self.call(
            "sts:AssumeRole",
            self.client("sts").assume_role,
            RoleArn=role_arn,
            RoleSessionName=ROLE_SESSION_NAME,
        )
        credentials = read("sts:AssumeRole", answer, "Credentials", kind=dict)
        self._clients.clear()
        self.log(f"Assumed role {role_arn}.")
        return boto3.Session(
            aws_access_key_id=read("sts:AssumeRole", credentials, "AccessKeyId", kind=str),
            aws_secret_access_key=read("sts:AssumeRole", credentials, "SecretAccessKey", kind=str),
            aws_session_token=read("sts:AssumeRole", credentials, "SessionToken", kind=str),
            region_name=self.region,
        )

    def client(self, service: str, region: str | None = None) -> Any:
        region = region or self.region
        client = self._clients.get((service, region))
        if client is None:
            client = self.session.client(
                service,
                region_name=region,
                endpoint_url=self.endpoint_url,
                config=self.config,
            )
            if self.endpoint_url and service == "s3control":
                # S3 Control puts the account id in front of the host name; a stand-in serving
                # every service on one address has no such names.
                client.meta.events.register("before-sign.s3-control", self._unprefixed_host)
            self._clients[(service, region)] = client
        return client

    def _unprefixed_host(self, request: Any, **kwargs: Any) -> None:
        assert self.endpoint_url is not None
        parts = urlsplit(request.url)
        endpoint = urlsplit(self.endpoint_url).netloc
        if parts.netloc.endswith("." + endpoint):
            request.url = urlunsplit(parts._replace(netloc=endpoint))

    @contextmanager
    def errors(self, action: str) -> Iterator[None]:
        """Anything AWS does instead of answering ``action`` becomes a CheckError."""
        try:
            yield
        except CheckError:
            raise
        except (BotoCoreError, ClientError, ResponseParserError) as exc:
            raise check_error(
                action, exc, timeout=self.timeout, endpoint=self.endpoint_url
            ) from exc

    def call(
        self,
        action: str,
        method: Callable[..., Any],
        /,
        *,
        absent: Collection[str] = (),
        **kwargs: Any,
    ) -> Any:
        """``method(**kwargs)``'s answer; None when AWS answers with an error code in ``absent``
        (how AWS says "there is none": NoSuchEntity, NoSuchPublicAccessBlockConfiguration)."""
        with self.errors(action):
            try:
                return method(**kwargs)
            except ClientError as exc:
                if error_code(exc) in absent:
                    return None
                raise

    def pages(self, action: str, client: Any, operation: str, **kwargs: Any) -> Iterator[Any]:
        """Every page of a paginated listing."""
        with self.errors(action):
            yield from client.get_paginator(operation).paginate(**kwargs)

    def account_id(self) -> str | None:
        """The account's id, or None when STS will not say (some accounts deny it)."""
        if self._account_id is None:
            try:
                answer = self.call("sts:GetCallerIdentity", self.client("sts").get_caller_identity)
            except AwsDenied as exc:
                self.log(f"Account id unknown: {exc}")
                return None
            self._account_id = read("sts:GetCallerIdentity", answer, "Account", kind=str)
        return self._account_id
