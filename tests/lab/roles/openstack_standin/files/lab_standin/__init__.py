"""Drivers that let the lab's OpenStack stand-in run without a hypervisor or block storage."""
