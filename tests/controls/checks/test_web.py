"""The web checks against real HTTPS servers on loopback, with certificates made here.

A throwaway CA signs the leaf certificates; the tests trust it through WEB_CHECKS_CA_BUNDLE, as
an operator would trust a private CA.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.exceptions import ValidationError
from django.core.files.storage import storages

from controls.checks import CheckContext, CheckError, Resource, clean_parameters, get_check
from controls.checks.web import SecurityHeaders, TlsCertificate, _cannot_offer
from controls.models import Finding, RunStatus, TestRun, Trigger
from controls.monitoring.runner import execute_run
from controls.monitoring.services import control_test_create, organization_today
from tests.conftest import World

NOW = dt.datetime.now(dt.UTC)

# --- certificates -------------------------------------------------------------------------------


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@dataclass
class Leaf:
    chain: Path  # leaf certificate (and nothing else: the CA is the trust anchor)
    key: Path
    not_after: dt.datetime


@dataclass
class Pki:
    ca_bundle: Path
    valid: Leaf  # 127.0.0.1 and localhost, 90 days
    expiring: Leaf  # valid, but for 5 more days only
    expired: Leaf  # ended yesterday
    wrong_host: Leaf  # signed by the CA, for another name
    self_signed: Leaf  # for 127.0.0.1, signed by itself


def _leaf(
    folder: Path,
    label: str,
    *,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    names: list[x509.GeneralName],
    days: tuple[int, int] = (-1, 90),
) -> Leaf:
    key = _key()
    subject = _name(f"{label}.attest.test")
    issuer_name, issuer_key = issuer or (subject, key)
    not_after = NOW + dt.timedelta(days=days[1])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW + dt.timedelta(days=days[0]))
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(issuer_key, hashes.SHA256())
    )
    chain, key_file = folder / f"{label}.pem", folder / f"{label}.key"
    chain.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Leaf(chain, key_file, not_after.replace(microsecond=0))


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    ca_key, ca_name = _key(), _name("Attest Test CA")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=2))
        .not_valid_after(NOW + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    bundle = folder / "ca.pem"
    bundle.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    loopback = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    signed = (ca_name, ca_key)
    return Pki(
        ca_bundle=bundle,
        valid=_leaf(folder, "valid", issuer=signed, names=loopback),
        expiring=_leaf(folder, "expiring", issuer=signed, names=loopback, days=(-80, 5)),
        expired=_leaf(folder, "expired", issuer=signed, names=loopback, days=(-90, -1)),
        wrong_host=_leaf(
            folder, "wrong-host", issuer=signed, names=[x509.DNSName("wrong.attest.test")]
        ),
        self_signed=_leaf(folder, "self-signed", issuer=None, names=loopback),
    )


@pytest.fixture(autouse=True)
def trust_test_ca(settings: Any, pki: Pki) -> None:
    settings.WEB_CHECKS_CA_BUNDLE = str(pki.ca_bundle)


# --- servers ------------------------------------------------------------------------------------

GOOD_HEADERS = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "Content-Security-Policy": "default-src 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
ROUTES: dict[str, tuple[int, dict[str, str]]] = {
    "/good": (200, GOOD_HEADERS),
    "/missing": (200, {}),
    "/weak": (
        200,
        {
            "Strict-Transport-Security": "max-age=86400",
            "Content-Security-Policy-Report-Only": "default-src 'self'",
            "X-Frame-Options": "ALLOW-FROM https://partner.example",
            "X-Content-Type-Options": "sniff",
            "Referrer-Policy": "unsafe-url",
        },
    ),
    "/redirect": (302, {"Location": "/good"}),
    "/error": (500, {}),
    "/gone": (404, {}),
}
SLOW_SECONDS = 2.5
CHECK_TIMEOUT = 1.0


class Handler(BaseHTTPRequestHandler):
    """``/echo?Header=value&…`` answers with those headers, ``/to?url=…`` redirects there,
    ``/slow`` takes longer than the checks wait; other paths are in ROUTES."""

    server: Server

    def do_GET(self) -> None:
        self.server.user_agents.append(self.headers.get("User-Agent", ""))
        parts = urlsplit(self.path)
        query = parse_qsl(parts.query, keep_blank_values=True)
        if parts.path == "/slow":
            time.sleep(SLOW_SECONDS)
            status, headers = 200, list(GOOD_HEADERS.items())
        elif parts.path == "/to":
            status, headers = 302, [("Location", dict(query)["url"])]
        elif parts.path == "/echo":
            status, headers = 200, query
        else:
            status, fixed = ROUTES.get(parts.path, (404, {}))
            headers = list(fixed.items())
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Server(ThreadingHTTPServer):
    user_agents: list[str]

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # refused handshakes are what several tests are about


def _server_context(leaf: Leaf, *, legacy: bool = False) -> ssl.SSLContext:
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(leaf.chain, leaf.key)
    if legacy:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            tls.minimum_version = ssl.TLSVersion.TLSv1
        tls.set_ciphers("ALL:@SECLEVEL=0")
    else:
        tls.minimum_version = ssl.TLSVersion.TLSv1_2
    return tls


@contextmanager
def https_server(leaf: Leaf, *, legacy: bool = False) -> Iterator[Server]:
    server = Server(("127.0.0.1", 0), Handler)
    server.user_agents = []
    # The handshake happens in the request's thread: a client that stalls blocks nobody.
    server.socket = _server_context(leaf, legacy=legacy).wrap_socket(
        server.socket, server_side=True, do_handshake_on_connect=False
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _port(server: Server) -> int:
    return int(server.server_address[1])


@pytest.fixture
def site(pki: Pki) -> Iterator[Server]:
    with https_server(pki.valid) as server:
        yield server


@contextmanager
def silent_listener() -> Iterator[int]:
    """A port that accepts TCP connections (the kernel does) but never says a word."""
    with socket.create_server(("127.0.0.1", 0), backlog=8) as listener:
        yield listener.getsockname()[1]


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


# --- running a check ----------------------------------------------------------------------------


def run_check(check: type, **parameters: Any) -> dict[str, Resource]:
    cleaned = clean_parameters(check, parameters)
    lines: list[str] = []
    context = CheckContext(
        organization=None,  # type: ignore[arg-type]  # the web checks read neither
        control=None,  # type: ignore[arg-type]
        parameters=cleaned,
        log=lines.append,
        timeout=CHECK_TIMEOUT,
    )
    results = list(check().run(context))
    assert len({r.id for r in results}) == len(results)
    return {r.id: r for r in results}


def statuses(results: dict[str, Resource]) -> dict[str, str]:
    return {rid: r.status for rid, r in results.items()}


def headers_url(server: Server, path: str) -> str:
    return f"https://127.0.0.1:{_port(server)}{path}"


def legacy_server_refusal(leaf: Leaf) -> str:
    """Why a server context of this OpenSSL cannot speak TLS 1.0 and 1.1 ("" when it can),
    found by handshakes in memory with a client capped at each version."""
    server_context = _server_context(leaf, legacy=True)
    for version in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
        client_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        client_context.check_hostname, client_context.verify_mode = False, ssl.CERT_NONE
        client_context.set_ciphers("ALL:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            client_context.minimum_version = client_context.maximum_version = version
        to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
        client = client_context.wrap_bio(to_client, to_server)
        server = server_context.wrap_bio(to_server, to_client, server_side=True)
        done = {client: False, server: False}
        try:
            for _ in range(10):
                for end in (client, server):
                    if not done[end]:
                        try:
                            end.do_handshake()
                            done[end] = True
                        except ssl.SSLWantReadError:
                            pass
                if all(done.values()):
                    break
        except ssl.SSLError as exc:
            return f"{version.name}: {exc}"
        if not all(done.values()):
            return f"{version.name}: the handshake did not complete"
    return ""


def legacy_offerable() -> bool:
    return _cannot_offer(ssl.TLSVersion.TLSv1) is None and (
        _cannot_offer(ssl.TLSVersion.TLSv1_1) is None
    )


# --- web.security_headers: parameters ---------------------------------------------------------


def test_headers_parameters_default_to_requiring_a_csp() -> None:
    assert clean_parameters(SecurityHeaders, {"url": "https://example.com/login"}) == {
        "url": "https://example.com/login",
        "require_csp": True,
    }
    cleaned = clean_parameters(SecurityHeaders, {"url": "example.com", "require_csp": False})
    assert cleaned == {"url": "https://example.com", "require_csp": False}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"url": "http://example.com/"}, "url"),
        ({"url": "ftp://example.com/"}, "url"),
        ({"url": "https://admin:secret@example.com/"}, "url"),
        ({"url": "not a url"}, "url"),
        ({}, "url"),
        ({"url": "https://example.com", "follow": True}, "follow"),
        ({"url": "https://example.com", "require_csp": "maybe"}, "require_csp"),
    ],
)
def test_headers_parameters_refuse_bad_input_naming_the_field(
    data: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        clean_parameters(SecurityHeaders, data)
    assert list(caught.value.error_dict) == [field]


def test_both_checks_are_registered() -> None:
    assert get_check("web.security_headers") is SecurityHeaders
    assert get_check("web.tls_certificate") is TlsCertificate


# --- web.security_headers: verdicts ----------------------------------------------------------


def test_good_headers_pass_every_resource(site: Server) -> None:
    results = run_check(SecurityHeaders, url=headers_url(site, "/good"))
    assert statuses(results) == {
        "hsts": "pass",
        "csp": "pass",
        "clickjacking": "pass",
        "content-type-options": "pass",
        "referrer-policy": "pass",
    }
    assert results["hsts"].raw["max_age"] == 31536000
    assert results["clickjacking"].message == "X-Frame-Options DENY."
    assert site.user_agents == ["Attest security-headers check"]


def test_missing_headers_fail_every_resource_with_a_fix(site: Server) -> None:
    results = run_check(SecurityHeaders, url=headers_url(site, "/missing"))
    assert set(statuses(results).values()) == {"fail"}
    assert results["hsts"].message == "No Strict-Transport-Security header."
    assert "Neither X-Frame-Options" in results["clickjacking"].message
    assert all(r.remediation for r in results.values())
    assert results["csp"].raw["status"] == 200


def test_weak_headers_fail_and_say_what_was_sent(site: Server) -> None:
    results = run_check(SecurityHeaders, url=headers_url(site, "/weak"))
    assert set(statuses(results).values()) == {"fail"}
    assert "86400 s (1 day)" in results["hsts"].message
    assert results["hsts"].raw["max_age"] == 86400
    assert "Report-Only" in results["csp"].message
    assert "ALLOW-FROM" in results["clickjacking"].message
    assert results["content-type-options"].raw["header"] == "sniff"
    assert results["referrer-policy"].raw["effective"] == "unsafe-url"


def test_redirects_are_followed_and_the_final_page_is_judged(site: Server) -> None:
    results = run_check(SecurityHeaders, url=headers_url(site, "/redirect"))
    assert set(statuses(results).values()) == {"pass"}
    assert results["hsts"].raw["final_url"] == headers_url(site, "/good")


@pytest.mark.parametrize(
    ("headers", "resource", "status", "message"),
    [
        # HSTS: exactly 180 days is enough, one second less is not.
        ({"Strict-Transport-Security": "max-age=15552000"}, "hsts", "pass", "180 days"),
        ({"Strict-Transport-Security": "max-age=15551999"}, "hsts", "fail", "179 days"),
        ({"Strict-Transport-Security": 'max-age="31536000"'}, "hsts", "pass", "365 days"),
        ({"Strict-Transport-Security": "includeSubDomains"}, "hsts", "fail", "No valid max-age"),
        # A CSP frame-ancestors protects against framing without X-Frame-Options.
        (
            {"Content-Security-Policy": "default-src 'self'; frame-ancestors 'self'"},
            "clickjacking", "pass", "frame-ancestors 'self'",
        ),
        (
            {"Content-Security-Policy": "frame-ancestors *"},
            "clickjacking", "fail", "lets any site frame",
        ),
        ({"X-Frame-Options": "sameorigin"}, "clickjacking", "pass", "SAMEORIGIN"),
        ({"X-Content-Type-Options": "NoSniff"}, "content-type-options", "pass", "nosniff"),
        # Browsers use the last policy they know in a list.
        ({"Referrer-Policy": "no-referrer, unsafe-url"}, "referrer-policy", "fail", "full"),
        ({"Referrer-Policy": "unsafe-url, no-referrer"}, "referrer-policy", "pass", ""),
        ({"Referrer-Policy": "no-referrer-when-downgrade"}, "referrer-policy", "fail", "full"),
        ({"Referrer-Policy": "same-origin"}, "referrer-policy", "pass", ""),
        ({"Referrer-Policy": ""}, "referrer-policy", "fail", "No Referrer-Policy"),
        ({"Referrer-Policy": "sometimes"}, "referrer-policy", "fail", "no policy browsers know"),
    ],
)  # fmt: skip
def test_each_header_is_judged_on_its_value(
    site: Server, headers: dict[str, str], resource: str, status: str, message: str
) -> None:
    query = "&".join(f"{quote(k)}={quote(v)}" for k, v in headers.items())
    result = run_check(SecurityHeaders, url=headers_url(site, f"/echo?{query}"))[resource]
    assert (result.status, message in result.message) == (status, True), result.message


def test_a_page_that_ends_on_plain_http_fails_hsts(site: Server) -> None:
    plain = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    plain.user_agents = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=plain.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        target = f"http://127.0.0.1:{plain.server_address[1]}/good"
        results = run_check(SecurityHeaders, url=headers_url(site, f"/to?url={quote(target)}"))
    finally:
        plain.shutdown()
        plain.server_close()
        thread.join()
    assert results["hsts"].status == "fail"
    assert results["hsts"].message == f"The page ended on plain HTTP ({target})."
    assert results["csp"].raw["final_url"] == target


def test_a_missing_csp_is_not_applicable_when_not_required(site: Server) -> None:
    results = run_check(SecurityHeaders, url=headers_url(site, "/missing"), require_csp=False)
    assert results["csp"].status == "not_applicable"
    assert results["hsts"].status == "fail"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/error", "answered 500: the server failed"),
        ("/gone", "answered 404: the page to check is not there"),
        ("/slow", "did not answer within 1 s"),
    ],
)
def test_headers_check_cannot_decide_on_errors(site: Server, path: str, message: str) -> None:
    with pytest.raises(CheckError, match=message):
        run_check(SecurityHeaders, url=headers_url(site, path))


def test_headers_check_refuses_an_untrusted_certificate(pki: Pki) -> None:
    with https_server(pki.self_signed) as server, pytest.raises(CheckError) as caught:
        run_check(SecurityHeaders, url=headers_url(server, "/good"))
    assert "TLS with" in str(caught.value)
    assert "self-signed certificate" in str(caught.value)


def test_headers_check_reports_a_closed_port() -> None:
    with pytest.raises(CheckError, match="Could not fetch"):
        run_check(SecurityHeaders, url=f"https://127.0.0.1:{free_port()}/")


# --- web.tls_certificate: parameters ----------------------------------------------------------


def test_tls_parameters_have_defaults_and_normalise_the_host() -> None:
    assert clean_parameters(TlsCertificate, {"host": "Example.COM."}) == {
        "host": "example.com",
        "port": 443,
        "min_days": 21,
    }
    assert clean_parameters(TlsCertificate, {"host": "bücher.example", "port": 8443})["host"] == (
        "xn--bcher-kva.example"
    )
    assert clean_parameters(TlsCertificate, {"host": "[::1]"})["host"] == "::1"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"host": "https://example.com"}, "host"),
        ({"host": "example.com/login"}, "host"),
        ({"host": "bad host"}, "host"),
        ({"host": "-bad.example"}, "host"),
        ({"host": "under_score.example"}, "host"),
        ({"host": "a" * 64 + ".example"}, "host"),
        ({"host": ""}, "host"),
        ({"host": "example.com", "port": 0}, "port"),
        ({"host": "example.com", "port": 65536}, "port"),
        ({"host": "example.com", "min_days": -1}, "min_days"),
        ({"host": "example.com", "sni": "other"}, "sni"),
    ],
)
def test_tls_parameters_refuse_bad_input_naming_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        clean_parameters(TlsCertificate, data)
    assert list(caught.value.error_dict) == [field]


# --- web.tls_certificate: verdicts -----------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_valid_certificate_on_modern_tls_passes(site: Server, pki: Pki, host: str) -> None:
    results = run_check(TlsCertificate, host=host, port=_port(site))
    assert results["chain"].status == "pass"
    assert results["expiry"].status == "pass"
    assert results["expiry"].raw["days_left"] in (89, 90)
    assert results["expiry"].raw["not_after"] == pki.valid.not_after.isoformat()
    assert results["chain"].raw["version"] in ("TLSv1.2", "TLSv1.3")
    protocols = results["protocols"]
    if legacy_offerable():  # the server refuses both old versions the probes offer
        assert (protocols.status, protocols.raw["refused"]) == ("pass", ["TLS 1.0", "TLS 1.1"])
    else:  # a client that cannot offer them cannot tell: no verdict rather than a guess
        assert protocols.status == "not_applicable"
        assert "cannot offer old versions" in protocols.message


def test_a_server_that_accepts_tls_1_0_and_1_1_fails(pki: Pki) -> None:
    refusal = legacy_server_refusal(pki.valid)
    if refusal:
        pytest.skip(f"This OpenSSL cannot serve TLS 1.0/1.1 even at @SECLEVEL=0: {refusal}")
    with https_server(pki.valid, legacy=True) as server:
        results = run_check(TlsCertificate, host="127.0.0.1", port=_port(server))
    assert results["chain"].status == "pass"  # the modern handshake still verifies
    assert results["protocols"].status == "fail"
    assert results["protocols"].message == "Accepts TLS 1.0 and TLS 1.1."
    assert results["protocols"].raw["accepted"] == ["TLS 1.0", "TLS 1.1"]


def test_a_certificate_expiring_soon_fails_with_its_date(pki: Pki) -> None:
    with https_server(pki.expiring) as server:
        results = run_check(TlsCertificate, host="127.0.0.1", port=_port(server))
        lenient = run_check(TlsCertificate, host="127.0.0.1", port=_port(server), min_days=3)
    assert results["chain"].status == "pass"
    expiry = results["expiry"]
    assert expiry.status == "fail"
    assert f"{pki.expiring.not_after:%Y-%m-%d}" in expiry.message
    assert "fewer than 21" in expiry.message
    assert expiry.raw["days_left"] in (4, 5)
    assert lenient["expiry"].status == "pass"


def test_an_expired_certificate_fails_chain_and_expiry(pki: Pki) -> None:
    with https_server(pki.expired) as server:
        results = run_check(TlsCertificate, host="127.0.0.1", port=_port(server))
    assert results["chain"].status == "fail"
    assert "certificate has expired" in results["chain"].message
    assert results["expiry"].status == "fail"
    assert results["expiry"].message.startswith("Expired on")


@pytest.mark.parametrize(
    ("leaf", "reason"),
    [
        ("wrong_host", "mismatch, certificate is not valid for '127.0.0.1'"),
        ("self_signed", "self-signed certificate"),
    ],
)
def test_an_untrusted_certificate_fails_the_chain_with_the_reason(
    pki: Pki, leaf: str, reason: str
) -> None:
    with https_server(getattr(pki, leaf)) as server:
        results = run_check(TlsCertificate, host="127.0.0.1", port=_port(server))
    chain = results["chain"]
    assert chain.status == "fail"
    assert reason in chain.message
    assert chain.remediation
    assert results["expiry"].status == "pass"  # the dates are still read and judged


def test_without_the_bundle_the_system_cas_do_not_trust_the_test_ca(
    site: Server, settings: Any
) -> None:
    settings.WEB_CHECKS_CA_BUNDLE = ""
    results = run_check(TlsCertificate, host="127.0.0.1", port=_port(site))
    assert results["chain"].status == "fail"
    assert "unable to get local issuer certificate" in results["chain"].message
    assert results["chain"].raw["trusted"] == "system CAs"


def test_an_unreadable_bundle_is_an_error(site: Server, settings: Any, tmp_path: Path) -> None:
    settings.WEB_CHECKS_CA_BUNDLE = str(tmp_path / "missing.pem")
    with pytest.raises(CheckError, match="WEB_CHECKS_CA_BUNDLE"):
        run_check(TlsCertificate, host="127.0.0.1", port=_port(site))


def test_tls_check_cannot_decide_when_the_host_is_unreachable() -> None:
    with pytest.raises(CheckError, match="refused the connection"):
        run_check(TlsCertificate, host="127.0.0.1", port=free_port())
    with pytest.raises(CheckError, match=r"Cannot resolve attest-check\.invalid"):
        run_check(TlsCertificate, host="attest-check.invalid")
    with silent_listener() as port, pytest.raises(CheckError, match="within 1 s"):
        run_check(TlsCertificate, host="127.0.0.1", port=port)


def test_tls_check_cannot_decide_when_the_port_speaks_no_tls() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        with pytest.raises(CheckError, match=r"No TLS 1\.2 or later handshake"):
            run_check(TlsCertificate, host="127.0.0.1", port=int(server.server_address[1]))
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# --- through the engine -----------------------------------------------------------------------


def _queued_run(world: World, url: str) -> TestRun:
    test = control_test_create(
        actor=world.users["admin"],
        # No owner: at this commit the owner's email links to a page that does not exist yet.
        control=world.unowned_control,
        name="Login page headers",
        check_key="web.security_headers",
        parameters={"url": url},
        severity="high",
    )
    return TestRun.objects.create(
        control_test=test, organization=world.org, trigger=Trigger.MANUAL,
        requested_by=world.users["admin"],
    )  # fmt: skip


@pytest.mark.usefixtures("evidence_dir")
def test_a_failing_page_run_by_the_engine_opens_findings_and_records_evidence(
    world: World, site: Server, settings: Any
) -> None:
    run = _queued_run(world, headers_url(site, "/echo?X-Content-Type-Options=nosniff"))

    assert execute_run(run.pk, worker="test-worker") == RunStatus.FAILED

    run.refresh_from_db()
    assert (run.status, run.passed_count, run.failed_count, run.error) == ("failed", 1, 4, "")
    assert dict(run.results.values_list("resource_id", "status")) == {
        "hsts": "fail",
        "csp": "fail",
        "clickjacking": "fail",
        "content-type-options": "pass",
        "referrer-policy": "fail",
    }
    finding = Finding.objects.get(control_test=run.control_test, resource_id="hsts")
    assert finding.resolved_at is None
    today = organization_today(world.org)
    assert finding.due_date == today + dt.timedelta(days=settings.REMEDIATION_DAYS["high"])
    assert Finding.objects.filter(control_test=run.control_test, resolved_at=None).count() == 4
    revision = run.evidence_revision
    assert revision is not None
    with storages["evidence"].open(revision.storage_key) as stored:
        document = json.load(stored)
    assert document["run"]["status"] == "failed"
    assert {r["id"]: r["status"] for r in document["results"]}["hsts"] == "fail"
    assert "answered 200" in run.log


@pytest.mark.usefixtures("evidence_dir")
def test_a_server_error_makes_the_engine_record_an_error_run(world: World, site: Server) -> None:
    run = _queued_run(world, headers_url(site, "/error"))

    assert execute_run(run.pk, worker="test-worker") == RunStatus.ERROR

    run.refresh_from_db()
    assert run.status == "error"
    assert "answered 500: the server failed" in run.error
    assert (run.passed_count, run.failed_count, run.results.count()) == (0, 0, 0)
    assert not Finding.objects.filter(control_test=run.control_test).exists()
    assert run.evidence_revision is not None


# --- no probing of the internal network ---------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("localhost", ""),
        ("169.254.169.254", "169.254.169.254"),  # cloud instance metadata
        ("10.1.2.3", "10.1.2.3"),
        ("192.168.0.10", "192.168.0.10"),
        ("::1", "::1"),
    ],
)
def test_both_checks_refuse_hosts_that_are_not_public(
    site: Server, settings: Any, host: str, address: str
) -> None:
    settings.WEB_CHECKS_ALLOW_PRIVATE_ADDRESSES = False
    site.user_agents.clear()
    literal = f"[{host}]" if ":" in host else host
    with pytest.raises(CheckError, match=f"{host} resolves to {address}.*not a public address"):
        run_check(SecurityHeaders, url=f"https://{literal}:{_port(site)}/good")
    with pytest.raises(CheckError, match="WEB_CHECKS_ALLOW_PRIVATE_ADDRESSES"):
        run_check(TlsCertificate, host=host, port=_port(site))
    assert site.user_agents == []  # nothing reached the server


def test_a_public_page_that_redirects_inside_is_refused_at_the_redirect(
    site: Server, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard runs before every hop: a page that redirects to the cloud metadata address is
    stopped before the second request. Our loopback site stands in for a public one."""
    import controls.checks.web as web

    real = web.resolve_public

    def resolve(host: str, port: int) -> list[str]:
        return [host] if host == "127.0.0.1" else real(host, port)

    settings.WEB_CHECKS_ALLOW_PRIVATE_ADDRESSES = False
    monkeypatch.setattr(web, "resolve_public", resolve)
    site.user_agents.clear()
    url = headers_url(site, "/to?url=http://169.254.169.254/latest/meta-data/")
    with pytest.raises(CheckError, match=r"169\.254\.169\.254 resolves to 169\.254\.169\.254"):
        run_check(SecurityHeaders, url=url)
    assert len(site.user_agents) == 1  # the first page only


