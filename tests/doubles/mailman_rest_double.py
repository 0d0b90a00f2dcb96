#!/usr/bin/env python3
"""A stand-in for Mailman core's REST API (3.1), on loopback.

Only what the mailman_list module uses, with Mailman's form encoding and its
answers (JSON; errors as ``{"title": ..., "description": ...}``):

- ``GET/POST /3.1/domains[/{mail_host}]``
- ``POST /3.1/lists`` (``fqdn_listname``), ``DELETE /3.1/lists/{list_id}``
- ``GET/PATCH /3.1/lists/{list_id}/config`` (an unknown setting is a 400)
- ``GET /3.1/members/find`` (``list_id``, ``role``, ``fields``, ``count``, ``page``)
- ``POST /3.1/members`` (an existing membership is a 409),
  ``DELETE /3.1/members/{member_id}``
- ``DELETE /3.1/lists/{list_id}/roster/member`` (``emails``: mass unsubscription)

Basic authentication is checked (401 otherwise) and every request is logged,
so tests can count requests. Standalone::

    python tests/doubles/mailman_rest_double.py --port 8001 --password P
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

# A new list's configuration, as far as the tests need it (Mailman's defaults).
DEFAULT_CONFIG: dict[str, Any] = {
    "description": "",
    "advertised": True,
    "dmarc_mitigate_action": "no_mitigation",
    "dmarc_mitigate_unconditionally": False,
    "reply_goes_to_list": "no_munging",
    "first_strip_reply_to": False,
    "admin_notify_mchanges": False,
    "send_welcome_message": True,
    "max_message_size": 40,
    "acceptable_aliases": [],
}
BOOLEAN = {"true": True, "yes": True, "1": True, "on": True}


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    status: int


@dataclass
class Member:
    member_id: str
    list_id: str
    email: str
    role: str
    display_name: str = ""


@dataclass
class MailmanState:
    """Everything the double knows; guarded by ``lock``."""

    password: str
    user: str = "restadmin"
    domains: set[str] = field(default_factory=set)
    lists: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[str, Member] = field(default_factory=dict)
    log: list[RecordedRequest] = field(default_factory=list)
    # False: /members/find refuses ``fields`` as Mailman before 3.3.8 does.
    find_fields: bool = True
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1), repr=False)

    def add_list(self, fqdn: str, **config: Any) -> str:
        name, domain = fqdn.split("@")
        self.domains.add(domain)
        list_id = f"{name}.{domain}"
        self.lists[list_id] = {**DEFAULT_CONFIG, "fqdn_listname": fqdn, **config}
        return list_id

    def add_member(self, list_id: str, email: str, role: str = "member") -> Member:
        member = Member(f"m{next(self.ids):06d}", list_id, email, role)
        self.members[member.member_id] = member
        return member

    def roster(self, list_id: str, role: str) -> list[str]:
        return sorted(
            m.email for m in self.members.values() if m.list_id == list_id and m.role == role
        )


class Answer(Exception):
    def __init__(self, status: int, payload: Any = None) -> None:
        super().__init__(status)
        self.status = status
        self.payload = payload


def error(status: int, description: str) -> Answer:
    return Answer(status, {"title": str(status), "description": description})


def one(form: dict[str, list[str]], key: str) -> str:
    values = form.get(key)
    if not values:
        raise error(400, f"Missing parameters: {key}")
    return values[0]


def convert(current: Any, value: str) -> Any:
    """A form value as Mailman's validators read it for a setting of this type."""
    if isinstance(current, bool):
        return value.lower() in BOOLEAN
    if isinstance(current, int):
        return int(value)
    return value


