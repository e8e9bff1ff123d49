"""The AWS checks, against moto's server on loopback (real HTTP, nothing patched), and against
a tiny local server that answers like AWS would where moto cannot: root MFA turned on, a second
page of users, a refused call, a server error, a malformed answer, an answer that never comes."""

from __future__ import annotations

import datetime as dt
import json
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.core.exceptions import ValidationError

from compliance.models import Organization
from controls.checks import CheckContext, CheckError, Resource, clean_parameters, get_check
from controls.models import Control, Finding, Integration, RunStatus, TestRun
from controls.monitoring import services
from controls.monitoring.runner import execute_run
from tests.conftest import World
from tests.factories import ControlFactory
from tests.moto_server import CREDENTIALS, free_port, moto_reset, moto_server

ACCOUNT = "123456789012"  # moto's account
KEYS = {"access_key_id": "testing", "secret_access_key": "testing"}
ALL_BLOCKED = dict.fromkeys(
    ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"], True
)


# --- the two servers ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def moto(moto_endpoint: str) -> str:
    """moto's server, emptied for this test."""
    moto_reset(moto_endpoint)
    return moto_endpoint


def aws_client(endpoint: str, service: str, region: str = "us-east-1") -> Any:
    """A boto3 client for seeding moto (not the code under test)."""
    client = boto3.client(  # type: ignore[call-overload]
        service, endpoint_url=endpoint, **{**CREDENTIALS, "region_name": region}
    )
    if service == "s3control":
        # S3 Control prefixes the host with the account id; moto listens on the bare address.
        host = urllib.parse.urlsplit(endpoint).netloc

        def unprefixed(request: Any, **kwargs: Any) -> None:
            request.url = request.url.replace(f"{ACCOUNT}.{host}", host)

        client.meta.events.register("before-sign.s3-control", unprefixed)
    return client


# A reply of the fake server: status, body, extra headers, and seconds to wait before answering.
@dataclass
class Reply:
    status: int = 200
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Request:
    method: str
    path: str
    action: str  # the Query API's Action, the JSON API's X-Amz-Target, or "METHOD /path?query"
    params: dict[str, str]
    json_api: bool


@dataclass
class FakeAws:
    """A local HTTP server answering what AWS would; ``routes`` maps an action to a reply (or a
    function of the request), ``always`` answers every request the same way."""

    endpoint: str
    routes: dict[str, Reply | Callable[[Request], Reply]] = field(default_factory=dict)
    always: Reply | None = None
    seen: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def answer(self, request: Request) -> Reply:
        self.seen.append(request.action)
        if self.always is not None:
            return self.always
        route = self.routes.get(request.action)
        if route is None:
            return error_reply(request, 400, "InvalidAction", f"Not scripted: {request.action}")
        return route(request) if callable(route) else route


class _Server(ThreadingHTTPServer):
    block_on_close = False  # a handler still sleeping must not hold up the teardown
    fake: FakeAws


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        target = self.headers.get("X-Amz-Target", "")
        url = urllib.parse.urlsplit(self.path)
        if target:
            action, params = target.split(".")[-1], json.loads(body or "{}")
        elif self.command == "POST" and "Action=" in body:
            params = dict(urllib.parse.parse_qsl(body))
            action = params["Action"]
        else:
            params = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
            action = f"{self.command} {url.path}" + (f"?{url.query}" if url.query else "")
        request = Request(self.command, url.path, action, params, json_api=bool(target))
        reply = self.server.fake.answer(request)
        if reply.delay and self.server.fake.stop.wait(reply.delay):
            return
        payload = reply.body.encode()
        try:
            self.send_response(reply.status)
            content_type = "application/x-amz-json-1.1" if request.json_api else "text/xml"
            self.send_header("Content-Type", content_type)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
            pass

    do_GET = do_POST = do_PUT = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def fake_aws() -> Iterator[FakeAws]:
    server = _Server(("127.0.0.1", 0), _Handler)
    fake = FakeAws(endpoint=f"http://127.0.0.1:{server.server_address[1]}")
    server.fake = fake
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.stop.set()
    server.shutdown()
    server.server_close()


IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"


def query_reply(action: str, result: str, namespace: str = IAM_NS) -> Reply:
    """A Query API (IAM, STS) answer in AWS's XML shape."""
    return Reply(
        body=(
            f'<{action}Response xmlns="{namespace}"><{action}Result>{result}</{action}Result>'
            f"<ResponseMetadata><RequestId>fake-1</RequestId></ResponseMetadata></{action}Response>"
        )
    )


