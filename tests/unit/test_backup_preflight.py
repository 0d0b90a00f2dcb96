"""The backup target's inputs are checked before any host changes (issue 14).

Naming a Swift container or an S3 bucket in the inventory turns backups on;
what that target needs is then checked, and its secrets never printed.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_preflight import run_preflight as preflight

RESTIC = "restic p$a's\"s #w%rd \\ long enough"
SWIFT_CRED = "swift s$e'c\"r #e%t \\ x"
S3_CRED = "s3 s$e'c\"r #e%t \\ y"
SWIFT = {
    "backup_swift_container": "listserver-backup",
    "backup_swift_application_credential_id": "0123456789abcdef0123456789abcdef",
    "vault_backup_swift_application_credential_secret": SWIFT_CRED,
    "vault_backup_restic_password": RESTIC,
}
S3 = {
    "backup_s3_bucket": "listserver-backup",
    "backup_s3_endpoint": "https://s3.pub1.infomaniak.cloud",
    "backup_s3_access_key_id": "0123456789abcdef0123456789abcdef",
    "vault_backup_s3_secret_access_key": S3_CRED,
    "vault_backup_restic_password": RESTIC,
}


def run_preflight(tmp_path: Path, overrides: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    return preflight(tmp_path, overrides, parent="listserver")


@pytest.mark.parametrize("target", [SWIFT, S3], ids=["swift", "s3"])
def test_a_complete_target_passes(tmp_path: Path, target: dict[str, Any]) -> None:
    result = run_preflight(tmp_path, target)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({**SWIFT, "backup_swift_application_credential_id": "x"}, "32-hex-digit ID"),
        ({**SWIFT, "vault_backup_restic_password": "short"}, "at least\n16 characters"),
        (
            {**S3, "backup_s3_endpoint": "https://s3.example.org/bucket"},
            "got 'https://s3.example.org/bucket'",
        ),
        ({**S3, "backup_s3_bucket": "Backups_2026"}, "got 'Backups_2026'"),
        (
            {**S3, "backup_s3_access_key_id": "key with spaces"},
            "backup_s3_access_key_id the access key",
        ),
        ({**S3, "vault_backup_s3_secret_access_key": ""}, "backup_s3_secret_access_key its secret"),
    ],
    ids=["swift-id", "restic-short", "s3-endpoint-path", "s3-bucket", "s3-key", "s3-secret"],
)
def test_a_bad_target_stops_with_what_to_fix(
    tmp_path: Path, overrides: dict[str, Any], named: str
) -> None:
    result = run_preflight(tmp_path, overrides)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert " ".join(named.split()) in " ".join(output.split()), output
    for secret in (RESTIC, SWIFT_CRED, S3_CRED):
        assert secret not in output