class MailmanHandler(BaseHTTPRequestHandler):
    server: MailmanServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _handle(self, method: str) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        form = parse_qs(raw, keep_blank_values=True)
        with state.lock:
            try:
                self._authorise(state)
                status, payload = 200, self._answer(state, method, unquote(parts.path), query, form)
                if payload is None:
                    status = 204 if method != "POST" else 201
            except Answer as answer:
                status, payload = answer.status, answer.payload
            state.log.append(RecordedRequest(method, parts.path, query, form, status))
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        if data:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorise(self, state: MailmanState) -> None:
        token = base64.b64encode(f"{state.user}:{state.password}".encode()).decode()
        if self.headers.get("Authorization") != f"Basic {token}":
            raise error(401, "User is not authorized for the REST API")

    def _answer(
        self,
        state: MailmanState,
        method: str,
        path: str,
        query: dict[str, list[str]],
        form: dict[str, list[str]],
    ) -> Any:
        if not path.startswith("/3.1/"):
            raise error(404, "only API 3.1")
        parts = path[len("/3.1/") :].rstrip("/").split("/")
        match (method, parts):
            case ("GET", ["domains", mail_host]):
                if mail_host not in state.domains:
                    raise error(404, "404 Not Found")
                return {"mail_host": mail_host}
            case ("POST", ["domains"]):
                mail_host = one(form, "mail_host")
                if mail_host in state.domains:
                    raise error(400, "Duplicate email host")
                state.domains.add(mail_host)
                return None
            case ("POST", ["lists"]):
                fqdn = one(form, "fqdn_listname")
                name, _, domain = fqdn.partition("@")
                if domain not in state.domains:
                    raise error(400, f"Domain does not exist: {domain}")
                if f"{name}.{domain}" in state.lists:
                    raise error(400, "Mailing list exists")
                state.add_list(fqdn)
                return None
            case ("DELETE", ["lists", list_id]):
                self._list(state, list_id)
                del state.lists[list_id]
                for member_id in [m.member_id for m in state.members.values()]:
                    if state.members[member_id].list_id == list_id:
                        del state.members[member_id]
                return None
            case ("GET", ["lists", list_id, "config"]):
                return dict(self._list(state, list_id))
            case ("PATCH", ["lists", list_id, "config"]):
                config = self._list(state, list_id)
                unknown = sorted(key for key in form if key not in config)
                if unknown:
                    raise error(400, f"Unknown attribute: {', '.join(unknown)}")
                for key, values in form.items():
                    if isinstance(config[key], list):
                        config[key] = values
                    else:
                        config[key] = convert(config[key], values[0])
                return None
            case ("DELETE", ["lists", list_id, "roster", "member"]):
                self._list(state, list_id)
                emails = {e.lower() for e in form.get("emails", [])}
                done = {}
                for member in list(state.members.values()):
                    key = member.email.lower()
                    if member.list_id == list_id and member.role == "member" and key in emails:
                        del state.members[member.member_id]
                        done[member.email] = True
                return {**{e: False for e in emails}, **done}
            case ("GET", ["members", "find"]):
                return self._find(state, query)
            case ("POST", ["members"]):
                list_id = one(form, "list_id")
                self._list(state, list_id)
                email, role = one(form, "subscriber"), form.get("role", ["member"])[0]
                for member in state.members.values():
                    if (member.list_id, member.role, member.email.lower()) == (
                        list_id,
                        role,
                        email.lower(),
                    ):
                        raise error(409, "Member already subscribed")
                member = state.add_member(list_id, email, role)
                member.display_name = form.get("display_name", [""])[0]
                return None
            case ("DELETE", ["members", member_id]):
                if state.members.pop(member_id, None) is None:
                    raise error(404, "404 Not Found")
                return None
        raise error(404, f"no such resource: {method} {path}")

    @staticmethod
    def _list(state: MailmanState, list_id: str) -> dict[str, Any]:
        if list_id not in state.lists:
            raise error(404, "404 Not Found")
        return state.lists[list_id]

    @staticmethod
    def _find(state: MailmanState, query: dict[str, list[str]]) -> dict[str, Any]:
        list_id = query.get("list_id", [None])[0]
        role = query.get("role", [None])[0]
        found = [
            m
            for m in sorted(state.members.values(), key=lambda m: m.member_id)
            if (list_id is None or m.list_id == list_id) and (role is None or m.role == role)
        ]
        if "fields" in query and not state.find_fields:
            raise error(400, "Unexpected parameters: fields")
        fields = query.get("fields") or ["email", "role", "member_id", "list_id", "display_name"]
        count = int(query.get("count", [len(found) or 1])[0])
        page = int(query.get("page", ["1"])[0])
        chosen = found[(page - 1) * count : page * count]
        entries = [{name: getattr(m, name) for name in fields} for m in chosen]
        result: dict[str, Any] = {"start": (page - 1) * count, "total_size": len(found)}
        if entries:
            result["entries"] = entries
        return result


class MailmanServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: MailmanState) -> None:
        super().__init__(address, MailmanHandler)
        self.state = state


class MailmanRestDouble:
    """The double on a random 127.0.0.1 port, in a thread; a context manager."""

    def __init__(self, state: MailmanState) -> None:
        self.state = state
        self.server = MailmanServer(("127.0.0.1", 0), self.state)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def requests(self, method: str | None = None, pattern: str = "") -> list[RecordedRequest]:
        with self.state.lock:
            return [
                r
                for r in self.state.log
                if (method is None or r.method == method) and re.search(pattern, r.path)
            ]

    def __enter__(self) -> MailmanRestDouble:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--user", default="restadmin")
    parser.add_argument("--password", required=True)
    args = parser.parse_args()
    state = MailmanState(user=args.user, password=args.password)
    with MailmanServer((args.bind, args.port), state) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
