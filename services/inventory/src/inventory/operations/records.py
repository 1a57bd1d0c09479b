"""Lines and items as the engine handles them: plain rows read and written with SQL, their changes tracked.

A bulk operation moves every one of its items and lines through the engine
twice (sent, then answered). The ORM's identity map and unit of work cost
more per row than the change itself, so the engine reads these rows with one
``SELECT`` per batch into :class:`LineRow` and :class:`ItemRow`, lets the
actions change their attributes as they would an ORM object's, and writes
back only what changed: one ``UPDATE`` per set of changed columns per batch
(:func:`write_changes`), new lines with one ``INSERT`` (:func:`insert_rows`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, ClassVar, Self, cast

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.lines.models import Line, LineLabel
from inventory.operations.models import PENDING, Item, TargetChunk
from simfleet_runtime.ids import new_ids


class Tracked:
    """A row's values as attributes; setting one records its name in ``changed``.

    Reading costs what a row holds: its JSON columns (``lazy``) come as text
    and are decoded the first time an action reads them (a block reads a
    line's blocks, never its APNs), and the columns the engine only ever
    writes (``unread``, such as ``updated_at``) are not selected at all.
    """

    table: ClassVar[sa.Table]
    columns: ClassVar[tuple[str, ...]]
    lazy: ClassVar[frozenset[str]] = frozenset()
    unread: ClassVar[frozenset[str]] = frozenset()
    changed: set[str]

    def __init__(self, **values: Any) -> None:
        self.__dict__.update({name: values[name] for name in self.columns}, changed=set())

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        cls._selected = tuple(name for name in cls.columns if name not in cls.unread)
        cls._keys = tuple(f"_raw_{name}" if name in cls.lazy else name for name in cls._selected)

    _selected: ClassVar[tuple[str, ...]]
    _keys: ClassVar[tuple[str, ...]]

    def __setattr__(self, name: str, value: Any) -> None:
        self.__dict__[name] = value
        self.changed.add(name)

    def __getattr__(self, name: str) -> Any:
        """Only called for what is not in ``__dict__`` yet: a lazy column's first read."""
        if name in self.lazy:
            raw = self.__dict__[f"_raw_{name}"]
            # SQLite gives the text; asyncpg decodes JSON itself. The columns hold lists and objects.
            value = orjson.loads(raw) if isinstance(raw, str | bytes) else raw
            self.__dict__[name] = value
            return value
        if name in self.unread:
            raise AttributeError(f"{type(self).__name__}.{name} is written by the engine, never read")
        raise AttributeError(name)

    @classmethod
    def select(cls) -> sa.Select[Any]:
        c = cls.table.c
        return sa.select(*(sa.type_coerce(c[n], sa.Text) if n in cls.lazy else c[n] for n in cls._selected))

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Self:
        record = cls.__new__(cls)
        values = record.__dict__
        values.update(zip(cls._keys, row, strict=True))
        values["changed"] = set()
        return record

    def values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.columns}


class LineRow(Tracked):
    columns = (
        "apns",
        "blocks",
        "created_at",
        "customer_id",
        "forwarding",
        "group_id",
        "group_name",
        "iccid",
        "id",
        "imsi",
        "labels",
        "msisdn",
        "node_id",
        "pending_operation_id",
        "personal_account_id",
        "services",
        "state",
        "tariff_code",
        "updated_at",
    )
    table = cast(sa.Table, Line.__table__)
    lazy = frozenset({"apns", "blocks", "forwarding", "labels", "services"})
    unread = frozenset({"created_at", "updated_at"})

    id: str
    customer_id: str
    msisdn: str
    iccid: str
    imsi: str
    node_id: str
    personal_account_id: str
    tariff_code: str
    state: str
    blocks: list[dict[str, Any]]
    services: list[str]
    apns: list[dict[str, Any]]
    forwarding: dict[str, str]
    labels: list[str]
    group_id: str | None
    group_name: str | None
    pending_operation_id: str | None
    created_at: datetime
    updated_at: datetime


class ItemRow(Tracked):
    columns = (
        "code",
        "finished_at",
        "id",
        "line_id",
        "msisdn",
        "operation_id",
        "params",
        "position",
        "reason",
        "sent_at",
        "state",
        "updated_at",
    )
    table = cast(sa.Table, Item.__table__)
    lazy = frozenset({"params"})
    unread = frozenset({"code", "finished_at", "reason", "updated_at"})

    id: str
    operation_id: str
    position: int
    msisdn: str
    line_id: str | None
    state: str
    params: dict[str, str]
    code: str | None
    reason: str | None
    sent_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime


async def load(session: AsyncSession, kind: type[Tracked], where: sa.ColumnElement[bool]) -> list[Any]:
    rows = await session.execute(kind.select().where(where))
    return [kind.from_row(row) for row in rows]


