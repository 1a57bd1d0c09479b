"""CreateOperation takes typed params (operation_params.proto) and, from older clients, the same as text."""

from __future__ import annotations

import pytest

from inventory.lines.models import BLOCK_TYPES, FORWARDING_CONDITIONS
from inventory.operations.grpc_api import _params, _target
from simfleet.inventory.v1 import operation_params_pb2 as params_pb
from simfleet.inventory.v1 import operations_pb2 as pb
from simfleet_runtime import operation_params
from simfleet_runtime.errors import InvalidArgument


def test_typed_params_are_read_as_the_text_inventory_keeps() -> None:
    request = pb.CreateOperationRequest(
        type=pb.OPERATION_TYPE_BLOCK,
        typed_params=params_pb.OperationParams(
            block=params_pb.BlockParams(block_type=params_pb.BLOCK_TYPE_LOST_OR_STOLEN)
        ),
        params={"block_type": "voluntary"},  # ignored: the typed params win
    )
    assert _params(request, "block") == {"block_type": "lost_or_stolen"}


def test_text_params_of_older_clients_are_still_read() -> None:
    request = pb.CreateOperationRequest(type=pb.OPERATION_TYPE_BLOCK, params={"block_type": "voluntary"})
    assert _params(request, "block") == {"block_type": "voluntary"}


def test_a_type_without_params_may_send_its_empty_message_or_nothing() -> None:
    empty = pb.CreateOperationRequest(
        type=pb.OPERATION_TYPE_ACTIVATE, typed_params=params_pb.OperationParams(activate=params_pb.ActivateParams())
    )
    assert _params(empty, "activate") == {}
    assert _params(pb.CreateOperationRequest(type=pb.OPERATION_TYPE_ACTIVATE), "activate") == {}


def test_params_of_another_type_are_refused() -> None:
    request = pb.CreateOperationRequest(
        type=pb.OPERATION_TYPE_UNBLOCK,
        typed_params=params_pb.OperationParams(block=params_pb.BlockParams(block_type=params_pb.BLOCK_TYPE_FINANCIAL)),
    )
    with pytest.raises(InvalidArgument) as refused:
        _params(request, "unblock")
    assert refused.value.field_violations == {"params": "the parameters of block given for unblock"}


def test_a_lines_typed_params_are_read_and_checked_against_the_type() -> None:
    own = params_pb.ItemParams(replace_sim=params_pb.ReplaceSimItemParams(iccid="8970199000000000205"))
    target = _target(pb.Target(msisdn="+79990000101", item_params=own), "replace_sim")
    assert (target.msisdn, target.params) == ("+79990000101", {"iccid": "8970199000000000205"})
    legacy = _target(pb.Target(msisdn="+79990000101", params={"msisdn": "+79990000555"}), "change_number")
    assert legacy.params == {"msisdn": "+79990000555"}
    with pytest.raises(InvalidArgument):
        _target(pb.Target(msisdn="+79990000101", item_params=own), "change_number")


def test_the_lines_block_types_and_forwarding_conditions_are_the_contracts() -> None:
    catalogue = operation_params.catalogue()
    assert catalogue["block"].params[0].choices == BLOCK_TYPES
    assert catalogue["set_forwarding"].params[0].choices == FORWARDING_CONDITIONS