def error_reply(request: Request | None, status: int, code: str, message: str = "") -> Reply:
    if request is not None and request.json_api:
        body = json.dumps({"__type": code, "message": message})
        return Reply(status, body, {"x-amzn-ErrorType": code})
    return Reply(
        status,
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>"
        "</Error><RequestId>fake-1</RequestId></ErrorResponse>",
    )


def caller_identity(account: str = "111122223333") -> Reply:
    return query_reply(
        "GetCallerIdentity",
        f"<Arn>arn:aws:iam::{account}:user/attest</Arn><UserId>AIDAFAKE</UserId>"
        f"<Account>{account}</Account>",
        STS_NS,
    )


def account_summary(**entries: int) -> Reply:
    items = "".join(f"<entry><key>{k}</key><value>{v}</value></entry>" for k, v in entries.items())
    return query_reply("GetAccountSummary", f"<SummaryMap>{items}</SummaryMap>")


# --- running a check ----------------------------------------------------------------------------


@dataclass
class Ran:
    resources: dict[str, Resource]
    log: list[str]

    def __getitem__(self, resource_id: str) -> Resource:
        return self.resources[resource_id]

    def statuses(self) -> dict[str, str]:
        return {rid: r.status for rid, r in self.resources.items()}


def context(
    key: str,
    endpoint: str,
    *,
    parameters: dict[str, Any] | None = None,
    timeout: float = 5.0,
    log: list[str] | None = None,
    **config: str,
) -> CheckContext:
    check = get_check(key)
    assert check is not None
    lines = [] if log is None else log
    return CheckContext(
        organization=Organization(name="Acme", slug="acme"),
        control=Control(ref_id="AWS-01", name="AWS"),
        parameters=clean_parameters(check, parameters),
        integration=Integration(
            kind="aws", name="AWS", config={"endpoint_url": endpoint, **config}
        ),
        credentials=dict(KEYS),
        timeout=timeout,
        log=lines.append,
    )


def run_check(key: str, endpoint: str, **kwargs: Any) -> Ran:
    log: list[str] = []
    check = get_check(key)
    assert check is not None and check.integration == "aws"
    resources = list(check().run(context(key, endpoint, log=log, **kwargs)))
    by_id = {r.id: r for r in resources}
    assert len(by_id) == len(resources), "a resource was reported twice"
    for resource in resources:
        json.dumps(resource.raw)  # what the run stores must be JSON
    return Ran(by_id, log)


def check_error(key: str, endpoint: str, **kwargs: Any) -> str:
    check = get_check(key)
    assert check is not None
    with pytest.raises(CheckError) as caught:
        list(check().run(context(key, endpoint, **kwargs)))
    return str(caught.value)


# --- aws.root_mfa -------------------------------------------------------------------------------


def test_root_mfa_fails_on_an_account_whose_root_user_has_no_mfa(moto: str) -> None:
    # moto always reports AccountMFAEnabled = 0; the pass is tested against the fake server.
    ran = run_check("aws.root_mfa", moto)
    assert ran.statuses() == {ACCOUNT: "fail"}
    root = ran[ACCOUNT]
    assert root.name == f"AWS account {ACCOUNT}"
    assert root.message == "The root user has no MFA device."
    assert "MFA device" in root.remediation
    assert root.raw == {"account_mfa": 0}


def test_root_mfa_passes_when_iam_reports_root_mfa(fake_aws: FakeAws) -> None:
    fake_aws.routes = {
        "GetAccountSummary": account_summary(Users=3, AccountMFAEnabled=1, MFADevices=2),
        "GetCallerIdentity": caller_identity("111122223333"),
    }
    ran = run_check("aws.root_mfa", fake_aws.endpoint)
    assert ran.statuses() == {"111122223333": "pass"}
    assert ran["111122223333"].raw == {"account_mfa": 1}


def test_root_mfa_reports_the_account_without_its_id_when_sts_refuses(fake_aws: FakeAws) -> None:
    fake_aws.routes = {
        "GetAccountSummary": account_summary(AccountMFAEnabled=0),
        "GetCallerIdentity": error_reply(None, 403, "AccessDenied", "no"),
    }
    ran = run_check("aws.root_mfa", fake_aws.endpoint)
    assert ran.statuses() == {"account": "fail"}
    assert "sts:GetCallerIdentity" in ran.log[0]


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        (account_summary(Users=3), "without SummaryMap.AccountMFAEnabled"),
        (account_summary(AccountMFAEnabled=7), "AccountMFAEnabled = 7"),
        (query_reply("GetAccountSummary", "<Nothing/>"), "without SummaryMap"),
    ],
)
def test_root_mfa_refuses_an_answer_it_cannot_read(
    fake_aws: FakeAws, summary: Reply, expected: str
) -> None:
    fake_aws.routes = {"GetAccountSummary": summary, "GetCallerIdentity": caller_identity()}
    assert expected in check_error("aws.root_mfa", fake_aws.endpoint)


