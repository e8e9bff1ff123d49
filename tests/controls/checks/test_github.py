from __future__ import annotations

import datetime as dt
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from compliance.models import Organization
from controls.checks import CheckContext, CheckError, Resource, clean_parameters, get_check
from controls.integrations.github import GitHub
from controls.models import (
    Control,
    Finding,
    Integration,
    RunStatus,
    TestResult,
    TestRun,
    Trigger,
)
from controls.monitoring.runner import execute_run
from controls.monitoring.services import control_test_create, integration_create
from tests.conftest import World
from tests.controls.checks.fake_github import (
    NOT_FOUND,
    FakeGitHub,
    Reply,
    pull_request,
    pull_request_rule,
    rule,
)
from tests.factories import ControlFactory

TOKEN = "ghp_fake0123456789"
NOW = dt.datetime.now(dt.UTC)


def run_check(
    fake: FakeGitHub,
    key: str,
    parameters: dict[str, Any] | None = None,
    *,
    organization: str = "acme",
    timeout: float = 2.0,
    api_url: str | None = None,
) -> tuple[dict[str, Resource], list[str]]:
    """Run a check against the fake the way the runner does; its resources by id, its log."""
    check = get_check(key)
    assert check is not None
    lines: list[str] = []
    context = CheckContext(
        organization=Organization(name="Acme", slug="acme"),
        control=Control(ref_id="CHG-01", name="Changes are reviewed"),
        parameters=clean_parameters(check, parameters or {}),
        integration=Integration(
            kind="github", config={"api_url": api_url or fake.url, "organization": organization}
        ),
        credentials={"token": TOKEN},
        now=NOW,
        log=lines.append,
        timeout=timeout,
    )
    resources = list(check().run(context))
    by_id = {r.id: r for r in resources}
    assert len(by_id) == len(resources), "a resource id is reported twice"
    return by_id, lines


def client(fake: FakeGitHub, **kwargs: Any) -> GitHub:
    return GitHub(token=TOKEN, api_url=fake.url, **kwargs)


def errors_of(key: str, parameters: dict[str, Any]) -> dict[str, list[str]]:
    check = get_check(key)
    assert check is not None
    with pytest.raises(ValidationError) as caught:
        clean_parameters(check, parameters)
    return caught.value.message_dict


# --- parameters ---------------------------------------------------------------------------------


def test_repositories_are_split_on_commas_and_lines_without_duplicates() -> None:
    check = get_check("github.security_features")
    assert check is not None
    cleaned = clean_parameters(
        check, {"repositories": "acme/api, acme/web\nacme/API\n\n  other-org/lib.js  "}
    )
    assert cleaned == {"repositories": ["acme/api", "acme/web", "other-org/lib.js"]}
    # What was stored cleans to itself when the test is edited.
    assert clean_parameters(check, cleaned) == cleaned


def test_parameters_have_defaults() -> None:
    protection, links = get_check("github.branch_protection"), get_check("github.pr_ticket_links")
    assert protection is not None and links is not None
    assert clean_parameters(protection, {}) == {"repositories": [], "min_approvals": 1}
    assert clean_parameters(links, {}) == {
        "repositories": [],
        "days": 30,
        "pattern": r"[A-Z][A-Z0-9]+-\d+",
        "exempt_bots": True,
    }


@pytest.mark.parametrize(
    "name",
    ["acme", "acme/", "/api", "-acme/api", "acme/api/extra", "ac me/api", "acme/..", "acme/a$b"],
)
def test_a_repository_that_is_not_owner_slash_name_is_refused(name: str) -> None:
    errors = errors_of("github.branch_protection", {"repositories": f"acme/ok, {name}"})
    assert list(errors) == ["repositories"]
    assert "owner/name" in errors["repositories"][0]


@pytest.mark.parametrize("approvals", [0, 7, "two"])
def test_min_approvals_outside_what_github_allows_is_refused(approvals: Any) -> None:
    assert list(errors_of("github.branch_protection", {"min_approvals": approvals})) == [
        "min_approvals"
    ]


@pytest.mark.parametrize("days", [0, 366, -5])
def test_days_out_of_range_are_refused(days: int) -> None:
    assert list(errors_of("github.pr_ticket_links", {"days": days})) == ["days"]


