"""Password guessing meets nginx: rate limits (429), the admin allow-list (403).

The requests come from the scenario's acme host, a client on the lab network
as an attacker would be, and, for the allow-listed admin, from the list server
itself over the loopback (group_vars: listserver_admin_allowed_cidrs).
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest
import testinfra

# Sends N requests and prints their status codes as JSON. The certificate is
# not checked: test_web proves it, these tests count answers.
REQUESTS = """
import json, ssl, sys, urllib.error, urllib.request
url, method, count, host = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
ctx = ssl._create_unverified_context()
codes = []
for _ in range(count):
    req = urllib.request.Request(url, data=b"x=1" if method == "POST" else None, method=method)
    if host:
        req.add_header("Host", host)
    try:
        codes.append(urllib.request.urlopen(req, context=ctx, timeout=60).status)
    except urllib.error.HTTPError as err:
        codes.append(err.code)
print(json.dumps(codes))
"""

# nginx_auth_limit_burst and nginx_admin_limit_burst (role defaults).
AUTH_BURST = 10
ADMIN_BURST = 20

LIMITED_PATHS = [
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/postorius/lists/team.lab.test/subscribe",
    "/postorius/lists/team.lab.test/anonymous_subscribe",
]


def acme_host(fqdn: str) -> str:
    """The scenario's other lab host: acme.<scenario>.lab.test."""
    return "acme." + fqdn.split(".", 1)[1]


def from_acme(fqdn: str, path: str, method: str = "GET", count: int = 1) -> list[int]:
    result = subprocess.run(
        [
            "podman",
            "exec",
            acme_host(fqdn),
            "python3",
            "-c",
            REQUESTS,
            f"https://{fqdn}{path}",
            method,
            str(count),
            "",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def from_itself(
    host: testinfra.host.Host, fqdn: str, path: str, method: str = "GET", count: int = 1
) -> list[int]:
    result = host.run(
        "python3 -c %s %s %s %s %s", REQUESTS, f"https://127.0.0.1{path}", method, str(count), fqdn
    )
    assert result.rc == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("path", LIMITED_PATHS)
def test_password_guessing_gets_429_and_the_form_still_loads(
    host: testinfra.host.Host, fqdn: str, path: str
) -> None:
    codes = from_acme(fqdn, path, "POST", AUTH_BURST + 3)
    # The paths share one zone, so a later path may be limited from its first POST.
    assert codes[-1] == 429, f"POST {path}: {codes}"
    assert 500 not in codes, f"POST {path}: {codes}"
    if path == "/accounts/login/":
        # GETs are not counted: a human still sees the sign-in form.
        assert from_acme(fqdn, path) == [200]


def test_browsing_is_not_limited(host: testinfra.host.Host, fqdn: str) -> None:
    codes = from_acme(fqdn, "/postorius/lists/", "GET", AUTH_BURST + 3)
    assert set(codes) == {200}, codes


def test_limited_requests_are_logged_for_fail2ban(host: testinfra.host.Host, fqdn: str) -> None:
    from_acme(fqdn, "/accounts/login/", "POST", AUTH_BURST + 3)
    log = host.file("/var/log/nginx/access.log").content_string
    # nginx's default "combined" format, as fail2ban's nginx filters expect.
    combined = re.compile(
        r'^\S+ - \S+ \[[^\]]+\] "POST /accounts/login/ HTTP/[0-9.]+" 429 \d+ "[^"]*" "[^"]*"$',
        re.MULTILINE,
    )
    assert combined.search(log), log[-2000:]


def test_admin_refused_outside_the_allow_list(host: testinfra.host.Host, fqdn: str) -> None:
    assert from_acme(fqdn, "/admin/login/") == [403]


def test_admin_open_to_the_allow_list_and_limited(host: testinfra.host.Host, fqdn: str) -> None:
    assert from_itself(host, fqdn, "/admin/login/") == [200]
    codes = from_itself(host, fqdn, "/admin/login/", "POST", ADMIN_BURST + 3)
    assert codes[-1] == 429, codes
    assert from_itself(host, fqdn, "/admin/login/") == [200]
