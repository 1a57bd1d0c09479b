"""Bodies of /v1/operations and /v1/sim-orders: changes to lines, each an operation with one item per line.

An operation's lines come one of three ways: ``lines`` (numbers), ``items``
(numbers each with its own params, e.g. the ICCID of its new SIM) or
``selection`` (a filter inventory resolves when the operation starts).
:meth:`CreateOperationRequest.problems` checks what pydantic's field types
cannot: exactly one of the three, each line once, and the params each type
takes (``block_type`` of a block, ``apn`` of an APN...).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from typing import Annotated, Any, Literal, NotRequired, get_args

from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    StrictInt,
    WithJsonSchema,
    field_validator,
    with_config,
)
from typing_extensions import TypedDict

from gateway.lines.schemas import (
    LINE_STATES,
    MSISDN_PATTERN,
    LineStateName,
    Msisdn,
    check_iccid,
    optional_timestamp,
)
from gateway.problems import MAX_FIELD_ERRORS, FieldError
from gateway.proto_enums import enum_names
from gateway.text import HumanText
from simfleet.inventory.v1 import operations_pb2 as pb

MAX_LINES = 200_000
"""The most lines one operation may name."""
SMS_TEXT_MAX = 670
"""Ten concatenated parts of 67 UCS-2 characters."""
SCHEDULE_HORIZON = timedelta(days=90)
"""The furthest ahead ``scheduled_at`` may be: inventory's limit (``SCHEDULE_HORIZON``), documented and checked here."""

OperationTypeName = Literal[
    "block",
    "unblock",
    "activate",
    "replace_sim",
    "change_number",
    "add_apn",
    "remove_apn",
    "set_forwarding",
    "clear_forwarding",
    "move",
    "order_sims",
    "send_sms",
]
RequestedType = Literal[
    "block",
    "unblock",
    "activate",
    "replace_sim",
    "change_number",
    "add_apn",
    "remove_apn",
    "set_forwarding",
    "clear_forwarding",
    "move",
    "send_sms",
]
"""The types POST /v1/operations accepts (order_sims is POST /v1/sim-orders)."""
OperationStateName = Literal["scheduled", "running", "completed", "completed_with_errors", "failed", "cancelled"]
ItemStateName = Literal["pending", "in_progress", "succeeded", "failed", "skipped"]

OPERATION_TYPES = enum_names(pb.OperationType, "OPERATION_TYPE_", OperationTypeName)
OPERATION_STATES = enum_names(pb.OperationState, "OPERATION_STATE_", OperationStateName)
ITEM_STATES = enum_names(pb.ItemState, "ITEM_STATE_", ItemStateName)
FINISHED_STATES: frozenset[str] = frozenset({"completed", "completed_with_errors", "failed", "cancelled"})

ParamName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
ParamValue = Annotated[str, Field(max_length=SMS_TEXT_MAX)]
Params = dict[ParamName, ParamValue]
Label = Annotated[str, Field(min_length=1, max_length=100), HumanText]
NodeRef = Annotated[str, Field(min_length=1, max_length=64, examples=["01JA0Z6X3W8T9R2Q1P0N5M4K7B"])]
TariffCode = Annotated[str, Field(min_length=1, max_length=64, examples=["corp-unlimited"]), HumanText]

BLOCK_TYPES = ("voluntary", "lost_or_stolen", "financial", "scheduled")
FORWARDING_CONDITIONS = ("unconditional", "busy", "no_answer", "unreachable")
PDP_TYPES = ("ipv4", "ipv6", "ipv4v6")
_MSISDN = re.compile(MSISDN_PATTERN)
_APN = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*")


# ----------------------------------------------------------------- params
ParamCheck = Callable[[str], str | None]
"""A param's value → what is wrong with it, or None."""


def _one_of(choices: Iterable[str]) -> ParamCheck:
    allowed = tuple(choices)

    def check(value: str) -> str | None:
        return None if value in allowed else "must be one of " + ", ".join(allowed)

    return check