def test_a_pattern_that_is_not_a_regular_expression_is_refused() -> None:
    errors = errors_of("github.pr_ticket_links", {"pattern": "[A-Z+-("})
    assert list(errors) == ["pattern"]
    assert "regular expression" in errors["pattern"][0]


def test_an_unknown_parameter_is_refused_by_name() -> None:
    errors = errors_of("github.security_features", {"repositories": "acme/api", "branch": "main"})
    assert list(errors) == ["branch"]


# --- the client ---------------------------------------------------------------------------------


def test_the_client_sends_the_token_and_the_api_version(github: FakeGitHub) -> None:
    github.reply("/user", {"login": "attest-bot"})
    with client(github) as gh:
        assert gh.get_object("/user") == {"login": "attest-bot"}
    (request,) = github.requests
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["x-github-api-version"] == "2022-11-28"
    assert request.headers["accept"] == "application/vnd.github+json"


def test_an_enterprise_api_address_with_a_path_is_kept() -> None:
    fake = FakeGitHub(prefix="/api/v3").start()
    try:
        fake.paginate("/orgs/acme/repos", [{"n": i} for i in range(5)])
        with client(fake) as gh:
            items = [item for page in gh.pages("/orgs/acme/repos") for item in page]
        assert len(items) == 5
        assert len(fake.requests_to("/orgs/acme/repos")) == 3
    finally:
        fake.stop()


def test_listings_follow_the_link_header_page_by_page(github: FakeGitHub) -> None:
    github.paginate("/orgs/acme/repos", [{"n": i} for i in range(7)], page_size=2)
    with client(github) as gh:
        pages = list(gh.pages("/orgs/acme/repos", params={"type": "all"}))
    assert [len(p) for p in pages] == [2, 2, 2, 1]
    assert [item["n"] for page in pages for item in page] == list(range(7))
    requests = github.requests_to("/orgs/acme/repos")
    assert [r.query.get("page") for r in requests] == [None, "2", "3", "4"]
    assert all(r.query["per_page"] == "100" and r.query["type"] == "all" for r in requests)
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in requests)


def test_a_listing_past_the_page_cap_is_an_error_not_a_partial_verdict(
    github: FakeGitHub,
) -> None:
    github.paginate("/orgs/acme/repos", [{"n": i} for i in range(10)], page_size=2)
    with client(github, max_pages=3) as gh, pytest.raises(CheckError, match="more than 3 pages"):
        list(gh.pages("/orgs/acme/repos"))
    assert len(github.requests_to("/orgs/acme/repos")) == 3


def test_a_next_page_on_another_host_is_not_followed(github: FakeGitHub) -> None:
    github.reply(
        "/orgs/acme/repos",
        [{"n": 1}],
        headers={"Link": '<https://elsewhere.example/orgs/acme/repos?page=2>; rel="next"'},
    )
    with client(github) as gh, pytest.raises(CheckError, match="another host"):
        list(gh.pages("/orgs/acme/repos"))


