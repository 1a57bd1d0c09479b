"""Accepting, reading and cancelling operations (the engine runs them: :mod:`inventory.operations.engine`)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from inventory import metrics as m
from inventory.audit_commands import OPERATION_CANCEL, OPERATION_CREATE, ORDER_SIMS
from inventory.convert import operation_event
from inventory.operations.actions import ACTIONS, Action
from inventory.operations.ending import CANCELLED_CODE, CANCELLED_UNSTARTED, finish, skip_pending
from inventory.operations.models import (
    CANCELLED,
    FINAL_STATES,
    IDEMPOTENCY_KEY_MAX,
    ITEM_STATES,
    OPERATION_STATES,
    RUNNING,
    SCHEDULED,
    Item,
    Operation,
    TargetChunk,
)
from inventory.operations.nodes import checked_path, node_kind, node_path, node_paths
from inventory.operations.placement import (
    check_destination,
    check_personal_account,
    scope_node,
    selection_node,
    targets_node,
)
from inventory.operations.records import insert_pending_items
from inventory.operations.requests import NewOperation, Selection, fingerprint_of, invalid
from inventory.scope import nodes_under
from simfleet_runtime.audit import Actor, AuditTrail, obj
from simfleet_runtime.authz import Access, not_found, permission_missing
from simfleet_runtime.bus import Outbox
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database, after_commit
from simfleet_runtime.errors import FailedPrecondition, ResourceExhausted
from simfleet_runtime.idempotency import check_same_request, checked_key, fingerprint
from simfleet_runtime.ids import new_id
from simfleet_runtime.nodepaths import PERSONAL_ACCOUNT
from simfleet_runtime.operation_params import spec
from simfleet_runtime.paging import decode_token, keyset, next_token, page_size, parse_order
from simfleet_runtime.validation import normalize_msisdns
from simfleet_subjects import InventorySubjects

READ = "lines:read"
MAX_ORDER = 1000
INLINE_TARGETS = 1000
"""Up to this many numbers, an operation's items are written as it is accepted; beyond, when it starts."""
TARGETS_PER_CHUNK = 10_000
DEFAULT_TARIFFS = ("BIZ-S", "BIZ-M", "BIZ-L", "IOT-S")
DEFAULT_ORDER_QUOTA = 5_000
ORDER_QUOTA_WINDOW = timedelta(hours=24)
OPERATIONS_LIST = "operations"
ITEMS_LIST = "operation-items"
SCHEDULE_HORIZON = timedelta(days=90)
"""The furthest ahead an operation may be scheduled (the gateway documents the same limit)."""


