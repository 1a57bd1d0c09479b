"""Keeping a user's saved filters of lines: only the owner lists, saves or deletes theirs.

A filter is the fields a list of lines and an operation's selection share. Its node is checked when it is
saved (in the caller's scope, with ``lines:read`` there, as the list would show it); whoever uses it later
passes the list's or the operation's own scope checks, so a filter outlives no grant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.db import NODE_PATHS
from inventory.lines.models import LINE_STATES
from inventory.lines.service import READ
from inventory.saved_filters.models import SavedFilter, SavedFilterOwner
from simfleet_runtime.authz import Access, is_node_id, not_found
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database, insert_ignoring_conflicts
from simfleet_runtime.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from simfleet_runtime.ids import is_id, new_id
from simfleet_runtime.nodepaths import path_ids
from simfleet_runtime.validation import GROUP_MAX, LABEL_MAX, text_problem

MAX_PER_USER = 50
"""Saved filters one user may keep: a list to choose from, not a store."""
MAX_NAME = 100
MAX_TARIFF = 64


@dataclass(frozen=True)
class NewFilter:
    name: str
    node_id: str = ""
    states: Sequence[str] = ()
    tariff_code: str = ""
    label: str = ""
    group: str = ""


def _invalid(field: str, message: str, reason: str) -> InvalidArgument:
    return InvalidArgument(message, reason=reason, field_violations={field: message})


def _checked(new: NewFilter) -> NewFilter:
    """``new`` with its name trimmed and its states once each, or the first field that is wrong."""
    name = new.name.strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise _invalid("name", f"a name of 1 to {MAX_NAME} characters", "INVALID_NAME")
    if problem := text_problem(name):
        raise _invalid("name", problem, "INVALID_NAME")
    if new.node_id and not is_node_id(new.node_id):
        raise not_found("node")
    for state in new.states:
        if state not in LINE_STATES:
            raise _invalid("states", f"unknown line state {state!r}", "INVALID_STATE")
    for field, value, limit in (
        ("tariff_code", new.tariff_code, MAX_TARIFF),
        ("label", new.label, LABEL_MAX),
        ("group", new.group, GROUP_MAX),
    ):
        if len(value) > limit:
            raise _invalid(field, f"at most {limit} characters", "INVALID_FILTER")
        if problem := text_problem(value):
            raise _invalid(field, problem, "INVALID_FILTER")
    return NewFilter(name, new.node_id, list(dict.fromkeys(new.states)), new.tariff_code, new.label, new.group)


class SavedFilters:
    def __init__(self, *, db: Database, clock: Clock, max_per_user: int = MAX_PER_USER) -> None:
        self._db = db
        self._clock = clock
        self._max = max_per_user

    @staticmethod
    def _reader(access: Access) -> None:
        """Filters are of lines: who may read none keeps none."""
        access.require(READ)

    @staticmethod
    def _own(access: Access) -> sa.ColumnElement[bool]:
        return sa.and_(SavedFilter.customer_id == access.customer_id, SavedFilter.owner_id == access.user_id)

    async def list(self, access: Access) -> list[SavedFilter]:
        self._reader(access)
        async with self._db.sessions() as session:
            found = await session.scalars(
                sa.select(SavedFilter).where(self._own(access)).order_by(SavedFilter.name, SavedFilter.id)
            )
            return list(found.all())

    async def create(self, access: Access, new: NewFilter) -> SavedFilter:
        """Save ``new`` as the caller's; its node is looked at first, as a list by node would be (a node outside
        the scope is NOT_FOUND, whatever the caller holds elsewhere; lines:read must hold there)."""
        new = _checked(new)
        if not new.node_id:
            self._reader(access)
        try:
            async with self._db.transaction() as session:
                if new.node_id:
                    path = await session.scalar(
                        sa.select(NODE_PATHS.c.path).where(
                            NODE_PATHS.c.customer_id == access.customer_id, NODE_PATHS.c.node_id == new.node_id
                        )
                    )
                    access.check(READ, None if path is None else path_ids(path), what="node")
                await self._hold_owner(session, access)
                kept = await session.scalar(
                    sa.select(sa.func.count()).select_from(SavedFilter).where(self._own(access))
                )
                if (kept or 0) >= self._max:
                    raise FailedPrecondition(
                        f"you keep {self._max} saved filters already, the most one may: delete one first",
                        reason="SAVED_FILTERS_LIMIT",
                        metadata={"limit": str(self._max)},
                    )
                taken = await session.scalar(
                    sa.select(SavedFilter.id).where(self._own(access), SavedFilter.name == new.name)
                )
                if taken is not None:
                    raise self._name_taken()
                saved = SavedFilter(
                    id=new_id(),
                    customer_id=access.customer_id,
                    owner_id=access.user_id,
                    name=new.name,
                    node_id=new.node_id,
                    states=list(new.states),
                    tariff_code=new.tariff_code,
                    label=new.label,
                    group_name=new.group,
                    created_at=self._clock.now(),
                )
                session.add(saved)
        except IntegrityError as exc:  # the same name saved at the same moment
            raise self._name_taken() from exc
        return saved

    @staticmethod
    async def _hold_owner(session: AsyncSession, access: Access) -> None:
        """Lock the caller's owner row (made on their first save) until the transaction ends: saves of one user
        count and insert one after another, whatever the backend (SQLite's writers queue anyway)."""
        owner = {"customer_id": access.customer_id, "owner_id": access.user_id}
        await session.execute(insert_ignoring_conflicts(session, SavedFilterOwner.__table__), owner)  # type: ignore[arg-type]
        await session.execute(
            sa.select(SavedFilterOwner.owner_id)
            .where(SavedFilterOwner.customer_id == access.customer_id, SavedFilterOwner.owner_id == access.user_id)
            .with_for_update()
        )

    @staticmethod
    def _name_taken() -> AlreadyExists:
        return AlreadyExists(
            "you have a saved filter of this name already",
            reason="SAVED_FILTER_EXISTS",
            field_violations={"name": "already used by another of your saved filters"},
        )

    async def delete(self, access: Access, filter_id: str) -> None:
        """Delete one of the caller's filters; anyone else's is not found, like one that never was."""
        self._reader(access)
        if not is_id(filter_id):
            raise not_found("saved filter")
        async with self._db.transaction() as session:
            gone = await session.execute(sa.delete(SavedFilter).where(self._own(access), SavedFilter.id == filter_id))
        if not gone.rowcount:  # type: ignore[attr-defined]
            raise not_found("saved filter")
