"""netsim's HLR and usage generator know the same network services as the rest of SIMfleet (the runtime's list)."""

from __future__ import annotations

from netsim.hlr import identifiers
from netsim.usage import generator
from simfleet_runtime import operation_params


def test_the_hlr_takes_the_runtimes_services_and_no_copy_of_them() -> None:
    assert identifiers.SERVICES is operation_params.SERVICES
    assert set(identifiers.DEFAULT_SERVICES) <= set(operation_params.SERVICES)
    # SET_SERVICES accepts every service inventory may send, in the runtime's order.
    assert identifiers.parse_services(",".join(reversed(operation_params.SERVICES))) == list(operation_params.SERVICES)


def test_the_usage_generator_has_a_flag_for_every_service() -> None:
    assert set(generator._FLAGS) == set(operation_params.SERVICES)