def test_a_host_whose_address_changes_after_the_check_is_not_dialled(
    site: Server, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name resolves to a public address when the request is vetted and to
    loopback a moment later. The connection dials what it vetted itself, so it is refused."""
    import controls.checks.web as web

    real = socket.getaddrinfo
    answers = iter(["8.8.8.8"])  # the first look-up looks public; every later one is loopback

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.test":
            return real(host, port, *args, **kwargs)
        address = next(answers, "127.0.0.1")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    settings.WEB_CHECKS_ALLOW_PRIVATE_ADDRESSES = False
    monkeypatch.setattr(web.socket, "getaddrinfo", getaddrinfo)
    site.user_agents.clear()
    with pytest.raises(CheckError, match=r"rebind\.test resolves to 127\.0\.0\.1, which is not"):
        run_check(SecurityHeaders, url=f"https://rebind.test:{_port(site)}/good")
    assert site.user_agents == []


def test_the_dialled_address_is_the_vetted_one_and_tls_still_names_the_host(
    site: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An operator allowing internal hosts: the name is resolved once per connection, dialled by
    address, and the certificate is still checked against the name (SNI and verification)."""
    import controls.checks.web as web

    real = socket.getaddrinfo
    lookups: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        lookups.append(str(host))
        if host == "localhost":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(web.socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    results = run_check(SecurityHeaders, url=f"https://localhost:{_port(site)}/good")
    assert results and all(r.status == "pass" for r in results.values())
    # The hook and the dialler looked "localhost" up; the socket layer was given an address.
    assert lookups.count("localhost") == 2
    assert "127.0.0.1" in lookups