def test_root_mfa_names_the_missing_permission(fake_aws: FakeAws) -> None:
    fake_aws.routes = {"GetAccountSummary": error_reply(None, 403, "AccessDenied", "Not allowed")}
    message = check_error("aws.root_mfa", fake_aws.endpoint)
    assert "the credentials lack permission iam:GetAccountSummary" in message


def test_root_mfa_says_when_aws_does_not_know_the_key(fake_aws: FakeAws) -> None:
    fake_aws.routes = {
        "GetAccountSummary": error_reply(None, 403, "InvalidClientTokenId", "Unknown key")
    }
    message = check_error("aws.root_mfa", fake_aws.endpoint)
    assert "did not accept the integration's credentials (InvalidClientTokenId)" in message


# --- aws.iam_users_mfa --------------------------------------------------------------------------


def add_user(iam: Any, name: str, *, console: bool = False, mfa: bool = False) -> str:
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    if console:
        iam.create_login_profile(UserName=name, Password="Attest-test-1!")
    if mfa:
        device = iam.create_virtual_mfa_device(VirtualMFADeviceName=f"{name}-phone")
        iam.enable_mfa_device(
            UserName=name,
            SerialNumber=device["VirtualMFADevice"]["SerialNumber"],
            AuthenticationCode1="123456",
            AuthenticationCode2="654321",
        )
    return str(arn)


def test_console_users_need_mfa_and_users_without_a_password_are_not_applicable(
    moto: str,
) -> None:
    iam = aws_client(moto, "iam")
    alice = add_user(iam, "alice", console=True, mfa=True)
    bob = add_user(iam, "bob", console=True)
    carol = add_user(iam, "carol")
    dave = add_user(iam, "dave", mfa=True)  # MFA but no password: still no console
    ran = run_check("aws.iam_users_mfa", moto)
    assert ran.statuses() == {
        alice: "pass",
        bob: "fail",
        carol: "not_applicable",
        dave: "not_applicable",
    }
    assert ran[alice].name == "alice"
    assert ran[alice].message == "Console access with an MFA device."
    assert ran[alice].raw["mfa_devices"] == [f"arn:aws:iam::{ACCOUNT}:mfa/alice-phone"]
    assert ran[bob].message == "Signs in to the console without MFA."
    assert ran[bob].raw == {"console_access": True, "mfa_devices": [], "password_last_used": None}
    assert "remove the console password" in ran[bob].remediation
    assert ran[carol].raw == {"console_access": False}
    assert "4 IAM user(s)." in ran.log


def test_an_account_without_users_has_no_results(moto: str) -> None:
    assert run_check("aws.iam_users_mfa", moto).resources == {}


def _user(name: str) -> str:
    return (
        f"<member><Path>/</Path><UserName>{name}</UserName><UserId>AIDA{name.upper()}</UserId>"
        f"<Arn>arn:aws:iam::111122223333:user/{name}</Arn>"
        "<CreateDate>2026-01-05T10:00:00Z</CreateDate>"
        "<PasswordLastUsed>2026-11-30T09:15:00Z</PasswordLastUsed></member>"
    )


def test_users_are_read_from_every_page(fake_aws: FakeAws) -> None:
    def list_users(request: Request) -> Reply:
        if request.params.get("Marker") == "page-2":
            return query_reply(
                "ListUsers", f"<Users>{_user('cat')}</Users><IsTruncated>false</IsTruncated>"
            )
        return query_reply(
            "ListUsers",
            f"<Users>{_user('ann')}{_user('ben')}</Users><IsTruncated>true</IsTruncated>"
            "<Marker>page-2</Marker>",
        )

    def login_profile(request: Request) -> Reply:
        if request.params["UserName"] == "cat":
            return query_reply(
                "GetLoginProfile",
                "<LoginProfile><UserName>cat</UserName><CreateDate>2026-01-05T10:00:00Z"
                "</CreateDate></LoginProfile>",
            )
        return error_reply(request, 404, "NoSuchEntity", "no login profile")

    fake_aws.routes = {
        "ListUsers": list_users,
        "GetLoginProfile": login_profile,
        "ListMFADevices": query_reply(
            "ListMFADevices", "<MFADevices/><IsTruncated>false</IsTruncated>"
        ),
    }
    ran = run_check("aws.iam_users_mfa", fake_aws.endpoint)
    arn = "arn:aws:iam::111122223333:user/{}".format
    assert ran.statuses() == {
        arn("ann"): "not_applicable",
        arn("ben"): "not_applicable",
        arn("cat"): "fail",
    }
    assert ran[arn("cat")].raw["password_last_used"] == "2026-11-30T09:15:00+00:00"
    assert fake_aws.seen.count("ListUsers") == 2


