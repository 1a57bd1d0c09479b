"""A line as inventory answers it: every field from the stored row, the same in a page as alone."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from google.protobuf.timestamp_pb2 import Timestamp

from inventory import convert
from simfleet.inventory.v1 import lines_pb2 as lpb


def _row(msisdn: str, **changes: object) -> SimpleNamespace:
    fields: dict[str, object] = {
        "id": "01JA2C3D4E5F6G7H8J9K0M1N2P",
        "customer_id": "01M80FS1VH2MZKYX1PNS53P8M2",
        "msisdn": msisdn,
        "iccid": "8970199000000000106",
        "imsi": "250990000000101",
        "node_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7B",
        "personal_account_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7C",
        "tariff_code": "corp-unlimited",
        "state": "blocked",
        "blocks": [{"type": "voluntary", "since": "2026-01-15T09:30:00.123456+00:00"}, {"type": "scheduled"}],
        "services": ["voice", "sms"],
        "apns": [
            {"name": "internet", "pdp_type": "ipv4v6", "added_at": "2026-01-16T12:00:00+00:00"},
            {"name": "corp.simfleet", "static_ip": "10.20.0.15"},
        ],
        "forwarding": {"unreachable": "+79990000198", "busy": "+79990000199"},
        "labels": ["drivers", "north"],
        "group_name": "fleet",
        "group_id": "01JA5F6G7H8J9K0M1N2P3Q4R5S",
        "pending_operation_id": "01JA3D4E5F6G7H8J9K0M1N2P3Q",
        "created_at": datetime(2026, 1, 15, 9, 30, tzinfo=UTC),
        "updated_at": datetime(2026, 1, 16, 12, 0, 0, 654321, tzinfo=UTC),
    }
    fields.update(changes)
    return SimpleNamespace(**fields)


def test_a_line_carries_every_stored_field():
    built = convert.line(_row("+79990000101"))

    assert built == lpb.Line(
        id="01JA2C3D4E5F6G7H8J9K0M1N2P",
        customer_id="01M80FS1VH2MZKYX1PNS53P8M2",
        msisdn="+79990000101",
        sim=lpb.Sim(iccid="8970199000000000106", imsi="250990000000101", state="installed"),
        node_id="01JA0Z6X3W8T9R2Q1P0N5M4K7B",
        personal_account_id="01JA0Z6X3W8T9R2Q1P0N5M4K7C",
        tariff_code="corp-unlimited",
        state=lpb.LINE_STATE_BLOCKED,
        blocks=[
            lpb.Block(type="voluntary", since=Timestamp(seconds=1_768_469_400, nanos=123_456_000)),
            lpb.Block(type="scheduled"),
        ],
        services=["voice", "sms"],
        apns=[
            lpb.Apn(name="internet", pdp_type="ipv4v6", added_at=Timestamp(seconds=1_768_564_800)),
            lpb.Apn(name="corp.simfleet", static_ip="10.20.0.15"),
        ],
        forwarding=[
            lpb.Forwarding(condition="busy", target="+79990000199"),
            lpb.Forwarding(condition="unreachable", target="+79990000198"),
        ],
        labels=["drivers", "north"],
        group="fleet",
        group_id="01JA5F6G7H8J9K0M1N2P3Q4R5S",
        pending_operation_id="01JA3D4E5F6G7H8J9K0M1N2P3Q",
        created_at=Timestamp(seconds=1_768_469_400),
        updated_at=Timestamp(seconds=1_768_564_800, nanos=654_321_000),
    )
    assert not built.blocks[1].HasField("since")
    assert not built.apns[1].HasField("added_at")


def test_a_page_holds_each_line_as_it_is_answered_alone():
    rows = [
        _row("+79990000101"),
        _row(
            "+79990000102", blocks=[], apns=[], forwarding={}, group_name=None, group_id=None, pending_operation_id=None
        ),
    ]

    page = convert.lines_page(rows, "next")

    assert list(page.lines) == [convert.line(r) for r in rows]
    assert page.next_page_token == "next"
    assert page.lines[1].group == "" and page.lines[1].group_id == "" and page.lines[1].pending_operation_id == ""