def _msisdn(value: str) -> str | None:
    return None if _MSISDN.match(value) else "must be a number in E.164 form, e.g. +79990000101"


def _apn(value: str) -> str | None:
    return None if len(value) <= 100 and _APN.fullmatch(value) else "must be an APN name, e.g. corp.simfleet"


def _ip(value: str) -> str | None:
    try:
        ip_address(value)
    except ValueError:
        return "must be an IPv4 or IPv6 address"
    return None


def _iccid(value: str) -> str | None:
    try:
        check_iccid(value)
    except ValueError as exc:
        return str(exc)
    return None


def _sms_text(value: str) -> str | None:
    if len(value) > SMS_TEXT_MAX:
        return f"must be at most {SMS_TEXT_MAX} characters"
    return None if value.strip() and value.replace("\n", "").isprintable() else "must be printable text"


def _sms_sender(value: str) -> str | None:
    return None if re.fullmatch(r"[A-Za-z0-9 ]{1,11}", value) else "must be up to 11 letters, digits or spaces"


def _node(value: str) -> str | None:
    return None if 1 <= len(value) <= 64 else "must be a node id"


# For each type: the params it takes, whether each is required, and how its value is checked.
OPERATION_PARAMS: dict[str, dict[str, tuple[bool, ParamCheck]]] = {
    "block": {"block_type": (True, _one_of(BLOCK_TYPES))},
    "unblock": {"block_type": (True, _one_of(BLOCK_TYPES))},
    "activate": {},
    "replace_sim": {},
    "change_number": {},
    "add_apn": {"apn": (True, _apn), "pdp_type": (False, _one_of(PDP_TYPES)), "static_ip": (False, _ip)},
    "remove_apn": {"apn": (True, _apn)},
    "set_forwarding": {"condition": (True, _one_of(FORWARDING_CONDITIONS)), "target": (True, _msisdn)},
    "clear_forwarding": {"condition": (True, _one_of(FORWARDING_CONDITIONS))},
    "move": {"node_id": (False, _node), "personal_account_id": (False, _node)},
    "send_sms": {"text": (True, _sms_text), "sender": (False, _sms_sender)},
}
# The params an item (one line) of a type takes.
ITEM_PARAMS: dict[str, dict[str, tuple[bool, ParamCheck]]] = {
    "replace_sim": {"iccid": (True, _iccid)},
    "change_number": {"msisdn": (False, _msisdn)},
}


def _check_params(
    params: Mapping[str, str], allowed: Mapping[str, tuple[bool, ParamCheck]], where: str, what: str
) -> list[FieldError]:
    errors = [
        FieldError(field=f"{where}.{name}", message=f"{what} takes no param {name!r}")
        for name in params
        if name not in allowed
    ]
    for name, (required, check) in allowed.items():
        value = params.get(name)
        if value is None or value == "":
            if required:
                errors.append(FieldError(field=f"{where}.{name}", message=f"{what} needs this param"))
            continue
        message = check(value)
        if message is not None:
            errors.append(FieldError(field=f"{where}.{name}", message=message))
    return errors


# --------------------------------------------------------------- requests
def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


_STATE_NAMES: list[JsonValue] = list(get_args(LineStateName))
StateOrStates = Annotated[
    list[LineStateName],
    BeforeValidator(_as_list),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "enum": _STATE_NAMES},
                {"type": "array", "items": {"type": "string", "enum": _STATE_NAMES}},
            ],
            "examples": ["active", ["active", "blocked"]],
        }
    ),
]
"""One state (``"active"``) or several (``["active", "blocked"]``)."""


@with_config(ConfigDict(extra="forbid"))
class TargetBody(TypedDict):
    """One line of an operation with its own params (e.g. iccid for replace_sim, msisdn for change_number).

    A plain typed dict, not a model: an operation names up to 200,000 of them, and a model each cost the
    gateway a second.
    """

    msisdn: Msisdn
    params: NotRequired[Params]


