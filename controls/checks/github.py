"""Checks on GitHub repositories: protected default branches, ticket references in merged pull
requests, Dependabot security updates with secret scanning.

Each looks at the repositories named (``owner/name``), or at every active repository of the
integration's organization; GitHub failing to answer makes the run an error, never a pass.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import date_format

from controls.checks import Check, CheckContext, CheckError, Resource, register
from controls.checks.fields import StrictBooleanField
from controls.integrations.github import (
    GitHub,
    NotFound,
    expect_dict,
    expect_str,
    expect_time,
    malformed,
    path_segment,
)

# GitHub's rules: an owner is 1-39 letters, digits or inner hyphens; a repository name is up to
# 100 letters, digits, ".", "-" or "_" (but not "." or "..").
REPOSITORY_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/(?!\.\.?$)[A-Za-z0-9._-]{1,100}$")
MAX_REPOSITORIES = 200
DEFAULT_TICKET_PATTERN = r"[A-Z][A-Z0-9]+-\d+"


class RepositoriesField(forms.Field):
    """``owner/name`` repositories, one per line or comma-separated; cleaned to a list."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value: Any) -> Any:
        """A stored list shows one repository per line when the test is edited."""
        return "\n".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value: Any) -> list[str]:
        if value in (None, ""):
            return []
        if isinstance(value, str):
            items = re.split(r"[\s,]+", value)
        elif isinstance(value, list | tuple):
            items = [str(item) for item in value]
        else:
            raise ValidationError("Give the repositories as text or a list of owner/name.")
        names: dict[str, str] = {}
        for item in items:
            name = item.strip()
            if name:
                names.setdefault(name.lower(), name)  # GitHub names ignore case
        return list(names.values())

    def validate(self, value: Any) -> None:
        super().validate(value)
        bad = [name for name in value if not REPOSITORY_RE.match(name)]
        if bad:
            raise ValidationError(
                "Not a repository of the form owner/name: %(names)s.",
                params={"names": ", ".join(bad[:5])},
            )
        if len(value) > MAX_REPOSITORIES:
            raise ValidationError(
                f"At most {MAX_REPOSITORIES} repositories; leave it empty for all of them."
            )


class RepositoryParameters(forms.Form):
    repositories = RepositoriesField(
        required=False,
        help_text=(
            "owner/name, one per line or separated by commas. Empty: every repository of the "
            "integration's organization that is not archived."
        ),
    )


def _with_default(form: forms.Form, name: str, default: Any) -> Any:
    value = form.cleaned_data.get(name)
    return default if value in (None, "") else value


class BranchProtectionParameters(RepositoryParameters):
    min_approvals = forms.IntegerField(
        label="Minimum approving reviews",
        required=False,
        initial=1,
        min_value=1,
        max_value=6,  # the most GitHub lets a branch require
        help_text="Approving reviews a pull request needs before it can merge (default 1).",
    )

    def clean_min_approvals(self) -> int:
        return int(_with_default(self, "min_approvals", 1))


class TicketLinkParameters(RepositoryParameters):
    days = forms.IntegerField(
        label="Days looked back",
        required=False,
        initial=30,
        min_value=1,
        max_value=365,
        help_text="Pull requests merged in this many past days are checked (default 30).",
    )
    pattern = forms.CharField(
        label="Ticket pattern",
        required=False,
        initial=DEFAULT_TICKET_PATTERN,
        max_length=200,
        help_text=(
            "A regular expression a ticket reference matches, looked for in the title, the "
            f"description and the branch name (default {DEFAULT_TICKET_PATTERN})."
        ),
    )

    exempt_bots = StrictBooleanField(
        label="Exempt pull requests opened by bots",
        default=True,
        help_text=(
            "Leave out pull requests opened by bots (Dependabot, Renovate, other GitHub Apps): "
            "their changes follow no ticket (default: yes)."
        ),
    )

    def clean_days(self) -> int:
        return int(_with_default(self, "days", 30))

    def clean_pattern(self) -> str:
        pattern = str(_with_default(self, "pattern", DEFAULT_TICKET_PATTERN))
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValidationError(f"Not a valid regular expression: {exc}.") from exc
        return pattern


# --- repositories ---------------------------------------------------------------------------------


def _organization(context: CheckContext) -> str:
    config = context.integration.config if context.integration else {}
    return str(config.get("organization") or "").strip()


