"""Bodies of /v1/operations and /v1/sim-orders: changes to lines, each an operation with one item per line.

An operation's lines come one of three ways: ``lines`` (numbers), ``items``
(numbers each with its own params, e.g. the ICCID of its new SIM) or
``selection`` (a filter inventory resolves when the operation starts).
:meth:`CreateOperationRequest.problems` checks what pydantic's field types
cannot: exactly one of the three, each line once, and the params each type
takes (``block_type`` of a block, ``apn`` of an APN...).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal, NotRequired, Required, Union, cast, get_args

from fastapi.openapi.models import Example
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    StrictInt,
    WithJsonSchema,
    create_model,
    field_validator,
    with_config,
)
from typing_extensions import TypedDict

from gateway.lines.schemas import (
    LINE_STATES,
    LineStateName,
    Msisdn,
    optional_timestamp,
)
from gateway.operations.params import SCHEMAS, TypeSchemas, camel
from gateway.problems import MAX_FIELD_ERRORS, FieldError, register_union_tags
from gateway.proto_enums import enum_names
from gateway.text import HumanText
from gateway.upstream.errors import api_field
from simfleet.inventory.v1 import operations_pb2 as pb
from simfleet_runtime import timestamps
from simfleet_runtime.operation_params import (
    item_params_from_text,
    json_value,
    params_from_text,
    shared_values,
    split,
    text_value,
)

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
    "terminate",
    "change_tariff",
    "set_services",
    "add_labels",
    "remove_labels",
    "set_group",
    "clear_group",
]
OperationStateName = Literal["scheduled", "running", "completed", "completed_with_errors", "failed", "cancelled"]
ItemStateName = Literal["pending", "in_progress", "succeeded", "failed", "skipped"]

OPERATION_TYPES = enum_names(pb.OperationType, "OPERATION_TYPE_", OperationTypeName)
OPERATION_STATES = enum_names(pb.OperationState, "OPERATION_STATE_", OperationStateName)
ITEM_STATES = enum_names(pb.ItemState, "ITEM_STATE_", ItemStateName)
FINISHED_STATES: frozenset[str] = frozenset({"completed", "completed_with_errors", "failed", "cancelled"})

Label = Annotated[str, Field(min_length=1, max_length=100), HumanText]
NodeRef = Annotated[str, Field(min_length=1, max_length=64, examples=["01JA0Z6X3W8T9R2Q1P0N5M4K7B"])]
TariffCode = Annotated[str, Field(min_length=1, max_length=64, examples=["corp-unlimited"]), HumanText]


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


@with_config(ConfigDict(extra="forbid"))
class TargetBody(TypedDict):
    """One line of an operation by number, for a type whose lines take no params of their own."""

    msisdn: Msisdn


LINE_CHOICES = ("lines", "items", "selection")
"""The ways an operation names its lines: exactly one of them."""


class OperationBody(BaseModel):
    """What every operation request has: its lines (one of three ways) and when to run it."""

    model_config = ConfigDict(extra="forbid")

    type: str
    lines: list[Msisdn] | None = Field(None, min_length=1, max_length=MAX_LINES, description="the lines by number")
    items: list[Any] | None = Field(
        None, min_length=1, max_length=MAX_LINES, description="the lines by number, each with its own params"
    )
    selection: SelectionBody | None = Field(None, description="the lines by a filter")
    params: BaseModel
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

    def param_values(self) -> dict[str, str]:
        """The operation's params as text (enum values by their short names, lists comma-joined, bools true or
        false), as inventory keeps them."""
        texts = {k: text_value(v) for k, v in self.params.model_dump(exclude_none=True).items()}
        return {k: v for k, v in texts.items() if v != ""}

    def problems(self) -> list[FieldError]:
        """What is wrong beyond the fields' own types: the lines given, each once, params needed together."""
        spec = SCHEMAS[self.type].spec
        given = [name for name in LINE_CHOICES if getattr(self, name) is not None]
        if len(given) != 1:
            message = "give exactly one of lines, items or selection" + (f"; got {', '.join(given)}" if given else "")
            return [FieldError(field=given[-1] if given else "lines", message=message)]
        errors: list[FieldError] = []
        values = self.param_values()
        if spec.any_of and not any(values.get(name) for name in spec.any_of):
            errors.append(FieldError(field="params", message=f"{self.type} needs {' or '.join(spec.any_of)}"))
        lists = {name: split(values.get(name, "")) for name in spec.disjoint}
        for field, message in shared_values(lists, where="params"):
            errors.append(FieldError(field=api_field(field), message=message))
        if self.selection is not None and not self.selection.has_criteria():
            errors.append(FieldError(field="selection", message="give at least one criterion (e.g. node_id)"))
        if spec.items_required and self.items is None:
            errors.append(FieldError(field=given[0], message=f"{self.type} needs items, each with its params"))
        numbers = self.lines if self.lines is not None else [item["msisdn"] for item in self.items or ()]
        where = "lines.{}" if self.lines is not None else "items.{}.msisdn"
        seen: set[str] = set()
        for position, number in enumerate(numbers) if len(set(numbers)) != len(numbers) else ():
            if number in seen:
                errors.append(FieldError(field=where.format(position), message="the line is named more than once"))
                if len(errors) >= MAX_FIELD_ERRORS:
                    break
            seen.add(number)
        iccids: set[str] = set()
        for position, item in enumerate(self.items or ()):
            iccid = (item.get("params") or {}).get("iccid")
            if iccid:
                if iccid in iccids:
                    errors.append(FieldError(field=f"items.{position}.params.iccid", message="the SIM is named twice"))
                iccids.add(iccid)
            if len(errors) >= MAX_FIELD_ERRORS:
                break
        return errors[:MAX_FIELD_ERRORS]

    def to_proto(self, idempotency_key: str | None) -> pb.CreateOperationRequest:
        """The request to inventory: the typed params, and the same as text for an inventory that predates them."""
        values = self.param_values()
        request = pb.CreateOperationRequest(
            type=OPERATION_TYPES.value(self.type),
            params=values,
            typed_params=params_from_text(self.type, values),
            idempotency_key=idempotency_key or "",
        )
        request.msisdns.extend(self.lines or ())  # one list of strings, not a message per number
        for item in self.items or ():
            if own := {k: v for k, v in (item.get("params") or {}).items() if v != ""}:
                request.targets.add(
                    msisdn=item["msisdn"], params=own, item_params=item_params_from_text(self.type, own)
                )
            else:
                request.targets.add(msisdn=item["msisdn"])
        if self.selection is not None:
            request.selection.CopyFrom(self.selection.to_proto())
        if self.scheduled_at is not None:
            request.scheduled_at.CopyFrom(timestamps.timestamp(self.scheduled_at))
        return request


