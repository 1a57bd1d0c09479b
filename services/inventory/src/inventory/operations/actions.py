"""What each type of operation does to one line: check, ask the network, then complete or undo.

An action validates its parameters where they enter (:meth:`Action.params`,
:meth:`Action.item_params`), decides per line whether there is anything to do
(:meth:`Action.prepare`: a :class:`Refusal` skips or fails the item, a
:class:`Prepared` carries the HLR items to send, none for a change the network
does not hold), and applies the network's answer (:meth:`Action.succeeded`) or
undoes what it reserved (:meth:`Action.failed`). An operation that asks for it
(``notify_subscribers``) tells each changed line's subscriber by SMS
(:meth:`Action.notification`). Everything runs inside the engine's
transactions. An action on an existing line is a :class:`LineAction`:
a terminated line is skipped before its :meth:`LineAction.plan` is asked, so
no action can bring one back.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from sqlalchemy.ext.asyncio import AsyncSession

from inventory.line_groups.service import group_above
from inventory.lines.models import (
    ACTIVE,
    BASIC_SERVICES,
    BLOCKED,
    PROTECTED_BLOCK_TYPES,
    READY,
    TERMINATED,
)
from inventory.operations.models import Operation
from inventory.operations.records import ItemRow, LineRow
from inventory.stock import service as stock
from inventory.streams import SMS_ORIGIN
from simfleet.netsim.v1 import hlr_pb2, smsc_pb2
from simfleet_runtime.authz import CHANGE_TARIFFS, LABEL_LINES, LIFT_PROTECTED_BLOCKS, TERMINATE
from simfleet_runtime.ids import new_id
from simfleet_runtime.operation_params import SERVICES, TRUE, checked_item_params, checked_params, split
from simfleet_runtime.timestamps import timestamp

A = hlr_pb2.ProvisioningAction
NOTIFY = "notify_subscribers"
"""The parameter asking for an SMS to each line whose change succeeded."""
NOTICE_SENDER = "SIMfleet"


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


def _hlr(item: ItemRow, line: LineRow, action: int, **params: str) -> hlr_pb2.ProvisioningItem:
    return hlr_pb2.ProvisioningItem(
        item_id=item.id,
        action=action,  # type: ignore[arg-type]
        imsi=line.imsi,
        msisdn=line.msisdn,
        iccid=line.iccid,
        params=params,
    )


class Action(ABC):
    type: ClassVar[str]
    permission: ClassVar[str]
    needs_line: ClassVar[bool] = True

    def permission_for(self, raw: Mapping[str, str]) -> str:
        """The permission an operation with these parameters needs (most actions: one whatever they are)."""
        return self.permission

    def params(self, raw: dict[str, str]) -> dict[str, str]:
        """The operation's parameters as kept, checked by the contract's rules (operation_params.proto)."""
        return checked_params(self.type, raw)

    def item_params(self, raw: dict[str, str], operation_params: dict[str, str]) -> dict[str, str]:
        """One line's own parameters as kept, checked the same way."""
        return checked_item_params(self.type, raw)

    @abstractmethod
    async def prepare(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
        """Whether there is anything to do for this line, and what to ask of the network."""

    async def succeeded(self, ctx: Context, line: LineRow | None, item: ItemRow) -> LineRow | None:
        """Apply the network's yes; returns the line as it now is (a new one for orders, which the engine inserts)."""
        return line

    async def failed(self, ctx: Context, line: LineRow | None, item: ItemRow) -> None:  # noqa: B027 - most reserve nothing
        """Give back what :meth:`prepare` reserved."""

    def notice(self, ctx: Context, line: LineRow, item: ItemRow) -> str:
        """What the line's subscriber is told of its change, for types that can tell them ("" for none)."""
        return ""

    def notification(self, ctx: Context, line: LineRow | None, item: ItemRow) -> smsc_pb2.SubmitSmsCommand | None:
        """The SMS telling a changed line's subscriber, when the operation asks for it and the handset can receive.

        It goes through the SMSC as ``send_sms``'s do, under an id of its own: its receipt ends no item.
        """
        if ctx.operation.params.get(NOTIFY) != TRUE or line is None or line.state != ACTIVE:
            return None
        text = self.notice(ctx, line, item)
        if not text:
            return None
        return smsc_pb2.SubmitSmsCommand(
            message_id=new_id(),
            to_msisdn=line.msisdn,
            sender=NOTICE_SENDER,
            text=text,
            submitted_at=timestamp(ctx.now),
            origin=SMS_ORIGIN,
        )


class LineAction(Action):
    """An action on a line that exists. Nothing changes a terminated line: every such action skips it."""

    async def prepare(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
        if line.state == TERMINATED:
            return skip("LINE_TERMINATED", "the line is terminated")
        return await self.plan(ctx, line, item)

    @abstractmethod
    async def plan(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
        """:meth:`prepare` for a line that is not terminated."""


def _has_block(line: LineRow, kind: str) -> bool:
    return any(b["type"] == kind for b in line.blocks)


def _block_name(kind: str) -> str:
    return kind.replace("_", " ")


class _BlockChange(LineAction):
    """Block and unblock: one type of block put on a line or lifted, the HLR barring or unbarring it.

    They differ only in when there is nothing to do (:meth:`refusal`) and in what the line's blocks become
    (:meth:`change`); the checks around them, the HLR item and the answer's handling are this class's.
    """

    permission = "lines:block"
    hlr_action: ClassVar[int]

    @abstractmethod
    def refusal(self, line: LineRow, kind: str) -> Refusal | None:
        """Why the line needs no change, if it needs none."""

    @abstractmethod
    def change(self, line: LineRow, kind: str, now: datetime) -> None:
        """The line's blocks (and state) once the network has said yes."""

    async def plan(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
        kind = ctx.operation.params["block_type"]
        if refusal := self.refusal(line, kind):
            return refusal
        return Prepared([_hlr(item, line, self.hlr_action, block_type=kind)])

    async def succeeded(self, ctx: Context, line: LineRow | None, item: ItemRow) -> LineRow | None:
        assert line is not None
        self.change(line, ctx.operation.params["block_type"], ctx.now)
        return line


class Block(_BlockChange):
    type = "block"
    hlr_action = A.PROVISIONING_ACTION_BAR

    def refusal(self, line: LineRow, kind: str) -> Refusal | None:
        if line.state == READY:
            return skip("LINE_NOT_ACTIVE", "the line is not active yet: activate it first")
        if _has_block(line, kind):
            return skip("ALREADY_BLOCKED", f"the line is already blocked ({_block_name(kind)})")
        return None

    def change(self, line: LineRow, kind: str, now: datetime) -> None:
        line.blocks = [*line.blocks, {"type": kind, "since": now.isoformat()}]
        line.state = BLOCKED


class Unblock(_BlockChange):
    type = "unblock"
    hlr_action = A.PROVISIONING_ACTION_UNBAR

    def permission_for(self, raw: Mapping[str, str]) -> str:
        # A financial or lost-or-stolen block protects the operator or the customer: lifting one is not
        # for everyone who may block a line.
        if str(raw.get("block_type", "")).strip() in PROTECTED_BLOCK_TYPES:
            return LIFT_PROTECTED_BLOCKS
        return self.permission

    def refusal(self, line: LineRow, kind: str) -> Refusal | None:
        if not _has_block(line, kind):
            return skip("NOT_BLOCKED", f"the line has no {_block_name(kind)} block")
        return None

    def change(self, line: LineRow, kind: str, now: datetime) -> None:
        line.blocks = [b for b in line.blocks if b["type"] != kind]
        if not line.blocks:
            line.state = ACTIVE


class Activate(LineAction):
    """A ready line goes live. A blocked line is live on the network but barred: activating does not lift its
    blocks, which is unblock's (under ``lines:block``, and ``lines:lift-protected-blocks`` for protected ones),
    so it is skipped as ``LINE_BLOCKED`` with what to do instead."""

    type = "activate"
    permission = "lines:activate"

    async def plan(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
        if line.state == BLOCKED:
            kinds = ", ".join(b["type"].replace("_", " ") for b in line.blocks) or "blocked"
            return skip("LINE_BLOCKED", f"the line is blocked ({kinds}): lift its blocks with unblock")
        if line.state != READY:
            return skip("ALREADY_ACTIVE", "the line is already active")
        return Prepared([_hlr(item, line, A.PROVISIONING_ACTION_ACTIVATE)])

    async def succeeded(self, ctx: Context, line: LineRow | None, item: ItemRow) -> LineRow | None:
        assert line is not None
        line.state = ACTIVE
        return line


class ReplaceSim(LineAction):
    type = "replace_sim"
    permission = "lines:replace-sim"

    async def plan(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
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


class ChangeNumber(LineAction):
    type = "change_number"
    permission = "lines:change-number"

    async def plan(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
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


class AddApn(LineAction):
    type = "add_apn"
    permission = "lines:configure"

    async def plan(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
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


class RemoveApn(LineAction):
    type = "remove_apn"
    permission = "lines:configure"

    async def plan(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
        name = ctx.operation.params["apn"]
        if not any(a["name"] == name for a in line.apns):
            return skip("APN_NOT_PRESENT", f"the line has no APN {name}")
        return Prepared([_hlr(item, line, A.PROVISIONING_ACTION_REMOVE_APN, apn=name)])

    async def succeeded(self, ctx: Context, line: LineRow | None, item: ItemRow) -> LineRow | None:
        assert line is not None
        name = ctx.operation.params["apn"]
        line.apns = [a for a in line.apns if a["name"] != name]
        return line


class SetForwarding(LineAction):
    type = "set_forwarding"
    permission = "lines:configure"

    async def plan(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
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


class ClearForwarding(LineAction):
    type = "clear_forwarding"
    permission = "lines:configure"

    async def plan(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
        condition = ctx.operation.params["condition"]
        if condition not in line.forwarding:
            return skip("FORWARDING_NOT_SET", f"the line has no forwarding ({condition})")
        return Prepared([_hlr(item, line, A.PROVISIONING_ACTION_CLEAR_FORWARDING, condition=condition)])

    async def succeeded(self, ctx: Context, line: LineRow | None, item: ItemRow) -> LineRow | None:
        assert line is not None
        condition = ctx.operation.params["condition"]
        line.forwarding = {k: v for k, v in line.forwarding.items() if k != condition}
        return line


class Move(LineAction):
    """To another node and/or personal account: inventory's change alone (the network does not hold it)."""

    type = "move"
    permission = "lines:move"

    async def plan(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
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
        if (
            line.group_id
            and await group_above(ctx.session, line.customer_id, line.node_id, group_id=line.group_id) is None
        ):
            # Its group's node is no longer above it: the line leaves the group (those who keep the group would
            # otherwise rename a line they may not see).
            line.group_id = None
            line.group_name = None
        return line


class SendSms(LineAction):
    """An SMS to each line's handset through the SMSC (SIM-11); an item succeeds on its delivery receipt."""

    type = "send_sms"
    permission = "lines:send-sms"

    async def plan(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
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


class Terminate(LineAction):
    """The line ends for good (any state but terminated; a block is no reason to keep it).

    The HLR forgets the subscriber (DEREGISTER); on its yes the line is ``terminated`` (it stays listed, in
    that state), its SIM is retired and its number rests in quarantine (``INVENTORY_NUMBER_QUARANTINE_DAYS``)
    before the pool gives it to anyone again. Nothing brings a terminated line back: every action skips it.
    """

    type = "terminate"
    permission = TERMINATE

    async def plan(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
        return Prepared([_hlr(item, line, A.PROVISIONING_ACTION_DEREGISTER)])

    async def succeeded(self, ctx: Context, line: LineRow | None, item: ItemRow) -> LineRow | None:
        assert line is not None
        await stock.retire_sim(ctx.session, iccid=line.iccid, now=ctx.now)
        await stock.quarantine_number(ctx.session, msisdn=line.msisdn, now=ctx.now, days=ctx.quarantine_days)
        line.state = TERMINATED
        return line


class ChangeTariff(LineAction):
    """Another tariff for the line (SIM-6): inventory's change alone, the network does not hold tariffs.

    The line's tariff changes when its item runs (at the operation's ``scheduled_at`` for a scheduled one), and
    the ``lines.changed`` event saying so carries that time: billing keeps the new term from then on and prices
    the line's later usage at the new tariff. The tariff is one the operator offers (checked when accepted).
    """

    type = "change_tariff"
    permission = CHANGE_TARIFFS

    async def plan(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
        tariff = ctx.operation.params["tariff_code"]
        if line.tariff_code == tariff:
            return skip("ALREADY_ON_TARIFF", f"the line is already on {tariff}")
        item.params = {**item.params, "old_tariff_code": line.tariff_code}
        return Prepared()

    async def succeeded(self, ctx: Context, line: LineRow | None, item: ItemRow) -> LineRow | None:
        assert line is not None
        line.tariff_code = ctx.operation.params["tariff_code"]
        return line

    def notice(self, ctx: Context, line: LineRow, item: ItemRow) -> str:
        return f"Your tariff is now {line.tariff_code}."


class SetServices(LineAction):
    """Connect and disconnect services (SIM-7, SIM-14): the HLR gets the line's whole new list (SET_SERVICES).

    The line's ``services`` change on the network's yes; a refusal leaves them as they were. Roaming connected
    lets the line be used abroad, international lets it call and text other countries.
    """

    type = "set_services"
    permission = CHANGE_TARIFFS

    async def plan(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
        p = ctx.operation.params
        connect, disconnect = set(split(p.get("connect", ""))), set(split(p.get("disconnect", "")))
        current = set(line.services)
        wanted = [name for name in SERVICES if (name in current or name in connect) and name not in disconnect]
        if set(wanted) == current:
            has = ", ".join(name for name in SERVICES if name in current) or "none"
            return skip("NO_CHANGE", f"nothing to change: the line's services are {has}")
        services = ",".join(wanted)
        item.params = {**item.params, "services": services, "old_services": ",".join(line.services)}
        return Prepared([_hlr(item, line, A.PROVISIONING_ACTION_SET_SERVICES, services=services)])

    async def succeeded(self, ctx: Context, line: LineRow | None, item: ItemRow) -> LineRow | None:
        assert line is not None
        line.services = split(item.params["services"])
        return line

    def notice(self, ctx: Context, line: LineRow, item: ItemRow) -> str:
        now, before = split(item.params["services"]), split(item.params.get("old_services", ""))
        connected = [name for name in now if name not in before]
        disconnected = [name for name in before if name not in now]
        told = []
        if connected:
            told.append("connected " + ", ".join(connected))
        if disconnected:
            told.append("disconnected " + ", ".join(disconnected))
        return "Your services have changed: " + "; ".join(told) + "."


class AddLabels(LineAction):
    """Labels put on lines (AC-5): inventory's records alone, the network holds none. A line keeps its labels and
    takes those it lacks, in the order given; one that has them all is skipped. The engine keeps the labels'
    index (``line_labels``) with the line (:func:`inventory.operations.records.write_changes`)."""

    type = "add_labels"
    permission = LABEL_LINES

    async def plan(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
        if all(label in line.labels for label in split(ctx.operation.params["labels"])):
            return skip("ALREADY_LABELLED", "the line already has these labels")
        return Prepared()

    async def succeeded(self, ctx: Context, line: LineRow | None, item: ItemRow) -> LineRow | None:
        assert line is not None
        wanted = split(ctx.operation.params["labels"])
        line.labels = [*line.labels, *(label for label in wanted if label not in line.labels)]
        return line


class RemoveLabels(LineAction):
    """Labels taken off lines (AC-5); a line that has none of them is skipped."""

    type = "remove_labels"
    permission = LABEL_LINES

    async def plan(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
        if not any(label in line.labels for label in split(ctx.operation.params["labels"])):
            return skip("NOT_LABELLED", "the line has none of these labels")
        return Prepared()

    async def succeeded(self, ctx: Context, line: LineRow | None, item: ItemRow) -> LineRow | None:
        assert line is not None
        gone = set(split(ctx.operation.params["labels"]))
        line.labels = [label for label in line.labels if label not in gone]
        return line


class SetGroup(LineAction):
    """A line put in a group of employees (AC-5), out of the one it was in: inventory's record alone. The group
    (by ``group_id``, or the nearest of the name ``group``) must be one whose node is on the line's path; another
    fails the item as a group that does not exist (a group elsewhere is not told from one that never was)."""

    type = "set_group"
    permission = LABEL_LINES

    async def plan(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
        p = ctx.operation.params
        group = await group_above(
            ctx.session, line.customer_id, line.node_id, group_id=p.get("group_id", ""), name=p.get("group", "")
        )
        if group is None:
            return fail("GROUP_NOT_FOUND", "no such group is kept at the line's node or above it")
        if line.group_id == group.id:
            return skip("ALREADY_IN_GROUP", f"the line is already in the group {group.name}")
        item.params = {
            **item.params,
            "old_group": line.group_name or "",
            "group_id": group.id,
            "group_name": group.name,
        }
        return Prepared()

    async def succeeded(self, ctx: Context, line: LineRow | None, item: ItemRow) -> LineRow | None:
        assert line is not None
        line.group_id = item.params["group_id"]
        line.group_name = item.params["group_name"]
        return line


class ClearGroup(LineAction):
    """A line taken out of its group (AC-5); one in no group is skipped."""

    type = "clear_group"
    permission = LABEL_LINES

    async def plan(self, ctx: Context, line: LineRow, item: ItemRow) -> Prepared | Refusal:
        if not line.group_id and not line.group_name:
            return skip("NOT_IN_GROUP", "the line is in no group")
        item.params = {**item.params, "old_group": line.group_name or ""}
        return Prepared()

    async def succeeded(self, ctx: Context, line: LineRow | None, item: ItemRow) -> LineRow | None:
        assert line is not None
        line.group_id = None
        line.group_name = None
        return line


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
                    # The line it becomes has the basic services (see succeeded): the network's profile says so too.
                    params={"state": "ready", "services": ",".join(BASIC_SERVICES)},
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
            services=list(BASIC_SERVICES),
            apns=[],
            forwarding={},
            labels=[],
            group_id=None,
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
        Terminate(),
        ChangeTariff(),
        SetServices(),
        AddLabels(),
        RemoveLabels(),
        SetGroup(),
        ClearGroup(),
    )
}
