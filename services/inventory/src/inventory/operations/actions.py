"""What each type of operation does to one line: check, ask the network, then complete or undo.

An action validates its parameters where they enter (:meth:`Action.params`,
:meth:`Action.item_params`), decides per line whether there is anything to do
(:meth:`Action.prepare`: a :class:`Refusal` skips or fails the item, a
:class:`Prepared` carries the HLR items to send, none for a change the network
does not hold), and applies the network's answer (:meth:`Action.succeeded`) or
undoes what it reserved (:meth:`Action.failed`). Everything runs inside the
engine's transactions.
"""

from __future__ import annotations

import ipaddress
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from sqlalchemy.ext.asyncio import AsyncSession

from inventory.events import SMS_ORIGIN
from inventory.lines.models import (
    ACTIVE,
    BLOCK_TYPES,
    BLOCKED,
    FORWARDING_CONDITIONS,
    PROTECTED_BLOCK_TYPES,
    READY,
    TERMINATED,
)
from inventory.operations.models import Operation
from inventory.operations.records import ItemRow, LineRow
from inventory.stock import service as stock
from simfleet.netsim.v1 import hlr_pb2, smsc_pb2
from simfleet_runtime.authz import LIFT_PROTECTED_BLOCKS
from simfleet_runtime.errors import InvalidArgument
from simfleet_runtime.ids import new_id
from simfleet_runtime.timestamps import timestamp
from simfleet_runtime.validation import normalize_iccid, normalize_msisdn

A = hlr_pb2.ProvisioningAction
_APN = re.compile(
    r"^[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)*$"
)
PDP_TYPES = ("ipv4", "ipv6", "ipv4v6")
DOMESTIC_PREFIX = "+7"


@dataclass(frozen=True)
class Refusal:
    """The item ends without going to the network: ``skipped`` (nothing to do) or ``failed``."""

    state: str
    code: str
    reason: str


@dataclass(frozen=True)
class Prepared:
    """What to send to the network for the item (HLR items, SMS); nothing when the change is inventory's alone."""

    hlr: list[hlr_pb2.ProvisioningItem] = field(default_factory=list)
    sms: list[smsc_pb2.SubmitSmsCommand] = field(default_factory=list)

    @property
    def local(self) -> bool:
        return not self.hlr and not self.sms


@dataclass
class Context:
    session: AsyncSession
    operation: Operation
    now: datetime
    quarantine_days: int


def skip(code: str, reason: str) -> Refusal:
    return Refusal("skipped", code, reason)


def fail(code: str, reason: str) -> Refusal:
    return Refusal("failed", code, reason)


def _bad(field_name: str, message: str, reason: str = "INVALID_PARAMS") -> InvalidArgument:
    return InvalidArgument(message, reason=reason, field_violations={field_name: message})


def _only(params: dict[str, str], allowed: tuple[str, ...], where: str = "params") -> None:
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise _bad(
            where, f"unknown parameters: {', '.join(unknown)} (this operation takes {', '.join(allowed) or 'none'})"
        )


def _hlr(item: ItemRow, line: LineRow, action: int, **params: str) -> hlr_pb2.ProvisioningItem:
    return hlr_pb2.ProvisioningItem(
        item_id=item.id,
        action=action,  # type: ignore[arg-type]
        imsi=line.imsi,
        msisdn=line.msisdn,
        iccid=line.iccid,
        params=params,
    )


def block_type(params: dict[str, str]) -> str:
    value = params.get("block_type", "").strip()
    if value not in BLOCK_TYPES:
        raise _bad("params.block_type", f"block_type must be one of {', '.join(BLOCK_TYPES)}")
    return value