class SelectionBody(BaseModel):
    """The lines matching every given criterion, in the caller's scope, resolved when the operation starts."""

    model_config = ConfigDict(extra="forbid")

    node_id: NodeRef | None = Field(None, description="the lines in this node's subtree")
    state: StateOrStates | None = Field(None, description="a state or a list of states")
    tariff: TariffCode | None = None
    label: Label | None = None
    group: Label | None = None

    def states(self) -> list[LineStateName]:
        return list(self.state or ())

    def has_criteria(self) -> bool:
        return bool(self.node_id or self.states() or self.tariff or self.label or self.group)

    def to_proto(self) -> pb.Selection:
        return pb.Selection(
            node_id=self.node_id or "",
            states=[LINE_STATES.value(s) for s in self.states()],
            tariff_code=self.tariff or "",
            label=self.label or "",
            group=self.group or "",
        )


class CreateOperationRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"type": "block", "lines": ["+79990000101", "+79990000102"], "params": {"block_type": "voluntary"}},
                {
                    "type": "replace_sim",
                    "items": [{"msisdn": "+79990000101", "params": {"iccid": "8970199000000000205"}}],
                },
                {
                    "type": "add_apn",
                    "selection": {"node_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7B", "state": ["active", "blocked"]},
                    "params": {"apn": "corp.simfleet", "pdp_type": "ipv4"},
                    "scheduled_at": "2026-02-01T03:00:00Z",
                },
            ]
        },
    )

    type: RequestedType
    lines: list[Msisdn] | None = Field(None, min_length=1, max_length=MAX_LINES, description="the lines by number")
    items: list[TargetBody] | None = Field(
        None, min_length=1, max_length=MAX_LINES, description="the lines by number, each with its own params"
    )
    selection: SelectionBody | None = Field(None, description="the lines by a filter")
    params: Params = Field(default_factory=dict, description="the operation's params (see its type)")
    scheduled_at: AwareDatetime | None = Field(
        None,
        description="when to run it (RFC 3339 with a time zone); unset or past: now; "
        f"at most {SCHEDULE_HORIZON.days} days ahead",
    )

    @field_validator("scheduled_at")
    @classmethod
    def _within_the_horizon(cls, value: datetime | None) -> datetime | None:
        if value is not None and value > datetime.now(UTC) + SCHEDULE_HORIZON:
            raise ValueError(f"at most {SCHEDULE_HORIZON.days} days ahead")
        return value

    def problems(self) -> list[FieldError]:
        """What is wrong beyond the fields' own types: the lines given, each once, the type's params."""
        given = [name for name in ("lines", "items", "selection") if getattr(self, name) is not None]
        if len(given) != 1:
            message = "give exactly one of lines, items or selection" + (f"; got {', '.join(given)}" if given else "")
            return [FieldError(field=given[-1] if given else "lines", message=message)]
        errors = _check_params(self.params, OPERATION_PARAMS[self.type], "params", self.type)
        if self.type == "move" and not (self.params.get("node_id") or self.params.get("personal_account_id")):
            errors.append(FieldError(field="params", message="move needs node_id or personal_account_id"))
        if self.selection is not None and not self.selection.has_criteria():
            errors.append(FieldError(field="selection", message="give at least one criterion (e.g. node_id)"))
        item_params = ITEM_PARAMS.get(self.type, {})
        if any(required for required, _ in item_params.values()) and self.items is None:
            errors.append(FieldError(field=given[0], message=f"{self.type} needs items, each with its params"))
        numbers = self.lines if self.lines is not None else [item["msisdn"] for item in self.items or ()]
        where = "lines.{}" if self.lines is not None else "items.{}.msisdn"
        seen: set[str] = set()
        for position, number in enumerate(numbers):
            if number in seen:
                errors.append(FieldError(field=where.format(position), message="the line is named more than once"))
            seen.add(number)
        iccids: set[str] = set()
        for position, item in enumerate(self.items or ()):
            params = item.get("params") or {}
            if params or item_params:
                errors.extend(_check_params(params, item_params, f"items.{position}.params", self.type))
            iccid = params.get("iccid")
            if iccid:
                if iccid in iccids:
                    errors.append(FieldError(field=f"items.{position}.params.iccid", message="the SIM is named twice"))
                iccids.add(iccid)
            if len(errors) >= MAX_FIELD_ERRORS:
                break
        return errors[:MAX_FIELD_ERRORS]

    def to_proto(self, idempotency_key: str | None) -> pb.CreateOperationRequest:
        request = pb.CreateOperationRequest(
            type=OPERATION_TYPES.value(self.type), params=self.params, idempotency_key=idempotency_key or ""
        )
        for number in self.lines or ():
            request.targets.add(msisdn=number)
        for item in self.items or ():
            if params := item.get("params"):
                request.targets.add(msisdn=item["msisdn"], params=params)
            else:
                request.targets.add(msisdn=item["msisdn"])
        if self.selection is not None:
            request.selection.CopyFrom(self.selection.to_proto())
        if self.scheduled_at is not None:
            stamp = Timestamp()
            stamp.FromDatetime(self.scheduled_at)
            request.scheduled_at.CopyFrom(stamp)
        return request


