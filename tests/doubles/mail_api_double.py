#!/usr/bin/env python3
"""A stand-in for the Infomaniak Mail API's mailbox aliases, on loopback.

Behaves like the documented API, strictly:

- ``GET    /1/mail_hostings/{id}/mailboxes/{mailbox}/aliases`` ->
  ``{"result":"success","data":{"enabled_alias":1,"aliases":[...]}}``
- ``POST   .../aliases`` body ``{"alias":"team"}`` (an existing alias is an error)
- ``DELETE .../aliases/{alias}`` (an unknown alias is a 404)
- ``PUT    .../aliases`` body ``{"aliases":[...]}`` replaces the whole set (logged,
  so tests can assert it is never used)
- errors: ``{"result":"error","error":{"code":"...","description":"..."}}``;
  401 on a wrong token, 403 on a token without the mail scope, 404 on an
  unknown hosting or mailbox.

Faults can be injected (the next N requests answer 429 with ``Retry-After`` or
503) and every request is logged. Standalone::

    python tests/doubles/mail_api_double.py --port 8080 --token T --hosting 1234 \
        --mailbox mailman [--state-file aliases.json] [--bind 127.0.0.1]

The state file holds ``{"aliases": [...]}``; it seeds the aliases when it exists
and is rewritten after every change.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import signal
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import unquote, urlsplit

ALIASES_PATH = re.compile(r"^/1/mail_hostings/([^/]+)/mailboxes/([^/]+)/aliases(?:/([^/]+))?/?$")
ALIAS = re.compile(r"^[a-z0-9][a-z0-9._+-]*$")


@dataclass(frozen=True)
class Fault:
    status: int
    retry_after: str | None = None


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    body: Any
    status: int
    authorization: str = field(repr=False)


@dataclass
class MailApiState:
    """Everything the double knows; guarded by ``lock``."""

    token: str
    hosting_id: str
    mailbox: str
    aliases: list[str] = field(default_factory=list)
    enabled_alias: int = 1
    scopeless_tokens: set[str] = field(default_factory=set)
    faults: collections.deque[Fault] = field(default_factory=collections.deque)
    log: list[RecordedRequest] = field(default_factory=list)
    state_file: Path | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def save(self) -> None:
        if self.state_file is None:
            return
        tmp = self.state_file.with_suffix(self.state_file.suffix + ".tmp")
        tmp.write_text(json.dumps({"aliases": self.aliases}, indent=2) + "\n")
        tmp.replace(self.state_file)

    @classmethod
    def load_aliases(cls, path: Path) -> list[str]:
        document = json.loads(path.read_text())
        aliases = document.get("aliases", []) if isinstance(document, dict) else document
        return [str(alias) for alias in aliases]


class MailApiHandler(BaseHTTPRequestHandler):
    server: MailApiServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def log_message(self, format: str, *args: object) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def _handle(self, method: str) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        with state.lock:
            status, payload, headers = self._answer(state, method, body)
            state.log.append(
                RecordedRequest(
                    method=method,
                    path=self.path,
                    body=body,
                    status=status,
                    authorization=self.headers.get("Authorization", ""),
                )
            )
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _answer(
        self, state: MailApiState, method: str, body: object
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if state.faults:
            fault = state.faults.popleft()
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            code = "too_many_requests" if fault.status == 429 else "service_unavailable"
            return fault.status, error(code, f"injected fault {fault.status}"), headers

        authorization = self.headers.get("Authorization", "")
        presented = (
            authorization.removeprefix("Bearer ") if authorization.startswith("Bearer ") else None
        )
        if presented in state.scopeless_tokens:
            return 403, error("forbidden", "The token does not have the required scope"), {}
        if presented != state.token:
            return 401, error("not_authorized", "Authentication required or token invalid"), {}

        match = ALIASES_PATH.match(urlsplit(self.path).path)
        if not match:
            return 404, error("route_not_found", "Route not found"), {}
        hosting, mailbox, alias = (unquote(part) if part else None for part in match.groups())
        if hosting != state.hosting_id:
            return 404, error("object_not_found", "Mail hosting not found"), {}
        if mailbox != state.mailbox:
            return 404, error("object_not_found", "Mailbox not found"), {}

        if method == "GET" and alias is None:
            return 200, success(state), {}
        if method == "POST" and alias is None:
            new = body.get("alias") if isinstance(body, dict) else None
            if not isinstance(new, str) or not ALIAS.match(new):
                return 422, error("validation_failed", "The alias field is invalid"), {}
            if new in state.aliases:
                return 400, error("alias_already_exists", f"The alias {new} already exists"), {}
            state.aliases.append(new)
            state.save()
            return 200, success(state), {}
        if method == "DELETE" and alias is not None:
            if alias not in state.aliases:
                return 404, error("object_not_found", f"Alias {alias} not found"), {}
            state.aliases.remove(alias)
            state.save()
            return 200, {"result": "success", "data": True}, {}
        if method == "PUT" and alias is None:
            new_set = body.get("aliases") if isinstance(body, dict) else None
            if not isinstance(new_set, list):
                return 422, error("validation_failed", "The aliases field is invalid"), {}
            state.aliases = [str(item) for item in new_set]
            state.save()
            return 200, success(state), {}
        return 405, error("method_not_allowed", "Method not allowed"), {}


def success(state: MailApiState) -> dict[str, Any]:
    return {
        "result": "success",
        "data": {"enabled_alias": state.enabled_alias, "aliases": list(state.aliases)},
    }


def error(code: str, description: str) -> dict[str, Any]:
    return {"result": "error", "error": {"code": code, "description": description}}


class MailApiServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: MailApiState, verbose: bool) -> None:
        super().__init__(address, MailApiHandler)
        self.state = state
        self.verbose = verbose


class MailApiDouble:
    """The double on a random loopback port, served from a background thread."""

    def __init__(
        self,
        token: str = "test-token-0123456789",  # noqa: S107 - a test token
        hosting_id: str = "1234",
        mailbox: str = "mailman",
        aliases: list[str] | None = None,
        state_file: Path | None = None,
        bind: str = "127.0.0.1",
        port: int = 0,
        verbose: bool = False,
    ) -> None:
        self.state = MailApiState(
            token=token,
            hosting_id=hosting_id,
            mailbox=mailbox,
            aliases=list(aliases or []),
            state_file=state_file,
        )
        self.bind = bind
        self.server = MailApiServer((bind, port), self.state, verbose)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.bind in ("", "0.0.0.0") else self.bind  # noqa: S104
        return f"http://{host}:{self.server.server_address[1]}"

    def start(self) -> MailApiDouble:
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is None:
            return
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
        self._thread = None

    def __enter__(self) -> MailApiDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test helpers -------------------------------------------------------

    def inject(self, status: int, count: int = 1, retry_after: str | None = None) -> None:
        """The next ``count`` requests answer ``status`` (429 or 5xx) instead."""
        with self.state.lock:
            self.state.faults.extend(Fault(status, retry_after) for _ in range(count))

    def set_aliases(self, aliases: list[str]) -> None:
        with self.state.lock:
            self.state.aliases = list(aliases)
            self.state.save()

    @property
    def aliases(self) -> list[str]:
        with self.state.lock:
            return list(self.state.aliases)

    @property
    def log(self) -> list[RecordedRequest]:
        with self.state.lock:
            return list(self.state.log)

    def calls(self, method: str | None = None) -> list[RecordedRequest]:
        return [entry for entry in self.log if method is None or entry.method == method]

    def clear_log(self) -> None:
        with self.state.lock:
            self.state.log.clear()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0, help="port (0: pick a free one)")
    parser.add_argument("--bind", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--token", required=True, help="the one valid Bearer token")
    parser.add_argument(
        "--scopeless-token",
        action="append",
        default=[],
        help="a token that is valid but lacks the mail scope (403)",
    )
    parser.add_argument("--hosting", required=True, help="the mail_hosting_id that exists")
    parser.add_argument("--mailbox", required=True, help="the mailbox (local part) that exists")
    parser.add_argument("--alias", action="append", default=[], help="an initial alias")
    parser.add_argument("--state-file", type=Path, help="JSON file of the current aliases")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)

    aliases = []
    if args.state_file is not None and args.state_file.exists():
        aliases = MailApiState.load_aliases(args.state_file)
    aliases += [alias for alias in args.alias if alias not in aliases]
    double = MailApiDouble(
        token=args.token,
        hosting_id=args.hosting,
        mailbox=args.mailbox,
        aliases=aliases,
        state_file=args.state_file,
        bind=args.bind,
        port=args.port,
        verbose=args.verbose,
    )
    double.state.scopeless_tokens.update(args.scopeless_token)
    double.state.save()

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(f"mail API double listening on {double.url}", flush=True)
    try:
        double.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        double.server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
