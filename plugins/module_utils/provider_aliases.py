# Copyright: listserver maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which mailbox aliases the lists need at the mail provider, and a Mail API client.

A list ``team@example.org`` served through one hosted mailbox needs nine
aliases of that mailbox (``team``, ``team-bounces``, ... ``team-unsubscribe``);
the site needs one alias per site-level sender (``postorius``, ``noreply``, the
site owner when on the same domain). The functions here are pure and shared by
the ``provider_aliases`` module and ``tools/required-aliases``; the client
talks to the Infomaniak Mail API with ``open_url`` so it runs inside a module.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

try:  # The pure functions must stay usable without ansible (tools/required-aliases).
    from ansible.module_utils.urls import open_url
except ImportError:  # pragma: no cover - exercised only on hosts without ansible
    open_url = None

# Mailman's per-list addresses, in the order Mailman documents them.
MAILMAN_SUFFIXES: tuple[str, ...] = (
    "bounces",
    "confirm",
    "join",
    "leave",
    "owner",
    "request",
    "subscribe",
    "unsubscribe",
)
DEFAULT_SITE_SENDERS: tuple[str, ...] = ("postorius", "noreply")
DEFAULT_API_URL = "https://api.infomaniak.com"

# A dot only between two other characters (an RFC 5321 dot-atom): Mailman and
# the provider refuse 'team.' and 'te..am'.
LIST_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9_-]|\.(?=[a-z0-9_-]))*$")
# A local part holds at most 64 characters; a list's longest is <name>-unsubscribe.
MAX_LIST_NAME = 64 - len("-unsubscribe")
LOCAL_PART = re.compile(r"^[a-z0-9][a-z0-9._+-]*$")
STATES = ("present", "absent")


def _describe(entry: Mapping[str, Any], index: int) -> str:
    name = entry.get("name")
    domain = entry.get("domain")
    if isinstance(name, str) and name:
        return f"list '{name}@{domain}'" if domain else f"list '{name}'"
    return f"list #{index + 1} in the list definitions"


def validate_list_name(name: object, where: str | None = None) -> str:
    """Return ``name`` if it is a valid Mailman list local part, else raise ValueError.

    ``where`` names the list in the message (defaults to the name itself).
    """
    label = where or f"list '{name}'"
    if not isinstance(name, str) or not name:
        raise ValueError(f"{label}: the list name is missing or empty")
    if "@" in name:
        raise ValueError(
            f"{label}: the list name '{name}' contains '@'; give the local part only "
            "(for example 'team') and the domain in 'domain'"
        )
    if name != name.lower():
        raise ValueError(f"{label}: the list name '{name}' must be lowercase")
    if not LIST_NAME.match(name):
        raise ValueError(
            f"{label}: the list name '{name}' must start with a letter or digit, contain "
            "only lowercase letters, digits, '.', '_' or '-', and not end with '.' or hold '..'"
        )
    if len(name) > MAX_LIST_NAME:
        raise ValueError(
            f"{label}: the list name '{name}' is longer than {MAX_LIST_NAME} characters: "
            f"'{name}-unsubscribe' would not fit the 64 characters of a local part"
        )
    for suffix in MAILMAN_SUFFIXES:
        if name.endswith(f"-{suffix}"):
            raise ValueError(
                f"{label}: the list name '{name}' ends in '-{suffix}', which Mailman "
                "reserves for the list's own addresses"
            )
    return name


