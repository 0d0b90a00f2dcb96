"""The firewall and the bans come back after a reboot (issue 16 item 1).

Last of the verify step (the name sorts last): it restarts a list server.
"""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest
import testinfra
from conftest import run_python

# Runs on the ACME host: the status of the list index over HTTPS, or null
# while the connection is refused or the app is not up yet.
STATUS = """
import json, os, ssl, urllib.error, urllib.request
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
try:
    url = "https://" + os.environ["FQDN"] + "/postorius/lists/"
    print(json.dumps(urllib.request.urlopen(url, context=ctx, timeout=10).status))
except urllib.error.HTTPError as e:
    print(json.dumps(e.code))
except OSError:
    print(json.dumps(None))
"""


def test_the_firewall_is_loaded_again_after_a_reboot(host: testinfra.host.Host, fqdn: str) -> None:
    if not fqdn.startswith("lists13."):
        pytest.skip("one host is enough: the other keeps serving the rest of the run")
    env = {**os.environ}
    subprocess.run(["podman", "restart", "--time", "20", fqdn], check=True, env=env, timeout=120)
    deadline = time.monotonic() + 180
    state = ""
    while time.monotonic() < deadline:
        state = host.run("systemctl is-system-running").stdout.strip()
        if state in ("running", "degraded"):
            break
        time.sleep(2)
    assert state in ("running", "degraded"), state
    failed = host.run("systemctl --failed --no-legend").stdout
    ruleset = json.loads(host.check_output("nft -j list chain inet listserver input"))
    chain = next(i["chain"] for i in ruleset["nftables"] if "chain" in i)
    assert chain["policy"] == "drop", failed
    assert host.service("fail2ban").is_running, failed
    scanner = testinfra.get_host("podman://acme.default.lab.test")
    status = None
    while time.monotonic() < deadline:
        status = run_python(scanner, STATUS, FQDN=fqdn)
        if status == 200:
            break
        time.sleep(3)
    assert status == 200, f"{status}\n{failed}"
