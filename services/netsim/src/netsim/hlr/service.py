"""The HLR's use cases: apply provisioning items (each at most once), read subscribers.

An item is answered in this order: a repeated ``item_id`` gets its stored
answer and changes nothing; a malformed item (no id, unknown action, bad IMSI)
is REJECTED; the fault injection may fail it (SYSTEM_FAILURE); an unknown IMSI
is UNKNOWN_SUBSCRIBER; then the action itself applies or fails (NUMBER_IN_USE,
SIM_IN_USE, REJECTED). Every answer is recorded in ``hlr_applied_items`` in the
caller's transaction, and every applied item adds exactly 1 to the
subscriber's ``version`` (a new subscriber starts at 0).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from netsim.hlr.faults import FaultInjector
from netsim.hlr.identifiers import (
    BLOCK_TYPES,
    FORWARDING_CONDITIONS,
    NOT_ACTIVATED,
    normalize_apn,
    normalize_forwarding_target,
    parse_services,
)
from netsim.hlr.models import COMMAND_ID_MAX, ITEM_ID_MAX, ITEM_IMSI_MAX, AppliedItem, Subscriber
from simfleet.netsim.v1 import hlr_pb2
from simfleet_runtime.clock import Clock
from simfleet_runtime.errors import InvalidArgument
from simfleet_runtime.paging import Order, decode_token, keyset, next_token
from simfleet_runtime.timestamps import timestamp
from simfleet_runtime.validation import normalize_iccid, normalize_imsi, normalize_msisdn

MAX_ITEMS = 1000
CORRELATION_ID_MAX = 200

Action = hlr_pb2.ProvisioningAction
Failure = hlr_pb2.ProvisioningFailure

ACTION_NAMES: dict[int, str] = {
    value: name.removeprefix("PROVISIONING_ACTION_").lower() for name, value in Action.items()
}
"""A ProvisioningAction's value → its metric and record name (``PROVISIONING_ACTION_BAR`` → ``bar``)."""
FAILURE_NAMES: dict[int, str] = {
    value: name.removeprefix("PROVISIONING_FAILURE_").lower()
    for name, value in Failure.items()
    if value != Failure.PROVISIONING_FAILURE_UNSPECIFIED
}
_FAILURE_VALUES: dict[str, hlr_pb2.ProvisioningFailure.ValueType] = {
    name.removeprefix("PROVISIONING_FAILURE_").lower(): value for name, value in Failure.items()
}

BY_IMSI = Order("imsi")
SUBSCRIBERS_LIST = "subscribers"


class ItemFailure(Exception):
    """Why an item is not applied; the transaction goes on (nothing of the item was changed)."""

    def __init__(self, failure: hlr_pb2.ProvisioningFailure.ValueType, reason: str) -> None:
        super().__init__(reason)
        self.failure = failure
        self.reason = reason


def _rejected(reason: str) -> ItemFailure:
    return ItemFailure(Failure.PROVISIONING_FAILURE_REJECTED, reason)


@dataclass(frozen=True)
class Recorded:
    """An item's answer as kept in ``hlr_applied_items`` (a row read back, or one this command writes)."""

    item_id: str
    action: str
    ok: bool
    failure: str | None
    reason: str
    applied_at: datetime


@dataclass(frozen=True)
class Answer:
    """One item's result, the action it named, and whether it was answered before."""

    result: hlr_pb2.ItemResult
    action: str
    duplicate: bool


