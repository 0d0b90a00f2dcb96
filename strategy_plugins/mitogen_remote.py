"""Mitogen's linear strategy for remote hosts, Ansible's own for controller plays.

Mitogen keeps one Python interpreter per host and caches the modules it has
sent, instead of starting a fresh interpreter that unpacks and compiles each
module for every task: on the lab's 2-core machine 0.03 s instead of 0.5 s
(SSH) or 1.3 s (podman exec) per task. Plays with `connection: local` run
with the stock linear strategy: under Mitogen, async tasks on the controller
lose their results (Molecule's instance creation waits forever), and those
plays are short. So do plays that name `connection: ansible.builtin.ssh`
(playbooks/reachable.yml): Mitogen passes `StrictHostKeyChecking yes` ahead
of every SSH option, so a server seen for the first time is refused whatever
~/.ssh/config or ansible_ssh_common_args say (accept-new, a prompt); the
stock plugin leaves that to OpenSSH. ansible.cfg selects this strategy;
ANSIBLE_STRATEGY=linear turns Mitogen off.
"""

from typing import Any

from ansible.plugins.loader import filter_loader, test_loader
from ansible.plugins.strategy.linear import StrategyModule as LinearStrategy
from ansible_mitogen.plugins.strategy.mitogen_linear import StrategyModule as MitogenStrategy

__all__ = ["StrategyModule"]

STOCK_CONNECTIONS = ("local", "ansible.builtin.local", "ansible.builtin.ssh")


class StrategyModule(MitogenStrategy):
    def run(self, iterator: Any, play_context: Any) -> Any:
        if iterator._play.connection in STOCK_CONNECTIONS:
            return LinearStrategy.run(self, iterator, play_context)
        preload_jinja_plugins()
        return super().run(iterator, play_context)


def preload_jinja_plugins() -> None:
    """Load every filter and test plugin here, once.

    Ansible forks a worker per task, and each worker otherwise imports the
    plugin files anew on its first filter or test (a few ms each task).
    """
    for loader in (filter_loader, test_loader):
        for _ in loader.all():
            pass
