"""Nova loads virt drivers from nova.virt only: this names the lab's (lab_standin.nova_driver)."""

from lab_standin.nova_driver import LabComputeDriver

__all__ = ["LabComputeDriver"]
