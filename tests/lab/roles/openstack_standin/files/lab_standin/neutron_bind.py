"""ML2 mechanism driver `lab_bind`: binds every port on any host, as an L2 agent would.

Nova's fake virt driver plugs no interface, so no L2 agent could ever see one.
Neutron only needs a driver that declares the binding: without one, every port
ends `binding_failed` and Nova refuses the server. Neutron's own candidates do
not fit a long-running server: `test` keeps its bound ports in memory and
asserts on them (a restart or a second worker breaks it), `fake_agent` needs
an agent's heartbeat over RPC.
"""

from __future__ import annotations

from typing import Any

from neutron_lib import constants
from neutron_lib.api.definitions import portbindings
from neutron_lib.plugins.ml2 import api


class LabBindMechanismDriver(api.MechanismDriver):  # type: ignore[misc]
    """Bind flat segments as Open vSwitch ports, active at once."""

    def initialize(self) -> None:
        """Nothing to set up."""

    def bind_port(self, context: Any) -> None:
        """Bind the first flat segment offered."""
        for segment in context.segments_to_bind:
            if segment[api.NETWORK_TYPE] == constants.TYPE_FLAT:
                context.set_binding(
                    segment[api.ID],
                    portbindings.VIF_TYPE_OVS,
                    {portbindings.CAP_PORT_FILTER: True},
                    status=constants.PORT_STATUS_ACTIVE,
                )
                return