async def write_changes(session: AsyncSession, records: Iterable[Tracked]) -> int:
    """Write what changed in ``records`` (all of one kind): an executemany ``UPDATE`` per set of changed columns."""
    groups: dict[tuple[type[Tracked], frozenset[str]], list[Tracked]] = {}
    for record in records:
        if record.changed:
            groups.setdefault((type(record), frozenset(record.changed)), []).append(record)
    for (kind, names), group in groups.items():
        ordered = sorted(names)
        table = kind.table
        statement = (
            sa.update(table)
            .where(table.c.id == sa.bindparam("row_id"))
            .values({name: sa.bindparam(f"new_{name}") for name in ordered})
        )
        await session.execute(
            statement,
            [{"row_id": r.id, **{f"new_{name}": getattr(r, name) for name in ordered}} for r in group],
        )
        if kind is LineRow and "labels" in names:
            await _index_labels(session, cast(list[LineRow], group))
        for record in group:
            record.changed.clear()
    return sum(len(g) for g in groups.values())


async def _index_labels(session: AsyncSession, lines: Sequence[LineRow]) -> None:
    """The labels' index (``line_labels``, what a filter by label looks up) made the lines' ``labels`` again."""
    ids = [line.id for line in lines]
    for start in range(0, len(ids), 1000):
        await session.execute(sa.delete(LineLabel).where(LineLabel.line_id.in_(ids[start : start + 1000])))
    rows = [{"line_id": line.id, "label": label} for line in lines for label in dict.fromkeys(line.labels)]
    if rows:
        await session.execute(sa.insert(LineLabel), rows)


async def insert_rows(session: AsyncSession, records: Sequence[Tracked]) -> None:
    """Insert new rows (all of one kind) with one executemany ``INSERT``."""
    if records:
        await session.execute(sa.insert(type(records[0]).table), [r.values() for r in records])
        for record in records:
            record.changed.clear()


ITEMS_PER_INSERT = 2000


async def insert_pending_items(
    session: AsyncSession,
    operation_id: str,
    items: Sequence[tuple[str, str | None, dict[str, str]]],
    now: datetime,
    *,
    first_position: int = 1,
) -> None:
    """An operation's new items, pending, numbered from ``first_position``: ``(msisdn, line id, params)`` each.

    Plain rows, ids drawn as one batch, a few thousand rows per ``INSERT``: the 200,000 items of the largest
    operation are written in a fraction of what one object (and one ULID) each cost.
    """
    ids = new_ids(len(items))
    table = ItemRow.table
    for start in range(0, len(items), ITEMS_PER_INSERT):
        await session.execute(
            sa.insert(table),
            [
                {
                    "id": ids[start + i],
                    "operation_id": operation_id,
                    "position": first_position + start + i,
                    "msisdn": msisdn,
                    "line_id": line_id,
                    "state": PENDING,
                    "params": params,
                    "code": None,
                    "reason": None,
                    "sent_at": None,
                    "finished_at": None,
                    "updated_at": now,
                }
                for i, (msisdn, line_id, params) in enumerate(items[start : start + ITEMS_PER_INSERT])
            ],
        )


async def discard_target_chunks(session: AsyncSession, operation_id: str) -> int:
    """Drop a large operation's numbers not yet made items (it ends without them); how many there were."""
    chunks = (
        await session.scalars(sa.select(TargetChunk.targets).where(TargetChunk.operation_id == operation_id))
    ).all()
    if chunks:
        await session.execute(sa.delete(TargetChunk).where(TargetChunk.operation_id == operation_id))
    return sum(len(targets) for targets in chunks)


async def expand_next_chunk(session: AsyncSession, operation_id: str, now: datetime) -> int:
    """The next chunk of a large operation's numbers, kept as accepted, becomes pending items now.

    One chunk (10,000 numbers) per transaction: the engine calls this as the operation starts and
    whenever it runs short of pending items, so the 200,000 items of the largest operation never hold
    the database in one go. The number of items made (0: none was left).
    """
    chunk = (
        await session.execute(
            sa.select(TargetChunk.chunk, TargetChunk.first_position, TargetChunk.targets)
            .where(TargetChunk.operation_id == operation_id)
            .order_by(TargetChunk.chunk)
            .limit(1)
        )
    ).first()
    if chunk is None:
        return 0
    number, first, targets = chunk
    items = [(target, None, {}) if isinstance(target, str) else (target[0], None, target[1]) for target in targets]
    await insert_pending_items(session, operation_id, items, now, first_position=first)
    await session.execute(
        sa.delete(TargetChunk).where(TargetChunk.operation_id == operation_id, TargetChunk.chunk == number)
    )
    return len(items)
