"""Smoke tests from outside: what a browser and the Internet see at the host's address."""

from __future__ import annotations

import http.client
import smtplib
import socket
import ssl
from dataclasses import dataclass

import pytest
from conftest import Expected

TIMEOUT = 10
# Ports that must not answer from outside: the security group and the
# loopback-only listeners both keep them closed.
INTERNAL_PORTS = {8001: "Mailman REST API", 8024: "LMTP", 8000: "archiver", 5432: "PostgreSQL"}


@dataclass(frozen=True)
class Page:
    status: int
    location: str | None
    hsts: str | None
    body: str


class _AddressedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a given address, with the FQDN as SNI, Host header and certificate name."""

    def __init__(self, fqdn: str, address: str, context: ssl.SSLContext) -> None:
        super().__init__(fqdn, 443, timeout=TIMEOUT, context=context)
        self.address = address
        self.tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self.address, 443), TIMEOUT)
        self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)


def served_certificate(address: str, fqdn: str) -> str:
    """The certificate the host presents for `fqdn`, as PEM (not verified)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection((address, 443), TIMEOUT) as raw,
        context.wrap_socket(raw, server_hostname=fqdn) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der, "the host presented no certificate"
    return ssl.DER_cert_to_PEM_cert(der)


def tls_context(expected: Expected, address: str, ca_bundle: str | None) -> ssl.SSLContext:
    """Verifying context: the given CA bundle, else the system's; a self-signed
    deployment (and only that) is pinned to its own certificate. The name and the
    validity dates are checked in every case."""
    if ca_bundle:
        return ssl.create_default_context(cafile=ca_bundle)
    if expected.tls_mode == "selfsigned":
        return ssl.create_default_context(cadata=served_certificate(address, expected.fqdn))
    return ssl.create_default_context()


def get(expected: Expected, address: str, context: ssl.SSLContext | None, path: str) -> Page:
    """GET over HTTPS with `context`, or over plain HTTP when it is None."""
    conn: http.client.HTTPConnection
    if context is None:
        conn = http.client.HTTPConnection(address, 80, timeout=TIMEOUT)
        headers = {"Host": expected.fqdn}
    else:
        conn = _AddressedHTTPSConnection(expected.fqdn, address, context)
        headers = {}
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        body = resp.read().decode(errors="replace")
        hsts = resp.getheader("Strict-Transport-Security")
        return Page(resp.status, resp.getheader("Location"), hsts, body)
    finally:
        conn.close()


def test_https_certificate_is_valid_for_the_fqdn(
    expected: Expected, web_address: str, ca_bundle: str | None
) -> None:
    expected.require_group("web")
    context = tls_context(expected, web_address, ca_bundle)
    try:
        page = get(expected, web_address, context, "/")
    except ssl.SSLCertVerificationError as exc:
        pinned = "its own certificate, selfsigned" if expected.tls_mode == "selfsigned" else ""
        trust = ca_bundle or pinned or "the system's CA certificates"
        pytest.fail(f"https://{expected.fqdn} at {web_address}: {exc.verify_message} ({trust})")
    assert page.status in (200, 301, 302), page.status


@pytest.mark.parametrize(
    ("path", "marker"), [("/postorius/lists/", "Postorius"), ("/hyperkitty/", "HyperKitty")]
)
def test_https_serves_the_web_ui(
    expected: Expected, web_address: str, ca_bundle: str | None, path: str, marker: str
) -> None:
    expected.require_group("web")
    page = get(expected, web_address, tls_context(expected, web_address, ca_bundle), path)
    assert page.status == 200, f"https://{expected.fqdn}{path} answered {page.status}"
    assert marker in page.body, f"https://{expected.fqdn}{path} is not {marker}"


def test_https_sends_hsts(expected: Expected, web_address: str, ca_bundle: str | None) -> None:
    expected.require_group("web")
    page = get(expected, web_address, tls_context(expected, web_address, ca_bundle), "/")
    assert "max-age=" in (page.hsts or ""), "no Strict-Transport-Security header"


def test_http_redirects_to_https(expected: Expected, web_address: str) -> None:
    expected.require_group("web")
    page = get(expected, web_address, None, "/postorius/lists/?q=1")
    assert page.status in (301, 308), f"http:// answered {page.status}"
    assert page.location == f"https://{expected.fqdn}/postorius/lists/?q=1"


@pytest.mark.parametrize("port", list(INTERNAL_PORTS))
def test_internal_port_is_closed_from_outside(web_address: str, port: int) -> None:
    try:
        with socket.create_connection((web_address, port), timeout=5):
            pass
    except OSError:
        return
    pytest.fail(f"{INTERNAL_PORTS[port]} answers on {web_address}:{port}")


def test_public_address_is_not_an_open_relay(web_address: str) -> None:
    """Port 25 is closed from outside; if something answers, it refuses to relay."""
    try:
        smtp = smtplib.SMTP(web_address, 25, timeout=5)
    except OSError:
        return
    with smtp:
        smtp.ehlo("smoke-test.invalid")
        smtp.mail("smoke@example.net")
        code, reply = smtp.rcpt("relay-probe@example.com")
    assert code >= 400, f"{web_address}:25 accepted mail for another domain: {code} {reply!r}"