def test_a_short_rate_limit_is_waited_out_and_retried_once(github: FakeGitHub) -> None:
    reset = str(int(time.time()) + 1)
    github.replies(
        "/repos/acme/api",
        Reply(
            403,
            {"message": "API rate limit exceeded"},
            {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
        ),
        Reply(200, {"full_name": "acme/api"}),
    )
    waits: list[float] = []
    with client(github, sleep=waits.append) as gh:
        assert gh.get_object("/repos/acme/api") == {"full_name": "acme/api"}
    assert len(github.requests) == 2
    assert len(waits) == 1 and 0 < waits[0] <= 2


def test_a_429_with_retry_after_is_waited_out_and_retried_once(github: FakeGitHub) -> None:
    github.replies(
        "/repos/acme/api",
        Reply(429, {"message": "secondary rate limit"}, {"Retry-After": "1"}),
        Reply(200, {"full_name": "acme/api"}),
    )
    started = time.monotonic()
    with client(github) as gh:  # the real sleep
        assert gh.get_object("/repos/acme/api")["full_name"] == "acme/api"
    assert time.monotonic() - started >= 1
    assert len(github.requests) == 2


def test_a_rate_limit_that_resets_later_is_an_error_naming_when(github: FakeGitHub) -> None:
    reset = int(time.time()) + 3600
    github.reply(
        "/repos/acme/api",
        {"message": "API rate limit exceeded"},
        status=403,
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
    )
    when = dt.datetime.fromtimestamp(reset, tz=dt.UTC).strftime("%H:%M:%S")
    with client(github) as gh, pytest.raises(CheckError, match=f"resets at .*{when} UTC"):
        gh.get("/repos/acme/api")
    assert len(github.requests) == 1  # no retry: too long to wait


def test_a_rate_limit_again_after_the_wait_is_an_error(github: FakeGitHub) -> None:
    github.reply(
        "/repos/acme/api", {"message": "slow down"}, status=429, headers={"Retry-After": "1"}
    )
    with client(github, sleep=lambda s: None) as gh, pytest.raises(CheckError, match="rate limit"):
        gh.get("/repos/acme/api")
    assert len(github.requests) == 2


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (401, {"message": "Bad credentials"}, "rejected the token"),
        (403, {"message": "Resource not accessible by integration"}, "not accessible"),
        (404, {"message": "Not Found"}, "404"),
        (500, {"message": "Server Error"}, "failed with 500"),
        (502, b"<html>Bad gateway</html>", "failed with 502"),
        (422, {"message": "Validation Failed"}, "422"),
    ],
)
def test_an_error_status_is_a_check_error(
    github: FakeGitHub, status: int, body: Any, message: str
) -> None:
    github.reply("/repos/acme/api", body, status=status)
    with client(github) as gh, pytest.raises(CheckError, match=message):
        gh.get("/repos/acme/api")


def test_a_slow_answer_is_a_timeout_error(github: FakeGitHub) -> None:
    github.reply("/repos/acme/api", {"full_name": "acme/api"}, delay=1.5)
    with client(github, timeout=0.3) as gh, pytest.raises(CheckError, match=r"within 0\.3 s"):
        gh.get("/repos/acme/api")


def test_an_unreachable_server_is_an_error() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    gh = GitHub(token=TOKEN, api_url=f"http://127.0.0.1:{port}", timeout=1)
    with gh, pytest.raises(CheckError, match="Could not reach GitHub"):
        gh.get("/repos/acme/api")


def test_malformed_json_is_an_error(github: FakeGitHub) -> None:
    github.reply("/repos/acme/api", b'{"full_name": "acme/api",')
    with client(github) as gh, pytest.raises(CheckError, match="malformed JSON"):
        gh.get("/repos/acme/api")


def test_an_unexpected_shape_is_an_error(github: FakeGitHub) -> None:
    github.reply("/repos/acme/api", ["not", "an", "object"])
    github.reply("/orgs/acme/repos", {"not": "a list"})
    with client(github) as gh:
        with pytest.raises(CheckError, match=r"malformed JSON .* expected an object"):
            gh.get_object("/repos/acme/api")
        with pytest.raises(CheckError, match=r"malformed JSON .* expected a list"):
            list(gh.pages("/orgs/acme/repos"))


def test_a_missing_token_is_an_error() -> None:
    with pytest.raises(CheckError, match="no token"):
        GitHub(token="")


# --- github.branch_protection -------------------------------------------------------------------


def test_branch_protection_judges_each_repository(github: FakeGitHub) -> None:
    github.repository("acme/api")
    github.protection("acme/api", approvals=2)
    github.repository("acme/web", default_branch="trunk")
    github.unprotected("acme/web", "trunk")
    github.repository("acme/docs")
    github.protection("acme/docs", approvals=None)
    github.repository("acme/cli")
    github.protection("acme/cli", approvals=1)
    github.repository("acme/old", archived=True)

    results, _ = run_check(
        github,
        "github.branch_protection",
        {"repositories": "acme/api acme/web acme/docs acme/cli acme/old", "min_approvals": 2},
    )

    assert {k: r.status for k, r in results.items()} == {
        "acme/api": "pass",
        "acme/web": "fail",
        "acme/docs": "fail",
        "acme/cli": "fail",
        "acme/old": "not_applicable",
    }
    assert results["acme/api"].raw == {
        "branch": "main",
        "protected": True,
        "enforce_admins": True,
        "required_approvals": 2,
    }
    assert "“trunk” is not protected" in results["acme/web"].message
    assert "at least 2 approving reviews" in results["acme/web"].remediation
    assert results["acme/web"].raw == {"branch": "trunk", "protected": False}
    assert "need no pull request review" in results["acme/docs"].message
    assert "1 approving review(s) (branch protection); at least 2" in results["acme/cli"].message
    assert github.requests_to("/repos/acme/old/branches/main/protection") == []