def test_a_refused_login_profile_is_an_error_not_a_user_without_console(
    fake_aws: FakeAws,
) -> None:
    fake_aws.routes = {
        "ListUsers": query_reply(
            "ListUsers", f"<Users>{_user('ann')}</Users><IsTruncated>false</IsTruncated>"
        ),
        "GetLoginProfile": error_reply(None, 403, "AccessDenied", "no"),
    }
    message = check_error("aws.iam_users_mfa", fake_aws.endpoint)
    assert "lack permission iam:GetLoginProfile" in message


# --- aws.s3_public_access -----------------------------------------------------------------------


def seed_buckets(endpoint: str) -> Any:
    s3 = aws_client(endpoint, "s3")
    for name in ("open-bucket", "partly-open", "closed-bucket", "www.example.com"):
        s3.create_bucket(Bucket=name)
    s3.put_public_access_block(
        Bucket="partly-open",
        PublicAccessBlockConfiguration={**ALL_BLOCKED, "RestrictPublicBuckets": False},
    )
    s3.put_public_access_block(Bucket="closed-bucket", PublicAccessBlockConfiguration=ALL_BLOCKED)
    return s3


def test_buckets_pass_only_with_all_four_block_public_access_settings(moto: str) -> None:
    seed_buckets(moto)
    ran = run_check("aws.s3_public_access", moto)
    arn = "arn:aws:s3:::{}".format
    assert ran.statuses() == {
        arn("open-bucket"): "fail",
        arn("partly-open"): "fail",
        arn("closed-bucket"): "pass",
        arn("www.example.com"): "fail",
    }
    assert ran[arn("open-bucket")].message == "No Block Public Access settings on the bucket."
    assert ran[arn("partly-open")].message == (
        "Block Public Access is partly off: RestrictPublicBuckets."
    )
    assert ran[arn("partly-open")].raw["bucket"]["RestrictPublicBuckets"] is False
    assert ran[arn("closed-bucket")].raw == {
        "bucket": ALL_BLOCKED,
        "account": dict.fromkeys(ALL_BLOCKED, False),
    }
    assert ran[arn("closed-bucket")].name == "closed-bucket"
    assert "Block Public Access" in ran[arn("open-bucket")].remediation


def test_excluded_buckets_are_not_applicable(moto: str) -> None:
    seed_buckets(moto)
    ran = run_check(
        "aws.s3_public_access",
        moto,
        parameters={"exclude_buckets": "www.example.com, open-bucket"},
    )
    assert ran["arn:aws:s3:::www.example.com"].status == "not_applicable"
    assert ran["arn:aws:s3:::open-bucket"].status == "not_applicable"
    assert ran["arn:aws:s3:::partly-open"].status == "fail"


def test_the_account_wide_setting_covers_every_bucket(moto: str) -> None:
    seed_buckets(moto)
    aws_client(moto, "s3control").put_public_access_block(
        AccountId=ACCOUNT, PublicAccessBlockConfiguration=ALL_BLOCKED
    )
    ran = run_check("aws.s3_public_access", moto)
    assert set(ran.statuses().values()) == {"pass"}
    assert ran["arn:aws:s3:::open-bucket"].message == "Blocked by the account-wide setting."


def test_account_and_bucket_settings_add_up(moto: str) -> None:
    seed_buckets(moto)
    aws_client(moto, "s3control").put_public_access_block(
        AccountId=ACCOUNT,
        PublicAccessBlockConfiguration={"RestrictPublicBuckets": True, "BlockPublicAcls": True},
    )
    ran = run_check("aws.s3_public_access", moto)
    assert ran["arn:aws:s3:::partly-open"].status == "pass"
    assert ran["arn:aws:s3:::open-bucket"].message == (
        "Block Public Access is partly off: IgnorePublicAcls, BlockPublicPolicy."
    )


