"""Bodies of /v1/lines, /v1/numbers and /v1/sims: a customer's lines and stock as frontends see them.

Numbers are E.164 (``+79990000101``), ICCIDs 19 or 20 digits with a valid
Luhn check digit; both are checked where they enter.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue
from pydantic_core import PydanticCustomError

from gateway.proto_enums import enum_names
from simfleet.inventory.v1 import lines_pb2 as pb
from simfleet_runtime.timestamps import to_datetime
from simfleet_runtime.validation import luhn_ok

MSISDN_PATTERN = r"^\+[1-9][0-9]{6,14}$"
_ICCID = re.compile(r"[0-9]{19,20}")

LineStateName = Literal["ready", "active", "blocked", "terminated"]
LINE_STATES = enum_names(pb.LineState, "LINE_STATE_", LineStateName)

Msisdn = Annotated[
    str,
    Field(
        min_length=8,
        max_length=16,
        pattern=MSISDN_PATTERN,
        description="E.164, e.g. +79990000101",
        examples=["+79990000101"],
    ),
]


def check_iccid(value: str) -> str:
    if not _ICCID.fullmatch(value):
        raise PydanticCustomError("iccid", "must be an ICCID: 19 or 20 digits")
    if not luhn_ok(value):
        raise PydanticCustomError("iccid", "is not an ICCID: its check digit is wrong")
    return value


Iccid = Annotated[
    str,
    Field(description="19 or 20 digits, the last a Luhn check digit", examples=["8970199000000000106"]),
    AfterValidator(check_iccid),
]


def timestamp(stamp: Timestamp) -> datetime:
    return to_datetime(stamp)


def optional_timestamp(message: Message, field: str) -> datetime | None:
    """The time in ``message.<field>``, or None when the service left it unset."""
    if not message.HasField(field):
        return None
    return timestamp(getattr(message, field))


_SIM_EXAMPLE: dict[str, JsonValue] = {"iccid": "8970199000000000106", "imsi": "250990000000101", "state": "installed"}
_APN_EXAMPLE: dict[str, JsonValue] = {
    "name": "corp.simfleet",
    "pdp_type": "ipv4",
    "static_ip": "10.20.0.15",
    "added_at": "2026-01-15T09:30:00Z",
}
_LINE_EXAMPLE: dict[str, JsonValue] = {
    "id": "01JA2C3D4E5F6G7H8J9K0M1N2P",
    "msisdn": "+79990000101",
    "state": "active",
    "sim": _SIM_EXAMPLE,
    "node_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7B",
    "personal_account_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7C",
    "tariff": "corp-unlimited",
    "services": ["roaming", "voicemail"],
    "apns": [_APN_EXAMPLE],
    "forwarding": [{"condition": "busy", "target": "+79990000199"}],
    "blocks": [],
    "labels": ["drivers"],
    "group": "fleet",
    "group_id": "01JA5F6G7H8J9K0M1N2P3Q4R5S",
    "pending_operation_id": None,
    "created_at": "2026-01-15T09:30:00Z",
    "updated_at": "2026-01-16T12:00:00Z",
}


class SimResponse(BaseModel):
    """A SIM card."""

    model_config = ConfigDict(json_schema_extra={"examples": [_SIM_EXAMPLE]})

    iccid: str
    imsi: str = Field(description="15 digits")
    state: str = Field(description="in_stock, reserved, installed or retired", examples=["installed"])

    @classmethod
    def from_proto(cls, sim: pb.Sim) -> SimResponse:
        return cls(iccid=sim.iccid, imsi=sim.imsi, state=sim.state)


class ApnResponse(BaseModel):
    """An access point name the line may use (SIM-9)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_APN_EXAMPLE]})

    name: str
    pdp_type: str = Field(description="ipv4, ipv6 or ipv4v6")
    static_ip: str | None = Field(description="the line's fixed address on this APN, when it has one")
    added_at: datetime | None

    @classmethod
    def from_proto(cls, apn: pb.Apn) -> ApnResponse:
        return cls(
            name=apn.name,
            pdp_type=apn.pdp_type,
            static_ip=apn.static_ip or None,
            added_at=optional_timestamp(apn, "added_at"),
        )


class ForwardingResponse(BaseModel):
    condition: str = Field(description="unconditional, busy, no_answer or unreachable", examples=["busy"])
    target: str = Field(description="E.164, domestic", examples=["+79990000199"])


class BlockResponse(BaseModel):
    type: str = Field(description="voluntary, lost_or_stolen, financial or scheduled", examples=["voluntary"])
    since: datetime | None


class LineResponse(BaseModel):
    """A line: a number with its SIM, the node it hangs under, its tariff, services, APNs, forwarding and blocks."""

    model_config = ConfigDict(json_schema_extra={"examples": [_LINE_EXAMPLE]})

    id: str
    msisdn: str = Field(description="E.164")
    state: LineStateName
    sim: SimResponse | None
    node_id: str = Field(description="the node it hangs under (a personal account or a department)")
    personal_account_id: str = Field(description="the personal account it is billed to")
    tariff: str = Field(description="the tariff's code")
    services: list[str]
    apns: list[ApnResponse]
    forwarding: list[ForwardingResponse]
    blocks: list[BlockResponse] = Field(description="the blocks in force; a blocked line has at least one")
    labels: list[str]
    group: str | None = Field(description="the name of its group, if any")
    group_id: str | None = Field(description="its group's id (`/v1/lines/groups/{group_id}`), if any")
    pending_operation_id: str | None = Field(description="the operation changing the line now, if any")
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def from_proto(cls, line: pb.Line) -> LineResponse:
        return cls(
            id=line.id,
            msisdn=line.msisdn,
            state=LINE_STATES.name(line.state),
            sim=SimResponse.from_proto(line.sim) if line.HasField("sim") else None,
            node_id=line.node_id,
            personal_account_id=line.personal_account_id,
            tariff=line.tariff_code,
            services=list(line.services),
            apns=[ApnResponse.from_proto(a) for a in line.apns],
            forwarding=[ForwardingResponse(condition=f.condition, target=f.target) for f in line.forwarding],
            blocks=[BlockResponse(type=b.type, since=optional_timestamp(b, "since")) for b in line.blocks],
            labels=list(line.labels),
            group=line.group or None,
            group_id=line.group_id or None,
            pending_operation_id=line.pending_operation_id or None,
            created_at=optional_timestamp(line, "created_at"),
            updated_at=optional_timestamp(line, "updated_at"),
        )