def test_a_ruleset_requiring_enough_reviews_passes_without_branch_protection(
    github: FakeGitHub,
) -> None:
    github.repository("acme/api")
    # Rulesets only: the classic endpoint says "not protected", and is not even asked.
    github.unprotected("acme/api")
    github.rulesets(
        "acme/api",
        "main",
        rule("deletion", 7),
        pull_request_rule(2, 7),
        rule("non_fast_forward", 7),
    )
    results, _ = run_check(
        github, "github.branch_protection", {"repositories": "acme/api", "min_approvals": 2}
    )
    assert results["acme/api"].status == "pass"
    assert (
        results["acme/api"].message
        == "Pull requests to “main” need 2 approving review(s) (ruleset)."
    )
    assert results["acme/api"].raw == {
        "branch": "main", "protected": True, "rulesets": [7], "required_approvals": 2,
    }  # fmt: skip
    assert github.requests_to("/repos/acme/api/branches/main/protection") == []


def test_the_strictest_of_rulesets_and_branch_protection_counts(github: FakeGitHub) -> None:
    # An organization ruleset asks for 1 review, the repository's protection rule for 2.
    github.repository("acme/api")
    github.rulesets("acme/api", "main", pull_request_rule(1, 3))
    github.protection("acme/api", approvals=2)
    # Two rulesets on the second page of the listing: the stricter one counts.
    github.repository("acme/web")
    github.unprotected("acme/web")
    github.rulesets(
        "acme/web", "main", rule("creation", 4), pull_request_rule(1, 4), pull_request_rule(3, 5),
        page_size=2,
    )  # fmt: skip

    results, _ = run_check(
        github,
        "github.branch_protection",
        {"repositories": "acme/api acme/web", "min_approvals": 2},
    )

    assert results["acme/api"].status == "pass"
    assert results["acme/api"].message.endswith("need 2 approving review(s) (branch protection).")
    assert results["acme/api"].raw["rulesets"] == [3]
    assert results["acme/web"].status == "pass"
    assert results["acme/web"].raw["required_approvals"] == 3
    assert len(github.requests_to("/repos/acme/web/rules/branches/main")) == 2


def test_a_ruleset_asking_too_few_reviews_fails_naming_it(github: FakeGitHub) -> None:
    github.repository("acme/api")
    github.unprotected("acme/api")
    github.rulesets("acme/api", "main", pull_request_rule(1, 9))
    github.repository("acme/web")
    github.unprotected("acme/web")
    github.rulesets("acme/web", "main", rule("deletion", 9), rule("required_signatures", 9))

    results, _ = run_check(
        github,
        "github.branch_protection",
        {"repositories": "acme/api acme/web", "min_approvals": 2},
    )

    assert results["acme/api"].status == "fail"
    assert results["acme/api"].message == (
        "Pull requests to “main” need 1 approving review(s) (ruleset); at least 2 required."
    )
    assert results["acme/api"].raw == {
        "branch": "main", "protected": True, "rulesets": [9], "required_approvals": 1,
    }  # fmt: skip
    # Rules that do not ask for a pull request do not protect anything here.
    assert results["acme/web"].status == "fail"
    assert "no branch protection rule or active ruleset" in results["acme/web"].message
    assert results["acme/web"].raw == {"branch": "main", "protected": False}


def test_a_github_without_rulesets_is_judged_on_branch_protection(github: FakeGitHub) -> None:
    # GitHub Enterprise Server from before rulesets answers 404 on the rules endpoint.
    github.repository("acme/api")
    github.reply("/repos/acme/api/rules/branches/main", NOT_FOUND, status=404)
    github.protection("acme/api", approvals=1)
    results, _ = run_check(github, "github.branch_protection", {"repositories": "acme/api"})
    assert results["acme/api"].status == "pass"
    assert "rulesets" not in results["acme/api"].raw


def test_a_malformed_ruleset_is_an_error(github: FakeGitHub) -> None:
    github.repository("acme/api")
    github.rulesets(
        "acme/api",
        "main",
        {"type": "pull_request", "parameters": {"required_approving_review_count": None}},
    )
    with pytest.raises(CheckError, match="malformed JSON"):
        run_check(github, "github.branch_protection", {"repositories": "acme/api"})