def _repository(github: GitHub, name: str) -> dict[str, Any]:
    try:
        repo = github.get_object(f"/repos/{name}")
    except NotFound as exc:
        raise CheckError(
            f"GitHub has no repository {name}, or the token cannot see it (404)."
        ) from exc
    expect_str(repo, "full_name", f"GET /repos/{name}")
    return repo


def _repositories(
    context: CheckContext, github: GitHub, *, full: bool = False
) -> list[dict[str, Any]]:
    """The repositories named in the parameters, or the organization's active ones.

    ``full``: fetch each listed repository on its own, for fields a listing leaves out.
    """
    names = context.parameters.get("repositories") or []
    if names:
        return [_repository(github, name) for name in names]
    organization = _organization(context)
    if not organization:
        raise CheckError(
            "Name the repositories in the test's parameters, or set the organization on the "
            "GitHub integration."
        )
    path = f"/orgs/{path_segment(organization)}/repos"
    repos: list[dict[str, Any]] = []
    archived = 0
    try:
        for page in github.pages(path, params={"type": "all", "sort": "full_name"}):
            for item in page:
                repo = expect_dict(item, f"GET {path}")
                expect_str(repo, "full_name", f"GET {path}")
                if repo.get("archived") or repo.get("disabled"):
                    archived += 1
                else:
                    repos.append(repo)
    except NotFound as exc:
        raise CheckError(
            f"GitHub has no organization {organization}, or the token cannot see it (404)."
        ) from exc
    if not repos:
        raise CheckError(
            f"The token sees no active repository of {organization}; check which repositories "
            "it may read."
        )
    context.log(
        f"{len(repos)} repositories of {organization} ({archived} archived or disabled left out)."
    )
    if full:
        return [_repository(github, repo["full_name"]) for repo in repos]
    return repos


def _day(value: dt.datetime) -> str:
    return date_format(value, "j M Y")


# --- checks ---------------------------------------------------------------------------------------


