"""Nova virt driver of the lab: Nova's fake driver, made to survive a restart of nova-compute.

The fake driver names its node with a UUID drawn anew in every process and keeps its
servers in memory, so a restarted nova-compute would refuse to start (no local node
identity) or report every server gone. This one derives the node's UUID from its name,
the UUID the role writes to /var/lib/nova/compute_id, and takes any server Nova asks
about as running.
"""

from __future__ import annotations

import uuid
from typing import Any

from nova.compute import power_state
from nova.virt import fake


def node_uuid(nodename: str) -> str:
    """The node's UUID: the same for the same name, in every process."""
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, nodename))


class LabComputeDriver(fake.FakeDriver):  # type: ignore[misc]
    """A fake hypervisor whose node and servers outlive the process."""

    def get_available_resource(self, nodename: str) -> dict[str, Any]:
        resources: dict[str, Any] = super().get_available_resource(nodename)
        resources["uuid"] = node_uuid(nodename)
        return resources

    def get_nodenames_by_uuid(self, refresh: bool = False) -> dict[str, str]:
        return {node_uuid(name): name for name in self.get_available_nodes()}

    def get_info(self, instance: Any, use_cache: bool = True) -> Any:
        if instance.uuid not in self.instances:
            self.instances[instance.uuid] = fake.FakeInstance(
                instance.name, power_state.RUNNING, instance.uuid
            )
        return super().get_info(instance, use_cache)