def test_buckets_are_judged_alone_when_the_account_setting_is_refused(fake_aws: FakeAws) -> None:
    bucket_block = (
        "<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls>"
        "<IgnorePublicAcls>true</IgnorePublicAcls><BlockPublicPolicy>true</BlockPublicPolicy>"
        "<RestrictPublicBuckets>true</RestrictPublicBuckets></PublicAccessBlockConfiguration>"
    )
    fake_aws.routes = {
        "GetCallerIdentity": caller_identity("111122223333"),
        "GET /v20180820/configuration/publicAccessBlock": Reply(
            403, "<Error><Code>AccessDenied</Code><Message>no</Message></Error>"
        ),
        "GET /": Reply(
            body="<ListAllMyBucketsResult><Owner><ID>o</ID></Owner><Buckets>"
            "<Bucket><Name>logs-bucket</Name><CreationDate>2026-01-01T00:00:00Z</CreationDate>"
            "</Bucket><Bucket><Name>data-bucket</Name>"
            "<CreationDate>2026-01-01T00:00:00Z</CreationDate></Bucket>"
            "</Buckets></ListAllMyBucketsResult>"
        ),
        "GET /logs-bucket?publicAccessBlock": Reply(body=bucket_block),
        "GET /data-bucket?publicAccessBlock": Reply(
            404,
            "<Error><Code>NoSuchPublicAccessBlockConfiguration</Code>"
            "<Message>none</Message></Error>",
        ),
    }
    ran = run_check("aws.s3_public_access", fake_aws.endpoint)
    assert ran.statuses() == {
        "arn:aws:s3:::data-bucket": "fail",
        "arn:aws:s3:::logs-bucket": "pass",
    }
    data = ran["arn:aws:s3:::data-bucket"]
    assert data.message == (
        "No Block Public Access settings on the bucket. (The account-wide setting could not be "
        "read.)"
    )
    assert data.raw["account"] is None
    assert any("s3:GetAccountPublicAccessBlock" in line for line in ran.log)


def test_a_bucket_whose_setting_cannot_be_read_stops_the_run(fake_aws: FakeAws) -> None:
    fake_aws.routes = {
        "GetCallerIdentity": caller_identity("111122223333"),
        "GET /v20180820/configuration/publicAccessBlock": Reply(
            404, "<Error><Code>NoSuchPublicAccessBlockConfiguration</Code></Error>"
        ),
        "GET /": Reply(
            body="<ListAllMyBucketsResult><Buckets><Bucket><Name>data-bucket</Name></Bucket>"
            "</Buckets></ListAllMyBucketsResult>"
        ),
        "GET /data-bucket?publicAccessBlock": Reply(
            403, "<Error><Code>AccessDenied</Code><Message>no</Message></Error>"
        ),
    }
    message = check_error("aws.s3_public_access", fake_aws.endpoint)
    assert "lack permission s3:GetBucketPublicAccessBlock" in message


@pytest.mark.parametrize(
    ("listing", "expected"),
    [
        # botocore takes a 200 from S3 whose body is not XML for a 500 in disguise (S3 does
        # send errors with 200), retries it, and reports it as such.
        (Reply(200, "<ListAllMyBucketsResult><Buckets><Bucket>"), "server error (HTTP 500"),
        (Reply(503, "<Error><Code>SlowDown</Code></Error>"), "server error (HTTP 503, SlowDown)"),
    ],
)
def test_a_bucket_listing_that_cannot_be_used_is_an_error(
    fake_aws: FakeAws, listing: Reply, expected: str
) -> None:
    fake_aws.routes = {
        "GetCallerIdentity": caller_identity("111122223333"),
        "GET /v20180820/configuration/publicAccessBlock": Reply(
            404, "<Error><Code>NoSuchPublicAccessBlockConfiguration</Code></Error>"
        ),
        "GET /": listing,
    }
    message = check_error("aws.s3_public_access", fake_aws.endpoint)
    assert f"AWS answered s3:ListAllMyBuckets with a {expected}" in message


# --- aws.cloudtrail_all_regions -----------------------------------------------------------------


def seed_trails(endpoint: str, *, validation: bool = True) -> dict[str, str]:
    aws_client(endpoint, "s3").create_bucket(Bucket="trail-logs")
    here = aws_client(endpoint, "cloudtrail")
    there = aws_client(endpoint, "cloudtrail", "eu-west-1")
    arns = {}
    for client, name, multi, start in [
        (here, "everywhere", True, True),
        (there, "stopped-everywhere", True, False),
        (here, "only-here", False, True),
    ]:
        trail = client.create_trail(
            Name=name,
            S3BucketName="trail-logs",
            IsMultiRegionTrail=multi,
            EnableLogFileValidation=validation,
        )
        if start:
            client.start_logging(Name=name)
        arns[name] = trail["TrailARN"]
    return arns