def test_branch_protection_covers_every_active_repository_of_the_organization(
    github: FakeGitHub,
) -> None:
    repos = []
    for number in range(7):
        name = f"acme/svc-{number}"
        repos.append(github.repository(name, archived=number in (2, 5)))
        github.protection(name, approvals=1)
    github.paginate("/orgs/acme/repos", repos, page_size=2)

    results, lines = run_check(github, "github.branch_protection")

    assert sorted(results) == ["acme/svc-0", "acme/svc-1", "acme/svc-3", "acme/svc-4", "acme/svc-6"]
    assert all(r.status == "pass" for r in results.values())
    assert len(github.requests_to("/orgs/acme/repos")) == 4
    assert github.requests_to("/repos/acme/svc-0") == []  # the listing had the default branch
    assert "5 repositories of acme (2 archived or disabled left out)" in lines[0]


def test_a_branch_name_with_a_slash_is_one_path_segment(github: FakeGitHub) -> None:
    github.repository("acme/api", default_branch="release/2.x")
    github.reply(
        "/repos/acme/api/branches/release%2F2.x/protection",
        {"required_pull_request_reviews": {"required_approving_review_count": 1}},
    )
    results, _ = run_check(github, "github.branch_protection", {"repositories": "acme/api"})
    assert results["acme/api"].status == "pass"


def test_an_empty_repository_is_not_applicable(github: FakeGitHub) -> None:
    github.repository("acme/new")
    github.reply(
        "/repos/acme/new/branches/main/protection", {"message": "Branch not found"}, status=404
    )
    results, _ = run_check(github, "github.branch_protection", {"repositories": "acme/new"})
    assert results["acme/new"].status == "not_applicable"


def test_protection_hidden_from_the_token_is_an_error_not_a_failure(github: FakeGitHub) -> None:
    github.repository("acme/api")
    github.reply("/repos/acme/api/branches/main/protection", {"message": "Not Found"}, status=404)
    with pytest.raises(CheckError, match="administration read"):
        run_check(github, "github.branch_protection", {"repositories": "acme/api"})


def test_a_missing_repository_is_an_error_naming_it(github: FakeGitHub) -> None:
    github.repository("acme/api")
    github.protection("acme/api", approvals=1)
    with pytest.raises(CheckError, match="no repository acme/gone"):
        run_check(github, "github.branch_protection", {"repositories": "acme/api, acme/gone"})


def test_without_repositories_or_organization_nothing_is_decided(github: FakeGitHub) -> None:
    with pytest.raises(CheckError, match="set the organization"):
        run_check(github, "github.branch_protection", organization="")


def test_an_organization_without_visible_repositories_is_an_error(github: FakeGitHub) -> None:
    github.paginate("/orgs/acme/repos", [github.repository("acme/old", archived=True)])
    with pytest.raises(CheckError, match="no active repository of acme"):
        run_check(github, "github.branch_protection")


def test_an_unknown_organization_is_an_error(github: FakeGitHub) -> None:
    with pytest.raises(CheckError, match="no organization acme"):
        run_check(github, "github.security_features")


def test_a_malformed_review_count_is_an_error(github: FakeGitHub) -> None:
    github.repository("acme/api")
    github.reply(
        "/repos/acme/api/branches/main/protection",
        {"required_pull_request_reviews": {"required_approving_review_count": "2"}},
    )
    with pytest.raises(CheckError, match="malformed JSON"):
        run_check(github, "github.branch_protection", {"repositories": "acme/api"})


# --- github.pr_ticket_links ---------------------------------------------------------------------