def _approval_count(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise malformed(what, "a number in 'required_approving_review_count'")
    return value


def _ruleset_approvals(github: GitHub, name: str, branch: str) -> tuple[int | None, list[Any]]:
    """What the active rulesets on ``branch`` ask of a pull request: the approvals of the
    strictest ``pull_request`` rule (None when no ruleset requires a pull request) and the ids of
    the rulesets that do. Rulesets in evaluate mode are not returned by GitHub, so never count."""
    path = f"/repos/{name}/rules/branches/{path_segment(branch)}"
    try:
        rules = [rule for page in github.pages(path) for rule in page]
    except NotFound:
        return None, []  # a GitHub Enterprise Server from before rulesets
    counts: list[int] = []
    rulesets: list[Any] = []
    for rule in rules:
        rule = expect_dict(rule, f"GET {path}")
        if rule.get("type") != "pull_request":
            continue
        parameters = expect_dict(rule.get("parameters") or {}, f"GET {path}")
        counts.append(
            _approval_count(parameters.get("required_approving_review_count", 0), f"GET {path}")
        )
        rulesets.append(rule.get("ruleset_id"))
    return (max(counts) if counts else None), rulesets


@register
class BranchProtection(Check):
    key = "github.branch_protection"
    title = "GitHub default branches require reviewed pull requests"
    description = (
        "One result per repository: passes when its default branch needs a pull request with at "
        "least the given number of approving reviews before it merges, whether a branch "
        "protection rule or an active ruleset asks for it."
    )
    integration = "github"
    Parameters = BranchProtectionParameters

    def run(self, context: CheckContext) -> Iterable[Resource]:
        minimum = int(context.parameters.get("min_approvals") or 1)
        with GitHub.for_context(context) as github:
            return [self._judge(github, repo, minimum) for repo in _repositories(context, github)]

    def _judge(self, github: GitHub, repo: dict[str, Any], minimum: int) -> Resource:
        name = repo["full_name"]
        if repo.get("archived"):
            return Resource.not_applicable(name, message="Archived: nothing can be merged.")
        branch = expect_str(repo, "default_branch", f"GET /repos/{name}")
        remediation = (
            f"Require a pull request with at least {minimum} approving "
            f"review{'s' if minimum > 1 else ''} before merging to “{branch}”: a branch ruleset "
            "(repository Settings → Rules) or a branch protection rule (Settings → Branches)."
        )
        by_rulesets, rulesets = _ruleset_approvals(github, name, branch)
        raw: dict[str, Any] = {"branch": branch, "protected": by_rulesets is not None}
        if rulesets:
            raw["rulesets"] = rulesets
        if by_rulesets is not None and by_rulesets >= minimum:
            # Enough on its own: the classic settings cannot loosen a ruleset.
            return Resource.passed(
                name,
                message=f"Pull requests to “{branch}” need {by_rulesets} approving review(s) "
                "(ruleset).",
                required_approvals=by_rulesets,
                **raw,
            )
        path = f"/repos/{name}/branches/{path_segment(branch)}/protection"
        try:
            protection: dict[str, Any] | None = github.get_object(path)
        except NotFound as exc:
            if exc.github_message == "Branch not found":
                return Resource.not_applicable(
                    name, message=f"The default branch “{branch}” does not exist yet (empty)."
                )
            if exc.github_message != "Branch not protected":
                raise CheckError(
                    f"GitHub found no protection settings for “{branch}” of {name} (404 "
                    f"{exc.github_message or 'Not Found'}); the token may lack administration "
                    "read access."
                ) from exc
            protection = None
        by_protection: int | None = None
        if protection is not None:
            raw["protected"] = True
            enforce_admins = protection.get("enforce_admins")
            raw["enforce_admins"] = (
                isinstance(enforce_admins, dict) and enforce_admins.get("enabled") is True
            )
            reviews = protection.get("required_pull_request_reviews")
            if reviews is not None:
                by_protection = _approval_count(
                    expect_dict(reviews, f"GET {path}").get("required_approving_review_count", 0),
                    f"GET {path}",
                )
        if by_protection is None and by_rulesets is None:
            message = (
                f"“{branch}” is protected but merges need no pull request review."
                if raw["protected"]
                else f"The default branch “{branch}” is not protected: no branch protection rule "
                "or active ruleset requires a pull request."
            )
            return Resource.failed(name, message=message, remediation=remediation, **raw)
        count = max(by_protection or 0, by_rulesets or 0)
        raw["required_approvals"] = count
        source = (
            "ruleset"
            if by_protection is None or (by_rulesets is not None and by_rulesets > by_protection)
            else "branch protection"
        )
        if count < minimum:
            return Resource.failed(
                name,
                message=(
                    f"Pull requests to “{branch}” need {count} approving review(s) ({source}); "
                    f"at least {minimum} required."
                ),
                remediation=remediation,
                **raw,
            )
        return Resource.passed(
            name,
            message=f"Pull requests to “{branch}” need {count} approving review(s) ({source}).",
            **raw,
        )


@register
class PullRequestTicketLinks(Check):
    key = "github.pr_ticket_links"
    title = "Merged GitHub pull requests reference a ticket"
    description = (
        "One result per pull request merged in the last days: passes when its title, "
        "description or branch name names a ticket (ABC-123 by default). Pull requests opened "
        "by bots are not applicable unless the test says otherwise."
    )
    integration = "github"
    Parameters = TicketLinkParameters

    def run(self, context: CheckContext) -> Iterable[Resource]:
        days = int(context.parameters.get("days") or 30)
        pattern = str(context.parameters.get("pattern") or DEFAULT_TICKET_PATTERN)
        exempt_bots = context.parameters.get("exempt_bots", True) is not False
        try:
            ticket = re.compile(pattern)
        except re.error as exc:  # stored before validation existed, or edited by hand
            raise CheckError(
                f"The ticket pattern is not a valid regular expression: {exc}."
            ) from exc
        since = context.now - dt.timedelta(days=days)
        results: list[Resource] = []
        with GitHub.for_context(context) as github:
            for repo in _repositories(context, github):
                name = repo["full_name"]
                merged = self._merged_since(github, name, since)
                context.log(f"{name}: {len(merged)} pull request(s) merged in {days} days.")
                if not merged:
                    results.append(
                        Resource.not_applicable(
                            name, message=f"No pull request merged in the last {days} days."
                        )
                    )
                results.extend(
                    self._judge(name, pr, merged_at, ticket, pattern, exempt_bots)
                    for pr, merged_at in merged
                )
        return results

    def _merged_since(
        self, github: GitHub, name: str, since: dt.datetime
    ) -> list[tuple[dict[str, Any], dt.datetime]]:
        """Pull requests merged since ``since``: the closed ones, most recently updated first,
        read until one was last updated before the window (merging updates a pull request)."""
        path = f"/repos/{name}/pulls"
        what = f"GET {path}"
        merged: list[tuple[dict[str, Any], dt.datetime]] = []
        params = {"state": "closed", "sort": "updated", "direction": "desc"}
        try:
            for page in github.pages(path, params=params):
                for item in page:
                    pr = expect_dict(item, what)
                    updated = expect_time(pr, "updated_at", what)
                    if updated is None:
                        raise malformed(what, "a timestamp in 'updated_at'")
                    if updated < since:
                        return merged
                    merged_at = expect_time(pr, "merged_at", what)
                    if merged_at is not None and merged_at >= since:
                        merged.append((pr, merged_at))
        except NotFound as exc:
            raise CheckError(f"GitHub lists no pull requests of {name} (404).") from exc
        return merged

    def _judge(
        self,
        repo: str,
        pr: dict[str, Any],
        merged_at: dt.datetime,
        ticket: re.Pattern[str],
        pattern: str,
        exempt_bots: bool,
    ) -> Resource:
        what = f"GET /repos/{repo}/pulls"
        number = pr.get("number")
        if not isinstance(number, int) or isinstance(number, bool):
            raise malformed(what, "a number in 'number'")
        head = pr.get("head")
        places = {
            "title": pr.get("title"),
            "description": pr.get("body"),
            "branch name": head.get("ref") if isinstance(head, dict) else None,
        }
        title = str(places["title"] or "")
        user = pr.get("user")
        rid = f"{repo}#{number}"
        author = user if isinstance(user, dict) else {}
        raw = {
            "merged_at": merged_at.isoformat(),
            "author": str(author.get("login") or ""),
            "url": str(pr.get("html_url") or ""),
        }
        if exempt_bots and author.get("type") == "Bot":
            return Resource.not_applicable(
                rid,
                f"{rid} {title}"[:500],
                message=f"Opened by {raw['author']}, a bot: exempt from ticket references.",
                bot=True,
                **raw,
            )
        for where, text in places.items():
            found = ticket.search(text) if isinstance(text, str) else None
            if found:
                return Resource.passed(
                    rid,
                    f"{rid} {title}"[:500],
                    message=f"References {found.group(0)} in its {where}.",
                    ticket=found.group(0),
                    **raw,
                )
        return Resource.failed(
            rid,
            f"{rid} {title}"[:500],
            message=(
                f"Merged on {_day(merged_at)} without a ticket reference (/{pattern}/) in its "
                "title, description or branch name."
            ),
            remediation=(
                "Add the ticket to the pull request's description so the change is traceable; "
                "name the ticket in the branch or title of future pull requests."
            ),
            **raw,
        )


SECURITY_FEATURES = {
    "dependabot_security_updates": "Dependabot security updates",
    "secret_scanning": "secret scanning",
}


@register
class SecurityFeatures(Check):
    key = "github.security_features"
    title = "GitHub repositories have Dependabot security updates and secret scanning"
    description = (
        "One result per repository: passes when Dependabot security updates and secret "
        "scanning are both enabled."
    )
    integration = "github"
    Parameters = RepositoryParameters

    def run(self, context: CheckContext) -> Iterable[Resource]:
        with GitHub.for_context(context) as github:
            return [self._judge(repo) for repo in _repositories(context, github, full=True)]

    def _judge(self, repo: dict[str, Any]) -> Resource:
        name = repo["full_name"]
        if repo.get("archived"):
            return Resource.not_applicable(name, message="Archived: no longer maintained.")
        settings = repo.get("security_and_analysis")
        if settings is None:
            raise CheckError(
                f"GitHub does not show the security settings of {name}: the token needs admin "
                "(or security manager) read access to the repository."
            )
        settings = expect_dict(settings, f"GET /repos/{name}")
        statuses: dict[str, str] = {}
        for key in SECURITY_FEATURES:
            feature = settings.get(key)
            status = feature.get("status") if isinstance(feature, dict) else None
            # Missing means GitHub does not report it: never counted as enabled.
            statuses[key] = str(status) if status else "not reported"
        off = [label for key, label in SECURITY_FEATURES.items() if statuses[key] != "enabled"]
        if off:
            listed = " and ".join(off)
            return Resource.failed(
                name,
                message=f"Not enabled: {listed}.",
                remediation=(
                    f"Turn on {listed} in the repository's Settings → Code security (or for "
                    "the whole organization)."
                ),
                **statuses,
            )
        return Resource.passed(
            name, message="Dependabot security updates and secret scanning are on.", **statuses
        )
