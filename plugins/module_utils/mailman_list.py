# Copyright: listserver maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One Mailman 3 list through the REST API: what to change (pure) and the client (I/O).

``plan_list`` compares what a list should be (``Wanted``, from the module's
arguments) with what Mailman has (``ListState``, read by ``MailmanClient.read``)
and returns a ``ListPlan``: the changes, the diff and the calls to make. It
does no I/O, so the unit tests exercise it without a server.
``MailmanClient`` talks to Mailman core's REST API (3.1) with ``open_url``.

Reading a list costs two requests up to 1,000 members: its configuration, and
every membership in one ``/members/find`` with only the fields compared (Mailman
3.3.8 and later; all fields from older ones), not one request per member; a
longer roster comes in pages of 1,000. Members are subscribed one
request each (the REST API has no mass subscription), several at a time, with
no welcome, confirmation or owner notification mail; members are removed in one
mass unsubscription request.

Given Mailman's configuration file (``mailman_config``, on the list server, run
as root), rosters are read, and long subscriptions made, by Mailman's own Python
API instead (``mailman_direct``): one process for every list of the run.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any
from urllib.parse import quote, urlencode

try:  # The planning must stay importable without ansible (unit tests of the pure parts).
    from ansible.module_utils.urls import open_url
except ImportError:  # pragma: no cover
    open_url = None

from ansible_collections.listserver.mailman3.plugins.module_utils.mailman_direct import (
    DirectError,
    DirectMailman,
    from_module,
)
from ansible_collections.listserver.mailman3.plugins.module_utils.provider_aliases import (
    validate_list_name,
)

# The options of one list (the role's mailman_lists_definitions entries add
# members_file, read on the controller, to these).
LIST_OPTIONS: dict[str, dict[str, Any]] = {
    "name": {"type": "str", "required": True},
    "domain": {"type": "str", "required": True},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "description": {"type": "str"},
    "settings": {"type": "dict", "default": {}},
    "owners": {"type": "list", "elements": "str", "default": []},
    "moderators": {"type": "list", "elements": "str", "default": []},
    "members": {"type": "list", "elements": "raw", "default": []},
    "members_exclusive": {"type": "bool", "default": False},
    "exclusive_roles": {"type": "bool", "default": False},
}
CONNECTION_OPTIONS: dict[str, dict[str, Any]] = {
    "rest_url": {"type": "str", "default": "http://127.0.0.1:8001"},
    "rest_user": {"type": "str", "default": "restadmin"},
    "rest_password": {"type": "str", "required": True, "no_log": True},
    "timeout": {"type": "int", "default": 300},
    "concurrency": {"type": "int", "default": 4},
    "mailman_config": {"type": "path"},
    "mailman_user": {"type": "str", "default": "list"},
    "bulk_threshold": {"type": "int", "default": 100},
}

ROLES = ("owner", "moderator", "member")
ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
DOMAIN = re.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}$")
# Members subscribed by this module never get mail about it.
SUBSCRIPTION_FLAGS = {
    "pre_verified": "True",
    "pre_confirmed": "True",
    "pre_approved": "True",
}
# Listed by address in a change line up to this many, then counted.
SHOWN = 5
# Memberships read per request. Mailman's REST worker is killed after 30 s on
# one request; on the busy lab a page of 2,000 once took 33 s.
PAGE_SIZE = 1000


def argument_spec() -> dict[str, Any]:
    """mailman_list's argument spec: one list's options and the connection."""
    return {**LIST_OPTIONS, **CONNECTION_OPTIONS}


# ---------------------------------------------------------------------------
# What is wanted


@dataclass(frozen=True)
class Person:
    """An address with the display name to subscribe it with."""

    address: str
    display_name: str = ""

    @property
    def key(self) -> str:
        return self.address.lower()