def test_only_a_multi_region_trail_that_is_logging_qualifies(moto: str) -> None:
    arns = seed_trails(moto)
    ran = run_check("aws.cloudtrail_all_regions", moto)
    assert ran.statuses() == {
        arns["everywhere"]: "pass",
        arns["stopped-everywhere"]: "fail",
        arns["only-here"]: "not_applicable",
        "account": "pass",
    }
    assert ran[arns["everywhere"]].name == "everywhere (us-east-1)"
    assert ran[arns["everywhere"]].raw == {
        "home_region": "us-east-1",
        "multi_region": True,
        "logging": True,
        "log_file_validation": True,
    }
    stopped = ran[arns["stopped-everywhere"]]
    assert stopped.name == "stopped-everywhere (eu-west-1)"
    assert stopped.message == "All-region trail, but logging is stopped."
    assert stopped.remediation.startswith("Start logging on the trail")
    assert ran[arns["only-here"]].message == "Records only us-east-1: not an all-region trail."
    assert ran["account"].message == "Every region is recorded by everywhere."
    assert ran["account"].raw == {
        "trails": 3,
        "qualifying": ["everywhere"],
        "require_log_file_validation": False,
    }


def test_the_account_fails_when_no_trail_records_every_region(moto: str) -> None:
    ran = run_check("aws.cloudtrail_all_regions", moto)
    assert ran.statuses() == {"account": "fail"}
    assert ran["account"].message == "No logging trail records every region."
    assert "multi-region" in ran["account"].remediation


def test_log_file_validation_can_be_required(moto: str) -> None:
    arns = seed_trails(moto, validation=False)
    assert run_check("aws.cloudtrail_all_regions", moto).statuses()["account"] == "pass"
    ran = run_check(
        "aws.cloudtrail_all_regions", moto, parameters={"require_log_file_validation": True}
    )
    assert ran.statuses() == {
        arns["everywhere"]: "fail",
        arns["stopped-everywhere"]: "fail",
        arns["only-here"]: "not_applicable",
        "account": "fail",
    }
    assert ran[arns["everywhere"]].message == "All-region trail, but log file validation is off."
    assert ran[arns["stopped-everywhere"]].message == (
        "All-region trail, but logging is stopped and log file validation is off."
    )
    assert ran["account"].message == "No logging, validated trail records every region."


def test_a_trail_status_without_is_logging_is_an_error(fake_aws: FakeAws) -> None:
    arn = "arn:aws:cloudtrail:us-east-1:111122223333:trail/main"
    trail = {"Name": "main", "TrailARN": arn, "HomeRegion": "us-east-1", "IsMultiRegionTrail": True}
    fake_aws.routes = {
        "DescribeTrails": Reply(body=json.dumps({"trailList": [trail]})),
        "GetTrailStatus": Reply(body=json.dumps({"LatestDeliveryTime": 1764576000})),
    }
    message = check_error("aws.cloudtrail_all_regions", fake_aws.endpoint)
    assert "cloudtrail:GetTrailStatus without IsLogging" in message


# --- the integration: role, region, credentials -------------------------------------------------


def test_a_role_arn_is_assumed_before_checking(moto: str) -> None:
    iam = aws_client(moto, "iam")
    bob = add_user(iam, "bob", console=True)
    role = f"arn:aws:iam::{ACCOUNT}:role/attest-audit"
    ran = run_check("aws.iam_users_mfa", moto, role_arn=role)
    assert ran.statuses() == {bob: "fail"}
    assert f"Assumed role {role}." in ran.log


def test_the_region_of_the_integration_is_used(moto: str) -> None:
    aws_client(moto, "s3").create_bucket(Bucket="trail-logs")
    trail = aws_client(moto, "cloudtrail", "eu-central-1").create_trail(
        Name="frankfurt-only", S3BucketName="trail-logs"
    )
    assert run_check("aws.cloudtrail_all_regions", moto).statuses() == {"account": "fail"}
    ran = run_check("aws.cloudtrail_all_regions", moto, region="eu-central-1")
    assert ran.statuses() == {trail["TrailARN"]: "not_applicable", "account": "fail"}


def test_a_check_without_credentials_stops_rather_than_using_the_workers_own(moto: str) -> None:
    ctx = context("aws.root_mfa", moto)
    ctx.credentials = {}
    check = get_check("aws.root_mfa")
    assert check is not None
    with pytest.raises(CheckError, match="no access key"):
        list(check().run(ctx))