def days_ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def test_every_pull_request_merged_in_the_window_is_judged(github: FakeGitHub) -> None:
    pr = lambda number, **kw: pull_request("acme/api", number, **kw)  # noqa: E731
    github.repository("acme/api")
    github.paginate(
        "/repos/acme/api/pulls",
        [
            pr(10, title="SEC-12: rotate keys", merged=days_ago(1), updated=days_ago(1)),
            pr(9, body="Fixes OPS-7 properly", merged=days_ago(2), updated=days_ago(2)),
            pr(8, branch="feature/CHG-42-cache", merged=days_ago(3), updated=days_ago(3)),
            pr(7, title="quick fix", body=None, merged=days_ago(4), updated=days_ago(4)),
            pr(6, title="closed unmerged", merged=None, updated=days_ago(5)),
            # Merged before the window, commented on since.
            pr(5, title="old", merged=days_ago(45), updated=days_ago(6)),
            pr(4, title="ABC-1", merged=days_ago(29), updated=days_ago(29)),
            # Updated before the window: the listing is not read further.
            pr(3, title="quick fix", merged=days_ago(31), updated=days_ago(31)),
            pr(2, title="quick fix", merged=days_ago(32), updated=days_ago(32)),
            pr(1, title="quick fix", merged=days_ago(40), updated=days_ago(40)),
        ],
        page_size=2,
    )

    results, lines = run_check(github, "github.pr_ticket_links", {"repositories": "acme/api"})

    assert {k: r.status for k, r in results.items()} == {
        "acme/api#10": "pass",
        "acme/api#9": "pass",
        "acme/api#8": "pass",
        "acme/api#7": "fail",
        "acme/api#4": "pass",
    }
    assert results["acme/api#10"].message == "References SEC-12 in its title."
    assert results["acme/api#9"].message == "References OPS-7 in its description."
    assert results["acme/api#8"].message == "References CHG-42 in its branch name."
    failing = results["acme/api#7"]
    assert failing.name == "acme/api#7 quick fix"
    assert "without a ticket reference" in failing.message
    assert failing.remediation
    assert failing.raw["url"] == "https://github.com/acme/api/pull/7"
    assert failing.raw["author"] == "octocat"
    requests = github.requests_to("/repos/acme/api/pulls")
    assert [r.query.get("page") for r in requests] == [None, "2", "3", "4"]  # not page 5
    assert requests[0].query == {
        "per_page": "100",
        "state": "closed",
        "sort": "updated",
        "direction": "desc",
    }
    assert "acme/api: 5 pull request(s) merged in 30 days." in lines


def test_the_window_and_the_ticket_pattern_are_parameters(github: FakeGitHub) -> None:
    github.repository("acme/api")
    github.reply(
        "/repos/acme/api/pulls",
        [
            pull_request("acme/api", 3, title="#123 fix", merged=days_ago(1), updated=days_ago(1)),
            pull_request("acme/api", 2, title="SEC-1", merged=days_ago(2), updated=days_ago(2)),
            pull_request("acme/api", 1, title="#99", merged=days_ago(9), updated=days_ago(9)),
        ],
    )
    results, _ = run_check(
        github,
        "github.pr_ticket_links",
        {"repositories": "acme/api", "days": 7, "pattern": r"#\d+"},
    )
    assert {k: r.status for k, r in results.items()} == {"acme/api#3": "pass", "acme/api#2": "fail"}
    assert "(/#\\d+/)" in results["acme/api#2"].message


def test_pull_requests_opened_by_bots_are_exempt_unless_the_test_says_otherwise(
    github: FakeGitHub,
) -> None:
    github.repository("acme/api")
    github.reply(
        "/repos/acme/api/pulls",
        [
            pull_request(
                "acme/api", 3, title="Bump httpx from 0.27 to 0.28", author="dependabot[bot]",
                merged=days_ago(1), updated=days_ago(1),
            ),
            # A person whose login happens to end like a bot's name is still a person.
            pull_request(
                "acme/api", 2, title="tidy", author="robot", merged=days_ago(2), updated=days_ago(2)
            ),
        ],
    )  # fmt: skip

    results, _ = run_check(github, "github.pr_ticket_links", {"repositories": "acme/api"})
    assert {k: r.status for k, r in results.items()} == {
        "acme/api#3": "not_applicable",
        "acme/api#2": "fail",
    }
    bot = results["acme/api#3"]
    assert bot.message == "Opened by dependabot[bot], a bot: exempt from ticket references."
    assert (bot.raw["bot"], bot.raw["author"]) == (True, "dependabot[bot]")

    results, _ = run_check(
        github, "github.pr_ticket_links", {"repositories": "acme/api", "exempt_bots": False}
    )
    assert {k: r.status for k, r in results.items()} == {
        "acme/api#3": "fail",
        "acme/api#2": "fail",
    }


@pytest.mark.parametrize("value", ["maybe", 2])
def test_exempt_bots_must_be_yes_or_no(value: Any) -> None:
    assert "exempt_bots" in errors_of("github.pr_ticket_links", {"exempt_bots": value})