class OrderSimsRequest(BaseModel):
    """New SIM cards, each a reserved SIM and number, delivered as a ready line (SIM-5)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "node_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7C",
                    "personal_account_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7C",
                    "quantity": 10,
                    "tariff": "BIZ-M",
                }
            ]
        },
    )

    node_id: NodeRef = Field(description="where the new lines go: any node in the caller's scope")
    personal_account_id: NodeRef | None = Field(
        None,
        description="the personal account they are billed to (in the caller's scope); "
        "may be left out only when node_id is itself a personal account",
    )
    quantity: StrictInt = Field(ge=1, le=1000, description="how many SIM cards (a JSON integer, not a string)")
    tariff: TariffCode = Field(description="the new lines' tariff code (one the operator offers for new lines)")

    def to_proto(self, idempotency_key: str | None) -> pb.OrderSimsRequest:
        return pb.OrderSimsRequest(
            node_id=self.node_id,
            personal_account_id=self.personal_account_id or "",
            quantity=self.quantity,
            tariff_code=self.tariff,
            idempotency_key=idempotency_key or "",
        )


# -------------------------------------------------------------- responses
_COUNTS_EXAMPLE: dict[str, JsonValue] = {
    "total": 2,
    "pending": 0,
    "in_progress": 0,
    "succeeded": 1,
    "failed": 1,
    "skipped": 0,
}
_OPERATION_EXAMPLE: dict[str, JsonValue] = {
    "id": "01JA3D4E5F6G7H8J9K0M1N2P3Q",
    "type": "block",
    "state": "completed_with_errors",
    "params": {"block_type": "voluntary"},
    "selection": None,
    "requested_by": "01J9Z3K8Q4W7N2M5X6Y8B0C1D2",
    "node_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7B",
    "counts": _COUNTS_EXAMPLE,
    "cancel_requested": False,
    "error": None,
    "created_at": "2026-01-16T12:00:00Z",
    "scheduled_at": None,
    "started_at": "2026-01-16T12:00:01Z",
    "finished_at": "2026-01-16T12:00:04Z",
}
_ITEM_EXAMPLE: dict[str, JsonValue] = {
    "id": "01JA3D4E5F6G7H8J9K0M1N2P3R",
    "position": 2,
    "msisdn": "+79990000102",
    "state": "failed",
    "params": {},
    "code": "ALREADY_BLOCKED",
    "reason": "the line is already blocked",
    "updated_at": "2026-01-16T12:00:03Z",
}


class ItemCounts(BaseModel):
    """How many of the operation's lines are in each state."""

    model_config = ConfigDict(json_schema_extra={"examples": [_COUNTS_EXAMPLE]})

    total: int
    pending: int
    in_progress: int
    succeeded: int
    failed: int
    skipped: int


