"""A small OpenStack double: Keystone v3, Nova, Neutron, Glance and Cinder on 127.0.0.1.

It answers only the calls openstacksdk makes for the preflight and the janitor, from a
`CloudState` that tests seed and inspect. Start it with `OpenStackDouble(state)` as a
context manager; `auth_url` is what OS_AUTH_URL must be, and `openrc_env()` /
`clouds_yaml()` give the credentials the way a user would have them.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

Json = dict[str, Any]


@dataclass
class CloudState:
    """Everything the double knows; tests seed it and read it back."""

    project_id: str = "0123456789abcdef0123456789abcdef"
    project_name: str = "PCP-TEST"
    user_id: str = "fedcba9876543210fedcba9876543210"
    username: str = "PCU-TEST"
    password: str = "correct horse"  # noqa: S105 - test credential
    app_cred_id: str = "appcred-0001"
    app_cred_secret: str = "appcred-secret"  # noqa: S105 - test credential
    flavors: list[Json] = field(default_factory=list)
    images: list[Json] = field(default_factory=list)
    networks: list[Json] = field(default_factory=list)
    keypairs: list[Json] = field(default_factory=list)
    servers: list[Json] = field(default_factory=list)
    volumes: list[Json] = field(default_factory=list)
    security_groups: list[Json] = field(default_factory=list)
    compute_limits: Json = field(default_factory=dict)
    volume_limits: Json = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def infomaniak_like(cls) -> CloudState:
        """A project that can hold one default stack."""
        return cls(
            flavors=[
                flavor("a1-ram2-disk20-perf1", vcpus=1, ram=2048, disk=20),
                flavor("a2-ram4-disk20-perf1", vcpus=2, ram=4096, disk=20),
            ],
            images=[image("Debian 13 trixie"), image("Debian 12 bookworm")],
            networks=[network("ext-net1"), network("ext-floating1")],
            keypairs=[{"name": "alice", "fingerprint": "aa:bb", "type": "ssh"}],
            compute_limits={
                "maxTotalInstances": 10,
                "totalInstancesUsed": 1,
                "maxTotalCores": 20,
                "totalCoresUsed": 1,
                "maxTotalRAMSize": 51200,
                "totalRAMUsed": 2048,
            },
            volume_limits={
                "maxTotalVolumes": 10,
                "totalVolumesUsed": 0,
                "maxTotalVolumeGigabytes": 1000,
                "totalGigabytesUsed": 0,
            },
        )


def _uuid() -> str:
    return str(uuid.uuid4())


def flavor(name: str, *, vcpus: int, ram: int, disk: int) -> Json:
    """A Nova flavor record (detail form)."""
    return {
        "id": _uuid(),
        "name": name,
        "vcpus": vcpus,
        "ram": ram,
        "disk": disk,
        "swap": 0,
        "OS-FLV-EXT-DATA:ephemeral": 0,
        "os-flavor-access:is_public": True,
        "rxtx_factor": 1.0,
        "extra_specs": {},
        "links": [],
    }


def image(name: str) -> Json:
    """A Glance v2 image record."""
    return {
        "id": _uuid(),
        "name": name,
        "status": "active",
        "visibility": "public",
        "disk_format": "qcow2",
        "container_format": "bare",
        "min_disk": 0,
        "min_ram": 0,
        "tags": [],
        "created_at": "2025-01-01T00:00:00Z",
        "updated_at": "2025-01-01T00:00:00Z",
    }


def network(name: str) -> Json:
    """A Neutron network record."""
    return {
        "id": _uuid(),
        "name": name,
        "status": "ACTIVE",
        "admin_state_up": True,
        "shared": True,
        "router:external": True,
        "subnets": [],
        "tags": [],
    }


def server(name: str, *, metadata: dict[str, str] | None = None, created: str) -> Json:
    """A Nova server record (detail form)."""
    return {
        "id": _uuid(),
        "name": name,
        "status": "ACTIVE",
        "metadata": metadata or {},
        "created": created,
        "updated": created,
        "tags": [],
        "addresses": {},
        "flavor": {},
        "image": {},
        "links": [],
    }


def volume(
    name: str,
    *,
    size: int,
    metadata: dict[str, str] | None = None,
    created: str,
    attached_to: str | None = None,
) -> Json:
    """A Cinder v3 volume record (detail form), attached to server `attached_to` if given."""
    attachments = [{"server_id": attached_to, "device": "/dev/vdb"}] if attached_to else []
    return {
        "id": _uuid(),
        "name": name,
        "size": size,
        "status": "in-use" if attachments else "available",
        "metadata": metadata or {},
        "created_at": created,
        "attachments": attachments,
        "volume_type": "CEPH_1_perf1",
    }


def security_group(name: str, *, tags: list[str] | None = None, created: str) -> Json:
    """A Neutron security group record."""
    return {
        "id": _uuid(),
        "name": name,
        "description": "",
        "tags": tags or [],
        "created_at": created,
        "security_group_rules": [],
    }


Route = tuple[str, "re.Pattern[str]", Callable[..., tuple[int, Json | None]]]


class OpenStackDouble:
    """Serve `state` on 127.0.0.1 at a random port until the context exits."""

    def __init__(self, state: CloudState) -> None:
        self.state = state
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        p = re.escape(state.project_id)
        self._routes: list[Route] = [
            ("GET", re.compile(r"/identity/?"), self._identity_versions),
            ("GET", re.compile(r"/identity/v3/?"), self._identity_v3),
            ("POST", re.compile(r"/identity/v3/auth/tokens"), self._token),
            ("GET", re.compile(r"/compute/?"), self._compute_versions),
            ("GET", re.compile(r"/compute/v2\.1/?"), self._compute_version),
            ("GET", re.compile(r"/compute/v2\.1/flavors(/detail)?"), self._flavors),
            ("GET", re.compile(r"/compute/v2\.1/flavors/([^/]+)"), self._flavor),
            ("GET", re.compile(r"/compute/v2\.1/flavors/([^/]+)/os-extra_specs"), self._specs),
            ("GET", re.compile(r"/compute/v2\.1/os-keypairs"), self._keypairs),
            ("GET", re.compile(r"/compute/v2\.1/os-keypairs/([^/]+)"), self._keypair),
            ("DELETE", re.compile(r"/compute/v2\.1/os-keypairs/([^/]+)"), self._del_keypair),
            ("GET", re.compile(r"/compute/v2\.1/limits"), self._compute_limits),
            ("GET", re.compile(r"/compute/v2\.1/servers(/detail)?"), self._servers),
            ("GET", re.compile(r"/compute/v2\.1/servers/([^/]+)"), self._server_get),
            ("DELETE", re.compile(r"/compute/v2\.1/servers/([^/]+)"), self._del_server),
            ("GET", re.compile(r"/network/?"), self._network_versions),
            ("GET", re.compile(r"/network/v2\.0/networks"), self._networks),
            ("GET", re.compile(r"/network/v2\.0/networks/([^/]+)"), self._network),
            ("GET", re.compile(r"/network/v2\.0/security-groups"), self._secgroups),
            ("DELETE", re.compile(r"/network/v2\.0/security-groups/([^/]+)"), self._del_sg),
            ("GET", re.compile(r"/image/?"), self._image_versions),
            ("GET", re.compile(r"/image/v2/images"), self._images),
            ("GET", re.compile(r"/image/v2/images/([^/]+)"), self._image),
            ("GET", re.compile(r"/volume/?"), self._volume_versions),
            ("GET", re.compile(rf"/volume/v3/{p}/?"), self._volume_version),
            ("GET", re.compile(rf"/volume/v3/{p}/limits"), self._volume_limits),
            ("GET", re.compile(rf"/volume/v3/{p}/volumes(/detail)?"), self._volumes),
            ("GET", re.compile(rf"/volume/v3/{p}/volumes/([^/]+)"), self._volume_get),
            ("DELETE", re.compile(rf"/volume/v3/{p}/volumes/([^/]+)"), self._del_volume),
        ]

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def auth_url(self) -> str:
        """Keystone v3 URL for OS_AUTH_URL."""
        return f"{self.base}/identity/v3"

    def __enter__(self) -> OpenStackDouble:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def openrc_env(self, *, application_credential: bool = False) -> dict[str, str]:
        """OS_* variables as an Infomaniak openrc file sets them (password or app credential)."""
        s = self.state
        env = {"OS_AUTH_URL": self.auth_url, "OS_REGION_NAME": "dc3-a", "OS_INTERFACE": "public"}
        if application_credential:
            env |= {
                "OS_AUTH_TYPE": "v3applicationcredential",
                "OS_APPLICATION_CREDENTIAL_ID": s.app_cred_id,
                "OS_APPLICATION_CREDENTIAL_SECRET": s.app_cred_secret,
            }
        else:
            env |= {
                "OS_USERNAME": s.username,
                "OS_PASSWORD": s.password,
                "OS_PROJECT_NAME": s.project_name,
                "OS_USER_DOMAIN_NAME": "Default",
                "OS_PROJECT_DOMAIN_NAME": "Default",
                "OS_IDENTITY_API_VERSION": "3",
            }
        return env

    def clouds_yaml(self, cloud: str = "double") -> str:
        """A clouds.yaml (JSON is valid YAML) with one application-credential cloud."""
        s = self.state
        auth = {
            "auth_url": self.auth_url,
            "application_credential_id": s.app_cred_id,
            "application_credential_secret": s.app_cred_secret,
        }
        entry = {"auth_type": "v3applicationcredential", "auth": auth, "region_name": "dc3-a"}
        return json.dumps({"clouds": {cloud: entry}})

    # -- HTTP plumbing ---------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: requests are recorded in the state instead."""

            def _dispatch(self, method: str) -> None:
                double.handle(self, method)

            def do_GET(self) -> None:
                self._dispatch("GET")

            def do_POST(self) -> None:
                self._dispatch("POST")

            def do_DELETE(self) -> None:
                self._dispatch("DELETE")

        return Handler

    def handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        """Route one request and write the JSON answer."""
        url = urlsplit(request.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        length = int(request.headers.get("Content-Length") or 0)
        body = json.loads(request.rfile.read(length) or b"null") if length else None
        headers: dict[str, str] = {}
        with self._lock:
            self.state.requests.append((method, request.path))
            status, payload = 404, {"itemNotFound": {"code": 404, "message": "Not found"}}
            for verb, pattern, action in self._routes:
                match = pattern.fullmatch(url.path)
                if verb == method and match:
                    if not url.path.startswith("/identity") and not self._authorized(request):
                        status, payload = 401, {"error": {"code": 401, "message": "Unauthorized"}}
                        break
                    args = [unquote(g) if g else g for g in match.groups()]
                    status, payload = action(*args, query=query, body=body)
                    if isinstance(payload, dict) and "_token" in payload:
                        headers["X-Subject-Token"] = payload.pop("_token")
                    break
        data = b"" if payload is None else json.dumps(payload).encode()
        request.send_response(status)
        for name, value in headers.items():
            request.send_header(name, value)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    _TOKEN = "double-token"  # noqa: S105 - not a secret

    def _authorized(self, request: BaseHTTPRequestHandler) -> bool:
        return request.headers.get("X-Auth-Token") == self._TOKEN

    # -- Keystone --------------------------------------------------------------------------

    def _version(self, vid: str, path: str, **extra: str) -> Json:
        links = [{"rel": "self", "href": f"{self.base}{path}"}]
        return {"id": vid, "status": "CURRENT", "links": links, **extra}

    def _identity_versions(self, **_: Any) -> tuple[int, Json]:
        version = self._version("v3.14", "/identity/v3/", updated="2020-01-01T00:00:00Z")
        return 300, {"versions": {"values": [version]}}

    def _identity_v3(self, **_: Any) -> tuple[int, Json]:
        version = self._version("v3.14", "/identity/v3/", updated="2020-01-01T00:00:00Z")
        return 200, {"version": version}

    def _token(self, *, body: Json | None, **_: Any) -> tuple[int, Json]:
        identity = (body or {}).get("auth", {}).get("identity", {})
        methods = identity.get("methods", [])
        s = self.state
        ok = False
        if "password" in methods:
            user = identity["password"]["user"]
            ok = user.get("name") == s.username and user.get("password") == s.password
        elif "application_credential" in methods:
            cred = identity["application_credential"]
            ok = cred.get("id") == s.app_cred_id and cred.get("secret") == s.app_cred_secret
        if not ok:
            return 401, {
                "error": {
                    "code": 401,
                    "title": "Unauthorized",
                    "message": "The request you have made requires authentication.",
                }
            }
        token = {
            "methods": methods,
            "expires_at": "2999-01-01T00:00:00.000000Z",
            "issued_at": "2025-01-01T00:00:00.000000Z",
            "user": {"id": s.user_id, "name": s.username, "domain": {"id": "default"}},
            "project": {
                "id": s.project_id,
                "name": s.project_name,
                "domain": {"id": "default", "name": "Default"},
            },
            "roles": [{"id": "r1", "name": "member"}],
            "catalog": self._catalog(),
        }
        return 201, {"token": token, "_token": self._TOKEN}

    def _catalog(self) -> list[Json]:
        def service(kind: str, name: str, path: str) -> Json:
            url = f"{self.base}{path}"
            endpoints = [
                {
                    "id": f"{name}-{i}",
                    "interface": i,
                    "region": "dc3-a",
                    "region_id": "dc3-a",
                    "url": url,
                }
                for i in ("public", "internal")
            ]
            return {"type": kind, "name": name, "id": name, "endpoints": endpoints}

        p = self.state.project_id
        return [
            service("identity", "keystone", "/identity"),
            service("compute", "nova", "/compute/v2.1"),
            service("network", "neutron", "/network"),
            service("image", "glance", "/image"),
            service("volumev3", "cinderv3", f"/volume/v3/{p}"),
            service("block-storage", "cinder", f"/volume/v3/{p}"),
        ]

    # -- Nova ------------------------------------------------------------------------------

    def _nova_version(self) -> Json:
        return self._version("v2.1", "/compute/v2.1/", version="2.96", min_version="2.1")

    def _compute_versions(self, **_: Any) -> tuple[int, Json]:
        return 200, {"versions": [self._nova_version()]}

    def _compute_version(self, **_: Any) -> tuple[int, Json]:
        return 200, {"version": self._nova_version()}

    @staticmethod
    def _by_id_or_name(items: list[Json], key: str, value: str) -> Json | None:
        return next((i for i in items if i.get(key) == value), None)

    def _flavors(self, detail: str | None, *, query: Json, **_: Any) -> tuple[int, Json]:
        items = [f for f in self.state.flavors if "name" not in query or f["name"] == query["name"]]
        if detail is None:
            items = [{"id": f["id"], "name": f["name"], "links": []} for f in items]
        return 200, {"flavors": items}

    def _flavor(self, fid: str, **_: Any) -> tuple[int, Json]:
        item = self._by_id_or_name(self.state.flavors, "id", fid)
        return (200, {"flavor": item}) if item else self._not_found("Flavor", fid)

    def _specs(self, fid: str, **_: Any) -> tuple[int, Json]:
        return 200, {"extra_specs": {}}

    def _keypairs(self, **_: Any) -> tuple[int, Json]:
        return 200, {"keypairs": [{"keypair": k} for k in self.state.keypairs]}

    def _keypair(self, name: str, **_: Any) -> tuple[int, Json]:
        item = self._by_id_or_name(self.state.keypairs, "name", name)
        return (200, {"keypair": item}) if item else self._not_found("Keypair", name)

    def _del_keypair(self, name: str, **_: Any) -> tuple[int, Json | None]:
        return self._delete(self.state.keypairs, "name", name, "Keypair")

    def _compute_limits(self, **_: Any) -> tuple[int, Json]:
        return 200, {"limits": {"absolute": self.state.compute_limits, "rate": []}}

    def _servers(self, detail: str | None, **_: Any) -> tuple[int, Json]:
        return 200, {"servers": list(self.state.servers)}

    def _server_get(self, sid: str, **_: Any) -> tuple[int, Json]:
        item = self._by_id_or_name(self.state.servers, "id", sid)
        return (200, {"server": item}) if item else self._not_found("Server", sid)

    def _del_server(self, sid: str, **_: Any) -> tuple[int, Json | None]:
        status, payload = self._delete(self.state.servers, "id", sid, "Server")
        if status == 204:  # Nova detaches the server's volumes (instantly, here)
            for vol in self.state.volumes:
                attached = vol["attachments"]
                vol["attachments"] = [a for a in attached if a.get("server_id") != sid]
                if attached and not vol["attachments"]:
                    vol["status"] = "available"
        return status, payload

    # -- Neutron ---------------------------------------------------------------------------

    def _network_versions(self, **_: Any) -> tuple[int, Json]:
        return 200, {"versions": [self._version("v2.0", "/network/v2.0/")]}

    def _networks(self, *, query: Json, **_: Any) -> tuple[int, Json]:
        items = [
            n for n in self.state.networks if "name" not in query or n["name"] == query["name"]
        ]
        return 200, {"networks": items}

    def _network(self, nid: str, **_: Any) -> tuple[int, Json]:
        item = self._by_id_or_name(self.state.networks, "id", nid)
        return (200, {"network": item}) if item else self._not_found("Network", nid)

    def _secgroups(self, *, query: Json, **_: Any) -> tuple[int, Json]:
        groups = self.state.security_groups
        items = [g for g in groups if "name" not in query or g["name"] == query["name"]]
        return 200, {"security_groups": items}

    def _del_sg(self, gid: str, **_: Any) -> tuple[int, Json | None]:
        return self._delete(self.state.security_groups, "id", gid, "SecurityGroup")

    # -- Glance ----------------------------------------------------------------------------

    def _image_versions(self, **_: Any) -> tuple[int, Json]:
        return 300, {"versions": [self._version("v2.16", "/image/v2/")]}

    def _images(self, *, query: Json, **_: Any) -> tuple[int, Json]:
        items = [i for i in self.state.images if "name" not in query or i["name"] == query["name"]]
        return 200, {"images": items}

    def _image(self, iid: str, **_: Any) -> tuple[int, Json]:
        item = self._by_id_or_name(self.state.images, "id", iid)
        return (200, item) if item else self._not_found("Image", iid)

    # -- Cinder ----------------------------------------------------------------------------

    def _cinder_version(self) -> Json:
        path = f"/volume/v3/{self.state.project_id}/"
        return self._version("v3.0", path, version="3.70", min_version="3.0")

    def _volume_versions(self, **_: Any) -> tuple[int, Json]:
        return 300, {"versions": [self._cinder_version()]}

    def _volume_version(self, **_: Any) -> tuple[int, Json]:
        return 200, {"version": self._cinder_version()}

    def _volume_limits(self, **_: Any) -> tuple[int, Json]:
        return 200, {"limits": {"absolute": self.state.volume_limits, "rate": []}}

    def _volumes(self, detail: str | None, **_: Any) -> tuple[int, Json]:
        return 200, {"volumes": list(self.state.volumes)}

    def _volume_get(self, vid: str, **_: Any) -> tuple[int, Json]:
        item = self._by_id_or_name(self.state.volumes, "id", vid)
        return (200, {"volume": item}) if item else self._not_found("Volume", vid)

    def _del_volume(self, vid: str, **_: Any) -> tuple[int, Json | None]:
        item = self._by_id_or_name(self.state.volumes, "id", vid)
        if item is not None and item["attachments"]:
            message = "Invalid volume: Volume status must be available or error, but is in-use."
            return 400, {"badRequest": {"code": 400, "message": message}}
        return self._delete(self.state.volumes, "id", vid, "Volume")

    # -- shared ----------------------------------------------------------------------------

    @staticmethod
    def _not_found(kind: str, ident: str) -> tuple[int, Json]:
        return 404, {
            "itemNotFound": {"code": 404, "message": f"{kind} {ident} could not be found."}
        }

    def _delete(
        self, items: list[Json], key: str, value: str, kind: str
    ) -> tuple[int, Json | None]:
        item = self._by_id_or_name(items, key, value)
        if item is None:
            return self._not_found(kind, value)
        items.remove(item)
        return 204, None
