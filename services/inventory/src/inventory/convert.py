"""Between domain objects and their protobuf form (API answers and events)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from inventory.lines.models import ACTIVE, BLOCKED, READY, TERMINATED, Line, LineView
from inventory.operations.models import Item, Operation
from inventory.operations.records import LineRow
from inventory.stock.models import Sim
from simfleet.events.v1 import inventory_pb2 as ev
from simfleet.inventory.v1 import lines_pb2 as lpb
from simfleet.inventory.v1 import operations_pb2 as opb
from simfleet_runtime.operation_params import params_from_text
from simfleet_runtime.timestamps import EPOCH, optional_timestamp, timestamp

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


TIMES_KEPT = 4096
"""Stored times (an APN's or a block's, as text) kept converted; cleared when full."""


@functools.lru_cache(maxsize=TIMES_KEPT)
def _stored_time(value: str) -> tuple[int, int]:
    stamp = timestamp(datetime.fromisoformat(value))
    return stamp.seconds, stamp.nanos


def _parse_time(value: Any) -> dict[str, int] | None:
    """A time stored in a line's JSON (ISO 8601 text) as a Timestamp's fields; None when absent.

    A page of lines holds the same few times again and again (APNs added by one operation): each text is
    parsed once.
    """
    if not value:
        return None
    seconds, nanos = _stored_time(str(value))
    return {"seconds": seconds, "nanos": nanos}


def _time(value: datetime) -> dict[str, int]:
    """A Timestamp's fields, as :func:`simfleet_runtime.timestamps.timestamp` makes them, without the message."""
    since = value.astimezone(UTC) - EPOCH
    return {"seconds": since.days * 86_400 + since.seconds, "nanos": since.microseconds * 1_000}


def sim(value: Sim) -> lpb.Sim:
    return lpb.Sim(iccid=value.iccid, imsi=value.imsi, state=value.state)


def _line_fields(value: LineView, sim_state: str) -> dict[str, Any]:
    """A ``Line``'s fields, sub-messages as plain values: a message is built from them in one call, in place."""
    return {
        "id": value.id,
        "customer_id": value.customer_id,
        "msisdn": value.msisdn,
        "sim": {"iccid": value.iccid, "imsi": value.imsi, "state": sim_state},
        "node_id": value.node_id,
        "personal_account_id": value.personal_account_id,
        "tariff_code": value.tariff_code,
        "state": LINE_STATES[value.state],
        "blocks": [{"type": b["type"], "since": _parse_time(b.get("since"))} for b in value.blocks],
        "services": value.services,
        "apns": [
            {
                "name": a["name"],
                "pdp_type": a.get("pdp_type", ""),
                "static_ip": a.get("static_ip", ""),
                "added_at": _parse_time(a.get("added_at")),
            }
            for a in value.apns
        ],
        "forwarding": [{"condition": c, "target": t} for c, t in sorted(value.forwarding.items())],
        "labels": value.labels,
        "group": value.group_name or "",
        "group_id": value.group_id or "",
        "pending_operation_id": value.pending_operation_id or "",
        "created_at": _time(value.created_at),
        "updated_at": _time(value.updated_at),
    }


def line(value: LineView, sim_state: str = "installed") -> lpb.Line:
    return lpb.Line(**_line_fields(value, sim_state))


def lines_page(values: Iterable[LineView], next_page_token: str) -> lpb.ListLinesResponse:
    """A page of lines, each built in its place in the answer (a message given to a list is copied)."""
    page = lpb.ListLinesResponse(next_page_token=next_page_token)
    add = page.lines.add
    for value in values:
        add(**_line_fields(value, "installed"))
    return page


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
