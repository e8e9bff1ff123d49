"""Checks on a web endpoint: the security headers a page is served with, and the certificate
and TLS versions of a host.

They need no integration: they connect to the address they are given, as a browser would, and
verify certificates against the system's CAs (or ``WEB_CHECKS_CA_BUNDLE`` when it is set). They
refuse hosts that resolve to non-public addresses (loopback, private networks, link-local cloud
metadata…) unless ``WEB_CHECKS_ALLOW_PRIVATE_ADDRESSES`` is set, so that whoever may add a test
cannot make the worker probe the internal network.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import socket
import ssl
import warnings
from collections.abc import Iterable
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
from cryptography import x509
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from controls.checks import Check, CheckContext, CheckError, Resource, register
from controls.checks.fields import StrictBooleanField

USER_AGENT = "Attest security-headers check"
HSTS_MIN_AGE = 180 * 24 * 3600  # 15552000 s
# Policies that never send the full address (path and query) to another site.
SAFE_REFERRER_POLICIES = {
    "no-referrer",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
    "origin",
    "origin-when-cross-origin",
}
# Policies browsers know; in a list they use the last one they know (unknown ones are skipped).
KNOWN_REFERRER_POLICIES = SAFE_REFERRER_POLICIES | {"unsafe-url", "no-referrer-when-downgrade"}


def _verifying_context() -> ssl.SSLContext:
    """A client context that verifies chains and host names, against WEB_CHECKS_CA_BUNDLE when
    set, else the system's CAs."""
    bundle = settings.WEB_CHECKS_CA_BUNDLE
    try:
        return ssl.create_default_context(cafile=bundle or None)
    except (OSError, ssl.SSLError) as exc:
        raise CheckError(f"WEB_CHECKS_CA_BUNDLE ({bundle}) cannot be read: {exc}.") from exc


def _trust_label() -> str:
    return (
        "the CA bundle of WEB_CHECKS_CA_BUNDLE" if settings.WEB_CHECKS_CA_BUNDLE else "system CAs"
    )