# --- when AWS does not answer properly ----------------------------------------------------------

CHECKS = ["aws.root_mfa", "aws.iam_users_mfa", "aws.s3_public_access", "aws.cloudtrail_all_regions"]


@pytest.mark.parametrize("key", CHECKS)
def test_an_endpoint_that_is_down_is_an_error(key: str) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"  # nobody listens there
    message = check_error(key, endpoint, timeout=1.0)
    assert message.startswith(f"Could not connect to AWS at {endpoint}/ for ")


@pytest.mark.parametrize("key", CHECKS)
def test_a_server_error_is_an_error_after_two_retries(fake_aws: FakeAws, key: str) -> None:
    fake_aws.always = Reply(500, "<html><body>Internal Server Error</body></html>")
    message = check_error(key, fake_aws.endpoint)
    assert "with a server error (HTTP 500" in message
    assert "try again later" in message
    # retries={"max_attempts": 2}: botocore counts retries there, so three requests in all.
    assert len(fake_aws.seen) == 3


@pytest.mark.parametrize("key", CHECKS)
def test_a_malformed_answer_is_an_error(fake_aws: FakeAws, key: str) -> None:
    fake_aws.always = Reply(200, "<<this is not xml{ nor json")
    message = check_error(key, fake_aws.endpoint)
    # XML services fail to parse it; CloudTrail (JSON) parses it into nothing it can use.
    assert "could not be read" in message or "the answer was not used" in message


@pytest.mark.parametrize("key", CHECKS)
def test_an_answer_that_never_comes_is_an_error(fake_aws: FakeAws, key: str) -> None:
    fake_aws.always = Reply(200, "", delay=30)
    started = dt.datetime.now(dt.UTC)
    message = check_error(key, fake_aws.endpoint, timeout=0.3)
    assert "did not answer" in message and "within 0.3 s" in message
    assert dt.datetime.now(dt.UTC) - started < dt.timedelta(seconds=10)


@pytest.mark.parametrize(
    ("key", "permission"),
    [
        ("aws.root_mfa", "iam:GetAccountSummary"),
        ("aws.iam_users_mfa", "iam:ListUsers"),
        ("aws.s3_public_access", "s3:ListAllMyBuckets"),
        ("aws.cloudtrail_all_regions", "cloudtrail:DescribeTrails"),
    ],
)
def test_a_refused_call_names_the_permission_it_needs(
    fake_aws: FakeAws, key: str, permission: str
) -> None:
    def denied(request: Request) -> Reply:
        return error_reply(
            request, 403, "AccessDeniedException" if request.json_api else "AccessDenied", "no"
        )

    actions = ["GetAccountSummary", "GetCallerIdentity", "ListUsers", "GET /", "DescribeTrails"]
    fake_aws.routes = dict.fromkeys(actions, denied)
    message = check_error(key, fake_aws.endpoint)
    assert f"the credentials lack permission {permission}" in message


# --- parameters ---------------------------------------------------------------------------------


def parameters(key: str, data: dict[str, Any]) -> dict[str, Any]:
    check = get_check(key)
    assert check is not None
    return clean_parameters(check, data)


def errors(key: str, data: dict[str, Any]) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        parameters(key, data)
    return caught.value.message_dict


def test_bucket_exclusions_take_a_list_or_text_and_come_out_sorted() -> None:
    key = "aws.s3_public_access"
    assert parameters(key, {}) == {"exclude_buckets": []}
    assert parameters(key, {"exclude_buckets": "b-site\na-site, b-site"}) == {
        "exclude_buckets": ["a-site", "b-site"]
    }
    assert parameters(key, {"exclude_buckets": ["www.example.com"]}) == {
        "exclude_buckets": ["www.example.com"]
    }


@pytest.mark.parametrize(
    "value",
    ["Upper-Case", "under_score", "ab", "x" * 64, "-leading", "two..dots", "10.0.0.1", 42, [1]],
)
def test_a_bad_bucket_exclusion_is_refused(value: Any) -> None:
    assert list(errors("aws.s3_public_access", {"exclude_buckets": value})) == ["exclude_buckets"]


def test_too_many_bucket_exclusions_are_refused() -> None:
    names = [f"bucket-{n:03d}" for n in range(201)]
    messages = errors("aws.s3_public_access", {"exclude_buckets": names})["exclude_buckets"]
    assert messages == ["At most 200 bucket names."]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("true", True), ("on", True), ("false", False), ("", False)],
)
def test_require_log_file_validation_is_a_boolean(value: Any, expected: bool) -> None:
    cleaned = parameters("aws.cloudtrail_all_regions", {"require_log_file_validation": value})
    assert cleaned == {"require_log_file_validation": expected}


