"""The web UI as members and browsers meet it (run on Debian 12 and 13).

HTTP requests go from the list server to its own public name, trusting only
pebble's current root, as a member's client would. The browser tests drive
headless Chromium on this machine (Debian's `chromium`, see mk/molecule.mk).
"""

from __future__ import annotations

import base64
import json
import os
import re
import select
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import testinfra
from conftest import run_python

# Runs on the list server. REQUESTS (JSON): [{path, host?, sni?, port?,
# headers?, scheme?}]. Answers [{status, headers, body} or {error}].
FETCH = """
import http.client, json, os, socket, ssl, urllib.request
lab = ssl.create_default_context(cafile="/etc/ssl/lab/pebble-listener-ca.pem")
root = urllib.request.urlopen("https://acme.default.lab.test:15000/roots/0", context=lab).read()
fqdn = os.environ["FQDN"]
out = []
for r in json.loads(os.environ["REQUESTS"]):
    ctx = ssl.create_default_context(cadata=root.decode())
    if r.get("sni", fqdn) != fqdn:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    try:
        if r.get("scheme", "https") == "https":
            conn = http.client.HTTPSConnection(fqdn, r.get("port", 443), context=ctx, timeout=30)
            sock = socket.create_connection((fqdn, r.get("port", 443)), 30)
            conn.sock = ctx.wrap_socket(sock, server_hostname=r.get("sni", fqdn))
        else:
            conn = http.client.HTTPConnection(fqdn, r.get("port", 80), timeout=30)
        conn.putrequest("GET", r["path"], skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", r.get("host", fqdn))
        for k, v in r.get("headers", {}).items():
            conn.putheader(k, v)
        conn.endheaders()
        resp = conn.getresponse()
        out.append({"status": resp.status, "headers": dict(resp.getheaders()),
                    "body": resp.read().decode("utf-8", "replace")})
    except Exception as e:
        out.append({"error": type(e).__name__ + ": " + str(e)})
print(json.dumps(out))
"""

LMTP_POST = """
import json, os, smtplib
from email.message import EmailMessage
m = EmailMessage()
m["From"] = "Alice <alice@outside.test>"
m["To"] = "team@lab.test"
m["Subject"] = "Web probe " + os.environ["WORD"]
m["Message-ID"] = "<" + os.environ["WORD"] + "@outside.test>"
m.set_content("This post carries the word " + os.environ["WORD"] + ".")
with smtplib.LMTP("127.0.0.1", 8024) as s:
    refused = s.send_message(m)
print(json.dumps({"refused": list(refused)}))
"""

# What Mailman core's HyperKitty archiver asks HyperKitty for the
# List-Archive: and Archived-At: headers (mailman_hyperkitty, "urls"), with
# the base URL and key of its own configuration file.
ARCHIVER_URLS = """
import configparser, json, os, urllib.parse, urllib.request
cfg = configparser.ConfigParser()
cfg.read("/etc/mailman3/mailman-hyperkitty.cfg")
base = cfg["general"]["base_url"]
key = cfg["general"]["api_key"]
out = {}
for name, extra in (("list_url", {}), ("permalink", {"msgid": os.environ["MSGID"]})):
    query = urllib.parse.urlencode({"mlist": "team@lab.test", **extra})
    url = urllib.parse.urljoin(base, "api/mailman/urls") + "?" + query
    req = urllib.request.Request(url, headers={"Authorization": "Token " + key})
    out[name] = json.load(urllib.request.urlopen(req, timeout=20))["url"]
print(json.dumps(out))
"""


@dataclass
class Answer:
    status: int | None
    headers: dict[str, str]
    body: str
    error: str | None


def fetch(host: testinfra.host.Host, fqdn: str, *requests: dict[str, Any]) -> list[Answer]:
    """GET each request from the list server itself; errors are returned, not raised."""
    raw = run_python(host, FETCH, FQDN=fqdn, REQUESTS=json.dumps(list(requests)))
    return [
        Answer(r.get("status"), r.get("headers", {}), r.get("body", ""), r.get("error"))
        for r in raw
    ]


def get(host: testinfra.host.Host, fqdn: str, path: str, **request: Any) -> Answer:
    return fetch(host, fqdn, {"path": path, **request})[0]


@dataclass
class Archived:
    """A post to team@lab.test and where HyperKitty shows it."""

    word: str
    message_id: str
    message_path: str
    thread_path: str