def test_a_repository_without_merged_pull_requests_is_not_applicable(github: FakeGitHub) -> None:
    github.repository("acme/api")
    github.reply("/repos/acme/api/pulls", [])
    results, _ = run_check(github, "github.pr_ticket_links", {"repositories": "acme/api"})
    assert results["acme/api"].status == "not_applicable"
    assert "No pull request merged in the last 30 days" in results["acme/api"].message


def test_a_pull_request_with_a_malformed_date_is_an_error(github: FakeGitHub) -> None:
    github.repository("acme/api")
    broken = pull_request("acme/api", 1, merged=days_ago(1), updated=days_ago(1))
    broken["updated_at"] = "yesterday"
    github.reply("/repos/acme/api/pulls", [broken])
    with pytest.raises(CheckError, match=r"malformed JSON .*updated_at"):
        run_check(github, "github.pr_ticket_links", {"repositories": "acme/api"})


def test_a_failure_on_a_later_page_is_an_error_not_a_partial_pass(github: FakeGitHub) -> None:
    github.repository("acme/api")
    github.reply(
        "/repos/acme/api/pulls",
        [pull_request("acme/api", 2, title="SEC-1", merged=days_ago(1), updated=days_ago(1))],
        headers={"Link": f'<{github.url}/repos/acme/api/pulls-page-2>; rel="next"'},
    )
    github.reply("/repos/acme/api/pulls-page-2", {"message": "Server Error"}, status=500)
    with pytest.raises(CheckError, match="failed with 500"):
        run_check(github, "github.pr_ticket_links", {"repositories": "acme/api"})


# --- github.security_features -------------------------------------------------------------------


def test_security_features_are_judged_per_repository(github: FakeGitHub) -> None:
    github.repository("acme/api")
    github.repository("acme/web", security={"secret_scanning": "disabled"})
    github.repository(
        "acme/lib",
        security={"dependabot_security_updates": "", "secret_scanning": "disabled"},
    )
    github.repository("acme/old", archived=True)

    results, _ = run_check(
        github, "github.security_features", {"repositories": "acme/api,acme/web,acme/lib,acme/old"}
    )

    assert {k: r.status for k, r in results.items()} == {
        "acme/api": "pass",
        "acme/web": "fail",
        "acme/lib": "fail",
        "acme/old": "not_applicable",
    }
    assert results["acme/api"].raw == {
        "dependabot_security_updates": "enabled",
        "secret_scanning": "enabled",
    }
    assert results["acme/web"].message == "Not enabled: secret scanning."
    assert results["acme/lib"].message == (
        "Not enabled: Dependabot security updates and secret scanning."
    )
    assert results["acme/lib"].raw["dependabot_security_updates"] == "not reported"
    assert "Settings → Code security" in results["acme/lib"].remediation


def test_security_features_read_each_repository_of_the_organization(github: FakeGitHub) -> None:
    listed = [github.repository(f"acme/r{n}") for n in range(3)]
    # Listings may leave the security settings out: each repository is read on its own.
    github.paginate(
        "/orgs/acme/repos",
        [{k: v for k, v in repo.items() if k != "security_and_analysis"} for repo in listed],
    )
    results, _ = run_check(github, "github.security_features")
    assert sorted(results) == ["acme/r0", "acme/r1", "acme/r2"]
    assert all(r.status == "pass" for r in results.values())
    assert all(len(github.requests_to(f"/repos/acme/r{n}")) == 1 for n in range(3))


def test_security_settings_hidden_from_the_token_are_an_error(github: FakeGitHub) -> None:
    github.repository("acme/api", hide_security=True)
    with pytest.raises(CheckError, match="needs admin"):
        run_check(github, "github.security_features", {"repositories": "acme/api"})


# --- never a pass when GitHub does not answer ---------------------------------------------------

CHECKS = ["github.branch_protection", "github.pr_ticket_links", "github.security_features"]


