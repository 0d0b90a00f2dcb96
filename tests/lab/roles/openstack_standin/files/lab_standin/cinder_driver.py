"""Cinder volume driver of the lab: volumes are records, attachments lead nowhere.

A container can reach neither LVM nor an iSCSI target, and Nova's fake virt
driver attaches nothing; what the lab tests is the API: volumes that are
created, attached to a server, detached and deleted, with their quota.
"""

from __future__ import annotations

from typing import Any

from cinder.volume import driver


class LabVolumeDriver(driver.VolumeDriver):  # type: ignore[misc]
    """Every operation succeeds at once; capacity is large and never used."""

    VERSION = "1.0.0"

    def do_setup(self, context: Any) -> None:
        """Nothing to connect to."""

    def check_for_setup_error(self) -> None:
        """Always ready."""

    def create_volume(self, volume: Any) -> None:
        """The record is the volume."""

    def delete_volume(self, volume: Any) -> None:
        """Nothing to free."""

    def create_export(self, context: Any, volume: Any, connector: Any) -> None:
        """No target to export on."""

    def ensure_export(self, context: Any, volume: Any) -> None:
        """No target to export on."""

    def remove_export(self, context: Any, volume: Any) -> None:
        """No target to export on."""

    def initialize_connection(self, volume: Any, connector: Any) -> dict[str, Any]:
        """A connection of a type no host-side connector acts on."""
        return {"driver_volume_type": "lab", "data": {"volume_id": volume.id}}

    def terminate_connection(self, volume: Any, connector: Any, **kwargs: Any) -> None:
        """Nothing was connected."""

    def _update_volume_stats(self) -> None:
        self._stats = {
            "volume_backend_name": self.configuration.safe_get("volume_backend_name") or "lab",
            "vendor_name": "listserver lab",
            "driver_version": self.VERSION,
            "storage_protocol": "lab",
            "total_capacity_gb": 10000,
            "free_capacity_gb": 10000,
            "reserved_percentage": 0,
            "thin_provisioning_support": True,
        }