@pytest.fixture(scope="module")
def archived(host: testinfra.host.Host) -> Archived:
    fqdn = host.backend.get_hostname()
    word = "web" + uuid.uuid4().hex[:12]
    assert run_python(host, LMTP_POST, WORD=word)["refused"] == []
    message_id = f"<{word}@outside.test>"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        page = get(host, fqdn, f"/hyperkitty/search?q={word}")
        found = re.search(r'href="(/hyperkitty/list/team@lab\.test/message/[^"/]+/)"', page.body)
        if page.status == 200 and found:
            message_path = found.group(1)
            message = get(host, fqdn, message_path)
            thread = re.search(
                r'href="(/hyperkitty/list/team@lab\.test/thread/[^"/]+/)', message.body
            )
            assert thread, f"no thread link on {message_path}"
            return Archived(word, message_id, message_path, thread.group(1))
        time.sleep(3)
    log = host.run("tail -n 30 /var/log/mailman3/mailman.log /var/log/mailman3/web/mailman-web.log")
    pytest.fail(f"post {word} never showed up in the archive\n{log.stdout}")


def pages(archived: Archived) -> dict[str, str]:
    """The pages members read: list indexes, a list, its archive, a message, its thread."""
    return {
        "list index": "/postorius/lists/",
        "archive index": "/hyperkitty/",
        "list page": "/postorius/lists/team.lab.test/",
        "archive": "/hyperkitty/list/team@lab.test/",
        "message": archived.message_path,
        "thread": archived.thread_path,
    }


# Item 1: archive links ----------------------------------------------------------------------


def test_archive_links_mailman_puts_in_messages_name_the_web_host_and_open_the_message(
    host: testinfra.host.Host, fqdn: str, archived: Archived
) -> None:
    with host.sudo():
        urls = run_python(host, ARCHIVER_URLS, MSGID=archived.message_id)
    for name, url in urls.items():
        assert urlsplit(url).scheme == "https", (name, url)
        assert urlsplit(url).hostname == fqdn, f"{name} {url} does not name the web UI"
    listing = get(host, fqdn, urlsplit(urls["list_url"]).path)
    assert listing.status == 200, urls["list_url"]
    message = get(host, fqdn, urlsplit(urls["permalink"]).path)
    assert message.status == 200, urls["permalink"]
    assert f"Web probe {archived.word}" in message.body


# Item 2: sign-in methods --------------------------------------------------------------------

LINK = re.compile(r'(?:href|src)="([^"#]+)"')


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/signup/"])
def test_every_link_of_the_sign_in_pages_answers_without_server_error(
    host: testinfra.host.Host, fqdn: str, path: str
) -> None:
    page = get(host, fqdn, path)
    assert page.status == 200, page.error or page.status
    links = sorted(
        {
            urlsplit(urljoin(f"https://{fqdn}{path}", link.replace("&amp;", "&")))
            for link in LINK.findall(page.body)
        }
    )
    local = [u for u in links if u.hostname == fqdn and u.scheme == "https"]
    assert local, f"no links on {path}"
    answers = fetch(
        host, fqdn, *({"path": u.path + (f"?{u.query}" if u.query else "")} for u in local)
    )
    broken = [
        (u.geturl(), a.status or a.error)
        for u, a in zip(local, answers, strict=True)
        if a.status is None or a.status >= 500
    ]
    assert broken == [], f"links on {path} that fail"


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/signup/"])
def test_sign_in_pages_offer_no_unconfigured_social_provider(
    host: testinfra.host.Host, fqdn: str, path: str
) -> None:
    page = get(host, fqdn, path)
    assert page.status == 200
    providers = re.findall(r'href="/accounts/([a-z_]+)/login/', page.body)
    assert providers == [], f"{path} offers {providers}, none configured"
    for name in ("Fedora", "OpenID", "GitHub", "GitLab", "Google"):
        assert name not in page.body, f"{path} mentions {name}"


# Item 3: avatars -----------------------------------------------------------------------------


def test_no_page_names_gravatar(host: testinfra.host.Host, fqdn: str, archived: Archived) -> None:
    named = {name: path for name, path in pages(archived).items()}
    answers = fetch(host, fqdn, *({"path": path} for path in named.values()))
    for (name, path), answer in zip(named.items(), answers, strict=True):
        assert answer.status == 200, f"{name} {path}: {answer.status or answer.error}"
        assert "gravatar.com" not in answer.body, f"{name} {path} loads avatars from gravatar.com"


# Item 4: headers, forwarded headers, unknown names, the policy in a browser -------------------