def validate_local_part(value: object, what: str = "site sender") -> str:
    """Normalise one site sender local part (lowercased), or raise ValueError."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} {value!r}: must be a non-empty local part such as 'postorius'")
    local = value.strip().lower()
    if "@" in local:
        raise ValueError(
            f"{what} '{value}': give the local part only (for example 'postorius'), "
            "not the full address"
        )
    if not LOCAL_PART.match(local):
        raise ValueError(
            f"{what} '{value}': only letters, digits, '.', '_', '+' or '-' are allowed"
        )
    return local


def list_aliases(name: str) -> list[str]:
    """The nine aliases a list needs: the list address then its Mailman suffixes."""
    validate_list_name(name)
    return [name] + [f"{name}-{suffix}" for suffix in MAILMAN_SUFFIXES]


def normalise_domain(domain: object) -> str:
    if not isinstance(domain, str) or not domain.strip().strip("."):
        raise ValueError(f"domain {domain!r}: must be a mail domain such as 'example.org'")
    return domain.strip().rstrip(".").lower()


def site_senders_for(domain: str, site_owner: str | None = None) -> list[str]:
    """Default site senders, plus the site owner's local part when it is on ``domain``."""
    senders = list(DEFAULT_SITE_SENDERS)
    if site_owner and "@" in site_owner:
        local, owner_domain = site_owner.strip().rsplit("@", 1)
        if local and normalise_domain(owner_domain) == normalise_domain(domain):
            senders.append(local.lower())
    return _unique(senders)