def _example(name: str, schemas: TypeSchemas) -> dict[str, JsonValue]:
    spec = schemas.spec
    params: dict[str, JsonValue] = {
        p.name: cast(JsonValue, json_value(p, p.example)) for p in spec.params if p.required or p.example
    }
    if spec.any_of:
        params = {spec.any_of[0]: params[spec.any_of[0]]}
    example: dict[str, JsonValue] = {"type": name}
    if spec.item_params:
        own: dict[str, JsonValue] = {p.name: p.example for p in spec.item_params}
        example["items"] = [{"msisdn": "+79990000101", "params": own}]
    else:
        example["lines"] = ["+79990000101", "+79990000102"]
    if params:
        example["params"] = params
    return example


def _item_type(name: str, schemas: TypeSchemas) -> Any:
    if schemas.item_params is None:
        return TargetBody
    wrapper = Required if schemas.item_params_required else NotRequired
    typed = TypedDict(  # type: ignore[misc]  # noqa: UP013 - its fields come from the contract
        f"{camel(name)}Target", {"msisdn": Msisdn, "params": wrapper[schemas.item_params]}
    )
    typed.__pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[attr-defined]
    typed.__doc__ = f"One line of a {name} operation, with its own params."
    return typed


def _variant(name: str, schemas: TypeSchemas) -> type[OperationBody]:
    params_field = (
        Field(description=schemas.spec.description)
        if schemas.params_required
        # Left out, params is {} (validated, so it is a model like any other).
        else Field(default_factory=dict, validate_default=True, description=schemas.spec.description)
    )
    item_type = _item_type(name, schemas)
    tag: Any = Literal[name]
    lines_of: Any = list[item_type] | None  # type: ignore[valid-type]
    model = create_model(
        f"{camel(name)}Operation",
        __base__=OperationBody,
        __doc__=schemas.spec.description,
        type=(tag, Field(description="the operation's type")),
        params=(schemas.params, params_field),
        items=(
            lines_of,
            Field(None, min_length=1, max_length=MAX_LINES, description="the lines by number, each with its params"),
        ),
    )
    model.model_config["json_schema_extra"] = {
        "examples": [_example(name, schemas)],
        # Exactly one way of naming the lines. Said as an extension: an object-level oneOf of required members
        # is standard JSON Schema, but client generators (openapi-python-client) drop the model it sits on.
        "x-exactly-one-of": list(LINE_CHOICES),
    }
    model.model_rebuild(force=True)
    return model


OPERATION_BODIES: dict[str, type[OperationBody]] = {name: _variant(name, s) for name, s in SCHEMAS.items()}
"""The body of POST /v1/operations for each type it takes (not order_sims: that is POST /v1/sim-orders)."""
register_union_tags(OPERATION_BODIES)

if TYPE_CHECKING:
    CreateOperationRequest = OperationBody
else:
    CreateOperationRequest = Annotated[
        Union[tuple(OPERATION_BODIES.values())],  # noqa: UP007 - a union built from the contract's types
        Field(discriminator="type", description="an operation: its `type` says which params it takes"),
    ]
"""One schema per operation type, told apart by ``type`` (the OpenAPI's oneOf with a discriminator)."""

OPERATION_EXAMPLES: dict[str, Example] = {
    name: {"summary": f"{name}: {body.__doc__ or ''}".strip(), "value": _example(name, SCHEMAS[name])}
    for name, body in OPERATION_BODIES.items()
}
"""A body of each type, for the OpenAPI's request examples."""


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