def parse_person(item: object, what: str) -> Person:
    """``addr``, ``Display Name <addr>`` or ``{address, display_name}``; else ValueError."""
    if isinstance(item, Mapping):
        address = item.get("address")
        display_name = item.get("display_name") or ""
        if not isinstance(address, str):
            raise ValueError(f"{what} {item!r}: a mapping needs 'address'")
        if not isinstance(display_name, str):
            raise ValueError(f"{what} {item!r}: 'display_name' must be text")
    elif isinstance(item, str):
        display_name, address = parseaddr(item) if "<" in item else ("", item)
    else:
        raise ValueError(f"{what} {item!r}: expected an address or a mapping with 'address'")
    address = address.strip()
    if not ADDRESS.match(address):
        raise ValueError(f"{what} {item!r} is not an e-mail address")
    return Person(address, str(display_name).strip())


def unique(people: Sequence[Person]) -> tuple[Person, ...]:
    """First occurrence wins; addresses compare case-insensitively."""
    seen: dict[str, Person] = {}
    for person in people:
        seen.setdefault(person.key, person)
    return tuple(seen.values())


@dataclass(frozen=True)
class Wanted:
    """One list as the module's arguments describe it."""

    name: str
    domain: str
    state: str = "present"
    description: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    roles: Mapping[str, tuple[Person, ...]] = field(default_factory=dict)
    exclusive: Mapping[str, bool] = field(default_factory=dict)

    @property
    def fqdn(self) -> str:
        return f"{self.name}@{self.domain}"

    @property
    def list_id(self) -> str:
        return f"{self.name}.{self.domain}"

    def wanted_settings(self) -> dict[str, Any]:
        wanted = dict(self.settings)
        if self.description is not None:
            wanted["description"] = self.description
        return wanted

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Wanted:
        """Validated and normalised; ValueError names the list and what is wrong."""
        where = f"list '{params['name']}@{params['domain']}'"
        problems = definition_problems(params)
        if problems:
            raise ValueError(f"{where}: {'; '.join(problems)}")
        roles = {
            role: unique([parse_person(p, role) for p in params[key]])
            for role, key in (
                ("owner", "owners"),
                ("moderator", "moderators"),
                ("member", "members"),
            )
        }
        exclusive = {
            "owner": bool(params["exclusive_roles"]),
            "moderator": bool(params["exclusive_roles"]),
            "member": bool(params["members_exclusive"]),
        }
        return cls(
            name=params["name"],
            domain=str(params["domain"]),
            state=params["state"],
            description=params["description"],
            settings=dict(params["settings"] or {}),
            roles=roles,
            exclusive=exclusive,
        )


def definition_problems(
    entry: Mapping[str, Any], more_members: Sequence[object] = (), owners_required: bool = False
) -> list[str]:
    """What is wrong with one list definition, each said so that the user can fix it.

    ``more_members`` are those of a members file.
    """
    problems = []
    try:
        validate_list_name(entry.get("name"), "-")
    except ValueError as err:
        problems.append(str(err).split(": ", 1)[1])
    if not isinstance(entry.get("domain"), str) or not DOMAIN.match(entry["domain"]):
        problems.append(f"the domain {entry.get('domain')!r} must be a lowercase domain name")
    if entry.get("state", "present") not in ("present", "absent"):
        problems.append(f"state {entry.get('state')!r} must be present or absent")
    owners = entry.get("owners") or []
    if owners_required and not owners:
        problems.append("owners must list at least one e-mail address")
    if not isinstance(entry.get("settings") or {}, Mapping):
        problems.append("settings must be a mapping of Mailman list settings")
    for key in ("owners", "moderators", "members"):
        # A string would be read one character at a time.
        if isinstance(entry.get(key), (str, Mapping)):
            problems.append(
                f"{key} must be a YAML list, such as {key}: [alice@example.org] "
                f"(not {key}: alice@example.org)"
            )
            continue
        people = list(entry.get(key) or [])
        if key == "members":
            people += list(more_members)
        bad = []
        for person in people:
            try:
                parse_person(person, key[:-1])
            except ValueError:
                bad.append(str(person))
        if bad:
            more = f" and {len(bad) - SHOWN} more" if len(bad) > SHOWN else ""
            forms = ', "Display Name <address>" or a mapping with an address'
            problems.append(
                f"{key} that are not an e-mail address{forms if key == 'members' else ''} "
                f"({len(bad)}): {' | '.join(bad[:SHOWN])}{more}"
            )
    return problems


def members_file_lines(text: str) -> list[str]:
    """The members of a members file: one a line, blank lines and # comments skipped."""
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


