"""Behaviour of the object storage stand-in, seen from a client as a list server sees it.

The client holds nothing but the application credential (and restic's own repository
password). restic's swift backend authenticates with it against Keystone, finds the
object-store endpoint of the region in the catalog and talks to the Swift proxy.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import testinfra
from conftest import CLOUD

SERVICES = ("keystone", "swift-proxy", "swift-account", "swift-container", "swift-object")
IDLE = ("swift-object-replicator", "swift-container-updater", "swift-account-reaper")

# Run on the client with the credential's environment: issue a token from the
# application credential, then try it on Swift and on Keystone's own API.
PROBE = r"""
import json, os, sys, urllib.error, urllib.request

def call(method, url, token=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("X-Auth-Token", token)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()

auth = os.environ["OS_AUTH_URL"].rstrip("/")
credential = {"id": os.environ["OS_APPLICATION_CREDENTIAL_ID"],
              "secret": os.environ["OS_APPLICATION_CREDENTIAL_SECRET"]}
status, headers, body = call("POST", auth + "/auth/tokens", body={"auth": {"identity": {
    "methods": ["application_credential"], "application_credential": credential}}})
out = {"issue": status}
if status == 201:
    token = headers["X-Subject-Token"]
    data = json.loads(body)["token"]
    storage = [e["url"] for s in data["catalog"] if s["type"] == "object-store"
               for e in s["endpoints"]
               if e["interface"] == "public" and e["region_id"] == os.environ["OS_REGION_NAME"]][0]
    container = storage + "/" + sys.argv[1]
    out.update({
        "roles": sorted(r["name"] for r in data["roles"]),
        "access_rules": data.get("application_credential", {}).get("access_rules"),
        "storage": storage,
        "container_head": call("HEAD", container, token)[0],
        "object_put": call("PUT", container + "/probe-object", token, body={})[0],
        "object_delete": call("DELETE", container + "/probe-object", token)[0],
        "account_listing": call("GET", storage, token)[0],
        "other_container_put": call("PUT", storage + "/other-container", token)[0],
        "keystone_projects": call("GET", auth + "/projects", token)[0],
        "keystone_own_user": call("GET", auth + "/users/" + data["user"]["id"], token)[0],
    })
print(json.dumps(out))
"""


def test_services_run_and_listen(cloud: testinfra.host.Host) -> None:
    for unit in SERVICES:
        assert cloud.service(unit).is_running, unit
        assert cloud.service(unit).is_enabled, unit
    assert cloud.service("objectstore-s3-tls").is_running
    for port in (5000, 8080, 8443):
        assert cloud.socket(f"tcp://0.0.0.0:{port}").is_listening, port
    for port in (6200, 6201, 6202):
        assert cloud.socket(f"tcp://127.0.0.1:{port}").is_listening, port


def test_background_daemons_are_off(cloud: testinfra.host.Host) -> None:
    for unit in IDLE:
        assert not cloud.service(unit).is_running, unit
        assert not cloud.service(unit).is_enabled, unit


def test_credential_file_is_root_only_and_complete(
    cloud: testinfra.host.Host, lab: dict[str, Any], credential: dict[str, Any]
) -> None:
    f = cloud.file(lab["objectstore_standin_credential_file"])
    assert (f.user, f.group, f.mode) == ("root", "root", 0o600)
    assert credential["auth_url"] == f"http://{CLOUD}:5000/v3"
    assert credential["region"] == "dc3-a"
    assert credential["container"] == lab["objectstore_standin_container"]
    assert credential["application_credential_id"]
    assert len(credential["application_credential_secret"]) >= 32
    assert credential["object_store_url"] == (
        f"http://{CLOUD}:8080/v1/AUTH_{credential['project_id']}"
    )


def test_catalog_has_identity_and_object_store_in_the_region(cloud: testinfra.host.Host) -> None:
    out = cloud.check_output("openstack --os-cloud objectstore-admin endpoint list -f json")
    endpoints = {(e["Service Type"], e["Interface"]): e for e in json.loads(out)}
    identity = endpoints[("identity", "public")]
    store = endpoints[("object-store", "public")]
    assert identity["URL"] == f"http://{CLOUD}:5000/v3"
    assert store["URL"] == f"http://{CLOUD}:8080/v1/AUTH_%(project_id)s"
    assert identity["Region"] == store["Region"] == "dc3-a"


def test_restic_backs_up_and_restores_with_the_application_credential(
    client: testinfra.host.Host, run_client: Any, repository: str
) -> None:
    client.check_output(
        "rm -rf /root/lab-data /root/lab-restore && mkdir -p /root/lab-data/sub && "
        "head -c 300000 /dev/urandom > /root/lab-data/sub/random.bin && "
        "echo 'list archive' > /root/lab-data/note.txt"
    )
    run_client(["restic", "-r", repository, "init"])
    run_client(["restic", "-r", repository, "backup", "/root/lab-data"])
    snapshots = json.loads(run_client(["restic", "-r", repository, "snapshots", "--json"]).stdout)
    assert len(snapshots) == 1
    assert snapshots[0]["paths"] == ["/root/lab-data"]
    run_client(["restic", "-r", repository, "restore", "latest", "--target", "/root/lab-restore"])
    assert client.run("diff -r /root/lab-data /root/lab-restore/root/lab-data").rc == 0
    run_client(["restic", "-r", repository, "check"])


def test_a_wrong_secret_is_refused(
    client: testinfra.host.Host, run_client: Any, lab: dict[str, Any], repository: str
) -> None:
    bad_env = "/root/objectstore-wrong.env"
    # Replace the secret inside the file, on the client: no secret on any command line.
    client.check_output(
        "umask 077 && sed 's/^OS_APPLICATION_CREDENTIAL_SECRET=.*/"
        f"OS_APPLICATION_CREDENTIAL_SECRET=wrong-secret/' {lab['lab_objectstore_env_file']} "
        f"> {bad_env}"
    )
    result = run_client(["restic", "-r", repository, "snapshots"], env_file=bad_env, check=False)
    assert result.rc != 0
    assert "conn.Authenticate: Authorization Failed" in result.stderr, result.stderr
    probe = run_client(
        ["python3", "-c", PROBE, lab["objectstore_standin_container"]], env_file=bad_env
    )
    assert json.loads(probe.stdout) == {"issue": 401}


def test_access_rules_confine_the_credential_to_its_container(
    run_client: Any, lab: dict[str, Any], credential: dict[str, Any]
) -> None:
    container = lab["objectstore_standin_container"]
    out = json.loads(run_client(["python3", "-c", PROBE, container]).stdout)
    assert out["issue"] == 201
    # member, and reader which member implies: nothing more.
    assert out["roles"] == ["member", "reader"]
    assert out["storage"] == credential["object_store_url"]
    assert {(r["method"], r["path"]) for r in out["access_rules"]} == {
        (method, f"/v1/AUTH_{credential['project_id']}/{container}{tail}")
        for method in ("GET", "HEAD", "PUT", "DELETE")
        for tail in ("", "/**")
    }
    # Inside the rules: the container and its objects.
    assert out["container_head"] == 204
    assert out["object_put"] == 201
    assert out["object_delete"] == 204
    # Outside: the account listing, another container, Keystone's own API.
    assert out["account_listing"] in (401, 403)
    assert out["other_container_put"] in (401, 403)
    assert out["keystone_projects"] in (401, 403)
    assert out["keystone_own_user"] in (401, 403)


def test_restic_backs_up_over_s3_with_the_ec2_credential(
    client: testinfra.host.Host, run_client: Any, lab: dict[str, Any], credential: dict[str, Any]
) -> None:
    """The S3 alternative: s3api on the same proxy behind TLS, the EC2 credential's
    signature checked by Keystone (s3token), into the same container."""
    assert credential["s3_endpoint"] == f"https://{CLOUD}:8443"
    container = lab["objectstore_standin_container"]
    repository = f"s3:{credential['s3_endpoint']}/{container}/lab-s3-{uuid.uuid4().hex[:12]}"
    restic = ["restic", "--cacert", lab["lab_s3_ca_file"], "-r", repository]
    env = lab["lab_s3_env_file"]
    client.check_output("mkdir -p /root/lab-s3 && echo 'over s3' > /root/lab-s3/note.txt")
    run_client([*restic, "init"], env_file=env)
    run_client([*restic, "backup", "/root/lab-s3"], env_file=env)
    snapshots = json.loads(run_client([*restic, "snapshots", "--json"], env_file=env).stdout)
    assert [s["paths"] for s in snapshots] == [["/root/lab-s3"]]
    bad_env = "/root/objectstore-s3-wrong.env"
    client.check_output(
        "umask 077 && sed 's/^AWS_SECRET_ACCESS_KEY=.*/AWS_SECRET_ACCESS_KEY=wrong/' "
        f"{env} > {bad_env}"
    )
    refused = run_client([*restic, "snapshots"], env_file=bad_env, check=False)
    assert refused.rc != 0
    assert "Access Denied" in refused.stderr, refused.stderr