TIMES_KEPT = 4096
"""Converted times kept for pages of lines (a page repeats a few times: lines imported or changed together)."""
_times: dict[tuple[int, int], datetime] = {}


def _page_time(message: Message, field: str) -> datetime | None:
    """``optional_timestamp(message, field)``, each distinct time converted once (datetimes are immutable)."""
    if not message.HasField(field):
        return None
    stamp = getattr(message, field)
    key = (stamp.seconds, stamp.nanos)
    found = _times.get(key)
    if found is None:
        if len(_times) >= TIMES_KEPT:
            _times.clear()
        found = _times[key] = to_datetime(stamp)
    return found


def line_json(line: pb.Line) -> dict[str, Any]:
    """What ``LineResponse.from_proto(line)`` serializes to, built without the models (a page holds up to 1,000)."""
    if line.HasField("sim"):
        sim = line.sim
        sim_json: dict[str, str] | None = {"iccid": sim.iccid, "imsi": sim.imsi, "state": sim.state}
    else:
        sim_json = None
    return {
        "id": line.id,
        "msisdn": line.msisdn,
        "state": LINE_STATES.name(line.state),
        "sim": sim_json,
        "node_id": line.node_id,
        "personal_account_id": line.personal_account_id,
        "tariff": line.tariff_code,
        "services": list(line.services),
        "apns": [
            {
                "name": a.name,
                "pdp_type": a.pdp_type,
                "static_ip": a.static_ip or None,
                "added_at": _page_time(a, "added_at"),
            }
            for a in line.apns
        ],
        "forwarding": [{"condition": f.condition, "target": f.target} for f in line.forwarding],
        "blocks": [{"type": b.type, "since": _page_time(b, "since")} for b in line.blocks],
        "labels": list(line.labels),
        "group": line.group or None,
        "group_id": line.group_id or None,
        "pending_operation_id": line.pending_operation_id or None,
        "created_at": _page_time(line, "created_at"),
        "updated_at": _page_time(line, "updated_at"),
    }


class LinesPage(BaseModel):
    """A page of lines."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_LINE_EXAMPLE], "next_cursor": "eyJrIjoiKzc5OTkwMDAwMTAxIn0"}]}
    )

    items: list[LineResponse]
    next_cursor: str | None = Field(description="pass as cursor for the next page; null on the last")


class LineApns(BaseModel):
    """The APNs active on a line's SIM (SIM-9)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"msisdn": "+79990000101", "items": [_APN_EXAMPLE]}]})

    msisdn: str
    items: list[ApnResponse]


class PukResponse(BaseModel):
    """The PUK codes of a line's SIM."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"msisdn": "+79990000101", "iccid": "8970199000000000106", "puk1": "12345678", "puk2": "87654321"}
            ]
        }
    )

    msisdn: str
    iccid: str
    puk1: str
    puk2: str

    @classmethod
    def from_proto(cls, answer: pb.GetPukResponse) -> PukResponse:
        return cls(msisdn=answer.msisdn, iccid=answer.iccid, puk1=answer.puk1, puk2=answer.puk2)


class LocationResponse(BaseModel):
    """Where a line's handset is (SIM-10)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "msisdn": "+79990000101",
                    "cell_id": "250-99-1234-5678",
                    "latitude": 55.7558,
                    "longitude": 37.6173,
                    "accuracy_m": 350,
                    "observed_at": "2026-01-16T12:00:00Z",
                }
            ]
        }
    )

    msisdn: str
    cell_id: str
    latitude: float
    longitude: float
    accuracy_m: int = Field(description="the radius the handset is within, in metres")
    observed_at: datetime | None

    @classmethod
    def from_proto(cls, answer: pb.GetLocationResponse) -> LocationResponse:
        return cls(
            msisdn=answer.msisdn,
            cell_id=answer.cell_id,
            latitude=answer.latitude,
            longitude=answer.longitude,
            accuracy_m=answer.accuracy_m,
            observed_at=optional_timestamp(answer, "observed_at"),
        )


class FreeNumbers(BaseModel):
    """Free numbers to choose from for a change of number (SIM-4)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": ["+79990007770", "+79990007771"]}]})

    items: list[str]


class ReserveSimsPage(BaseModel):
    """A page of the customer's reserve SIM cards (for replacing a SIM, SIM-3)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [{"iccid": "8970199000000000205", "imsi": "250990000000102", "state": "in_stock"}],
                    "next_cursor": None,
                }
            ]
        }
    )

    items: list[SimResponse]
    next_cursor: str | None = Field(description="pass as cursor for the next page; null on the last")
