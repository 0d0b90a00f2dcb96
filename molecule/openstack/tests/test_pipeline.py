""".gitlab-ci.yml itself, run: its stack jobs on gitlab-ci-local (shell executor) against
the stand-in, with the CI/CD variables a project sets (OS_* of the tenant's credential,
the SSH key and the vault as File variables, the vault password).

A pipeline whose server never answers: `stack` applies clients/ci with OpenTofu (the CI
image has no terraform: tools/terraform-provider-build builds it) and passes its state on
as an artifact, `deploy` fails (the host is unreachable), and `destroy` runs anyway
(rules: when: always) and leaves nothing of the stack. `smoke` is not asked for:
gitlab-ci-local 4.65 stops at the first job a failure skips, so it would never reach
`destroy`, which GitLab runs.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, SECRETS, VAULT_PASSWORD, left_after, write_vault

JOBS = ("stack", "deploy", "destroy")
# The stack's name: clients/ci's name_prefix and the pipeline id (TF_VAR_stack_name).
PREFIX = "listserver-ci"
# clients/ci's vault. A server that does not come up fails the deploy after
# listserver_boot_timeout seconds, not 10 minutes.
CI_VAULT = {**SECRETS, "listserver_boot_timeout": 30}


def gitlab_variable(value: str) -> str:
    """GitLab expands $NAME in a variable's value (unless its "Expand variable reference"
    is off); $$ is a literal $."""
    return value.replace("$", "$$")


def copy_of_the_repository(dest: Path) -> Path:
    """The working tree's tracked files, committed on main in a repository of their own:
    the pipeline runs on what is here, and writes nothing into the checkout."""
    tracked = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True
    ).stdout
    subprocess.run(
        [
            "rsync",
            "-a",
            "--from0",
            "--ignore-missing-args",
            "--files-from=-",
            f"{ROOT}/",
            f"{dest}/",
        ],
        input=tracked,
        check=True,
    )
    git = ["git", "-C", str(dest), "-c", "user.name=lab", "-c", "user.email=lab@lab.test"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "pipeline under test"], check=True)
    return dest


@pytest.fixture(scope="module")
def failed_pipeline(
    tmp_path_factory: pytest.TempPathFactory,
    os_env: dict[str, str],
    private_key: Path,
) -> Iterator[dict[str, Any]]:
    """One pipeline, its server never stood in; the jobs' output and its stack's name."""
    tmp = tmp_path_factory.mktemp("pipeline")
    repo = copy_of_the_repository(tmp / "repo")
    vault = tmp / "vault.yml"
    write_vault(vault, CI_VAULT)
    pipeline_id = str(secrets.randbelow(9 * 10**6) + 10**6)
    variables = {
        **{k: gitlab_variable(v) for k, v in os_env.items()},
        "LISTSERVER_SSH_KEY": str(private_key),
        "LISTSERVER_VAULT": str(vault),
        "ANSIBLE_VAULT_PASSWORD": gitlab_variable(VAULT_PASSWORD),
        "CI_PIPELINE_ID": pipeline_id,
        # The runner's own home and caches: this machine's are left alone, and the
        # virtualenv and the provider build are the warm ones of this run.
        "HOME": str(tmp / "home"),
        "XDG_CACHE_HOME": str(Path(os.environ["LISTSERVER_CACHE_DIR"]).parent),
        "LISTSERVER_PROVIDER_BUILD": "1",
        "LISTSERVER_USE_OPENTOFU": "1",
        # gitlab-ci-local expands $CI_PROJECT_DIR in the file's own variables to a
        # container's path (/builds/...) even for shell jobs; a runner gives the job's.
        "ANSIBLE_VAULT_PASSWORD_FILE": str(repo / "tools" / "vault-password-env"),
    }
    tool = os.environ.get("GITLAB_CI_LOCAL") or pytest.fail(
        "GITLAB_CI_LOCAL names no gitlab-ci-local: run make test-openstack"
    )
    argv = [tool, "--force-shell-executor", "--shell-isolation"]
    argv += ["--no-color", "--max-job-name-padding=0"]
    for name, value in variables.items():
        argv += ["--variable", f"{name}={value}"]
    lab_only = ("ANSIBLE_", "MOLECULE_", "PYTEST_", "OS_", "TF_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(lab_only)}
    run = subprocess.run(
        [*argv, *JOBS], cwd=repo, env=env, capture_output=True, text=True, timeout=1800
    )
    yield {"output": run.stdout + run.stderr, "name": f"{PREFIX}-{pipeline_id}"}
    # Whatever a broken destroy job left (only this test makes stacks of this prefix).
    janitor = [sys.executable, str(ROOT / "tools" / "janitor.py"), f"--prefix={PREFIX}"]
    subprocess.run(
        [*janitor, "--older-than=0", "--delete"], env={**os.environ, **os_env}, check=False
    )


def job_result(output: str, job: str) -> str:
    """PASS or FAIL from gitlab-ci-local's summary; "" when the job did not run."""
    found = re.search(rf"^\s*(PASS|FAIL)\s+{job}\b", output, re.M)
    return found[1] if found else ""


def test_the_stack_job_applies_with_opentofu_and_the_deploy_fails(
    failed_pipeline: dict[str, Any],
) -> None:
    output = failed_pipeline["output"]
    assert job_result(output, "stack") == "PASS", output[-4000:]
    assert "/opentofu/" in output, output[-4000:]
    assert "Apply complete! Resources: " in output, output[-4000:]
    assert job_result(output, "deploy") == "FAIL", output[-4000:]
    # For the reason given: the vault opened, the inventory came from the artifact,
    # and nothing answered at the server's address.
    assert "timed out waiting for ping module test" in output, output[-4000:]


def test_destroy_runs_after_the_failed_job_and_leaves_nothing(
    failed_pipeline: dict[str, Any], conn: Any
) -> None:
    output = failed_pipeline["output"]
    assert job_result(output, "destroy") == "PASS", output[-4000:]
    assert left_after(conn, failed_pipeline["name"]) == {}


def test_no_secret_reaches_the_job_logs(
    failed_pipeline: dict[str, Any], os_env: dict[str, str]
) -> None:
    output = failed_pipeline["output"]
    for secret in (os_env["OS_APPLICATION_CREDENTIAL_SECRET"], VAULT_PASSWORD):
        assert secret not in output
    assert "PRIVATE KEY" not in output