def resolve_public(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, or CheckError if it does not resolve or any of them
    is not a public address (unless WEB_CHECKS_ALLOW_PRIVATE_ADDRESSES)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise CheckError(f"Cannot resolve {host}: {exc.strerror or exc}.") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not settings.WEB_CHECKS_ALLOW_PRIVATE_ADDRESSES:
        for address in addresses:
            if not ipaddress.ip_address(address.split("%")[0]).is_global:
                raise CheckError(
                    f"{host} resolves to {address}, which is not a public address; web checks "
                    "only reach public hosts (an operator can allow internal ones with "
                    "WEB_CHECKS_ALLOW_PRIVATE_ADDRESSES)."
                )
    return addresses


def _refuse_private(request: httpx.Request) -> None:
    """httpx request hook: runs before the first request and before every redirect, so a page
    redirecting inside is refused by name, even through an outbound proxy."""
    url = request.url
    resolve_public(url.host, url.port or (443 if url.scheme == "https" else 80))


class _PublicOnlyBackend(httpcore.SyncBackend):
    """Opens direct connections only to the addresses vetted at that moment: the address
    checked is the address dialled, so a DNS answer that changes between the request hook's
    look-up and the connection (rebinding) cannot reach inside. TLS still names the host."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        refused: httpcore.ConnectError | None = None
        for address in resolve_public(host, port):
            try:
                return super().connect_tcp(
                    address, port, timeout, local_address=local_address,
                    socket_options=socket_options,
                )  # fmt: skip
            except httpcore.ConnectError as exc:  # the next address may answer
                refused = exc
        assert refused is not None  # resolve_public returns at least one address or raises
        raise refused


def _guarded_client(timeout: float) -> httpx.Client:
    transport = httpx.HTTPTransport(verify=_verifying_context())
    # httpx has no public way to choose how its pool dials; httpcore's pool takes a backend.
    transport._pool._network_backend = _PublicOnlyBackend()
    return httpx.Client(
        transport=transport,
        follow_redirects=True,
        timeout=timeout,
        headers={"User-Agent": USER_AGENT},
        event_hooks={"request": [_refuse_private]},
    )


# --- security headers ---------------------------------------------------------------------------


class SecurityHeadersParameters(forms.Form):
    url = forms.URLField(
        label="URL",
        max_length=2000,
        assume_scheme="https",
        help_text="The https:// address of the page to check, e.g. your login page.",
    )
    require_csp = StrictBooleanField(
        label="Require a Content-Security-Policy",
        default=True,
        help_text="Fail when the page has no Content-Security-Policy (default: yes).",
    )

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        parts = urlsplit(url)
        if parts.scheme != "https":
            raise ValidationError("Use an https:// address: these headers only count over HTTPS.")
        if parts.username or parts.password:
            raise ValidationError("Leave credentials out of the address.")
        return url


def _directives(policy: str) -> dict[str, str]:
    """A Content-Security-Policy as {directive name: its value}; the first occurrence wins."""
    found: dict[str, str] = {}
    for part in policy.split(";"):
        words = part.split(None, 1)
        if words:
            found.setdefault(words[0].lower(), words[1].strip() if len(words) > 1 else "")
    return found


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def _hsts(value: str | None, final_url: str) -> Resource:
    rid, name = "hsts", "Strict-Transport-Security"
    fix = "Send Strict-Transport-Security: max-age=31536000; includeSubDomains on every answer."
    if urlsplit(final_url).scheme != "https":
        return Resource.failed(
            rid, name, f"The page ended on plain HTTP ({final_url}).", fix, final_url=final_url
        )
    if value is None:
        return Resource.failed(rid, name, "No Strict-Transport-Security header.", fix)
    match = re.search(r"(?:^|;)\s*max-age\s*=\s*\"?(\d+)\"?\s*(?:;|$)", value, re.IGNORECASE)
    if match is None:
        return Resource.failed(
            rid, name, f"No valid max-age in “{value}”.", fix, header=value, max_age=None
        )
    max_age = int(match.group(1))
    days = _days(max_age // 86400)
    if max_age < HSTS_MIN_AGE:
        return Resource.failed(
            rid,
            name,
            f"max-age is {max_age} s ({days}): “{value}”; at least 180 days are needed.",
            fix,
            header=value,
            max_age=max_age,
        )
    return Resource.passed(
        rid, name, f"max-age {max_age} s ({days}).", header=value, max_age=max_age
    )


def _csp(enforced: list[str], report_only: list[str], required: bool) -> Resource:
    rid, name = "csp", "Content-Security-Policy"
    policy = "; ".join(p for p in enforced if p.strip())
    if policy:
        return Resource.passed(rid, name, "Content-Security-Policy is set.", header=policy)
    if not required:
        return Resource.not_applicable(
            rid, name, "No Content-Security-Policy; this test does not require one."
        )
    note = " (only a Report-Only policy, which blocks nothing)" if report_only else ""
    return Resource.failed(
        rid,
        name,
        f"No Content-Security-Policy header{note}.",
        "Send a Content-Security-Policy; start from default-src 'self' and widen as needed.",
        report_only="; ".join(report_only),
    )


def _clickjacking(frame_options: str | None, enforced: list[str]) -> Resource:
    rid, name = "clickjacking", "Clickjacking protection"
    ancestors = [d["frame-ancestors"] for d in map(_directives, enforced) if "frame-ancestors" in d]
    if ancestors and not any("*" in a.split() for a in ancestors):
        sources = ancestors[0] or "(empty: no site)"
        return Resource.passed(
            rid,
            name,
            f"CSP frame-ancestors {sources}.",
            frame_ancestors=ancestors[0],
            x_frame_options=frame_options,
        )
    option = (frame_options or "").strip().upper()
    if option in {"DENY", "SAMEORIGIN"}:
        return Resource.passed(rid, name, f"X-Frame-Options {option}.", x_frame_options=option)
    if frame_options is None and not ancestors:
        message = "Neither X-Frame-Options nor a CSP frame-ancestors directive."
    elif ancestors:
        message = f"CSP frame-ancestors “{ancestors[0]}” lets any site frame the page."
    else:
        message = f"X-Frame-Options “{frame_options}” is not DENY or SAMEORIGIN."
    return Resource.failed(
        rid,
        name,
        message,
        "Send X-Frame-Options: DENY (or SAMEORIGIN), or CSP frame-ancestors 'self'.",
        x_frame_options=frame_options,
        frame_ancestors=ancestors[0] if ancestors else None,
    )


def _nosniff(value: str | None) -> Resource:
    rid, name = "content-type-options", "X-Content-Type-Options"
    if value is not None and value.strip().lower() == "nosniff":
        return Resource.passed(rid, name, "nosniff.", header=value)
    return Resource.failed(
        rid,
        name,
        "No X-Content-Type-Options header." if value is None else f"“{value}” is not nosniff.",
        "Send X-Content-Type-Options: nosniff.",
        header=value,
    )


def _referrer_policy(value: str | None) -> Resource:
    rid, name = "referrer-policy", "Referrer-Policy"
    fix = "Send Referrer-Policy: strict-origin-when-cross-origin (or no-referrer)."
    if value is None or not value.strip():
        return Resource.failed(rid, name, "No Referrer-Policy header.", fix, header=value)
    known = [
        t for t in (p.strip().lower() for p in value.split(",")) if t in KNOWN_REFERRER_POLICIES
    ]
    if not known:
        return Resource.failed(
            rid, name, f"“{value}” is no policy browsers know.", fix, header=value, effective=None
        )
    effective = known[-1]
    if effective not in SAFE_REFERRER_POLICIES:
        return Resource.failed(
            rid,
            name,
            f"{effective} sends the full address, path and query, to other sites.",
            fix,
            header=value,
            effective=effective,
        )
    return Resource.passed(rid, name, f"{effective}.", header=value, effective=effective)


def _ssl_reason(exc: BaseException) -> str | None:
    """The TLS failure behind an httpx error, if there is one."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return str(seen.verify_message or seen.reason)
        if isinstance(seen, ssl.SSLError):
            return str(seen.reason or seen)
        seen = seen.__cause__ or seen.__context__
    return None


@register
class SecurityHeaders(Check):
    key = "web.security_headers"
    title = "A web page sends the security headers"
    description = (
        "Fetches an https:// page (following redirects) and checks, one result each: HSTS of at "
        "least 180 days, a Content-Security-Policy, protection against framing, "
        "X-Content-Type-Options: nosniff and a Referrer-Policy that does not leak addresses."
    )
    Parameters = SecurityHeadersParameters
    time_limit = 60

    def run(self, context: CheckContext) -> Iterable[Resource]:
        url = str(context.parameters["url"])
        require_csp = context.parameters.get("require_csp", True) is not False
        try:
            with (
                _guarded_client(context.timeout) as client,
                client.stream("GET", url) as response,  # the body is never read
            ):
                status = response.status_code
                headers = response.headers
                final_url = str(response.url)
        except httpx.TimeoutException as exc:
            raise CheckError(f"{url} did not answer within {context.timeout:g} s.") from exc
        except httpx.TooManyRedirects as exc:
            raise CheckError(f"{url} redirects too many times.") from exc
        except httpx.HTTPError as exc:
            reason = _ssl_reason(exc)
            if reason is not None:
                raise CheckError(f"TLS with {url} failed: {reason}.") from exc
            raise CheckError(f"Could not fetch {url}: {exc or type(exc).__name__}.") from exc
        if final_url != url:
            context.log(f"Redirected to {final_url}.")
        context.log(f"{final_url} answered {status}.")
        if status >= 500:
            raise CheckError(f"{final_url} answered {status}: the server failed, nothing checked.")
        if status >= 400:
            raise CheckError(f"{final_url} answered {status}: the page to check is not there.")
        enforced = headers.get_list("content-security-policy")
        report_only = headers.get_list("content-security-policy-report-only")
        hsts = headers.get_list("strict-transport-security")
        results = [
            _hsts(hsts[0] if hsts else None, final_url),  # browsers honour the first one
            _csp(enforced, report_only, require_csp),
            _clickjacking(headers.get("x-frame-options"), enforced),
            _nosniff(headers.get("x-content-type-options")),
            _referrer_policy(headers.get("referrer-policy")),
        ]
        raw = {"url": url, "final_url": final_url, "status": status}
        return [replace(r, raw={**raw, **r.raw}) for r in results]


# --- TLS certificate and versions ---------------------------------------------------------------

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def clean_host(value: str) -> str:
    """A DNS name (IDN names in their ASCII form) or an IP address; ValidationError otherwise."""
    host = value.strip().lower()
    if "://" in host or "/" in host:
        raise ValidationError("Give the host name alone, without https:// or a path.")
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        pass
    host = host.rstrip(".")
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_host = ""
    labels = ascii_host.split(".")
    if not ascii_host or len(ascii_host) > 253 or not all(_LABEL.match(x) for x in labels):
        raise ValidationError(f"“{value}” is not a host name or an IP address.")
    return ascii_host


class TlsParameters(forms.Form):
    host = forms.CharField(max_length=253, help_text="Host name or IP address, e.g. example.com.")
    port = forms.IntegerField(
        min_value=1, max_value=65535, required=False, help_text="Default 443."
    )
    min_days = forms.IntegerField(
        label="Minimum days before expiry",
        min_value=0,
        max_value=365,
        required=False,
        help_text="Fail when the certificate expires in fewer days than this (default 21).",
    )

    def clean_host(self) -> str:
        return clean_host(self.cleaned_data["host"])

    def clean_port(self) -> int:
        port = self.cleaned_data.get("port")
        return 443 if port is None else port

    def clean_min_days(self) -> int:
        days = self.cleaned_data.get("min_days")
        return 21 if days is None else days


def _connect(host: str, port: int, timeout: float) -> socket.socket:
    where = f"{host}:{port}"
    # Connect to the addresses that were checked, not to a second resolution of the name,
    # trying each in turn as socket.create_connection does.
    addresses = resolve_public(host, port)
    try:
        for address in addresses[:-1]:
            try:
                return socket.create_connection((address, port), timeout=timeout)
            except OSError:
                continue
        return socket.create_connection((addresses[-1], port), timeout=timeout)
    except ConnectionRefusedError as exc:
        raise CheckError(f"{where} refused the connection.") from exc
    except TimeoutError as exc:
        raise CheckError(f"{where} did not answer within {timeout:g} s.") from exc
    except OSError as exc:
        raise CheckError(f"Cannot connect to {where}: {exc.strerror or exc}.") from exc


def _handshake(
    host: str, port: int, timeout: float, tls: ssl.SSLContext
) -> tuple[bytes | None, str | None]:
    """Handshake with ``tls``; the peer's certificate (DER) and the version agreed.

    Raises ssl.SSLError when the handshake fails and CheckError when the host cannot be reached.
    """
    with _connect(host, port, timeout) as raw:
        try:
            with tls.wrap_socket(raw, server_hostname=host) as conn:
                return conn.getpeercert(binary_form=True), conn.version()
        except TimeoutError as exc:
            raise CheckError(f"{host}:{port} did not finish the TLS handshake within "
                             f"{timeout:g} s.") from exc  # fmt: skip


def _probing_context(version: ssl.TLSVersion) -> ssl.SSLContext:
    """A client that offers only ``version`` and every cipher, verifying nothing: it asks what
    the server accepts, not whom it talks to."""
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    tls.check_hostname = False
    tls.verify_mode = ssl.CERT_NONE
    tls.set_ciphers("ALL:@SECLEVEL=0")  # OpenSSL offers no TLS 1.0/1.1 cipher at its default level
    tls.minimum_version = version
    tls.maximum_version = version
    return tls


def _cannot_offer(version: ssl.TLSVersion) -> str | None:
    """Why this Python and OpenSSL cannot offer ``version``; None when they can.

    Writes a ClientHello into memory: OpenSSL refuses to produce one when the version or every
    cipher for it is compiled out or forbidden by its configuration.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            tls = _probing_context(version)
        tls.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO()).do_handshake()
    except ssl.SSLWantReadError:
        return None  # the ClientHello is written; it waits for the server's answer
    except (ssl.SSLError, ValueError) as exc:
        return str(exc)
    return "unexpected handshake without a server"  # pragma: no cover


LEGACY_VERSIONS = (("TLSv1", "TLS 1.0"), ("TLSv1_1", "TLS 1.1"))


@register
class TlsCertificate(Check):
    key = "web.tls_certificate"
    title = "A host's TLS certificate is valid and old TLS is off"
    description = (
        "Connects to a host (port 443 by default) and checks, one result each: the certificate "
        "chain is trusted and names the host, it does not expire within the given days (21 by "
        "default), and the server refuses TLS 1.0 and 1.1."
    )
    Parameters = TlsParameters
    time_limit = 120

    def run(self, context: CheckContext) -> Iterable[Resource]:
        host = str(context.parameters["host"])
        port = int(context.parameters.get("port") or 443)
        min_days = int(context.parameters.get("min_days", 21))
        where = f"{host}:{port}"
        raw: dict[str, Any] = {"host": host, "port": port, "trusted": _trust_label()}

        verifying = _verifying_context()
        verify_error = ""
        try:
            der, version = _handshake(host, port, context.timeout, verifying)
        except ssl.SSLCertVerificationError as exc:
            verify_error = str(exc.verify_message or exc.reason or exc)
            der, version = self._certificate_anyway(host, port, context.timeout)
        except ssl.SSLError as exc:
            raise CheckError(
                f"No TLS 1.2 or later handshake with {where}: {exc.reason or exc}."
            ) from exc
        except OSError as exc:  # reset or closed during the handshake
            raise CheckError(f"{where} closed the connection during the handshake: {exc}.") from exc
        if der is None:
            raise CheckError(f"{where} sent no certificate.")
        cert = x509.load_der_x509_certificate(der)
        not_after = cert.not_valid_after_utc
        raw |= {
            "version": version,
            "subject": cert.subject.rfc4514_string(),
            "issuer": cert.issuer.rfc4514_string(),
            "serial": format(cert.serial_number, "x"),
            "not_after": not_after.isoformat(),
        }
        context.log(
            f"{where}: {version}, certificate of {raw['subject']} until {not_after:%Y-%m-%d}."
        )
        return [
            self._chain(where, verify_error, raw),
            self._expiry(where, not_after, min_days, context.now, raw),
            self._legacy_versions(host, port, context, raw),
        ]

    @staticmethod
    def _certificate_anyway(
        host: str, port: int, timeout: float
    ) -> tuple[bytes | None, str | None]:
        """The certificate of a server whose chain did not verify, to report its dates too."""
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE
        try:
            return _handshake(host, port, timeout, tls)
        except (ssl.SSLError, OSError) as exc:
            raise CheckError(f"Could not read the certificate of {host}:{port}: {exc}.") from exc

    @staticmethod
    def _chain(where: str, verify_error: str, raw: dict[str, Any]) -> Resource:
        rid, name = "chain", f"Certificate chain of {where}"
        if verify_error:
            return Resource.failed(
                rid,
                name,
                f"Not trusted: {verify_error}.",
                "Serve a certificate for this host name from a public CA (or your configured "
                "CA), with its intermediate certificates.",
                **raw,
                verify_error=verify_error,
            )
        return Resource.passed(rid, name, f"Trusted by {raw['trusted']}; names the host.", **raw)

    @staticmethod
    def _expiry(
        where: str, not_after: dt.datetime, min_days: int, now: dt.datetime, raw: dict[str, Any]
    ) -> Resource:
        rid, name = "expiry", f"Certificate expiry of {where}"
        days = (not_after - now) // dt.timedelta(days=1)
        date = f"{not_after:%Y-%m-%d %H:%M} UTC"
        details = {**raw, "days_left": days, "min_days": min_days}
        if days < 0:
            message = f"Expired on {date}."
        elif days < min_days:
            message = f"Expires on {date}, in {days} days (fewer than {min_days})."
        else:
            return Resource.passed(rid, name, f"Expires on {date}, in {days} days.", **details)
        return Resource.failed(
            rid, name, message, "Renew the certificate, and check its automatic renewal.", **details
        )

    @staticmethod
    def _legacy_versions(
        host: str, port: int, context: CheckContext, raw: dict[str, Any]
    ) -> Resource:
        where = f"{host}:{port}"
        rid, name = "protocols", f"TLS versions of {where}"
        accepted: list[str] = []
        refused: list[str] = []
        untested: dict[str, str] = {}
        for attribute, label in LEGACY_VERSIONS:
            version = getattr(ssl.TLSVersion, attribute)
            reason = _cannot_offer(version)
            if reason is not None:
                untested[label] = reason
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                probe = _probing_context(version)
            try:
                _, agreed = _handshake(host, port, context.timeout, probe)
            except OSError as exc:  # an alert, a reset or a close: not accepted
                context.log(f"{label} refused: {getattr(exc, 'reason', None) or exc}.")
                refused.append(label)
                continue
            context.log(f"{label} accepted ({agreed}).")
            accepted.append(label)
        details = {"version": raw.get("version"), "accepted": accepted, "refused": refused,
                   "untested": untested}  # fmt: skip
        if accepted:
            return Resource.failed(
                rid,
                name,
                f"Accepts {' and '.join(accepted)}.",
                "Allow TLS 1.2 and 1.3 only in the server's or load balancer's TLS settings.",
                **details,
            )
        if untested:
            why = "; ".join(f"{label}: {reason}" for label, reason in untested.items())
            return Resource.not_applicable(
                rid, name, f"This Attest server's OpenSSL cannot offer old versions ({why}).",
                **details,
            )  # fmt: skip
        return Resource.passed(rid, name, "Refuses TLS 1.0 and 1.1.", **details)
