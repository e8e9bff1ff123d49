"""Checks on an Amazon Web Services account: root MFA, console users' MFA, S3 Block Public
Access, and CloudTrail recording every region.

Each needs an AWS integration whose user or role may read the account's configuration (the AWS
managed policy SecurityAudit is enough). A call AWS refuses, a timeout, a server error or an
answer that cannot be read stops the run as an error; it is never taken for a pass.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from controls.checks import Check, CheckContext, CheckError, Resource, register
from controls.checks.fields import StrictBooleanField
from controls.integrations.aws import Aws, AwsDenied, AwsUnreachable, read

# --- parameter fields ---------------------------------------------------------------------------


BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
IP_ADDRESS = re.compile(r"\d+\.\d+\.\d+\.\d+")


class BucketNamesField(forms.Field):
    """S3 bucket names, as a list or as text separated by commas, spaces or new lines."""

    widget = forms.Textarea
    max_names = 200

    def to_python(self, value: Any) -> list[str]:
        if value in (None, ""):
            return []
        if isinstance(value, str):
            names = value.replace(",", " ").split()
        elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            names = [v.strip() for v in value if v.strip()]
        else:
            raise ValidationError("A list of bucket names.", code="invalid")
        return sorted(set(names))

    def validate(self, value: list[str]) -> None:
        super().validate(value)
        if len(value) > self.max_names:
            raise ValidationError(f"At most {self.max_names} bucket names.", code="max_names")
        wrong = [n for n in value if not _is_bucket_name(n)]
        if wrong:
            raise ValidationError(
                "Not an S3 bucket name: %(names)s (3 to 63 lowercase letters, digits, dots and "
                "hyphens, starting and ending with a letter or digit).",
                code="bucket_name",
                params={"names": ", ".join(wrong[:5])},
            )


def _is_bucket_name(name: str) -> bool:
    return bool(BUCKET_NAME.fullmatch(name)) and ".." not in name and not IP_ADDRESS.fullmatch(name)


# --- root account -------------------------------------------------------------------------------


def _account_resource(aws: Aws) -> dict[str, str]:
    account = aws.account_id()
    if account is None:
        return {"id": "account", "name": "AWS account"}
    return {"id": account, "name": f"AWS account {account}"}


@register
class RootMfa(Check):
    key = "aws.root_mfa"
    title = "AWS root user has MFA"
    description = (
        "Passes when the root user of the AWS account signs in with a second factor (IAM's "
        "account summary reports AccountMFAEnabled)."
    )
    integration = "aws"

    def run(self, context: CheckContext) -> Iterable[Resource]:
        aws = Aws(context)
        action = "iam:GetAccountSummary"
        summary = aws.call(action, aws.client("iam").get_account_summary)
        enabled = read(action, summary, "SummaryMap", "AccountMFAEnabled", kind=int)
        if isinstance(enabled, bool) or enabled not in (0, 1):
            raise CheckError(f"AWS answered {action} with AccountMFAEnabled = {enabled!r}.")
        resource = _account_resource(aws)
        if enabled == 1:
            return [Resource.passed(**resource, message="The root user has MFA.", account_mfa=1)]
        return [
            Resource.failed(
                **resource,
                message="The root user has no MFA device.",
                remediation=(
                    "Sign in as the root user, open Security credentials and assign an MFA "
                    "device (a hardware key is best); keep it somewhere safe."
                ),
                account_mfa=0,
            )
        ]


# --- IAM users ----------------------------------------------------------------------------------


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, dt.datetime) else None


@register
class IamUsersMfa(Check):
    key = "aws.iam_users_mfa"
    title = "AWS IAM users who sign in to the console have MFA"
    description = (
        "One result per IAM user: a user with a console password fails without an MFA device; "
        "a user without one (access keys only) is not applicable."
    )
    integration = "aws"
    time_limit = 300  # two calls per user

    def run(self, context: CheckContext) -> Iterable[Resource]:
        aws = Aws(context)
        iam = aws.client("iam")
        users = [
            user
            for page in aws.pages("iam:ListUsers", iam, "list_users")
            for user in read("iam:ListUsers", page, "Users", kind=list)
        ]
        context.log(f"{len(users)} IAM user(s).")
        results = []
        for user in users:
            name = read("iam:ListUsers", user, "UserName", kind=str)
            rid = user.get("Arn") or f"iam-user:{name}"
            profile = aws.call(
                "iam:GetLoginProfile", iam.get_login_profile, absent={"NoSuchEntity"}, UserName=name
            )
            if profile is None:
                results.append(
                    Resource.not_applicable(
                        rid, name, "No console password (access keys only).", console_access=False
                    )
                )
                continue
            devices = [
                read("iam:ListMFADevices", device, "SerialNumber", kind=str)
                for page in aws.pages("iam:ListMFADevices", iam, "list_mfa_devices", UserName=name)
                for device in read("iam:ListMFADevices", page, "MFADevices", kind=list)
            ]
            raw = {
                "console_access": True,
                "mfa_devices": devices,
                "password_last_used": _iso(user.get("PasswordLastUsed")),
            }
            if devices:
                count = f"{len(devices)} MFA devices" if len(devices) > 1 else "an MFA device"
                results.append(Resource.passed(rid, name, f"Console access with {count}.", **raw))
            else:
                results.append(
                    Resource.failed(
                        rid,
                        name,
                        message="Signs in to the console without MFA.",
                        remediation=(
                            "Have the user assign an MFA device under Security credentials, or "
                            "remove the console password if they do not need it."
                        ),
                        **raw,
                    )
                )
        return results


# --- S3 -----------------------------------------------------------------------------------------

BLOCK_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def _flags(action: str, answer: Any) -> dict[str, bool]:
    """The four Block Public Access settings of an answer (all off when there is none)."""
    if answer is None:
        return dict.fromkeys(BLOCK_FLAGS, False)
    block = read(action, answer, "PublicAccessBlockConfiguration", kind=dict)
    # A setting AWS leaves out is off.
    flags = {flag: block.get(flag, False) for flag in BLOCK_FLAGS}
    wrong = {flag: value for flag, value in flags.items() if not isinstance(value, bool)}
    if wrong:
        raise CheckError(f"AWS answered {action} with unexpected settings: {wrong!r}.")
    return flags


class S3PublicAccessParameters(forms.Form):
    exclude_buckets = BucketNamesField(
        required=False,
        help_text="Buckets meant to be public (a website, say): reported as not applicable.",
    )


@register
class S3PublicAccess(Check):
    key = "aws.s3_public_access"
    title = "AWS S3 buckets block public access"
    description = (
        "One result per S3 bucket: passes when all four Block Public Access settings are on, "
        "for the whole account or for the bucket."
    )
    integration = "aws"
    Parameters = S3PublicAccessParameters
    time_limit = 300  # one call per bucket

    def run(self, context: CheckContext) -> Iterable[Resource]:
        aws = Aws(context)
        excluded = set(context.parameters.get("exclude_buckets") or [])
        account = self._account_flags(aws)
        s3 = aws.client("s3")
        buckets = sorted(
            read("s3:ListAllMyBuckets", bucket, "Name", kind=str)
            for page in aws.pages("s3:ListAllMyBuckets", s3, "list_buckets")
            for bucket in page.get("Buckets", [])
        )
        context.log(f"{len(buckets)} bucket(s), {len(excluded & set(buckets))} excluded.")
        account_all = account is not None and all(account.values())
        results = []
        for name in buckets:
            rid = f"arn:aws:s3:::{name}"
            if name in excluded:
                results.append(Resource.not_applicable(rid, name, "Excluded by the test."))
                continue
            if account_all:
                results.append(
                    Resource.passed(
                        rid, name, "Blocked by the account-wide setting.", account=account
                    )
                )
                continue
            action = "s3:GetBucketPublicAccessBlock"
            answer = aws.call(
                action,
                s3.get_public_access_block,
                absent={"NoSuchPublicAccessBlockConfiguration"},
                Bucket=name,
            )
            bucket = _flags(action, answer)
            effective = {f: bucket[f] or bool(account and account[f]) for f in BLOCK_FLAGS}
            raw = {"bucket": bucket, "account": account}
            if all(effective.values()):
                results.append(Resource.passed(rid, name, "Public access is blocked.", **raw))
                continue
            off = [f for f in BLOCK_FLAGS if not effective[f]]
            if answer is None and not any(effective.values()):
                message = "No Block Public Access settings on the bucket."
            else:
                message = f"Block Public Access is partly off: {', '.join(off)}."
            if account is None:
                message += " (The account-wide setting could not be read.)"
            results.append(
                Resource.failed(
                    rid,
                    name,
                    message=message,
                    remediation=(
                        "Turn on all four Block Public Access settings for the bucket, or once "
                        "for the whole account; exclude the bucket here if it is public on purpose."
                    ),
                    **raw,
                )
            )
        return results

    def _account_flags(self, aws: Aws) -> dict[str, bool] | None:
        """The account-wide settings; None when they cannot be read (each bucket then counts on
        its own, which can only make a result stricter)."""
        account_id = aws.account_id()
        if account_id is None:
            return None
        action = "s3:GetAccountPublicAccessBlock"
        try:
            answer = aws.call(
                action,
                aws.client("s3control").get_public_access_block,
                absent={"NoSuchPublicAccessBlockConfiguration"},
                AccountId=account_id,
            )
        except (AwsDenied, AwsUnreachable) as exc:
            aws.log(f"Judging each bucket on its own: {exc}")
            return None
        return _flags(action, answer)


# --- CloudTrail ---------------------------------------------------------------------------------


class CloudTrailParameters(forms.Form):
    require_log_file_validation = StrictBooleanField(
        help_text="Also require log file integrity validation (digest files) on the trail.",
    )


@register
class CloudTrailAllRegions(Check):
    key = "aws.cloudtrail_all_regions"
    title = "AWS CloudTrail records every region"
    description = (
        "Passes when at least one trail covers all regions and is logging. One result per "
        "trail, and one for the account that fails when no trail qualifies."
    )
    integration = "aws"
    Parameters = CloudTrailParameters

    def run(self, context: CheckContext) -> Iterable[Resource]:
        aws = Aws(context)
        need_validation = bool(context.parameters.get("require_log_file_validation"))
        action = "cloudtrail:DescribeTrails"
        answer = aws.call(
            action, aws.client("cloudtrail").describe_trails, includeShadowTrails=True
        )
        trails: dict[str, dict[str, Any]] = {}
        for trail in read(action, answer, "trailList", kind=list):
            trails.setdefault(read(action, trail, "TrailARN", kind=str), trail)
        results, qualifying = [], []
        for arn, trail in sorted(trails.items()):
            name = str(trail.get("Name") or arn)
            home = str(trail.get("HomeRegion") or aws.region)
            status = aws.call(
                "cloudtrail:GetTrailStatus",
                aws.client("cloudtrail", home).get_trail_status,
                Name=arn,
            )
            raw = {
                "home_region": home,
                "multi_region": trail.get("IsMultiRegionTrail") is True,
                "logging": read("cloudtrail:GetTrailStatus", status, "IsLogging", kind=bool),
                "log_file_validation": trail.get("LogFileValidationEnabled") is True,
            }
            label = f"{name} ({home})"
            if not raw["multi_region"]:
                results.append(
                    Resource.not_applicable(
                        arn, label, f"Records only {home}: not an all-region trail.", **raw
                    )
                )
                continue
            gaps = []
            if not raw["logging"]:
                gaps.append("logging is stopped")
            if need_validation and not raw["log_file_validation"]:
                gaps.append("log file validation is off")
            if gaps:
                results.append(
                    Resource.failed(
                        arn,
                        label,
                        message=f"All-region trail, but {' and '.join(gaps)}.",
                        remediation=_trail_fix(gaps),
                        **raw,
                    )
                )
            else:
                qualifying.append(name)
                results.append(Resource.passed(arn, label, "Records every region.", **raw))
        summary = {
            "trails": len(trails),
            "qualifying": qualifying,
            "require_log_file_validation": need_validation,
        }
        account_name = "CloudTrail across all regions"
        if qualifying:
            results.append(
                Resource.passed(
                    "account",
                    account_name,
                    f"Every region is recorded by {', '.join(qualifying)}.",
                    **summary,
                )
            )
        else:
            what = "logging, validated" if need_validation else "logging"
            results.append(
                Resource.failed(
                    "account",
                    account_name,
                    message=f"No {what} trail records every region.",
                    remediation=(
                        "Create a trail that applies to all regions, or make an existing trail "
                        "multi-region, and start logging on it."
                    ),
                    **summary,
                )
            )
        return results


def _trail_fix(gaps: list[str]) -> str:
    fixes = []
    if "logging is stopped" in gaps:
        fixes.append("start logging on the trail (CloudTrail console or `start-logging`)")
    if "log file validation is off" in gaps:
        fixes.append("turn on log file validation in its settings")
    text = " and ".join(fixes)
    return text[0].upper() + text[1:] + "."
