"""Between domain objects and their protobuf form (API answers and events)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from inventory.lines.models import ACTIVE, BLOCKED, READY, TERMINATED, Line, LineView
from inventory.operations.models import Item, Operation
from inventory.operations.records import LineRow
from inventory.stock.models import Sim
from simfleet.events.v1 import inventory_pb2 as ev
from simfleet.inventory.v1 import lines_pb2 as lpb
from simfleet.inventory.v1 import operations_pb2 as opb
from simfleet_runtime.operation_params import params_from_text
from simfleet_runtime.timestamps import optional_timestamp, timestamp

LINE_STATES = {
    READY: lpb.LINE_STATE_READY,
    ACTIVE: lpb.LINE_STATE_ACTIVE,
    BLOCKED: lpb.LINE_STATE_BLOCKED,
    TERMINATED: lpb.LINE_STATE_TERMINATED,
}
LINE_STATE_NAMES = {value: name for name, value in LINE_STATES.items()}


def _enum_name(prefix: str, name: str) -> str:
    return name.removeprefix(prefix).lower()


OPERATION_TYPES: dict[str, int] = {
    _enum_name("OPERATION_TYPE_", v.name): v.number
    for v in opb.DESCRIPTOR.enum_types_by_name["OperationType"].values
    if v.number
}
OPERATION_TYPE_NAMES = {number: name for name, number in OPERATION_TYPES.items()}
OPERATION_STATES: dict[str, int] = {
    _enum_name("OPERATION_STATE_", v.name): v.number
    for v in opb.DESCRIPTOR.enum_types_by_name["OperationState"].values
    if v.number
}
OPERATION_STATE_NAMES = {number: name for name, number in OPERATION_STATES.items()}
ITEM_STATES: dict[str, int] = {
    _enum_name("ITEM_STATE_", v.name): v.number
    for v in opb.DESCRIPTOR.enum_types_by_name["ItemState"].values
    if v.number
}
ITEM_STATE_NAMES = {number: name for name, number in ITEM_STATES.items()}


def _parse_time(value: Any) -> Timestamp | None:
    if not value:
        return None
    return timestamp(datetime.fromisoformat(str(value)))


def sim(value: Sim) -> lpb.Sim:
    return lpb.Sim(iccid=value.iccid, imsi=value.imsi, state=value.state)


def line(value: LineView, sim_state: str = "installed") -> lpb.Line:
    return lpb.Line(
        id=value.id,
        customer_id=value.customer_id,
        msisdn=value.msisdn,
        sim=lpb.Sim(iccid=value.iccid, imsi=value.imsi, state=sim_state),
        node_id=value.node_id,
        personal_account_id=value.personal_account_id,
        tariff_code=value.tariff_code,
        state=LINE_STATES[value.state],
        blocks=[lpb.Block(type=b["type"], since=_parse_time(b.get("since"))) for b in value.blocks],
        services=list(value.services),
        apns=[
            lpb.Apn(
                name=a["name"],
                pdp_type=a.get("pdp_type", ""),
                static_ip=a.get("static_ip", ""),
                added_at=_parse_time(a.get("added_at")),
            )
            for a in value.apns
        ],
        forwarding=[lpb.Forwarding(condition=c, target=t) for c, t in sorted(value.forwarding.items())],
        labels=list(value.labels),
        group=value.group_name or "",
        pending_operation_id=value.pending_operation_id or "",
        created_at=timestamp(value.created_at),
        updated_at=timestamp(value.updated_at),
    )


def operation(value: Operation) -> opb.Operation:
    sel = value.selection
    return opb.Operation(
        id=value.id,
        customer_id=value.customer_id,
        type=OPERATION_TYPES[value.type],  # type: ignore[arg-type]
        state=OPERATION_STATES[value.state],  # type: ignore[arg-type]
        params=dict(value.params),
        selection=opb.Selection(
            node_id=sel.get("node_id", ""),
            states=[LINE_STATES[s] for s in sel.get("states", [])],
            tariff_code=sel.get("tariff_code", ""),
            label=sel.get("label", ""),
            group=sel.get("group", ""),
        )
        if sel
        else None,
        requested_by=value.requested_by,
        node_id=value.node_id,
        counts=opb.ItemCounts(
            total=value.total,
            pending=value.pending,
            in_progress=value.in_progress,
            succeeded=value.succeeded,
            failed=value.failed,
            skipped=value.skipped,
        ),
        cancel_requested=value.cancel_requested,
        error=value.error or "",
        created_at=timestamp(value.created_at),
        scheduled_at=timestamp(value.scheduled_at),
        started_at=optional_timestamp(value.started_at),
        finished_at=optional_timestamp(value.finished_at),
        typed_params=params_from_text(value.type, value.params),
    )


def item(value: Item) -> opb.Item:
    return opb.Item(
        id=value.id,
        operation_id=value.operation_id,
        position=value.position,
        msisdn=value.msisdn,
        state=ITEM_STATES[value.state],  # type: ignore[arg-type]
        params={k: v for k, v in value.params.items() if k in ("iccid", "msisdn", "new_msisdn")},
        code=value.code or "",
        reason=value.reason or "",
        updated_at=timestamp(value.updated_at),
    )


def operation_event(value: Operation, now: datetime) -> ev.OperationChanged:
    return ev.OperationChanged(
        operation_id=value.id,
        customer_id=value.customer_id,
        type=value.type,
        state=value.state,
        requested_by=value.requested_by,
        node_id=value.node_id,
        total=value.total,
        succeeded=value.succeeded,
        failed=value.failed,
        skipped=value.skipped,
        occurred_at=timestamp(now),
    )


def line_event(value: Line | LineRow, *, cause: str, operation_id: str, now: datetime) -> ev.LineChanged:
    return ev.LineChanged(
        line_id=value.id,
        customer_id=value.customer_id,
        msisdn=value.msisdn,
        iccid=value.iccid,
        node_id=value.node_id,
        personal_account_id=value.personal_account_id,
        tariff_code=value.tariff_code,
        state=value.state,
        block_types=[b["type"] for b in value.blocks],
        cause=cause,
        imsi=value.imsi,
        services=list(value.services),
        operation_id=operation_id,
        occurred_at=timestamp(now),
    )