class Action(ABC):
    type: ClassVar[str]
    permission: ClassVar[str]
    needs_line: ClassVar[bool] = True

    def permission_for(self, raw: Mapping[str, str]) -> str:
        """The permission an operation with these parameters needs (most actions: one whatever they are)."""
        return self.permission

    def params(self, raw: dict[str, str]) -> dict[str, str]:
        _only(raw, ())
        return {}

    def item_params(self, raw: dict[str, str], operation_params: dict[str, str]) -> dict[str, str]:
        _only(raw, (), "items.params")
        return {}

    @abstractmethod
    async def prepare(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
        """Whether there is anything to do for this line, and what to ask of the network."""

    async def succeeded(self, ctx: Context, line: LineRow | None, item: ItemRow) -> LineRow | None:
        """Apply the network's yes; returns the line as it now is (a new one for orders, which the engine inserts)."""
        return line

    async def failed(self, ctx: Context, line: LineRow | None, item: ItemRow) -> None:  # noqa: B027 - most reserve nothing
        """Give back what :meth:`prepare` reserved."""


def _terminated(line: LineRow) -> Refusal | None:
    if line.state == TERMINATED:
        return skip("LINE_TERMINATED", "the line is terminated")
    return None


class Block(Action):
    type = "block"
    permission = "lines:block"

    def params(self, raw: dict[str, str]) -> dict[str, str]:
        _only(raw, ("block_type",))
        return {"block_type": block_type(raw)}

    async def prepare(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
        kind = ctx.operation.params["block_type"]
        if refusal := _terminated(line):
            return refusal
        if line.state == READY:
            return skip("LINE_NOT_ACTIVE", "the line is not active yet: activate it first")
        if any(b["type"] == kind for b in line.blocks):
            return skip("ALREADY_BLOCKED", f"the line is already blocked ({kind.replace('_', ' ')})")
        return Prepared([_hlr(item, line, A.PROVISIONING_ACTION_BAR, block_type=kind)])

    async def succeeded(self, ctx: Context, line: LineRow | None, item: ItemRow) -> LineRow | None:
        assert line is not None
        kind = ctx.operation.params["block_type"]
        line.blocks = [*line.blocks, {"type": kind, "since": ctx.now.isoformat()}]
        line.state = BLOCKED
        return line


class Unblock(Action):
    type = "unblock"
    permission = "lines:block"

    def permission_for(self, raw: Mapping[str, str]) -> str:
        # A financial or lost-or-stolen block protects the operator or the customer: lifting one is not
        # for everyone who may block a line.
        if str(raw.get("block_type", "")).strip() in PROTECTED_BLOCK_TYPES:
            return LIFT_PROTECTED_BLOCKS
        return self.permission

    def params(self, raw: dict[str, str]) -> dict[str, str]:
        _only(raw, ("block_type",))
        return {"block_type": block_type(raw)}

    async def prepare(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
        kind = ctx.operation.params["block_type"]
        if refusal := _terminated(line):
            return refusal
        if not any(b["type"] == kind for b in line.blocks):
            return skip("NOT_BLOCKED", f"the line has no {kind.replace('_', ' ')} block")
        return Prepared([_hlr(item, line, A.PROVISIONING_ACTION_UNBAR, block_type=kind)])

    async def succeeded(self, ctx: Context, line: LineRow | None, item: ItemRow) -> LineRow | None:
        assert line is not None
        kind = ctx.operation.params["block_type"]
        line.blocks = [b for b in line.blocks if b["type"] != kind]
        if not line.blocks:
            line.state = ACTIVE
        return line


class Activate(Action):
    type = "activate"
    permission = "lines:activate"

    async def prepare(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
        if refusal := _terminated(line):
            return refusal
        if line.state != READY:
            return skip("ALREADY_ACTIVE", "the line is already active")
        return Prepared([_hlr(item, line, A.PROVISIONING_ACTION_ACTIVATE)])

    async def succeeded(self, ctx: Context, line: LineRow | None, item: ItemRow) -> LineRow | None:
        assert line is not None
        line.state = ACTIVE
        return line


class ReplaceSim(Action):
    type = "replace_sim"
    permission = "lines:replace-sim"

    def item_params(self, raw: dict[str, str], operation_params: dict[str, str]) -> dict[str, str]:
        _only(raw, ("iccid",), "items.params")
        if not raw.get("iccid"):
            raise _bad("items.params.iccid", "each line needs the ICCID of its new SIM")
        return {"iccid": normalize_iccid(raw["iccid"], field="items.params.iccid")}

    async def prepare(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
        if refusal := _terminated(line):
            return refusal
        iccid = item.params["iccid"]
        if iccid == line.iccid:
            return skip("SAME_SIM", "the line already uses this SIM")
        sim = await stock.reserve_customer_sim(ctx.session, customer_id=line.customer_id, iccid=iccid, now=ctx.now)
        if sim is None:
            return fail("SIM_NOT_AVAILABLE", f"the SIM {iccid} is not a free SIM of your reserve")
        item.params = {**item.params, "imsi": sim.imsi, "old_iccid": line.iccid}
        return Prepared([_hlr(item, line, A.PROVISIONING_ACTION_SWAP_SIM, new_iccid=sim.iccid, new_imsi=sim.imsi)])

    async def succeeded(self, ctx: Context, line: LineRow | None, item: ItemRow) -> LineRow | None:
        assert line is not None
        await stock.retire_sim(ctx.session, iccid=line.iccid, now=ctx.now)
        await stock.install_sim(ctx.session, iccid=item.params["iccid"], now=ctx.now)
        line.iccid, line.imsi = item.params["iccid"], item.params["imsi"]
        return line

    async def failed(self, ctx: Context, line: LineRow | None, item: ItemRow) -> None:
        if "imsi" in item.params:
            await stock.release_sim(ctx.session, iccid=item.params["iccid"], now=ctx.now, to_operator=False)


class ChangeNumber(Action):
    type = "change_number"
    permission = "lines:change-number"

    def item_params(self, raw: dict[str, str], operation_params: dict[str, str]) -> dict[str, str]:
        _only(raw, ("msisdn",), "items.params")
        if raw.get("msisdn"):
            number = normalize_msisdn(raw["msisdn"], field="items.params.msisdn")
            if not number.startswith(DOMESTIC_PREFIX):
                raise _bad("items.params.msisdn", "the new number must be one of the operator's (+7)")
            return {"msisdn": number}
        return {}

    async def prepare(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
        if refusal := _terminated(line):
            return refusal
        wanted = item.params.get("msisdn")
        if wanted == line.msisdn:
            return skip("SAME_NUMBER", "the line already has this number")
        number = await stock.reserve_number(ctx.session, customer_id=line.customer_id, msisdn=wanted, now=ctx.now)
        if number is None:
            if wanted:
                return fail("NUMBER_NOT_AVAILABLE", f"the number {wanted} is not free")
            return fail("NO_FREE_NUMBER", "the pool has no free number")
        item.params = {**item.params, "new_msisdn": number.msisdn, "old_msisdn": line.msisdn}
        return Prepared([_hlr(item, line, A.PROVISIONING_ACTION_CHANGE_MSISDN, new_msisdn=number.msisdn)])

    async def succeeded(self, ctx: Context, line: LineRow | None, item: ItemRow) -> LineRow | None:
        assert line is not None
        old, new = line.msisdn, item.params["new_msisdn"]
        await stock.quarantine_number(ctx.session, msisdn=old, now=ctx.now, days=ctx.quarantine_days)
        await stock.assign_number(ctx.session, msisdn=new, now=ctx.now)
        line.msisdn = new
        return line

    async def failed(self, ctx: Context, line: LineRow | None, item: ItemRow) -> None:
        if "new_msisdn" in item.params:
            await stock.release_number(ctx.session, msisdn=item.params["new_msisdn"], now=ctx.now)


def _apn_name(params: dict[str, str]) -> str:
    name = params.get("apn", "").strip().lower()
    if not name or len(name) > 100 or not _APN.match(name):
        raise _bad("params.apn", "apn must be a name like internet.corp or iot.m2m")
    return name


class AddApn(Action):
    type = "add_apn"
    permission = "lines:configure"

    def params(self, raw: dict[str, str]) -> dict[str, str]:
        _only(raw, ("apn", "pdp_type", "static_ip"))
        pdp = raw.get("pdp_type", "ipv4").strip().lower()
        if pdp not in PDP_TYPES:
            raise _bad("params.pdp_type", f"pdp_type must be one of {', '.join(PDP_TYPES)}")
        out = {"apn": _apn_name(raw), "pdp_type": pdp}
        if raw.get("static_ip"):
            try:
                out["static_ip"] = str(ipaddress.ip_address(raw["static_ip"].strip()))
            except ValueError as exc:
                raise _bad("params.static_ip", "static_ip must be an IP address") from exc
        return out

    async def prepare(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
        if refusal := _terminated(line):
            return refusal
        name = ctx.operation.params["apn"]
        if any(a["name"] == name for a in line.apns):
            return skip("APN_ALREADY_ADDED", f"the line already has the APN {name}")
        return Prepared([_hlr(item, line, A.PROVISIONING_ACTION_ADD_APN, apn=name)])

    async def succeeded(self, ctx: Context, line: LineRow | None, item: ItemRow) -> LineRow | None:
        assert line is not None
        p = ctx.operation.params
        apn = {
            "name": p["apn"],
            "pdp_type": p["pdp_type"],
            "static_ip": p.get("static_ip", ""),
            "added_at": ctx.now.isoformat(),
        }
        line.apns = [*line.apns, apn]
        return line


class RemoveApn(Action):
    type = "remove_apn"
    permission = "lines:configure"

    def params(self, raw: dict[str, str]) -> dict[str, str]:
        _only(raw, ("apn",))
        return {"apn": _apn_name(raw)}

    async def prepare(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
        if refusal := _terminated(line):
            return refusal
        name = ctx.operation.params["apn"]
        if not any(a["name"] == name for a in line.apns):
            return skip("APN_NOT_PRESENT", f"the line has no APN {name}")
        return Prepared([_hlr(item, line, A.PROVISIONING_ACTION_REMOVE_APN, apn=name)])

    async def succeeded(self, ctx: Context, line: LineRow | None, item: ItemRow) -> LineRow | None:
        assert line is not None
        name = ctx.operation.params["apn"]
        line.apns = [a for a in line.apns if a["name"] != name]
        return line


def _condition(params: dict[str, str]) -> str:
    value = params.get("condition", "").strip()
    if value not in FORWARDING_CONDITIONS:
        raise _bad("params.condition", f"condition must be one of {', '.join(FORWARDING_CONDITIONS)}")
    return value


class SetForwarding(Action):
    type = "set_forwarding"
    permission = "lines:configure"

    def params(self, raw: dict[str, str]) -> dict[str, str]:
        _only(raw, ("condition", "target"))
        target = normalize_msisdn(raw.get("target", ""), field="params.target")
        if not target.startswith(DOMESTIC_PREFIX):
            raise _bad("params.target", "calls may be forwarded to domestic numbers (+7) only")
        return {"condition": _condition(raw), "target": target}

    async def prepare(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
        if refusal := _terminated(line):
            return refusal
        p = ctx.operation.params
        if p["target"] == line.msisdn:
            return fail("FORWARDING_TO_ITSELF", "a line cannot forward calls to itself")
        if line.forwarding.get(p["condition"]) == p["target"]:
            return skip("FORWARDING_ALREADY_SET", f"calls ({p['condition']}) already go to {p['target']}")
        return Prepared(
            [_hlr(item, line, A.PROVISIONING_ACTION_SET_FORWARDING, condition=p["condition"], target=p["target"])]
        )

    async def succeeded(self, ctx: Context, line: LineRow | None, item: ItemRow) -> LineRow | None:
        assert line is not None
        p = ctx.operation.params
        line.forwarding = {**line.forwarding, p["condition"]: p["target"]}
        return line


class ClearForwarding(Action):
    type = "clear_forwarding"
    permission = "lines:configure"

    def params(self, raw: dict[str, str]) -> dict[str, str]:
        _only(raw, ("condition",))
        return {"condition": _condition(raw)}

    async def prepare(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
        if refusal := _terminated(line):
            return refusal
        condition = ctx.operation.params["condition"]
        if condition not in line.forwarding:
            return skip("FORWARDING_NOT_SET", f"the line has no forwarding ({condition})")
        return Prepared([_hlr(item, line, A.PROVISIONING_ACTION_CLEAR_FORWARDING, condition=condition)])

    async def succeeded(self, ctx: Context, line: LineRow | None, item: ItemRow) -> LineRow | None:
        assert line is not None
        condition = ctx.operation.params["condition"]
        line.forwarding = {k: v for k, v in line.forwarding.items() if k != condition}
        return line


class Move(Action):
    """To another node and/or personal account: inventory's change alone (the network does not hold it)."""

    type = "move"
    permission = "lines:move"

    def params(self, raw: dict[str, str]) -> dict[str, str]:
        _only(raw, ("node_id", "personal_account_id"))
        out = {k: raw[k].strip() for k in ("node_id", "personal_account_id") if raw.get(k, "").strip()}
        if not out:
            raise _bad("params.node_id", "give node_id, personal_account_id or both")
        return out

    async def prepare(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
        if refusal := _terminated(line):
            return refusal
        p = ctx.operation.params
        if line.node_id == p.get("node_id", line.node_id) and line.personal_account_id == p.get(
            "personal_account_id", line.personal_account_id
        ):
            return skip("ALREADY_THERE", "the line is already there")
        return Prepared()

    async def succeeded(self, ctx: Context, line: LineRow | None, item: ItemRow) -> LineRow | None:
        assert line is not None
        p = ctx.operation.params
        line.node_id = p.get("node_id", line.node_id)
        line.personal_account_id = p.get("personal_account_id", line.personal_account_id)
        return line


SMS_TEXT_MAX = 670
_SENDER = re.compile(r"^[A-Za-z0-9 ]{1,11}$")


class SendSms(Action):
    """An SMS to each line's handset through the SMSC (SIM-11); an item succeeds on its delivery receipt."""

    type = "send_sms"
    permission = "lines:send-sms"

    def params(self, raw: dict[str, str]) -> dict[str, str]:
        _only(raw, ("text", "sender"))
        text = raw.get("text", "")
        if not text.strip() or len(text) > SMS_TEXT_MAX or not text.replace("\n", "").isprintable():
            raise _bad("params.text", f"text is 1 to {SMS_TEXT_MAX} printable characters")
        sender = raw.get("sender", "").strip() or "SIMfleet"
        if not _SENDER.match(sender):
            raise _bad("params.sender", "sender is up to 11 letters, digits or spaces")
        return {"text": text, "sender": sender}

    async def prepare(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
        if refusal := _terminated(line):
            return refusal
        if line.state == READY:
            return skip("LINE_NOT_ACTIVE", "the line is not active yet: its handset cannot receive")
        if line.state == BLOCKED:
            return skip("LINE_BLOCKED", "the line is blocked: its handset cannot receive")
        p = ctx.operation.params
        return Prepared(
            sms=[
                smsc_pb2.SubmitSmsCommand(
                    message_id=item.id,
                    to_msisdn=line.msisdn,
                    sender=p["sender"],
                    text=p["text"],
                    submitted_at=timestamp(ctx.now),
                    origin=SMS_ORIGIN,
                )
            ]
        )


class OrderSims(Action):
    """One new line per item: a SIM of the operator's stock and a free number, registered ready in the HLR."""

    type = "order_sims"
    permission = "lines:order-sims"
    needs_line = False

    async def reserve(self, ctx: Context, item: ItemRow) -> Prepared | Refusal:
        op = ctx.operation
        sims = await stock.take_operator_sims(ctx.session, customer_id=op.customer_id, count=1, now=ctx.now)
        if not sims:
            return fail("OUT_OF_STOCK", "the operator has no SIM card in stock")
        number = await stock.reserve_number(ctx.session, customer_id=op.customer_id, msisdn=None, now=ctx.now)
        if number is None:
            await stock.release_sim(ctx.session, iccid=sims[0].iccid, now=ctx.now, to_operator=True)
            return fail("NO_FREE_NUMBER", "the pool has no free number")
        sim = sims[0]
        item.msisdn = number.msisdn
        item.params = {**item.params, "iccid": sim.iccid, "imsi": sim.imsi}
        return Prepared(
            [
                hlr_pb2.ProvisioningItem(
                    item_id=item.id,
                    action=A.PROVISIONING_ACTION_REGISTER,
                    imsi=sim.imsi,
                    msisdn=number.msisdn,
                    iccid=sim.iccid,
                    params={"state": "ready"},
                )
            ]
        )

    async def prepare(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
        return await self.reserve(ctx, item)

    async def succeeded(self, ctx: Context, line: LineRow | None, item: ItemRow) -> LineRow | None:
        op = ctx.operation
        await stock.install_sim(ctx.session, iccid=item.params["iccid"], now=ctx.now)
        await stock.assign_number(ctx.session, msisdn=item.msisdn, now=ctx.now)
        created = LineRow(
            id=new_id(),
            customer_id=op.customer_id,
            msisdn=item.msisdn,
            iccid=item.params["iccid"],
            imsi=item.params["imsi"],
            node_id=op.params["node_id"],
            personal_account_id=op.params["personal_account_id"],
            tariff_code=op.params["tariff_code"],
            state=READY,
            blocks=[],
            services=[],
            apns=[],
            forwarding={},
            labels=[],
            group_name=None,
            pending_operation_id=None,
            created_at=ctx.now,
            updated_at=ctx.now,
        )
        item.line_id = created.id
        return created

    async def failed(self, ctx: Context, line: LineRow | None, item: ItemRow) -> None:
        if "iccid" in item.params:
            await stock.release_sim(ctx.session, iccid=item.params["iccid"], now=ctx.now, to_operator=True)
        if item.msisdn:
            await stock.release_number(ctx.session, msisdn=item.msisdn, now=ctx.now)


ACTIONS: dict[str, Action] = {
    a.type: a
    for a in (
        Block(),
        Unblock(),
        Activate(),
        ReplaceSim(),
        ChangeNumber(),
        AddApn(),
        RemoveApn(),
        SetForwarding(),
        ClearForwarding(),
        Move(),
        OrderSims(),
        SendSms(),
    )
}