def test_content_security_policy_on_every_page(
    host: testinfra.host.Host, fqdn: str, archived: Archived
) -> None:
    paths = [*pages(archived).values(), "/accounts/login/", "/mailman3/static/nonexistent"]
    for path, answer in zip(paths, fetch(host, fqdn, *({"path": p} for p in paths)), strict=True):
        policy = answer.headers.get("Content-Security-Policy", "")
        assert "default-src 'self'" in policy, f"{path}: {policy!r}"
        assert "frame-ancestors 'none'" in policy, f"{path}: {policy!r}"


def test_client_cannot_choose_the_host_or_scheme_django_sees(
    host: testinfra.host.Host, fqdn: str
) -> None:
    forged_host = get(host, fqdn, "/postorius/lists/", headers={"X-Forwarded-Host": "evil.test"})
    assert forged_host.status == 200, "a client's X-Forwarded-Host reached Django"
    # The archive's feed builds absolute links with the scheme Django thinks
    # the request came with.
    feed = get(
        host,
        fqdn,
        "/hyperkitty/list/team@lab.test/feed/",
        headers={"X-Forwarded-Proto": "http"},
    )
    assert feed.status == 200, feed.status
    assert f"https://{fqdn}/hyperkitty/" in feed.body
    assert f"http://{fqdn}/" not in feed.body, "a client's X-Forwarded-Proto reached Django"


def nginx_blocks(text: str) -> list[tuple[str, str]]:
    """(header, body) of every block in nginx -T output, nested ones too."""
    blocks: list[tuple[str, str]] = []
    stack: list[tuple[str, int]] = []
    start = 0
    for i, char in enumerate(text):
        if char == "{":
            header = text[start:i].strip().splitlines()[-1].strip() if text[start:i].strip() else ""
            stack.append((header, i + 1))
            start = i + 1
        elif char == "}":
            header, begin = stack.pop()
            blocks.append((header, text[begin:i]))
            start = i + 1
        elif char in ";\n":
            start = i + 1 if char == ";" else start
    return blocks


def test_every_location_that_reaches_the_app_sets_the_forwarded_headers(
    host: testinfra.host.Host,
) -> None:
    with host.sudo():
        dump = host.check_output("nginx -T 2>/dev/null")
    files = dict(
        re.findall(r"# configuration file (\S+):\n(.*?)(?=\n# configuration file |\Z)", dump, re.S)
    )
    snippet = files.get("/etc/nginx/snippets/listserver-app.conf", "")
    # The snippet is the only place that passes requests to the app...
    assert "uwsgi_pass" in snippet
    assert "uwsgi_param HTTP_X_FORWARDED_PROTO $scheme;" in snippet
    assert "uwsgi_param HTTP_X_FORWARDED_HOST $host;" in snippet
    for name, text in files.items():
        if name != "/etc/nginx/snippets/listserver-app.conf":
            assert not re.search(r"^\s*(uwsgi_pass|fastcgi_pass)\b", text, re.M), name
    # ...and no location proxies elsewhere except to an exporter.
    locations = [
        b
        for b in nginx_blocks(files["/etc/nginx/sites-enabled/listserver.conf"])
        if b[0].startswith("location")
    ]
    assert locations
    for header, body in locations:
        if "include /etc/nginx/snippets/listserver-app.conf;" in body:
            continue
        for upstream in re.findall(r"proxy_pass\s+(\S+);", body):
            assert upstream.startswith("http://127.0.0.1:"), header
            assert "/metrics" in upstream, header


def test_unknown_host_names_get_no_answer(host: testinfra.host.Host, fqdn: str) -> None:
    answers = fetch(
        host,
        fqdn,
        {"path": "/", "host": "unknown.test"},
        {"path": "/", "host": "unknown.test", "scheme": "http"},
        {"path": "/", "host": "unknown.test", "sni": "unknown.test"},
        {"path": "/postorius/lists/"},
    )
    for answer in answers[:3]:
        assert answer.status is None, f"an unknown Host: was answered {answer.status}"
    assert answers[3].status == 200, "the site's own name no longer answers"


# Headless Chromium over the DevTools pipe (fd 3 commands, fd 4 events).

# DevTools issues that mean something was blocked (others, such as quirks
# mode, are advice).
BLOCKING_ISSUES = {"ContentSecurityPolicyIssue", "MixedContentIssue"}