# ---------------------------------------------------------------------------
# What Mailman has


@dataclass(frozen=True)
class Entry:
    """One membership as Mailman has it."""

    address: str
    member_id: str = ""

    @property
    def key(self) -> str:
        return self.address.lower()


@dataclass
class ListState:
    """One list as read from Mailman; rosters map role -> lowercased address -> entry."""

    exists: bool
    domain_exists: bool = True
    config: dict[str, Any] = field(default_factory=dict)
    rosters: dict[str, dict[str, Entry]] = field(default_factory=dict)

    def roster(self, role: str) -> dict[str, Entry]:
        return self.rosters.get(role, {})


# ---------------------------------------------------------------------------
# The plan


class PlanError(ValueError):
    """The wanted list cannot be planned (for example an unknown setting)."""


def form_value(value: Any) -> Any:
    """A setting as the REST API's form encoding wants it."""
    if isinstance(value, bool):
        return "True" if value else "False"
    return value


# How Mailman's REST API reads a boolean sent as text (as_boolean).
TRUE_WORDS = ("true", "yes", "1", "on")
FALSE_WORDS = ("false", "no", "0", "off")


def settings_equal(current: Any, wanted: Any) -> bool:
    if isinstance(wanted, bool):
        return current is wanted
    if (
        isinstance(current, bool)
        and isinstance(wanted, str)
        and wanted.lower() in TRUE_WORDS + FALSE_WORDS
    ):
        return current is (wanted.lower() in TRUE_WORDS)
    if isinstance(current, list) and isinstance(wanted, list):
        return sorted(map(str, current)) == sorted(map(str, wanted))
    return str(current) == str(wanted)