class OperationService:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        outbox: Outbox,
        max_lines: int,
        tariffs: Sequence[str] = DEFAULT_TARIFFS,
        order_quota_per_day: int = DEFAULT_ORDER_QUOTA,
        audit: AuditTrail | None = None,
    ) -> None:
        self._audit = audit
        self._db = db
        self._clock = clock
        self._outbox = outbox
        self._max_lines = max_lines
        self._tariffs = tuple(tariffs)
        self._order_quota = order_quota_per_day
        self.accepted = asyncio.Event()
        """Set after an operation is accepted or cancelled: the engine wakes up."""

    # ------------------------------------------------------------ accepting
    def _action(self, type_: str) -> Action:
        action = ACTIONS.get(type_)
        if action is None:
            raise invalid("type", f"type must be one of {', '.join(sorted(ACTIONS))}")
        return action

    async def create(self, access: Access, new: NewOperation) -> tuple[Operation, bool]:
        """Accept an operation; (the operation, True when the idempotency key found an earlier one)."""
        action = self._action(new.type)
        permission = action.permission_for(new.params)
        if new.type == "order_sims":
            raise invalid("type", "SIM cards are ordered with OrderSims")
        if new.selection is not None and new.selection.node_id:
            # A node outside the scope is not found, whatever the caller may do elsewhere.
            async with self._db.sessions() as session:
                await selection_node(session, access, permission, new.selection)
        if new.type == "move":
            # So is a destination outside it.
            async with self._db.sessions() as session:
                await check_destination(session, access, action.params(dict(new.params)), kinds=False)
        if access.user_id == "":
            raise permission_missing(permission)
        access.require(permission)
        if new.scheduled_at is not None and new.scheduled_at > self._clock.now() + SCHEDULE_HORIZON:
            raise invalid("scheduled_at", f"at most {SCHEDULE_HORIZON.days} days ahead")
        key = self._key(new.idempotency_key)
        request_fingerprint = fingerprint_of(new) if key else None
        if key and (earlier := await self._by_key(access, key, request_fingerprint)) is not None:
            return earlier, True
        params = action.params({k: v for k, v in new.params.items()})
        if new.type == "change_tariff":
            self._known_tariff(params["tariff_code"], field="params.tariff_code")
        if new.by_number == (new.selection is not None):
            raise invalid("targets", "give the lines either by number or by a selection, not both or neither")
        if new.selection is not None and (found := spec(new.type)) is not None and found.items_required:
            raise invalid("selection", f"{new.type} names each line by number with its own parameters (items)")
        numbers, own = self._lines(action, new, params)
        now = self._clock.now()
        scheduled_at = max(new.scheduled_at or now, now)
        async with self._db.transaction() as session:
            roots = list(access.roots(permission))
            deferred = len(numbers) > INLINE_TARGETS
            if new.selection is not None:
                node_id = await selection_node(session, access, permission, new.selection)
            elif deferred:
                # Finding the lines' deepest shared node would read them all: a large operation hangs
                # where the requester's grants meet, like a selection without a node.
                node_id = await scope_node(session, access, permission)
            else:
                node_id = await targets_node(session, access, numbers) or roots[0]
            if new.type == "move":
                await check_destination(session, access, params)
            operation = self._operation(access, new.type, params, new.selection, node_id, roots, scheduled_at, key, now)
            operation.request_fingerprint = request_fingerprint
            session.add(operation)
            if numbers:
                operation.total = operation.pending = len(numbers)
                await session.flush()
                if deferred:
                    await session.execute(
                        sa.insert(TargetChunk),
                        [
                            {
                                "operation_id": operation.id,
                                "chunk": n,
                                "first_position": start + 1,
                                "targets": [
                                    [number, values] if values else number
                                    for number, values in zip(
                                        numbers[start : start + TARGETS_PER_CHUNK],
                                        own[start : start + TARGETS_PER_CHUNK],
                                        strict=True,
                                    )
                                ],
                            }
                            for n, start in enumerate(range(0, len(numbers), TARGETS_PER_CHUNK))
                        ],
                    )
                else:
                    items = [(number, None, values) for number, values in zip(numbers, own, strict=True)]
                    await insert_pending_items(session, operation.id, items, now)
            await self._accepted(session, operation)
            await self._recorded(session, access, OPERATION_CREATE, operation)
        return operation, False

    async def _recorded(self, session: AsyncSession, access: Access, action: str, operation: Operation) -> None:
        """The command's audit event, in the transaction of its change (fails it when it cannot be written)."""
        if self._audit is not None:
            actor = Actor(access.user_id, access.customer_id)
            await self._audit.add(session, action, [obj("operation", operation.id, operation.node_id)], actor=actor)

    async def order_sims(
        self,
        access: Access,
        *,
        node_id: str,
        personal_account_id: str,
        quantity: int,
        tariff_code: str,
        idempotency_key: str,
    ) -> tuple[Operation, bool]:
        action = self._action("order_sims")
        personal_account_id = personal_account_id.strip()
        key = self._key(idempotency_key)
        request_fingerprint = None
        if key:
            order = {"node_id": node_id, "personal_account_id": personal_account_id, "quantity": quantity}
            request_fingerprint = fingerprint("OrderSims", {**order, "tariff_code": tariff_code.strip()})
        if key and (earlier := await self._by_key(access, key, request_fingerprint)) is not None:
            return earlier, True
        if not 1 <= quantity <= MAX_ORDER:
            raise invalid("quantity", f"quantity must be between 1 and {MAX_ORDER}")
        tariff = tariff_code.strip()
        if not tariff or len(tariff) > 64:
            raise invalid("tariff_code", "tariff_code is required (up to 64 characters)")
        self._known_tariff(tariff, field="tariff_code")
        now = self._clock.now()
        async with self._db.transaction() as session:
            await self._check_order_quota(session, access.customer_id, quantity, now)
            paths = await node_paths(session, access.customer_id, [node_id, personal_account_id])
            for value in (node_id, personal_account_id) if personal_account_id else (node_id,):
                access.check(action.permission, checked_path(paths.get(value)), what="node")
            if personal_account_id:
                await check_personal_account(session, access.customer_id, personal_account_id, "personal_account_id")
            elif await node_kind(session, access.customer_id, node_id) == PERSONAL_ACCOUNT:
                personal_account_id = node_id
            else:
                raise invalid(
                    "personal_account_id",
                    "name the personal account the new lines are billed to (node_id is not one)",
                    reason="PERSONAL_ACCOUNT_REQUIRED",
                )
            operation = self._operation(
                access,
                "order_sims",
                {
                    "node_id": node_id,
                    "personal_account_id": personal_account_id,
                    "tariff_code": tariff,
                    "quantity": str(quantity),
                },
                None,
                node_id,
                list(access.roots(action.permission)),
                now,
                key,
                now,
            )
            operation.request_fingerprint = request_fingerprint
            operation.total = operation.pending = quantity
            session.add(operation)
            await session.flush()
            await insert_pending_items(session, operation.id, [("", None, {})] * quantity, now)
            await self._accepted(session, operation)
            await self._recorded(session, access, ORDER_SIMS, operation)
        return operation, False

    def _known_tariff(self, tariff: str, *, field: str) -> None:
        """A tariff the operator offers (``INVENTORY_ORDERABLE_TARIFFS``), for new lines and tariff changes alike."""
        if tariff not in self._tariffs:
            raise invalid(field, f"unknown tariff: one of {', '.join(self._tariffs)}", reason="UNKNOWN_TARIFF")

    def _key(self, value: str) -> str:
        return checked_key(value, maximum=IDEMPOTENCY_KEY_MAX)

    async def _by_key(self, access: Access, key: str, request_fingerprint: str | None) -> Operation | None:
        """The caller's operation made with ``key``, when the request is the one it was made for."""
        async with self._db.sessions() as session:
            earlier = await session.scalar(
                sa.select(Operation).where(
                    Operation.customer_id == access.customer_id,
                    Operation.requested_by == access.user_id,
                    Operation.idempotency_key == key,
                )
            )
        if earlier is not None and request_fingerprint is not None:
            check_same_request(earlier.request_fingerprint, request_fingerprint, field="idempotency_key")
        return earlier

    def _lines(
        self, action: Action, new: NewOperation, params: dict[str, str]
    ) -> tuple[list[str], list[dict[str, str]]]:
        """The numbers named (targets, then numbers), checked, each once, with each one's own params checked.

        A bulk operation names 200,000 lines, nearly all without params of their own: they share one
        checked dict, and nothing is built per number but its place in two lists.
        """
        if len(new.targets) + len(new.numbers) > self._max_lines:
            raise invalid("targets", f"one operation changes at most {self._max_lines} lines")
        numbers = normalize_msisdns([t.msisdn for t in new.targets], field="targets[{}].msisdn")
        numbers += normalize_msisdns(new.numbers, field="msisdns[{}]")
        if len(set(numbers)) != len(numbers):
            seen: set[str] = set()
            for i, number in enumerate(numbers):
                if number in seen:
                    where = f"targets[{i}].msisdn" if i < len(new.targets) else f"msisdns[{i - len(new.targets)}]"
                    raise invalid(where, f"{number} is given twice")
                seen.add(number)
        none: dict[str, str] | None = None  # most lines give no params of their own: checked once

        def shared() -> dict[str, str]:
            nonlocal none
            if none is None:
                none = action.item_params({}, params)
            return none

        own = [action.item_params(dict(t.params), params) if t.params else shared() for t in new.targets]
        if new.numbers:
            own += [shared()] * len(new.numbers)
        return numbers, own

    async def _check_order_quota(self, session: AsyncSession, customer_id: str, quantity: int, now: datetime) -> None:
        """One customer cannot empty the operator's shared stock: at most the quota in any 24 hours."""
        if session.get_bind().dialect.name == "postgresql":
            # Two orders of one customer racing would each see the other's SIMs as not yet ordered.
            await session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(customer_id))))
        ordered = await session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(Operation.total), 0)).where(
                Operation.customer_id == customer_id,
                Operation.type == "order_sims",
                Operation.created_at > now - ORDER_QUOTA_WINDOW,
                Operation.state != CANCELLED,
            )
        )
        left = max(0, self._order_quota - int(ordered or 0))
        if quantity > left:
            raise ResourceExhausted(
                f"a customer may order at most {self._order_quota} SIM cards in 24 hours; {left} can be ordered now",
                reason="SIM_ORDER_QUOTA",
                metadata={"quota": str(self._order_quota), "left": str(left)},
                retry_after_seconds=3600,
            )

    def _operation(
        self,
        access: Access,
        type_: str,
        params: dict[str, str],
        selection: Selection | None,
        node_id: str,
        roots: list[str],
        scheduled_at: datetime,
        key: str,
        now: datetime,
    ) -> Operation:
        return Operation(
            id=new_id(),
            customer_id=access.customer_id,
            type=type_,
            state=SCHEDULED,
            params=params,
            selection=selection.as_json() if selection else None,
            requested_by=access.user_id,
            node_id=node_id,
            scope_roots=roots,
            idempotency_key=key or None,
            total=0,
            pending=0,
            in_progress=0,
            succeeded=0,
            failed=0,
            skipped=0,
            cancel_requested=False,
            error=None,
            created_at=now,
            scheduled_at=scheduled_at,
            started_at=None,
            finished_at=None,
            updated_at=now,
        )

    async def _accepted(self, session: AsyncSession, operation: Operation) -> None:
        await self._outbox.add(
            session,
            InventorySubjects.OPERATION_ACCEPTED,
            operation_event(operation, self._clock.now()),
            tenant=operation.customer_id,
        )
        after_commit(session, self.accepted.set)
        after_commit(session, m.OPERATIONS_ACCEPTED.labels(operation.type).inc)

    async def create_idempotent(self, access: Access, new: NewOperation) -> tuple[Operation, bool]:
        """:meth:`create`, where two requests racing with one key end with one operation."""
        try:
            return await self.create(access, new)
        except IntegrityError:
            earlier = await self._by_key(access, self._key(new.idempotency_key), fingerprint_of(new))
            if earlier is None:
                raise
            return earlier, True

    # ------------------------------------------------------------ reading
    async def _visible(self, session: AsyncSession, access: Access, operation: Operation | None) -> Operation:
        if operation is None or operation.customer_id != access.customer_id:
            raise not_found("operation")
        if operation.requested_by == access.user_id:
            return operation
        access.check(READ, await node_path(session, access.customer_id, operation.node_id), what="operation")
        return operation

    async def get(self, access: Access, operation_id: str) -> Operation:
        async with self._db.sessions() as session:
            return await self._visible(session, access, await session.get(Operation, operation_id))

    async def find(
        self, access: Access, *, states: Sequence[str], type_: str, page_size_: int, page_token: str
    ) -> tuple[list[Operation], str]:
        size = page_size(page_size_)
        order = parse_order("-created_at", allowed=("created_at",), default="-created_at")
        for state in states:
            if state not in OPERATION_STATES:
                raise invalid("states", f"unknown operation state {state!r}")
        if type_ and type_ not in ACTIONS:
            raise invalid("type", f"unknown operation type {type_!r}")
        query = sa.select(Operation).where(
            Operation.customer_id == access.customer_id,
            sa.or_(
                Operation.requested_by == access.user_id,
                Operation.node_id.in_(nodes_under(access.customer_id, access.roots(READ))),
            ),
        )
        if states:
            query = query.where(Operation.state.in_(list(states)))
        if type_:
            query = query.where(Operation.type == type_)
        after = decode_token(page_token, order, list_name=OPERATIONS_LIST, size=2)
        query = keyset(query, [Operation.created_at, Operation.id], order=order, after=after, limit=size)
        async with self._db.sessions() as session:
            rows = list((await session.scalars(query)).all())
        return next_token(rows, order=order, limit=size, key=lambda o: [o.created_at, o.id], list_name=OPERATIONS_LIST)

    async def items(
        self, access: Access, operation_id: str, *, states: Sequence[str], page_size_: int, page_token: str
    ) -> tuple[list[Item], str]:
        size = page_size(page_size_)
        order = parse_order("position", allowed=("position",), default="position")
        for state in states:
            if state not in ITEM_STATES:
                raise invalid("states", f"unknown item state {state!r}")
        async with self._db.sessions() as session:
            await self._visible(session, access, await session.get(Operation, operation_id))
            query = sa.select(Item).where(Item.operation_id == operation_id)
            if states:
                query = query.where(Item.state.in_(list(states)))
            after = decode_token(page_token, order, list_name=ITEMS_LIST, size=1)
            query = keyset(query, [Item.position], order=order, after=after, limit=size)
            rows = list((await session.scalars(query)).all())
        return next_token(rows, order=order, limit=size, key=lambda i: [i.position], list_name=ITEMS_LIST)

    # ------------------------------------------------------------ cancelling
    async def cancel(self, access: Access, operation_id: str) -> Operation:
        """A scheduled operation ends at once; a running one stops sending (the engine skips what is left)."""
        async with self._db.transaction() as session:
            operation = await session.get(Operation, operation_id, with_for_update=True)
            operation = await self._visible(session, access, operation)
            action = self._action(operation.type)
            if operation.requested_by != access.user_id:
                path = await node_path(session, access.customer_id, operation.node_id)
                access.check(action.permission_for(operation.params), path, what="operation")
            if operation.state in FINAL_STATES:
                raise FailedPrecondition(
                    f"the operation has already ended ({operation.state})", reason="OPERATION_ENDED"
                )
            now = self._clock.now()
            operation.cancel_requested = True
            operation.updated_at = now
            if operation.state == SCHEDULED:
                # It never started: every item (and every number not yet made one) is skipped, and it ends.
                await skip_pending(session, operation, now, code=CANCELLED_CODE, reason=CANCELLED_UNSTARTED)
                await finish(session, self._outbox, operation, now, state=CANCELLED)
            elif operation.state == RUNNING:
                after_commit(session, self.accepted.set)
            await self._recorded(session, access, OPERATION_CANCEL, operation)
        return operation