def validate_command(command: hlr_pb2.ProvisionCommand) -> None:
    """What a command must be to be taken at all; raises :class:`InvalidArgument` naming the field."""
    command_id = command.command_id.strip()
    if not command_id or len(command_id) > COMMAND_ID_MAX:
        raise InvalidArgument(
            "command_id is required",
            reason="INVALID_COMMAND_ID",
            field_violations={"command_id": f"1 to {COMMAND_ID_MAX} characters"},
        )
    if len(command.correlation_id) > CORRELATION_ID_MAX:
        raise InvalidArgument(
            "correlation_id is too long",
            reason="INVALID_CORRELATION_ID",
            field_violations={"correlation_id": f"at most {CORRELATION_ID_MAX} characters"},
        )
    if len(command.items) > MAX_ITEMS:
        raise InvalidArgument(
            f"a command has at most {MAX_ITEMS} items",
            reason="TOO_MANY_ITEMS",
            field_violations={"items": f"at most {MAX_ITEMS}"},
        )


class Batch:
    """The subscribers and answered items a command names, loaded in a few queries before it applies.

    Looking each one up per item would cost a database round trip apiece; the
    batch answers from memory and follows the changes its items make (a new
    subscriber, a moved number or SIM, a removed subscriber). Anything a
    command did not name is looked up in the database.
    """

    CHUNK = 500

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.applied: dict[str, AppliedItem | Recorded | None] = {}
        self.records: list[dict[str, object]] = []
        self.by_imsi: dict[str, Subscriber | None] = {}
        self.by_msisdn: dict[str, Subscriber | None] = {}
        self.by_iccid: dict[str, Subscriber | None] = {}

    async def load(self, items: Sequence[hlr_pb2.ProvisioningItem]) -> None:
        ids = {i.item_id.strip() for i in items if i.item_id.strip()}
        imsis = {i.imsi.strip() for i in items} | {i.params.get("new_imsi", "").strip() for i in items}
        msisdns = {_number_or_none(i.msisdn) for i in items} | {
            _number_or_none(i.params.get("new_msisdn", "")) for i in items
        }
        iccids = {i.iccid.strip() for i in items} | {i.params.get("new_iccid", "").strip() for i in items}
        imsis.discard("")
        msisdns.discard(None)
        iccids.discard("")
        for chunk in _chunks(sorted(ids), self.CHUNK):
            for answered in await self.session.scalars(sa.select(AppliedItem).where(AppliedItem.item_id.in_(chunk))):
                self.applied[answered.item_id] = answered
        self.applied.update({i: None for i in ids if i not in self.applied})
        for column, values in ((Subscriber.imsi, imsis), (Subscriber.msisdn, msisdns), (Subscriber.iccid, iccids)):
            for chunk in _chunks(sorted(v for v in values if v), self.CHUNK):
                for found in await self.session.scalars(sa.select(Subscriber).where(column.in_(chunk))):
                    self.index(found)
        self.by_imsi.update({i: None for i in imsis if i not in self.by_imsi})
        self.by_msisdn.update({m: None for m in msisdns if m is not None and m not in self.by_msisdn})
        self.by_iccid.update({c: None for c in iccids if c not in self.by_iccid})

    def index(self, subscriber: Subscriber) -> None:
        self.by_imsi[subscriber.imsi] = subscriber
        if subscriber.msisdn:
            self.by_msisdn[subscriber.msisdn] = subscriber
        self.by_iccid[subscriber.iccid] = subscriber

    def forget(self, subscriber: Subscriber) -> None:
        for index, key in (
            (self.by_imsi, subscriber.imsi),
            (self.by_msisdn, subscriber.msisdn),
            (self.by_iccid, subscriber.iccid),
        ):
            if key and index.get(key) is subscriber:
                index[key] = None

    def record(self, row: dict[str, object], answer: Recorded) -> None:
        """Keep an item's answer: written by :meth:`write` with the command's others in one statement."""
        self.records.append(row)
        self.applied[answer.item_id] = answer

    async def write(self) -> None:
        if self.records:
            await self.session.execute(sa.insert(AppliedItem.__table__), self.records)  # type: ignore[arg-type]
            self.records = []

    async def answered(self, item_id: str) -> AppliedItem | Recorded | None:
        if item_id in self.applied:
            return self.applied[item_id]
        return await self.session.get(AppliedItem, item_id)

    async def subscriber(self, imsi: str) -> Subscriber | None:
        if imsi in self.by_imsi:
            return self.by_imsi[imsi]
        return await self.session.get(Subscriber, imsi)

    async def holder_of_number(self, msisdn: str) -> Subscriber | None:
        if msisdn in self.by_msisdn:
            return self.by_msisdn[msisdn]
        return await _holder_of_number(self.session, msisdn)

    async def holder_of_sim(self, iccid: str) -> Subscriber | None:
        if iccid in self.by_iccid:
            return self.by_iccid[iccid]
        return await _holder_of_sim(self.session, iccid)