@dataclass
class ListPlan:
    """What to change on one list, and how to say it."""

    wanted: Wanted
    state: ListState
    create_domain: bool = False
    create_list: bool = False
    delete_list: bool = False
    settings: dict[str, Any] = field(default_factory=dict)
    add: dict[str, list[Person]] = field(default_factory=dict)
    remove: dict[str, list[Entry]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(
            self.create_domain
            or self.create_list
            or self.delete_list
            or self.settings
            or any(self.add.values())
            or any(self.remove.values())
        )

    def added(self) -> dict[str, list[str]]:
        return {role: [p.address for p in self.add.get(role, [])] for role in ROLES}

    def removed(self) -> dict[str, list[str]]:
        return {role: [e.address for e in self.remove.get(role, [])] for role in ROLES}

    def changes(self) -> list[str]:
        """One line per kind of change, for people."""
        lines = []
        if self.delete_list:
            lines.append(f"delete list {self.wanted.fqdn}")
        if self.create_domain:
            lines.append(f"create domain {self.wanted.domain}")
        if self.create_list:
            lines.append(f"create list {self.wanted.fqdn}")
        if self.settings:
            lines.append("set " + ", ".join(sorted(self.settings)))
        for verb, table in (("add", self.added()), ("remove", self.removed())):
            for role in ROLES:
                if table[role]:
                    lines.append(f"{verb} {counted(table[role], role)}")
        return lines

    def diff(self) -> dict[str, str]:
        """The list before and after, as text (managed settings and rosters)."""
        header = f"list {self.wanted.fqdn}"
        before = "" if not self.state.exists or self.create_list else self.render(after=False)
        after = "" if self.wanted.state == "absent" else self.render(after=True)
        return {
            "before_header": header,
            "after_header": header,
            "before": before,
            "after": after,
        }

    def render(self, after: bool) -> str:
        wanted = self.wanted.wanted_settings()
        lines = ["settings:"]
        for key in sorted(wanted):
            value = wanted[key] if after else self.state.config.get(key)
            if after and key not in self.settings and key in self.state.config:
                value = self.state.config[key]
            lines.append(f"  {key}: {json.dumps(value, ensure_ascii=False, sort_keys=True)}")
        for role in ROLES:
            addresses = {key: entry.address for key, entry in self.state.roster(role).items()}
            if after:
                for entry in self.remove.get(role, []):
                    addresses.pop(entry.key, None)
                for person in self.add.get(role, []):
                    addresses[person.key] = person.address
            lines.append(f"{role}s:" if addresses else f"{role}s: []")
            lines.extend(f"  - {addresses[key]}" for key in sorted(addresses))
        return "\n".join(lines) + "\n"


def counted(addresses: list[str], role: str) -> str:
    shown = ", ".join(addresses[:SHOWN])
    more = f" and {len(addresses) - SHOWN} more" if len(addresses) > SHOWN else ""
    noun = role if len(addresses) == 1 else f"{role}s"
    return f"{len(addresses)} {noun}: {shown}{more}"


def plan_list(wanted: Wanted, state: ListState) -> ListPlan:
    """Compare; raise PlanError when a setting is unknown to Mailman."""
    plan = ListPlan(wanted, state)
    if wanted.state == "absent":
        plan.delete_list = state.exists
        return plan
    if not state.exists:
        plan.create_domain = not state.domain_exists
        plan.create_list = True
        plan.settings = wanted.wanted_settings()
        plan.add = {role: list(wanted.roles.get(role, ())) for role in ROLES}
        return plan
    wanted_settings = wanted.wanted_settings()
    unknown = sorted(key for key in wanted_settings if key not in state.config)
    if unknown:
        raise PlanError(f"list '{wanted.fqdn}': unknown settings {', '.join(unknown)}")
    plan.settings = {
        key: value
        for key, value in wanted_settings.items()
        if not settings_equal(state.config[key], value)
    }
    for role in ROLES:
        people = wanted.roles.get(role, ())
        current = state.roster(role)
        plan.add[role] = [person for person in people if person.key not in current]
        if wanted.exclusive.get(role):
            keep = {person.key for person in people}
            plan.remove[role] = [entry for key, entry in current.items() if key not in keep]
    return plan


# ---------------------------------------------------------------------------
# Mailman's REST API


class RestError(Exception):
    """A REST call failed; status 0 when the API could not be reached."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}" if status else message)
        self.status = status


Opener = Callable[..., Any]


class MailmanClient:
    """The calls the module makes to Mailman core's REST API (3.1)."""

    def __init__(
        self,
        url: str,
        user: str,
        password: str,
        timeout: float = 300,
        concurrency: int = 4,
        opener: Opener | None = None,
        direct: DirectMailman | None = None,
        bulk_threshold: int = 100,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise RestError(0, "rest_url must be an http:// or https:// URL")
        self.base = url.rstrip("/") + "/3.1"
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}", "Accept": "application/json"}
        self.timeout = timeout
        self.concurrency = max(1, concurrency)
        self.page_size = PAGE_SIZE
        # Mailman before 3.3.8 refuses ``fields`` on /members/find (400).
        self.ask_fields = True
        # Mailman's Python API on this host: rosters, and subscriptions of at
        # least bulk_threshold members to one list.
        self.direct = direct
        self.bulk_threshold = max(1, bulk_threshold)
        self._open = opener or open_url
        if self._open is None:
            raise RestError(0, "the Mailman client needs ansible-core (ansible.module_utils.urls)")

    def call(
        self,
        method: str,
        path: str,
        data: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
    ) -> Any:
        url = self.base + path
        if query:
            url += "?" + urlencode(query, doseq=True)
        headers = dict(self.headers)
        body = None
        if data is not None:
            body = urlencode(data, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            response = self._open(
                url,
                data=body,
                headers=headers,
                method=method,
                timeout=self.timeout,
                follow_redirects="none",
            )
            payload = response.read()
        except Exception as err:  # urllib's HTTPError and URLError, socket errors
            status = getattr(err, "code", None)
            if isinstance(status, int):
                try:
                    detail = err.read().decode(errors="replace")  # type: ignore[attr-defined]
                except Exception:
                    detail = ""
                raise RestError(status, f"{method} {path}: {describe(detail)}") from None
            reason = getattr(err, "reason", None) or err
            raise RestError(0, f"cannot reach {self.base}: {reason}") from None
        return json.loads(payload) if payload else None

    def get_or_none(self, path: str, query: Mapping[str, Any] | None = None) -> Any:
        try:
            return self.call("GET", path, query=query)
        except RestError as err:
            if err.status == 404:
                return None
            raise

    # -- reading ------------------------------------------------------------

    def read(self, wanted: Wanted, rosters: bool = True) -> ListState:
        """The list's configuration and every membership (two requests up to a page)."""
        config = self.get_or_none(f"/lists/{quote(wanted.list_id, safe='')}/config")
        if config is None:
            if wanted.state == "absent":
                return ListState(exists=False)
            domain = self.get_or_none(f"/domains/{quote(wanted.domain, safe='')}")
            return ListState(exists=False, domain_exists=domain is not None)
        if wanted.state == "absent" or not rosters:
            return ListState(exists=True, config=config)
        return ListState(exists=True, config=config, rosters=self.rosters(wanted.list_id))

    def read_all(self, wanted: Sequence[Wanted]) -> list[ListState]:
        """Every list: its configuration by REST; the rosters in one direct read if it can."""
        if self.direct is None:
            return [self.read(w) for w in wanted]
        states = {w.list_id: self.read(w, rosters=False) for w in wanted}
        present = [w.list_id for w in wanted if states[w.list_id].exists and w.state == "present"]
        if present:
            for list_id, roles in self.direct.rosters(present).items():
                states[list_id].rosters = {
                    role: {entry.key: entry for entry in (Entry(*row) for row in rows)}
                    for role, rows in roles.items()
                }
        return [states[w.list_id] for w in wanted]

    def rosters(self, list_id: str) -> dict[str, dict[str, Entry]]:
        """Every membership of the list: one request per PAGE_SIZE memberships.

        Mailman's REST server is a sync gunicorn worker that is killed after 30
        seconds on one request, so a long roster comes in pages.
        """
        rosters: dict[str, dict[str, Entry]] = {role: {} for role in ROLES}
        page = 1
        while True:
            query: dict[str, Any] = {"list_id": list_id, "count": self.page_size, "page": page}
            if self.ask_fields:
                query["fields"] = ["email", "role", "member_id"]
            try:
                found = self.call("GET", "/members/find", query=query)
            except RestError as err:
                if not (self.ask_fields and err.status == 400 and "fields" in str(err)):
                    raise
                self.ask_fields = False
                continue
            found = found or {}
            for item in found.get("entries", []):
                role = item.get("role")
                if role in rosters:
                    entry = Entry(item["email"], str(item.get("member_id", "")))
                    rosters[role][entry.key] = entry
            if page * self.page_size >= int(found.get("total_size", 0)):
                return rosters
            page += 1

    # -- writing ------------------------------------------------------------

    def create(self, plan: ListPlan) -> None:
        if plan.create_domain:
            self.call("POST", "/domains", {"mail_host": plan.wanted.domain})
        if plan.create_list:
            self.call("POST", "/lists", {"fqdn_listname": plan.wanted.fqdn})

    def apply(self, plan: ListPlan, members: bool = True) -> None:
        """Everything but creating the list (see create), and new members unless ``members``."""
        list_id = plan.wanted.list_id
        if plan.delete_list:
            self.call("DELETE", f"/lists/{quote(list_id, safe='')}")
            return
        if plan.settings:
            self.patch_settings(list_id, plan.settings)
        for role in ("owner", "moderator"):
            for person in plan.add.get(role, []):
                self.subscribe(list_id, role, person)
        new = plan.add.get("member", []) if members else []
        if new:
            notify = plan.settings.get(
                "admin_notify_mchanges", plan.state.config.get("admin_notify_mchanges")
            )
            # Mailman would mail the owners once per new member.
            if notify is True:
                self.patch_settings(list_id, {"admin_notify_mchanges": False})
            try:
                self.subscribe_all(list_id, new)
            finally:
                if notify is True:
                    self.patch_settings(list_id, {"admin_notify_mchanges": True})
        for role in ("owner", "moderator"):
            for entry in plan.remove.get(role, []):
                self.call("DELETE", f"/members/{quote(entry.member_id, safe='')}")
        gone = plan.remove.get("member", [])
        if gone:
            self.call(
                "DELETE",
                f"/lists/{quote(list_id, safe='')}/roster/member",
                {"emails": [entry.address for entry in gone]},
            )

    def patch_settings(self, list_id: str, settings: Mapping[str, Any]) -> None:
        self.call(
            "PATCH",
            f"/lists/{quote(list_id, safe='')}/config",
            {key: form_value(value) for key, value in settings.items()},
        )

    def subscribe(self, list_id: str, role: str, person: Person) -> None:
        data = {"list_id": list_id, "subscriber": person.address, "role": role}
        if person.display_name:
            data["display_name"] = person.display_name
        if role == "member":
            data.update(SUBSCRIPTION_FLAGS, send_welcome_message="False")
        try:
            answer = self.call("POST", "/members", data)
        except RestError as err:
            # Subscribed meanwhile: what was wanted.
            if err.status == 409 or (err.status == 400 and "already" in str(err)):
                return
            raise RestError(0, f"{role} {person.address}: {err}") from None
        if isinstance(answer, dict) and answer.get("token"):
            owner = answer.get("token_owner", "someone")
            raise RestError(
                0, f"{role} {person.address}: Mailman holds the subscription for {owner}"
            )

    def subscribe_all(self, list_id: str, people: Sequence[Person]) -> None:
        """One request per member, `concurrency` at a time; every failure is reported."""
        failures: list[str] = []

        def one(person: Person) -> None:
            try:
                self.subscribe(list_id, "member", person)
            except RestError as err:
                failures.append(str(err))

        if self.concurrency == 1 or len(people) == 1:
            for person in people:
                one(person)
        else:
            with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
                list(pool.map(one, people))
        if failures:
            shown = "; ".join(sorted(failures)[:SHOWN])
            raise RestError(0, f"{len(failures)} of {len(people)} subscriptions failed: {shown}")


def describe(detail: str) -> str:
    """Mailman's error body: JSON with a description, or text."""
    try:
        document = json.loads(detail)
    except ValueError:
        return detail.strip() or "no detail"
    if isinstance(document, dict):
        return str(document.get("description") or document.get("title") or document)
    return str(document)


def client_for(module: Any) -> MailmanClient:
    """The client an AnsibleModule's connection options (CONNECTION_OPTIONS) describe."""
    params = module.params
    return MailmanClient(
        params["rest_url"],
        params["rest_user"],
        params["rest_password"],
        timeout=params["timeout"],
        concurrency=params["concurrency"],
        direct=from_module(module),
        bulk_threshold=params["bulk_threshold"],
    )


# What a module reports as its failure (failure_message says it).
FAILURES = (PlanError, RestError, DirectError)


def failure_message(err: Exception) -> str:
    return f"Mailman REST API: {err}" if isinstance(err, RestError) else str(err)


def ensure(client: MailmanClient, wanted: Wanted, check_mode: bool) -> ListPlan:
    """Read, plan and (unless in check mode) apply one list; return what was planned."""
    return ensure_all(client, [wanted], check_mode)[0]


def ensure_all(client: MailmanClient, wanted: Sequence[Wanted], check_mode: bool) -> list[ListPlan]:
    """Read, plan and (unless in check mode) apply lists, in order; return what was planned.

    Every plan is made before anything is written, so an unknown setting on
    the last list stops the run before the first changes.
    """
    states = client.read_all(wanted)
    plans = [plan_list(w, states[index]) for index, w in enumerate(wanted)]
    if check_mode:
        return plans
    bulk: dict[str, list[Person]] = {}
    domains: set[str] = set()
    for index, plan in enumerate(plans):
        if not plan.changed:
            continue
        if plan.create_list:
            # Every new list of a new domain planned to create it.
            plan.create_domain = plan.create_domain and plan.wanted.domain not in domains
            domains.add(plan.wanted.domain)
            client.create(plan)
            # The new list's defaults decide which settings still differ.
            fresh = plan_list(plan.wanted, client.read(plan.wanted))
            fresh.create_domain, fresh.create_list = plan.create_domain, True
            plans[index] = plan = fresh
        new = plan.add.get("member", [])
        direct = client.direct is not None and len(new) >= client.bulk_threshold
        client.apply(plan, members=not direct)
        if direct:
            bulk[plan.wanted.list_id] = new
    if bulk and client.direct is not None:
        people = {
            list_id: [(p.address, p.display_name) for p in members]
            for list_id, members in bulk.items()
        }
        client.direct.subscribe(people)
    return plans