def _unique(items: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


@dataclass(frozen=True)
class AliasPlan:
    """What one mailbox needs for the lists of one domain."""

    domain: str
    required: tuple[str, ...]
    """Aliases that must exist: every present list's nine, then the site senders."""
    removable: tuple[str, ...]
    """Aliases of lists marked ``state: absent`` that nothing else still needs."""
    site_senders: tuple[str, ...]
    skipped_lists: tuple[str, ...]
    """``name@domain`` of lists on other domains (not served by this mailbox)."""


def compute_plan(
    lists: Sequence[Mapping[str, Any]] | None,
    domain: str,
    site_senders: Sequence[str] | None = None,
) -> AliasPlan:
    """Required and removable aliases for ``lists`` restricted to ``domain``.

    Raises ValueError naming the list and what is wrong when a definition is invalid.
    """
    wanted_domain = normalise_domain(domain)
    senders = _unique(
        validate_local_part(sender)
        for sender in (DEFAULT_SITE_SENDERS if site_senders is None else site_senders)
    )
    required: list[str] = []
    absent: list[str] = []
    skipped: list[str] = []
    declared: set[tuple[str, str]] = set()
    for index, entry in enumerate(lists or []):
        if not isinstance(entry, Mapping):
            raise ValueError(
                f"list #{index + 1} in the list definitions: expected a mapping with "
                f"'name' and 'domain', got {type(entry).__name__}"
            )
        where = _describe(entry, index)
        name = validate_list_name(entry.get("name"), where)
        if not entry.get("domain"):
            raise ValueError(f"{where}: 'domain' is missing")
        list_domain = normalise_domain(entry.get("domain"))
        state = entry.get("state") or "present"
        if state not in STATES:
            raise ValueError(f"{where}: state '{state}' must be 'present' or 'absent'")
        if (name, list_domain) in declared:
            raise ValueError(f"{where}: declared more than once")
        declared.add((name, list_domain))
        if list_domain != wanted_domain:
            skipped.append(f"{name}@{list_domain}")
            continue
        (required if state == "present" else absent).extend(list_aliases(name))
    required_all = _unique([*required, *senders])
    still_needed = set(required_all)
    removable = _unique(alias for alias in absent if alias not in still_needed)
    return AliasPlan(
        domain=wanted_domain,
        required=tuple(required_all),
        removable=tuple(removable),
        site_senders=tuple(senders),
        skipped_lists=tuple(skipped),
    )


@dataclass(frozen=True)
class AliasChanges:
    """How to bring a mailbox's current aliases to a plan."""

    add: tuple[str, ...]
    remove: tuple[str, ...]
    unmanaged: tuple[str, ...]
    """Present but neither required nor removable: never touched."""
    before: tuple[str, ...]
    after: tuple[str, ...]


def plan_changes(current: Iterable[str], plan: AliasPlan) -> AliasChanges:
    """Compare the mailbox's aliases with ``plan`` (case-insensitively)."""
    existing = _unique(alias.lower() for alias in current)
    have = set(existing)
    required = set(plan.required)
    removable = set(plan.removable)
    add = tuple(alias for alias in plan.required if alias not in have)
    remove = tuple(alias for alias in existing if alias in removable)
    unmanaged = tuple(
        sorted(alias for alias in existing if alias not in required and alias not in removable)
    )
    after = (have | set(add)) - set(remove)
    return AliasChanges(
        add=add,
        remove=remove,
        unmanaged=unmanaged,
        before=tuple(sorted(have)),
        after=tuple(sorted(after)),
    )


# ---------------------------------------------------------------------------
# Infomaniak Mail API client


class MailApiError(Exception):
    """A Mail API call failed; the message never contains the token."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


Opener = Callable[..., Any]
Sleeper = Callable[[float], None]


class MailApiClient:
    """Aliases of one mailbox through the Infomaniak Mail API.

    Only GET, POST (add one) and DELETE (remove one) are used; the PUT that
    replaces the whole set is deliberately not implemented.
    """

    def __init__(
        self,
        token: str,
        mail_hosting_id: str | int,
        mailbox: str,
        base_url: str = DEFAULT_API_URL,
        timeout: float = 30.0,
        max_retries: int = 5,
        retry_delay: float = 1.0,
        max_delay: float = 60.0,
        validate_certs: bool = True,
        opener: Opener | None = None,
        sleep: Sleeper = time.sleep,
    ) -> None:
        if not token:
            raise MailApiError("no Mail API token given")
        self._token = token
        self.mail_hosting_id = str(mail_hosting_id)
        self.mailbox = mailbox
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max(0, max_retries)
        self.retry_delay = max(0.0, retry_delay)
        self.max_delay = max_delay
        self.validate_certs = validate_certs
        self._open = opener or open_url
        if self._open is None:
            raise MailApiError("the Mail API client needs ansible-core (ansible.module_utils.urls)")
        self._sleep = sleep
        self._enabled: bool | None = None
        self.requests_made = 0

    # -- public API ---------------------------------------------------------

    @property
    def aliases_path(self) -> str:
        return (
            f"/1/mail_hostings/{quote(self.mail_hosting_id, safe='')}"
            f"/mailboxes/{quote(self.mailbox, safe='')}/aliases"
        )

    def list_aliases(self) -> list[str]:
        data = self._request("GET", self.aliases_path)
        aliases = data.get("aliases") if isinstance(data, dict) else None
        if not isinstance(aliases, list):
            raise MailApiError("unexpected Mail API answer: no 'aliases' list in 'data'")
        names: list[str] = []
        for item in aliases:
            if isinstance(item, str):
                names.append(item)
            elif isinstance(item, dict) and isinstance(item.get("alias"), str):
                names.append(item["alias"])
        return names

    @property
    def aliases_enabled(self) -> bool | None:
        """``enabled_alias`` from the last listing (None when the API did not say)."""
        return self._enabled

    def add_alias(self, alias: str) -> None:
        self._request("POST", self.aliases_path, {"alias": alias})

    def delete_alias(self, alias: str) -> None:
        self._request("DELETE", f"{self.aliases_path}/{quote(alias, safe='')}")

    # -- plumbing -----------------------------------------------------------

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> object:
        url = self.base_url + path
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        attempt = 0
        while True:
            attempt += 1
            self.requests_made += 1
            status, payload, retry_after, reason = self._send(method, url, data, headers)
            retryable = status is None or status == 429 or status >= 500
            if 200 <= (status or 0) < 300:
                return self._success(payload, method, path)
            if not retryable or attempt > self.max_retries:
                raise self._error(method, path, status, payload, reason, attempt, retryable)
            self._sleep(self._delay(attempt, status, retry_after))

    def _send(
        self, method: str, url: str, data: str | None, headers: dict[str, str]
    ) -> tuple[int | None, bytes, str | None, str]:
        """One HTTP exchange: (status or None if unreachable, body, Retry-After, reason)."""
        try:
            response = self._open(
                url,
                data=data,
                headers=headers,
                method=method,
                timeout=self.timeout,
                validate_certs=self.validate_certs,
                follow_redirects="safe",
            )
            return response.getcode(), response.read(), None, ""
        except Exception as err:  # classified below; the token is never included
            code = getattr(err, "code", None)
            if isinstance(code, int):
                try:
                    payload = err.read()  # type: ignore[attr-defined]
                except Exception:
                    payload = b""
                hdrs = getattr(err, "headers", None)
                retry_after = hdrs.get("Retry-After") if hdrs is not None else None
                return code, payload or b"", retry_after, str(getattr(err, "reason", ""))
            reason = getattr(err, "reason", None) or err
            return None, b"", None, f"cannot reach {self.base_url}: {reason}"

    def _delay(self, attempt: int, status: int | None, retry_after: str | None) -> float:
        if status == 429 and retry_after is not None:
            seconds = parse_retry_after(retry_after)
            if seconds is not None:
                return min(seconds, self.max_delay)
        return min(self.retry_delay * 2.0 ** (attempt - 1), self.max_delay)

    def _success(self, payload: bytes, method: str, path: str) -> object:
        if not payload:
            return {}
        try:
            document = json.loads(payload)
        except ValueError:
            raise MailApiError(
                f"{method} {path}: the Mail API answered with something that is not JSON"
            ) from None
        if isinstance(document, dict):
            if document.get("result") == "error":
                code, description = _error_fields(document)
                raise MailApiError(f"{method} {path}: {code}: {description}", 200, code)
            data = document.get("data", {})
            if method == "GET" and isinstance(data, dict) and "enabled_alias" in data:
                self._enabled = bool(data["enabled_alias"])
            return data
        return document

    def _error(
        self,
        method: str,
        path: str,
        status: int | None,
        payload: bytes,
        reason: str,
        attempt: int,
        retryable: bool,
    ) -> MailApiError:
        if status is None:
            detail = reason
        else:
            code, description = _error_fields(_json_or_none(payload))
            detail = f"HTTP {status}"
            if code or description:
                detail += f" ({code or 'error'}: {description or 'no description'})"
            elif reason:
                detail += f" ({reason})"
        where = f"{method} {self.base_url}{path}"
        if status == 401:
            message = (
                f"{where}: {detail}. The Mail API refused the token: it is wrong or expired. "
                "Create a new API token with the mail scope and pass it as api_token "
                "(or INFOMANIAK_API_TOKEN)."
            )
        elif status == 403:
            message = (
                f"{where}: {detail}. The token is valid but not allowed here: it lacks the "
                f"mail scope, or its account may not manage mail hosting {self.mail_hosting_id}."
            )
        elif status == 404:
            message = (
                f"{where}: {detail}. Unknown mail hosting {self.mail_hosting_id} or mailbox "
                f"'{self.mailbox}' (check mail_hosting_id and mailbox)."
            )
            if "@" in self.mailbox:
                local = self.mailbox.split("@", 1)[0]
                message += (
                    f" The mailbox must be the local part (for example '{local}'), "
                    f"not the full address '{self.mailbox}'."
                )
        elif retryable:
            message = f"{where}: {detail}; gave up after {attempt} attempts."
        else:
            message = f"{where}: {detail}."
        if len(self._token) >= 6:  # defence in depth: no path above includes it
            message = message.replace(self._token, "***")
        return MailApiError(message, status, None)


def parse_retry_after(value: str) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date)."""
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _json_or_none(payload: bytes) -> object:
    try:
        return json.loads(payload) if payload else None
    except ValueError:
        return None


def _error_fields(document: object) -> tuple[str, str]:
    if isinstance(document, dict) and isinstance(document.get("error"), dict):
        error = document["error"]
        return str(error.get("code") or ""), str(error.get("description") or "")
    return "", ""
