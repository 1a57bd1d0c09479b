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


def test_services_are_a_closed_set_of_names_checked_one_by_one() -> None:
    connect, disconnect, notify = op.catalogue()["set_services"].params
    assert disconnect.repeated and disconnect.choices == op.SERVICES
    assert (connect.repeated, connect.choices) == (True, op.SERVICES)
    assert op.SERVICES == ("voice", "sms", "data", "roaming", "international")
    assert (notify.boolean, notify.default) == (True, "false")
    assert op.checked_params("set_services", {"connect": "roaming, international,roaming"}) == {
        "connect": "roaming,international",
        "notify_subscribers": "false",
    }
    assert op.checked_params("set_services", {"disconnect": "roaming", "notify_subscribers": "TRUE"}) == {
        "disconnect": "roaming",
        "notify_subscribers": "true",
    }
    with pytest.raises(InvalidArgument) as refused:
        op.checked_params("set_services", {"connect": "roaming,teleport"})
    assert refused.value.field_violations == {"params.connect[1]": "must be one of " + ", ".join(op.SERVICES)}
    with pytest.raises(InvalidArgument) as refused:
        op.checked_params("set_services", {"connect": "data,roaming", "disconnect": "voice,roaming"})
    assert refused.value.field_violations == {"params.disconnect[1]": "roaming is also in connect"}
    with pytest.raises(InvalidArgument) as refused:
        op.checked_params("set_services", {"notify_subscribers": "true"})
    assert set(refused.value.field_violations) == {"params"}  # at least one name to connect or disconnect
    with pytest.raises(InvalidArgument) as refused:
        op.checked_params("set_services", {"connect": "roaming", "notify_subscribers": "maybe"})
    assert set(refused.value.field_violations) == {"params.notify_subscribers"}


def test_a_tariff_change_takes_a_tariffs_code() -> None:
    assert op.checked_params("change_tariff", {"tariff_code": " BIZ-L "}) == {
        "tariff_code": "BIZ-L",
        "notify_subscribers": "false",
    }
    for bad in ({}, {"tariff_code": "BIZ L"}, {"tariff_code": "x" * 65}):
        with pytest.raises(InvalidArgument) as refused:
            op.checked_params("change_tariff", bad)
        assert set(refused.value.field_violations) == {"params.tariff_code"}


def test_labels_and_groups_are_text_held_to_one_rule() -> None:
    assert op.checked_params("add_labels", {"labels": " drivers , Север 2,drivers"}) == {"labels": "drivers,Север 2"}
    assert op.checked_params("set_group", {"group": "Night shift 🌙"}) == {"group": "Night shift 🌙"}
    group_id = "01JA5F6G7H8J9K0M1N2P3Q4R5S"
    assert op.checked_params("set_group", {"group_id": group_id}) == {"group_id": group_id}
    assert op.checked_params("clear_group", {}) == {}
    for type_, bad, name in (
        ("add_labels", {}, "params.labels"),
        ("add_labels", {"labels": "ok," + "x" * 65}, "params.labels[1]"),
        ("remove_labels", {"labels": "a\u202eb"}, "params.labels[0]"),
        ("set_group", {"group": " padded"}, "params.group"),
        ("set_group", {"group": "g" * 101}, "params.group"),
        ("set_group", {"group": "tab\there"}, "params.group"),
        ("set_group", {}, "params"),
        ("set_group", {"group_id": "Couriers"}, "params.group_id"),
    ):
        with pytest.raises(InvalidArgument) as refused:
            op.checked_params(type_, bad)
        assert set(refused.value.field_violations) == {name}


def test_lists_and_bools_convert_both_ways_and_to_json() -> None:
    values = {"connect": "roaming,international", "disconnect": "data", "notify_subscribers": "true"}
    typed = op.params_from_text("set_services", values)
    assert list(typed.set_services.connect) == ["roaming", "international"]
    assert typed.set_services.notify_subscribers is True
    assert op.params_to_text(typed) == ("set_services", values)
    # proto3 leaves a false bool out: the default fills it in when checked, as from text.
    quiet = op.params_from_text("change_tariff", {"tariff_code": "BIZ-S", "notify_subscribers": "false"})
    assert op.checked_params("change_tariff", op.params_to_text(quiet)[1])["notify_subscribers"] == "false"
    connect, _, notify = op.catalogue()["set_services"].params
    assert op.json_value(connect, "roaming,data") == ["roaming", "data"]
    assert op.json_value(notify, "true") is True
    assert [op.text_value(v) for v in (["roaming", "data"], True, False, "BIZ-M")] == [
        "roaming,data",
        "true",
        "false",
        "BIZ-M",
    ]
