"""Behaviour of the nginx role: HTTPS in front of a uwsgi app, pebble or self-signed certificates.

Each web host fetches its own name over the podman network, as a browser would.
Host names say the mode: acme* hosts use pebble, self* hosts a self-signed certificate.
"""

import time

import pytest
from testinfra.host import Host

PEBBLE = "pebble.nginx.lab.test"
PEBBLE_DIR = f"https://{PEBBLE}:14000/dir"
PEBBLE_LISTENER_CA = "/etc/ssl/lab/pebble-listener-ca.pem"
PEBBLE_ROOT = "/etc/ssl/lab/pebble-root.pem"
CERTBOT_ENV = f"REQUESTS_CA_BUNDLE={PEBBLE_LISTENER_CA}"


def name(host: Host) -> str:
    return host.backend.get_hostname()


def mode(host: Host) -> str | None:
    hostname = name(host)
    if hostname == PEBBLE:
        return None
    return "acme" if hostname.startswith("acme") else "selfsigned"


def run_ok(host: Host, command: str) -> str:
    """Run a command; on failure, fail with its output and nginx's journal."""
    result = host.run(command)
    if result.rc != 0:
        journal = host.run("journalctl -u nginx --no-pager -n 30").stdout
        pytest.fail(
            f"{command!r} -> {result.rc}\n{result.stdout}\n{result.stderr}\n"
            f"--- nginx journal\n{journal}"
        )
    return result.stdout


def trust_anchor(host: Host) -> str:
    """The CA a client needs: pebble's issuing root, or the self-signed certificate itself."""
    if mode(host) == "acme":
        run_ok(
            host,
            f"curl -sSf --cacert {PEBBLE_LISTENER_CA} -o {PEBBLE_ROOT} "
            f"https://{PEBBLE}:15000/roots/0",
        )
        return PEBBLE_ROOT
    return f"/etc/nginx/tls/{name(host)}/fullchain.pem"


def served_certificate(host: Host, options: str = "") -> str:
    fqdn = name(host)
    return (
        f"openssl s_client -connect {fqdn}:443 -servername {fqdn} {options} "
        "</dev/null 2>/dev/null | openssl x509 -noout"
    )


@pytest.fixture
def web(host: Host) -> Host:
    if mode(host) is None:
        pytest.skip("not a web host")
    return host


def test_pebble_serves_the_acme_directory(host: Host) -> None:
    if name(host) != PEBBLE:
        pytest.skip("pebble only")
    assert host.service("pebble").is_running
    run_ok(host, f"curl -sSf --cacert /etc/pebble/ca.pem {PEBBLE_DIR}")


def test_nginx_runs_with_a_valid_configuration(web: Host) -> None:
    assert web.service("nginx").is_running
    assert web.service("nginx").is_enabled
    run_ok(web, "nginx -t")
    assert not web.file("/etc/nginx/sites-enabled/default").exists


def test_http_redirects_to_https(web: Host) -> None:
    url = f"http://{name(web)}/some/page?x=1"
    out = run_ok(web, f"curl -sS -o /dev/null -w '%{{http_code}} %{{redirect_url}}' '{url}'")
    assert out == f"301 https://{name(web)}/some/page?x=1"


def test_https_serves_the_app_through_uwsgi_with_hsts(web: Host) -> None:
    anchor = trust_anchor(web)
    out = run_ok(web, f"curl -sSf -D - --cacert {anchor} https://{name(web)}/")
    headers, _, body = out.partition("\r\n\r\n")
    assert body == "stand-in mailman3-web https=on\n"
    assert "strict-transport-security: max-age=31536000" in headers.lower()


def test_static_files_are_served_with_long_cache_headers(web: Host) -> None:
    anchor = trust_anchor(web)
    url = f"https://{name(web)}/mailman3/static/probe.txt"
    out = run_ok(web, f"curl -sSf -D - --cacert {anchor} {url}")
    headers, _, body = out.partition("\r\n\r\n")
    assert body == "static probe\n"
    assert "cache-control: max-age=2592000" in headers.lower()
    assert "strict-transport-security:" in headers.lower()


def test_served_certificate_verifies_and_names_the_host(web: Host) -> None:
    anchor = trust_anchor(web)
    fqdn = name(web)
    verify = f"-verify_hostname {fqdn} -CAfile {anchor} -verify_return_error"
    san = run_ok(web, served_certificate(web, verify) + " -ext subjectAltName")
    assert f"DNS:{fqdn}" in san
    if mode(web) == "acme":
        issuer = run_ok(web, f"openssl x509 -noout -issuer -in /etc/nginx/tls/{fqdn}/fullchain.pem")
        assert "Pebble" in issuer


def test_private_key_is_not_world_readable(web: Host) -> None:
    link = f"/etc/nginx/tls/{name(web)}/privkey.pem"
    real = web.file(run_ok(web, f"readlink -f {link}").strip())
    assert real.user == "root"
    assert real.mode & 0o007 == 0


def test_renewal_works_against_pebble(web: Host) -> None:
    if mode(web) != "acme":
        pytest.skip("acme only")
    run_ok(
        web,
        f"{CERTBOT_ENV} certbot renew --dry-run --no-random-sleep-on-renew --server {PEBBLE_DIR}",
    )
    unit_env = run_ok(web, "systemctl show certbot.service -p Environment")
    assert CERTBOT_ENV in unit_env


def test_renewal_reloads_nginx_through_the_deploy_hook(web: Host) -> None:
    if mode(web) != "acme":
        pytest.skip("acme only")
    serial = served_certificate(web) + " -serial"
    before = run_ok(web, serial)
    run_ok(
        web,
        f"{CERTBOT_ENV} certbot renew --force-renewal --no-random-sleep-on-renew "
        f"--server {PEBBLE_DIR}",
    )
    # The hook reloads nginx; new workers take a moment to replace the old ones.
    for _ in range(10):
        if run_ok(web, serial) != before:
            return
        time.sleep(0.5)
    pytest.fail(f"nginx still serves {before.strip()} after the renewal")