@pytest.mark.parametrize("value", ["maybe", 3, ["true"]])
def test_require_log_file_validation_refuses_anything_else(value: Any) -> None:
    found = errors("aws.cloudtrail_all_regions", {"require_log_file_validation": value})
    assert found == {"require_log_file_validation": ["Choose true or false."]}


@pytest.mark.parametrize("key", ["aws.root_mfa", "aws.iam_users_mfa"])
def test_checks_without_parameters_refuse_unknown_ones(key: str) -> None:
    assert parameters(key, {}) == {}
    assert list(errors(key, {"users": "all"})) == ["users"]


def test_every_aws_check_is_registered_for_the_aws_integration() -> None:
    for key in CHECKS:
        check = get_check(key)
        assert check is not None and check.integration == "aws", key


# --- through the engine -------------------------------------------------------------------------


def queued_run(world: World, endpoint: str, check_key: str = "aws.iam_users_mfa") -> TestRun:
    admin = world.users["admin"]
    integration = services.integration_create(
        actor=admin,
        organization=world.org,
        kind="aws",
        name="Production account",
        config={"region": "us-east-1", "endpoint_url": endpoint},
        credentials=dict(KEYS),
    )
    # No owner: nobody to email about a new finding (the email links to pages not built yet).
    control = ControlFactory(organization=world.org, ref_id="AC-07", name="Console MFA")
    test = services.control_test_create(
        actor=admin,
        control=control,
        name="IAM console users have MFA",
        check_key=check_key,
        integration=integration,
        severity="high",
    )
    return TestRun.objects.create(
        control_test=test, organization=world.org, trigger="manual", requested_by=admin
    )


def test_a_run_through_the_engine_records_results_findings_and_evidence(
    world: World, moto: str, evidence_dir: Path
) -> None:
    iam = aws_client(moto, "iam")
    alice = add_user(iam, "alice", console=True, mfa=True)
    bob = add_user(iam, "bob", console=True)
    carol = add_user(iam, "carol")
    run = queued_run(world, moto)

    assert execute_run(run.pk, worker="worker-1") == RunStatus.FAILED
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.error == ""
    assert (run.passed_count, run.failed_count, run.attempts) == (1, 1, 1)
    assert "3 resource(s) checked." in run.log
    results = {r.resource_id: (r.status, r.resource_name) for r in run.results.all()}
    assert results == {
        alice: ("pass", "alice"),
        bob: ("fail", "bob"),
        carol: ("not_applicable", "carol"),
    }
    finding = Finding.objects.get(control_test=run.control_test)
    assert (finding.resource_id, finding.resource_name, finding.severity) == (bob, "bob", "high")
    assert finding.message == "Signs in to the console without MFA."
    assert finding.is_open and finding.first_run == run
    assert finding.due_date == services.organization_today(world.org) + dt.timedelta(days=30)
    revision = run.evidence_revision
    assert revision is not None
    assert any(evidence_dir.rglob("*")), "the run's evidence file was stored"

    # Bob adds a device: the next run passes and closes the finding.
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="bob-key")
    iam.enable_mfa_device(
        UserName="bob",
        SerialNumber=device["VirtualMFADevice"]["SerialNumber"],
        AuthenticationCode1="111111",
        AuthenticationCode2="222222",
    )
    again = TestRun.objects.create(
        control_test=run.control_test, organization=world.org, trigger="manual"
    )
    assert execute_run(again.pk, worker="worker-1") == RunStatus.PASSED
    finding.refresh_from_db()
    assert finding.resolved_at is not None and finding.last_run == again


def test_a_run_against_an_endpoint_that_is_down_is_an_error_with_no_results(
    world: World, evidence_dir: Path
) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    run = queued_run(world, endpoint, check_key="aws.root_mfa")

    assert execute_run(run.pk, worker="worker-1") == RunStatus.ERROR
    run.refresh_from_db()
    assert run.status == RunStatus.ERROR
    expected = f"Could not connect to AWS at {endpoint}/ for iam:GetAccountSummary"
    assert run.error.startswith(expected)
    assert run.error in run.log
    assert not run.results.exists()
    assert (run.passed_count, run.failed_count) == (0, 0)
    assert not Finding.objects.filter(control_test=run.control_test).exists()
