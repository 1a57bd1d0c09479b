"""Runs the SIMfleet platform on one machine (``make up``, end-to-end tests) and benchmarks it (``make bench``).

The entry point for code is :class:`~simfleet_devstack.platform.Platform` with
its :class:`~simfleet_devstack.platform.PlatformConfig`.
"""

from simfleet_devstack.platform import Platform, PlatformConfig, PlatformError, PortsInUseError

__all__ = ["Platform", "PlatformConfig", "PlatformError", "PortsInUseError"]
