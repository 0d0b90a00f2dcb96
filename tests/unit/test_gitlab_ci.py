""".gitlab-ci.yml: throw-away stacks are always destroyed, the janitor stays in its lane,
credentials are documented and never printed."""

from __future__ import annotations

import re
from typing import Any

import yaml
from helpers import ROOT

PIPELINE_FILE = ROOT / ".gitlab-ci.yml"
PIPELINE: dict[str, Any] = yaml.safe_load(PIPELINE_FILE.read_text())
HEADER = PIPELINE_FILE.read_text().split("\nworkflow:")[0]
SECRETS = [
    "OS_APPLICATION_CREDENTIAL_ID",
    "OS_APPLICATION_CREDENTIAL_SECRET",
    "LISTSERVER_SSH_KEY",
    "LISTSERVER_VAULT",
    "ANSIBLE_VAULT_PASSWORD",
    "INFOMANIAK_API_TOKEN",
]


def job(name: str) -> dict[str, Any]:
    """A job with its `extends` template merged in (one level, as used here)."""
    spec = dict(PIPELINE[name])
    base = spec.pop("extends", None)
    return {**PIPELINE[base], **spec} if base else spec


def script_lines() -> list[str]:
    lines: list[str] = []
    for name, spec in PIPELINE.items():
        if isinstance(spec, dict) and name not in ("variables", "workflow"):
            for key in ("before_script", "script", "after_script"):
                lines += spec.get(key, [])
    return lines


def ci_name_prefix() -> str:
    text = (ROOT / "clients/ci/terraform.tfvars").read_text()
    match = re.search(r'^name_prefix\s*=\s*"([^"]+)"', text, re.M)
    assert match, "clients/ci/terraform.tfvars must set name_prefix"
    return match[1]


def test_stack_jobs_run_in_stage_order_and_destroy_comes_after_smoke() -> None:
    stages = PIPELINE["stages"]
    order = [stages.index(job(n)["stage"]) for n in ("stack", "deploy", "smoke", "destroy")]
    assert order == sorted(order)
    assert len(set(order)) == 4


def test_destroy_always_runs_with_the_stack_jobs_state() -> None:
    destroy = job("destroy")
    runs = [r for r in destroy["rules"] if r.get("when") != "never"]
    assert runs, "destroy has no rule that runs it"
    assert all(r.get("when") == "always" for r in runs)
    assert destroy["dependencies"] == ["stack"]
    assert "needs" not in destroy, "with needs, destroy would not wait for deploy and smoke"
    assert any("make destroy CLIENT=ci" in line for line in destroy["script"])
    stack = job("stack")
    assert stack["artifacts"]["when"] == "always", "a half-applied stack must keep its state"
    assert "clients/ci/terraform.tfstate" in stack["artifacts"]["paths"]


def test_stack_jobs_share_their_rules_and_cannot_be_cancelled_halfway() -> None:
    creates = job("stack")["rules"][-1]["if"]
    assert job("destroy")["rules"][-1]["if"] == creates
    assert PIPELINE["default"]["interruptible"] is False
    for name in ("stack", "deploy", "smoke"):
        assert job(name)["rules"] == PIPELINE[".stack"]["rules"], name


def test_per_pipeline_stack_name_and_janitor_prefix_match_the_ci_client() -> None:
    variables = PIPELINE["variables"]
    assert variables["TF_VAR_stack_name"] == "$CI_PIPELINE_ID"
    assert variables["TF_VAR_created_at"] == "$CI_PIPELINE_CREATED_AT"
    assert variables["JANITOR_PREFIX"] == ci_name_prefix()
    tfvars = (ROOT / "clients/ci/terraform.tfvars").read_text()
    # tfvars win over TF_VAR_*: per-pipeline values must not be in the file.
    for name in ("stack_name", "created_at", "ssh_public_key"):
        assert not re.search(rf"^{name}\s*=", tfvars, re.M), name


def test_janitor_deletes_only_in_scheduled_pipelines() -> None:
    rules = job("janitor")["rules"]
    deleting = [r for r in rules if r.get("variables", {}).get("JANITOR_DELETE") == "1"]
    assert len(deleting) == 1
    assert '$CI_PIPELINE_SOURCE == "schedule"' in deleting[0]["if"]
    others = [r for r in rules if r not in deleting]
    assert all(r["variables"]["JANITOR_DELETE"] == "0" for r in others)
    assert rules.index(deleting[0]) == 0, "the schedule rule must match first"


def test_every_credential_is_documented_and_never_printed() -> None:
    for name in SECRETS:
        assert name in HEADER, f"{name} is not documented at the top of .gitlab-ci.yml"
    for line in script_lines():
        assert "set -x" not in line
        if re.match(r"\s*(echo|printf|cat)\b", line):
            assert not any(name in line for name in SECRETS), line