def _chunks(values: Sequence[str], size: int) -> list[Sequence[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


async def provision(
    session: AsyncSession, command: hlr_pb2.ProvisionCommand, *, faults: FaultInjector, clock: Clock
) -> list[Answer]:
    """Apply a (validated) command's items in order, in the caller's transaction."""
    command_id = command.command_id.strip()
    batch = Batch(session)
    await batch.load(command.items)
    answers = [
        await apply_item(session, item, command_id=command_id, faults=faults, clock=clock, batch=batch)
        for item in command.items
    ]
    await batch.write()
    return answers


async def apply_item(
    session: AsyncSession,
    item: hlr_pb2.ProvisioningItem,
    *,
    command_id: str,
    faults: FaultInjector,
    clock: Clock,
    batch: Batch,
) -> Answer:
    """One item, answered and recorded in ``batch`` (written by :meth:`Batch.write`)."""
    action = ACTION_NAMES.get(item.action, ACTION_NAMES[Action.PROVISIONING_ACTION_UNSPECIFIED])
    now = clock.now()
    item_id = item.item_id.strip()
    if not item_id or len(item_id) > ITEM_ID_MAX:
        # Without a usable id the answer cannot be kept: it is given, not recorded.
        failed = _rejected(f"the item has no item_id (1 to {ITEM_ID_MAX} characters)")
        return Answer(_result(item.item_id, now, failed), action, duplicate=False)
    stored = await batch.answered(item_id)
    if stored is not None:
        return Answer(_stored_result(stored), stored.action, duplicate=True)
    try:
        await _apply(batch, item, faults=faults, now=now)
    except ItemFailure as failure:
        result = _result(item_id, now, failure)
    else:
        result = _result(item_id, now)
    answer = Recorded(
        item_id=item_id,
        action=action,
        ok=result.ok,
        failure=None if result.ok else FAILURE_NAMES[result.failure],
        reason=result.reason,
        applied_at=now,
    )
    batch.record({**answer.__dict__, "command_id": command_id, "imsi": item.imsi.strip()[:ITEM_IMSI_MAX]}, answer)
    return Answer(result, action, duplicate=False)


def _result(item_id: str, now: datetime, failure: ItemFailure | None = None) -> hlr_pb2.ItemResult:
    if failure is None:
        return hlr_pb2.ItemResult(item_id=item_id, ok=True, applied_at=timestamp(now))
    return hlr_pb2.ItemResult(
        item_id=item_id, ok=False, failure=failure.failure, reason=failure.reason, applied_at=timestamp(now)
    )


def _stored_result(stored: AppliedItem | Recorded) -> hlr_pb2.ItemResult:
    return hlr_pb2.ItemResult(
        item_id=stored.item_id,
        ok=stored.ok,
        failure=_FAILURE_VALUES[stored.failure] if stored.failure else Failure.PROVISIONING_FAILURE_UNSPECIFIED,
        reason=stored.reason,
        applied_at=timestamp(stored.applied_at),
    )


# ----------------------------------------------------------------- applying one item
async def _apply(batch: Batch, item: hlr_pb2.ProvisioningItem, *, faults: FaultInjector, now: datetime) -> None:
    if item.action not in _ACTIONS and item.action != Action.PROVISIONING_ACTION_REGISTER:
        raise _rejected(f"unknown provisioning action {item.action}")
    imsi = _checked(normalize_imsi, item.imsi, "imsi")
    subscriber = await batch.subscriber(imsi)
    fault = faults.failure([_number_or_none(item.msisdn), subscriber.msisdn if subscriber else None])
    if fault is not None:
        raise ItemFailure(Failure.PROVISIONING_FAILURE_SYSTEM_FAILURE, fault)
    if item.action == Action.PROVISIONING_ACTION_REGISTER:
        await _register(batch, subscriber, imsi=imsi, item=item, now=now)
        return
    if subscriber is None:
        raise ItemFailure(Failure.PROVISIONING_FAILURE_UNKNOWN_SUBSCRIBER, f"no subscriber has the IMSI {imsi}")
    await _ACTIONS[item.action](batch, subscriber, item.params)
    if item.action != Action.PROVISIONING_ACTION_DEREGISTER:
        subscriber.version += 1
        subscriber.updated_at = now


def _checked(normalize: Callable[..., str], value: str, field: str) -> str:
    try:
        return normalize(value, field=field)
    except InvalidArgument as exc:
        shown = value if len(value) <= 40 else value[:40] + "…"
        raise _rejected(f"{exc.message} ({field} {shown!r})") from exc


def _number_or_none(value: str) -> str | None:
    if not value:
        return None  # most items name no second number: no need to raise and catch for it
    try:
        return normalize_msisdn(value, field="msisdn")
    except InvalidArgument:
        return None


def _block_type(params: Mapping[str, str]) -> str:
    block_type = params.get("block_type", "").strip()
    if block_type not in BLOCK_TYPES:
        raise _rejected(f"unknown block type {block_type!r}: one of {', '.join(BLOCK_TYPES)}")
    return block_type


def _condition(params: Mapping[str, str]) -> str:
    condition = params.get("condition", "").strip()
    if condition not in FORWARDING_CONDITIONS:
        raise _rejected(f"unknown forwarding condition {condition!r}: one of {', '.join(FORWARDING_CONDITIONS)}")
    return condition


def _initial_barrings(params: Mapping[str, str]) -> list[str]:
    state = params.get("state", "").strip() or "ready"
    if state == "active":
        return []
    if state == "ready":
        return [NOT_ACTIVATED]
    if state == "blocked":
        return [_block_type(params)]
    raise _rejected(f"unknown state {state!r}: active, ready or blocked")


async def _holder_of_number(session: AsyncSession, msisdn: str) -> Subscriber | None:
    return (await session.scalars(sa.select(Subscriber).where(Subscriber.msisdn == msisdn))).one_or_none()


async def _holder_of_sim(session: AsyncSession, iccid: str) -> Subscriber | None:
    return (await session.scalars(sa.select(Subscriber).where(Subscriber.iccid == iccid))).one_or_none()


def _number_in_use(msisdn: str) -> ItemFailure:
    return ItemFailure(Failure.PROVISIONING_FAILURE_NUMBER_IN_USE, f"the number {msisdn} is in use")


def _sim_in_use(what: str) -> ItemFailure:
    return ItemFailure(Failure.PROVISIONING_FAILURE_SIM_IN_USE, f"{what} is in use by another subscriber")


def _services(params: Mapping[str, str]) -> list[str]:
    try:
        return parse_services(params.get("services", ""))
    except InvalidArgument as exc:
        raise _rejected(exc.message) from exc


async def _register(
    batch: Batch,
    subscriber: Subscriber | None,
    *,
    imsi: str,
    item: hlr_pb2.ProvisioningItem,
    now: datetime,
) -> None:
    """Create the subscriber, or refresh it (number, SIM, barring, services when given; APNs and forwarding stay)."""
    iccid = _checked(normalize_iccid, item.iccid, "iccid")
    msisdn = _checked(normalize_msisdn, item.msisdn, "msisdn") if item.msisdn.strip() else None
    barrings = _initial_barrings(item.params)
    services = _services(item.params) if "services" in item.params else None
    if msisdn is not None:
        holder = await batch.holder_of_number(msisdn)
        if holder is not None and holder.imsi != imsi:
            raise _number_in_use(msisdn)
    sim = await batch.holder_of_sim(iccid)
    if sim is not None and sim.imsi != imsi:
        raise _sim_in_use(f"the SIM {iccid}")
    if subscriber is None:
        created = Subscriber(
            imsi=imsi,
            msisdn=msisdn,
            iccid=iccid,
            barrings=barrings,
            apns=[],
            forwarding={},
            services=services,
            version=0,
            registered_at=now,
            updated_at=now,
        )
        batch.session.add(created)  # inserted with the rest at the next flush
        batch.index(created)
        return
    batch.forget(subscriber)
    subscriber.msisdn = msisdn
    subscriber.iccid = iccid
    subscriber.barrings = barrings
    if services is not None:
        subscriber.services = services
    subscriber.version += 1
    subscriber.updated_at = now
    batch.index(subscriber)
    await batch.session.flush()  # a unique key may have changed: written before anything reuses it


async def _activate(_batch: Batch, subscriber: Subscriber, _params: Mapping[str, str]) -> None:
    subscriber.barrings = []


async def _bar(_batch: Batch, subscriber: Subscriber, params: Mapping[str, str]) -> None:
    block_type = _block_type(params)
    if block_type in subscriber.barrings:
        raise _rejected(f"the subscriber is already barred ({block_type})")
    subscriber.barrings = [*subscriber.barrings, block_type]


async def _unbar(_batch: Batch, subscriber: Subscriber, params: Mapping[str, str]) -> None:
    block_type = _block_type(params)
    if block_type not in subscriber.barrings:
        raise _rejected(f"no {block_type} barring is in force")
    subscriber.barrings = [b for b in subscriber.barrings if b != block_type]


async def _swap_sim(batch: Batch, subscriber: Subscriber, params: Mapping[str, str]) -> None:
    """The subscription moves to the new SIM (and its IMSI), keeping number, barring, APNs and forwarding."""
    new_iccid = _checked(normalize_iccid, params.get("new_iccid", ""), "new_iccid")
    raw_imsi = params.get("new_imsi", "")
    new_imsi = _checked(normalize_imsi, raw_imsi, "new_imsi") if raw_imsi.strip() else subscriber.imsi
    if new_iccid == subscriber.iccid and new_imsi == subscriber.imsi:
        raise _rejected(f"the subscriber already uses the SIM {new_iccid}")
    sim = await batch.holder_of_sim(new_iccid)
    if sim is not None and sim.imsi != subscriber.imsi:
        raise _sim_in_use(f"the SIM {new_iccid}")
    if new_imsi != subscriber.imsi and await batch.subscriber(new_imsi) is not None:
        raise _sim_in_use(f"the IMSI {new_imsi}")
    batch.forget(subscriber)
    subscriber.iccid = new_iccid
    subscriber.imsi = new_imsi  # the primary key: the ORM updates the row in place
    batch.index(subscriber)
    await batch.session.flush()


async def _change_msisdn(batch: Batch, subscriber: Subscriber, params: Mapping[str, str]) -> None:
    new_msisdn = _checked(normalize_msisdn, params.get("new_msisdn", ""), "new_msisdn")
    if new_msisdn == subscriber.msisdn:
        raise _rejected(f"the subscriber already has the number {new_msisdn}")
    if await batch.holder_of_number(new_msisdn) is not None:
        raise _number_in_use(new_msisdn)
    batch.forget(subscriber)
    subscriber.msisdn = new_msisdn
    batch.index(subscriber)
    await batch.session.flush()


async def _add_apn(_batch: Batch, subscriber: Subscriber, params: Mapping[str, str]) -> None:
    apn = _checked(normalize_apn, params.get("apn", ""), "apn")
    if apn in subscriber.apns:
        raise _rejected(f"the APN {apn} is already in the subscriber's profile")
    subscriber.apns = [*subscriber.apns, apn]


async def _remove_apn(_batch: Batch, subscriber: Subscriber, params: Mapping[str, str]) -> None:
    apn = _checked(normalize_apn, params.get("apn", ""), "apn")
    if apn not in subscriber.apns:
        raise _rejected(f"the APN {apn} is not in the subscriber's profile")
    subscriber.apns = [a for a in subscriber.apns if a != apn]


async def _set_forwarding(_batch: Batch, subscriber: Subscriber, params: Mapping[str, str]) -> None:
    condition = _condition(params)
    target = _checked(normalize_forwarding_target, params.get("target", ""), "target")
    subscriber.forwarding = {**subscriber.forwarding, condition: target}


async def _clear_forwarding(_batch: Batch, subscriber: Subscriber, params: Mapping[str, str]) -> None:
    condition = _condition(params)
    if condition not in subscriber.forwarding:
        raise _rejected(f"no forwarding is set for {condition}")
    subscriber.forwarding = {c: t for c, t in subscriber.forwarding.items() if c != condition}


async def _set_services(_batch: Batch, subscriber: Subscriber, params: Mapping[str, str]) -> None:
    if "services" not in params:
        raise _rejected('params["services"] is required: the services, comma-separated ("" for none)')
    subscriber.services = _services(params)


async def _deregister(batch: Batch, subscriber: Subscriber, _params: Mapping[str, str]) -> None:
    batch.forget(subscriber)
    await batch.session.delete(subscriber)
    await batch.session.flush()


_ACTIONS: dict[int, Callable[[Batch, Subscriber, Mapping[str, str]], Awaitable[None]]] = {
    Action.PROVISIONING_ACTION_ACTIVATE: _activate,
    Action.PROVISIONING_ACTION_BAR: _bar,
    Action.PROVISIONING_ACTION_UNBAR: _unbar,
    Action.PROVISIONING_ACTION_SWAP_SIM: _swap_sim,
    Action.PROVISIONING_ACTION_CHANGE_MSISDN: _change_msisdn,
    Action.PROVISIONING_ACTION_ADD_APN: _add_apn,
    Action.PROVISIONING_ACTION_REMOVE_APN: _remove_apn,
    Action.PROVISIONING_ACTION_SET_FORWARDING: _set_forwarding,
    Action.PROVISIONING_ACTION_CLEAR_FORWARDING: _clear_forwarding,
    Action.PROVISIONING_ACTION_DEREGISTER: _deregister,
    Action.PROVISIONING_ACTION_SET_SERVICES: _set_services,
}
"""Every action but REGISTER (which may create the subscriber): applied to a subscriber that exists."""


# ----------------------------------------------------------------- reading
async def find_subscriber(session: AsyncSession, *, imsi: str = "", msisdn: str = "") -> Subscriber | None:
    """By IMSI or by number (both already normalised)."""
    if imsi:
        return await session.get(Subscriber, imsi)
    return await _holder_of_number(session, msisdn)


async def list_subscribers(
    session: AsyncSession, *, msisdn_prefix: str, limit: int, page_token: str
) -> tuple[list[Subscriber], str]:
    """A page of subscribers ordered by IMSI, optionally only numbers starting ``msisdn_prefix``."""
    after = decode_token(page_token, BY_IMSI, list_name=SUBSCRIBERS_LIST, size=1)
    query = sa.select(Subscriber)
    if msisdn_prefix:
        query = query.where(Subscriber.msisdn.startswith(msisdn_prefix, autoescape=True))
    rows = (await session.scalars(keyset(query, [Subscriber.imsi], order=BY_IMSI, after=after, limit=limit))).all()
    return next_token(rows, order=BY_IMSI, limit=limit, key=lambda s: [s.imsi], list_name=SUBSCRIBERS_LIST)
