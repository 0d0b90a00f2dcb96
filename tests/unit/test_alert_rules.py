"""The alert rules of roles/monitoring, rendered and tested with promtool.

The template is rendered with the role's defaults (the production values) and
with the lab's (molecule/e2e), checked with `promtool check rules`, and the
production rendering is run through the cases of
tests/unit/prometheus/listserver.rules.test.yml (`promtool test rules`).
promtool comes from Debian's prometheus package (Makefile: host-deps).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLE = ROOT / "roles" / "monitoring"
TEMPLATE = ROLE / "templates" / "etc" / "prometheus" / "listserver.rules.yml.j2"
CASES = Path(__file__).resolve().parent / "prometheus" / "listserver.rules.test.yml"
ANNOTATION_CASES = CASES.with_name("listserver.annotations.test.yml")
LAB_VARS = ROOT / "molecule" / "e2e" / "group_vars" / "all" / "monitoring.yml"


@pytest.fixture(autouse=True)
def _promtool() -> None:
    assert shutil.which("promtool"), (
        "promtool missing: install Debian's prometheus (make host-deps)"
    )


def render(overrides: dict[str, Any] | None = None) -> str:
    """The template as Ansible renders it: its #jinja2 header sets the delimiters."""
    header, body = TEMPLATE.read_text().split("\n", 1)
    assert header.startswith("#jinja2:")
    options: dict[str, Any] = {}
    for item in header.removeprefix("#jinja2:").split(","):
        key, value = (part.strip() for part in item.split(":", 1))
        options[key] = value.strip("'") if value.startswith("'") else value == "True"
    env = jinja2.Environment(  # noqa: S701 (YAML, not HTML)
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, **options
    )
    env.filters["comment"] = lambda text: "".join(f"# {line}\n" for line in text.splitlines())
    values = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    values.update(overrides or {})
    values["ansible_managed"] = "Ansible managed"
    return env.from_string(body).render(**values)


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["promtool", *args], capture_output=True, text=True, check=False)


def test_rules_pass_promtool_check(tmp_path: Path) -> None:
    rules = tmp_path / "listserver.rules.yml"
    rules.write_text(render())
    done = promtool("check", "rules", str(rules))
    assert done.returncode == 0, done.stdout + done.stderr


def test_lab_rendering_passes_promtool_check(tmp_path: Path) -> None:
    lab = yaml.safe_load(LAB_VARS.read_text())
    rules = tmp_path / "listserver.rules.yml"
    rules.write_text(render({k: v for k, v in lab.items() if k.startswith("monitoring_")}))
    done = promtool("check", "rules", str(rules))
    assert done.returncode == 0, done.stdout + done.stderr


def without_annotations(text: str) -> str:
    """promtool compares annotations whenever an alert is expected: leave them out."""
    rules = yaml.safe_load(text)
    for group in rules["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    return yaml.safe_dump(rules)


def test_promtool_unit_tests_of_every_alert(tmp_path: Path) -> None:
    (tmp_path / "listserver.rules.yml").write_text(without_annotations(render()))
    cases = tmp_path / CASES.name
    shutil.copy(CASES, cases)
    done = promtool("test", "rules", str(cases))
    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_renders_the_annotations(tmp_path: Path) -> None:
    (tmp_path / "listserver.rules.yml").write_text(render())
    cases = tmp_path / ANNOTATION_CASES.name
    shutil.copy(ANNOTATION_CASES, cases)
    done = promtool("test", "rules", str(cases))
    assert done.returncode == 0, done.stdout + done.stderr


def alerts() -> list[dict[str, Any]]:
    rules = yaml.safe_load(render())
    return [rule for group in rules["groups"] for rule in group["rules"] if "alert" in rule]


def test_every_alert_carries_its_runbook_and_is_unit_tested() -> None:
    tested = {
        case["alertname"]
        for test in yaml.safe_load(CASES.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    for alert in alerts():
        annotations = alert["annotations"]
        assert {"summary", "description", "runbook"} <= set(annotations), alert["alert"]
        assert len(annotations["runbook"]) > 60, alert["alert"]
        assert alert["labels"]["severity"] in ("critical", "warning", "info"), alert["alert"]
        assert alert["alert"] in tested, f"{alert['alert']} never fires in {CASES.name}"


def test_each_for_duration_is_a_role_variable() -> None:
    names = {a["alert"] for a in alerts()}
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    assert len(defaults["monitoring_rules_for"]) == len(names)
