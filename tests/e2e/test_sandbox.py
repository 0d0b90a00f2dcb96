"""The project's own services run sandboxed (issue 16 item 4).

Each unit the project writes (or extends with a drop-in) keeps the exposure
`systemd-analyze security` gave it when its sandbox was written; a loosened
unit fails here. That the sandboxed services still do their work is what the
rest of the e2e suite proves: mail through fetchmail and Mailman, metrics
through Prometheus, a backup restored onto a new host.
"""

from __future__ import annotations

import re

import pytest
import testinfra

# Measured on Debian 13 (systemd 257) in the lab; before the sandboxes:
# mailman3 9.2, fetchmail-intake 8.3, listserver-metrics 8.7,
# listserver-backup and listserver-backup-check 7.8.
CEILINGS = {
    "mailman3": 1.8,
    "fetchmail-intake": 1.6,
    "listserver-metrics": 2.1,
    "listserver-backup": 2.0,
    "listserver-backup-check": 2.0,
}


@pytest.mark.parametrize(("unit", "ceiling"), CEILINGS.items())
def test_each_project_unit_keeps_its_measured_exposure(
    host: testinfra.host.Host, unit: str, ceiling: float
) -> None:
    report = host.run(f"systemd-analyze security --no-pager {unit}.service")
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", report.stdout)
    assert found, report.stdout + report.stderr
    open_items = "\n".join(line for line in report.stdout.splitlines() if "✗" in line)
    assert float(found.group(1)) <= ceiling, f"{unit}: {found.group(1)}\n{open_items}"