class SelectionResponse(BaseModel):
    node_id: str | None
    state: list[LineStateName]
    tariff: str | None
    label: str | None
    group: str | None


class OperationResponse(BaseModel):
    """A change to lines, accepted and running in the background; each line is an item."""

    model_config = ConfigDict(json_schema_extra={"examples": [_OPERATION_EXAMPLE]})

    id: str
    type: OperationTypeName
    state: OperationStateName
    params: dict[str, str]
    selection: SelectionResponse | None = Field(description="set when the lines were chosen by a filter")
    requested_by: str = Field(description="the user who asked")
    node_id: str = Field(description="the node the operation hangs under")
    counts: ItemCounts
    cancel_requested: bool
    error: str | None = Field(description="why it failed as a whole, when it did")
    created_at: datetime | None
    scheduled_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.state in FINISHED_STATES

    @classmethod
    def from_proto(cls, operation: pb.Operation) -> OperationResponse:
        selection = None
        if operation.HasField("selection"):
            chosen = operation.selection
            selection = SelectionResponse(
                node_id=chosen.node_id or None,
                state=[LINE_STATES.name(s) for s in chosen.states],
                tariff=chosen.tariff_code or None,
                label=chosen.label or None,
                group=chosen.group or None,
            )
        counts = operation.counts
        return cls(
            id=operation.id,
            type=OPERATION_TYPES.name(operation.type),
            state=OPERATION_STATES.name(operation.state),
            params=dict(operation.params),
            selection=selection,
            requested_by=operation.requested_by,
            node_id=operation.node_id,
            counts=ItemCounts(
                total=counts.total,
                pending=counts.pending,
                in_progress=counts.in_progress,
                succeeded=counts.succeeded,
                failed=counts.failed,
                skipped=counts.skipped,
            ),
            cancel_requested=operation.cancel_requested,
            error=operation.error or None,
            created_at=optional_timestamp(operation, "created_at"),
            scheduled_at=optional_timestamp(operation, "scheduled_at"),
            started_at=optional_timestamp(operation, "started_at"),
            finished_at=optional_timestamp(operation, "finished_at"),
        )


class OperationsPage(BaseModel):
    """A page of operations, newest first."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_OPERATION_EXAMPLE], "next_cursor": None}]})

    items: list[OperationResponse]
    next_cursor: str | None = Field(description="pass as cursor for the next page; null on the last")


class ItemResponse(BaseModel):
    """One line of an operation and how it went (AU-2)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_ITEM_EXAMPLE]})

    id: str
    position: int = Field(description="1, 2, ... in the operation's order")
    msisdn: str
    state: ItemStateName
    params: dict[str, str]
    code: str | None = Field(description="set when failed or skipped, e.g. ALREADY_BLOCKED")
    reason: str | None = Field(description="for people, e.g. 'the line is already blocked'")
    updated_at: datetime | None

    @classmethod
    def from_proto(cls, item: pb.Item) -> ItemResponse:
        return cls(
            id=item.id,
            position=item.position,
            msisdn=item.msisdn,
            state=ITEM_STATES.name(item.state),
            params=dict(item.params),
            code=item.code or None,
            reason=item.reason or None,
            updated_at=optional_timestamp(item, "updated_at"),
        )


class ItemsPage(BaseModel):
    """A page of an operation's items, in the order of its lines."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_ITEM_EXAMPLE], "next_cursor": None}]})

    items: list[ItemResponse]
    next_cursor: str | None = Field(description="pass as cursor for the next page; null on the last")
