"""The operation parameter catalogue read from operation_params.proto: complete, checked, converted both ways."""

from __future__ import annotations

import pytest

from simfleet.inventory.v1 import operation_params_pb2 as params_pb
from simfleet.inventory.v1 import operations_pb2 as pb
from simfleet_runtime import operation_params as op
from simfleet_runtime.errors import InvalidArgument

CREATED_ELSEWHERE = {"order_sims"}
"""Types no caller names in CreateOperation: they have no entry."""


def _type_names() -> set[str]:
    return {v.name.removeprefix("OPERATION_TYPE_").lower() for v in pb.OperationType.DESCRIPTOR.values if v.number != 0}


def test_every_operation_type_a_caller_names_has_its_params_defined_once() -> None:
    assert set(op.catalogue()) == _type_names() - CREATED_ELSEWHERE


def test_item_params_belong_to_types_that_exist() -> None:
    items = {f.name for f in params_pb.ItemParams.DESCRIPTOR.fields}
    assert items <= set(op.catalogue())
    assert {name for name, spec in op.catalogue().items() if spec.item_params} == items


def test_every_param_is_described_and_its_check_exists() -> None:
    for spec in op.catalogue().values():
        assert spec.description, spec.type
        for param in (*spec.params, *spec.item_params):
            assert param.description, f"{spec.type}.{param.name}"
            assert not param.format or param.format in op.FORMATS
            if param.example:
                assert param.normalized(param.example) == param.example, f"{spec.type}.{param.name}"
            if param.default:
                assert param.normalized(param.default) == param.default
        for name in spec.any_of:
            assert name in {p.name for p in spec.params}


def test_enums_are_named_by_their_short_lower_case_names() -> None:
    [block_type] = op.catalogue()["block"].params
    assert block_type.choices == ("voluntary", "lost_or_stolen", "financial", "scheduled")
    assert block_type.required


def test_check_normalizes_fills_defaults_and_names_every_problem() -> None:
    assert op.checked_params("add_apn", {"apn": " Corp.SIMfleet "}) == {"apn": "corp.simfleet", "pdp_type": "ipv4"}
    assert op.checked_params("send_sms", {"text": "hi"}) == {"text": "hi", "sender": "SIMfleet"}
    assert op.checked_params("activate", {}) == {}
    with pytest.raises(InvalidArgument) as refused:
        op.checked_params("set_forwarding", {"condition": "always", "target": "+4915112345678", "colour": "red"})
    assert refused.value.reason == "INVALID_PARAMS"
    assert set(refused.value.field_violations) == {"params.condition", "params.target", "params.colour"}
    with pytest.raises(InvalidArgument) as refused:
        op.checked_params("move", {})
    assert set(refused.value.field_violations) == {"params"}
    with pytest.raises(InvalidArgument):
        op.checked_params("activate", {"block_type": "voluntary"})
    with pytest.raises(InvalidArgument) as refused:
        op.checked_item_params("replace_sim", {"iccid": "8970199000000000107"})
    assert set(refused.value.field_violations) == {"items.params.iccid"}
    assert op.checked_item_params("change_number", {}) == {}


def test_typed_and_text_forms_convert_both_ways() -> None:
    for values in ({"block_type": "lost_or_stolen"}, {"apn": "corp", "pdp_type": "ipv6", "static_ip": "10.0.0.1"}):
        type_name = "block" if "block_type" in values else "add_apn"
        typed = op.params_from_text(type_name, values)
        assert typed.WhichOneof("params") == type_name
        assert op.params_to_text(typed) == (type_name, values)
    assert op.params_from_text("block", {"block_type": "voluntary"}).block.block_type == params_pb.BLOCK_TYPE_VOLUNTARY
    assert op.params_to_text(op.params_from_text("activate", {})) == ("activate", {})
    assert op.params_to_text(params_pb.OperationParams()) == (None, {})
    item = op.item_params_from_text("replace_sim", {"iccid": "8970199000000000205"})
    assert op.item_params_to_text(item) == ("replace_sim", {"iccid": "8970199000000000205"})


def test_an_enum_number_the_contract_does_not_know_is_refused_not_guessed() -> None:
    typed = params_pb.OperationParams(block=params_pb.BlockParams(block_type=99))  # type: ignore[arg-type]
    _, values = op.params_to_text(typed)
    assert values == {"block_type": "99"}
    with pytest.raises(InvalidArgument):
        op.checked_params("block", values)