class Chromium:
    def __init__(self, resolve: dict[str, str]) -> None:
        self.profile = tempfile.TemporaryDirectory(prefix="listserver-chromium-")
        to_child, self._out = os.pipe()
        self._in, from_child = os.pipe()
        rules = ", ".join(f"MAP {name} {ip}" for name, ip in resolve.items())

        def wire() -> None:
            # Out of the way first: either end may itself be fd 3 or 4.
            commands, events = os.dup(to_child) + 100, os.dup(from_child) + 100
            os.dup2(to_child, commands)
            os.dup2(from_child, events)
            os.dup2(commands, 3)
            os.dup2(events, 4)

        self.proc = subprocess.Popen(  # preexec_fn: this test starts no threads
            [
                "chromium",
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--remote-debugging-pipe",
                f"--user-data-dir={self.profile.name}",
                f"--host-resolver-rules={rules}",
                # The TLS chain is checked elsewhere; here only the pages count.
                "--ignore-certificate-errors",
                "about:blank",
            ],
            preexec_fn=wire,
            close_fds=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE if os.environ.get("CHROMIUM_DEBUG") else subprocess.DEVNULL,
        )
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []

    def _read(self, timeout: float) -> dict[str, Any] | None:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._in], [], [], timeout)
            if not ready:
                return None
            chunk = os.read(self._in, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._next += 1
        command: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if session:
            command["sessionId"] = session
        os.write(self._out, json.dumps(command).encode() + b"\0")
        while True:
            message = self._read(60)
            if message is None:
                raise TimeoutError(method)
            if message.get("id") == self._next:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]
            self.events.append(message)

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            message = self._read(left)
            if message is None:
                return
            self.events.append(message)

    def problems(self, url: str) -> list[str]:
        """Console errors, uncaught exceptions and CSP violations while loading url."""
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Runtime", "Log", "Page", "Audits"):
            self.send(f"{domain}.enable", session)
        self.events.clear()
        self.send("Page.navigate", session, url=url)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(e.get("method") == "Page.loadEventFired" for e in self.events):
                break
            self.drain(0.5)
        # Scripts run after load (HyperKitty fetches thread parts then).
        self.drain(3)
        found = []
        for event in self.events:
            if event.get("sessionId") != session:
                continue
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append("exception: " + json.dumps(params["exceptionDetails"])[:300])
            elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
                found.append("console.error: " + json.dumps(params.get("args"))[:300])
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                entry = params["entry"]
                found.append(f"{entry['source']}: {entry['text']} ({entry.get('url', '')})")
            elif method == "Audits.issueAdded" and params["issue"]["code"] in BLOCKING_ISSUES:
                issue = params["issue"]
                found.append(f"issue {issue['code']}: {json.dumps(issue['details'])[:300]}")
        self.send("Target.closeTarget", targetId=target)
        return found

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        os.close(self._in)
        os.close(self._out)
        self.profile.cleanup()


@pytest.fixture(scope="module")
def browser(host: testinfra.host.Host) -> Iterator[Chromium]:
    fqdn = host.backend.get_hostname()
    if not Path("/usr/bin/chromium").exists():
        pytest.fail("Debian's chromium is not installed on this machine (make host-deps)")
    address = host.check_output("ip -4 -o addr show scope global | awk '{print $4}' | head -n1")
    chromium = Chromium({fqdn: address.split("/")[0]})
    yield chromium
    chromium.close()


PAGE_NAMES = ["list index", "archive index", "list page", "archive", "message", "thread"]


@pytest.mark.parametrize("page", PAGE_NAMES)
def test_page_runs_in_chromium_without_console_errors_or_policy_violations(
    browser: Chromium, fqdn: str, archived: Archived, page: str
) -> None:
    url = f"https://{fqdn}{pages(archived)[page]}"
    assert browser.problems(url) == [], f"{page} {url}"


def test_chromium_reports_a_policy_violation(
    browser: Chromium, host: testinfra.host.Host, fqdn: str
) -> None:
    """The browser check sees violations at all: a page that breaks the policy on purpose."""
    probe = "/mailman3/static/listserver-csp-probe.html"
    html = "<html><body><img src='https://example.test/x.png'></body></html>"
    encoded = base64.b64encode(html.encode()).decode()
    with host.sudo():
        host.check_output(
            f"echo {encoded} | base64 -d > /var/lib/mailman3/web/static/listserver-csp-probe.html"
        )
    try:
        problems = browser.problems(f"https://{fqdn}{probe}")
    finally:
        with host.sudo():
            host.run("rm -f /var/lib/mailman3/web/static/listserver-csp-probe.html")
    assert any("ContentSecurityPolicyIssue" in p and "example.test" in p for p in problems), (
        problems
    )