@pytest.mark.parametrize("key", CHECKS)
@pytest.mark.parametrize(
    ("path", "parameters"),
    [("/repos/acme/web", {"repositories": "acme/web"}), ("/orgs/acme/repos", {})],
)
@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply(500, {"message": "Server Error"}), "failed with 500"),
        (Reply(401, {"message": "Bad credentials"}), "rejected the token"),
        (Reply(200, b"<html>maintenance</html>"), "malformed JSON"),
        (Reply(200, {"full_name": "acme/api"}, delay=1.0), "did not answer"),
        (
            Reply(
                403,
                {"message": "rate limit"},
                {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(2**31 - 1)},
            ),
            "resets at 2038-01-19",
        ),
    ],
)
def test_each_check_is_an_error_when_github_cannot_answer(
    github: FakeGitHub, key: str, path: str, parameters: dict[str, str], reply: Reply, message: str
) -> None:
    github.paginate("/orgs/acme/repos", [github.repository("acme/web")])
    github.replies(path, reply)
    # Only the slow reply is meant to time out; the others get the default, generous timeout so a
    # busy machine cannot turn "rate limited" into "did not answer".
    timeout = 0.4 if reply.delay else 10.0
    with pytest.raises(CheckError, match=message):
        run_check(github, key, parameters, timeout=timeout)
    assert github.requests_to(path)


# --- through the engine -------------------------------------------------------------------------


def github_test(world: World, fake: FakeGitHub, **kwargs: Any) -> TestRun:
    admin = world.users["admin"]
    integration = integration_create(
        actor=admin,
        organization=world.org,
        kind="github",
        name="GitHub",
        config={"api_url": fake.url, "organization": "acme"},
        credentials={"token": TOKEN},
    )
    control = ControlFactory(organization=world.org, ref_id="CHG-02", name="Reviewed changes")
    test = control_test_create(
        actor=admin,
        control=control,
        name="Default branches are protected",
        check_key="github.branch_protection",
        integration=integration,
        **kwargs,
    )
    return TestRun.objects.create(
        control_test=test, organization=world.org, trigger=Trigger.MANUAL, requested_by=admin
    )


def test_a_run_through_the_engine_records_results_and_findings(
    world: World, github: FakeGitHub, evidence_dir: Path
) -> None:
    github.repository("acme/api")
    github.protection("acme/api", approvals=2)
    github.repository("acme/web")
    github.unprotected("acme/web")
    run = github_test(world, github, parameters={"repositories": "acme/api\nacme/web"})

    assert execute_run(run.pk, worker="test") == RunStatus.FAILED

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and run.error == ""
    assert (run.passed_count, run.failed_count) == (1, 1)
    results = {r.resource_id: r for r in TestResult.objects.filter(run=run)}
    assert {k: r.status for k, r in results.items()} == {"acme/api": "pass", "acme/web": "fail"}
    assert results["acme/web"].raw == {"branch": "main", "protected": False}
    (finding,) = Finding.objects.filter(control_test=run.control_test)
    assert finding.resource_id == "acme/web" and finding.is_open
    assert finding.remediation.startswith("Require a pull request with at least 1 approving")
    assert run.evidence_revision is not None
    assert "2 resource(s) checked." in run.log
    assert TOKEN not in run.log
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in github.requests)


def test_github_failing_makes_the_run_an_error_without_results(
    world: World, github: FakeGitHub, evidence_dir: Path
) -> None:
    github.reply("/repos/acme/api", {"message": "Server Error"}, status=500)
    run = github_test(world, github, parameters={"repositories": "acme/api"})

    assert execute_run(run.pk, worker="test") == RunStatus.ERROR

    run.refresh_from_db()
    assert run.status == RunStatus.ERROR
    assert run.error == "GitHub failed with 500 on GET /repos/acme/api; try again later."
    assert not TestResult.objects.filter(run=run).exists()
    assert not Finding.objects.filter(control_test=run.control_test).exists()
    assert (run.passed_count, run.failed_count) == (0, 0)


def test_a_test_with_bad_github_parameters_is_refused(world: World, github: FakeGitHub) -> None:
    with pytest.raises(ValidationError) as caught:
        github_test(world, github, parameters={"repositories": "not a repo/", "min_approvals": 9})
    assert set(caught.value.message_dict) == {"parameters.repositories", "parameters.min_approvals"}


def test_the_edit_form_shows_stored_repositories_one_per_line() -> None:
    check = get_check("github.branch_protection")
    assert check is not None
    form = check.Parameters(initial={"repositories": ["acme/api", "acme/web"]})
    assert ">\nacme/api\nacme/web</textarea>" in str(form["repositories"])
