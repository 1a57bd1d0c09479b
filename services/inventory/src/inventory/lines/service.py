"""Reading lines within the caller's scope: lists, one line, its PUK codes and where it is (both reads audited)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.audit_commands import LOCATION_READ, PUK_READ
from inventory.db import NODE_PATHS
from inventory.lines.models import LINE_STATES, Line, LineLabel, LineView
from inventory.stock import service as stock
from inventory.stock.models import IN_STOCK, Sim
from inventory.stock.puk import PukVault
from simfleet_runtime.audit import Actor, AuditTrail, obj
from simfleet_runtime.authz import Access, not_found
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database, one_of
from simfleet_runtime.errors import InvalidArgument
from simfleet_runtime.nodepaths import ProjectedNodePaths, path_ids
from simfleet_runtime.paging import (
    Order,
    check_after,
    decode_token,
    keyset,
    keyset_statement,
    next_token,
    page_size,
    parse_order,
)
from simfleet_runtime.validation import normalize_msisdn

READ = "lines:read"
READ_PUK = "lines:read-puk"
LOCATE = "lines:locate"
ORDERS = ("msisdn", "created_at", "updated_at")
LINES_LIST = "lines"
RESERVE_LIST = "reserve-sims"


@dataclass(frozen=True)
class LineFilter:
    node_id: str = ""
    states: Sequence[str] = ()
    tariff_code: str = ""
    label: str = ""
    group: str = ""
    query: str = ""


@dataclass(frozen=True)
class Puk:
    msisdn: str
    iccid: str
    puk1: str
    puk2: str


@dataclass(frozen=True)
class Location:
    msisdn: str
    cell_id: str
    latitude: float
    longitude: float
    accuracy_m: int
    observed_at: Timestamp


class Locator(Protocol):
    async def locate(self, msisdn: str) -> Location: ...


def _search_digits(value: str) -> str:
    digits = value.strip().lstrip("+")
    if not digits.isdigit() or len(digits) > 20:
        raise InvalidArgument(
            "search by a number or ICCID: digits, optionally after a '+'",
            reason="INVALID_QUERY",
            field_violations={"query": "digits only"},
        )
    return digits


def _check_states(states: Sequence[str]) -> None:
    for state in states:
        if state not in LINE_STATES:
            raise InvalidArgument(
                f"unknown line state {state!r}", reason="INVALID_STATE", field_violations={"states": state}
            )


LIKE_ESCAPE = "/"


def _like(text: str) -> str:
    """``text`` matched literally by LIKE ... ESCAPE '/' (as SQLAlchemy's ``autoescape`` writes it)."""
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


_ORDER_COLUMNS: dict[str, tuple[Any, ...]] = {
    "msisdn": (Line.msisdn,),
    "created_at": (Line.created_at, Line.id),
    "updated_at": (Line.updated_at, Line.id),
}
MAX_PAGE_SHAPES = 128
"""Page statements kept per service (a shape per combination of filters, roots and order); cleared when full."""


@dataclass(frozen=True)
class _PageShape:
    """What a page's statement depends on; every value it takes is bound."""

    roots: int
    within: bool
    states: bool
    tariff: bool
    group: bool
    label: bool
    query: bool
    order: str
    after: bool


def _page_statement(shape: _PageShape, order: Order, dialect: str) -> sa.Select[Any]:
    """The page query of :meth:`LineService.filtered` for ``shape``, with bound parameters (see ``find``)."""
    t = NODE_PATHS
    customer = sa.bindparam("customer_id", type_=sa.String())
    nodes = sa.select(t.c.node_id).where(t.c.customer_id == customer)
    nodes = nodes.where(
        sa.or_(*(t.c.path.like(sa.bindparam(f"root_{i}"), escape=LIKE_ESCAPE) for i in range(shape.roots)))
        if shape.roots
        else sa.false()
    )
    if shape.within:
        nodes = nodes.where(t.c.path.like(sa.bindparam("within"), escape=LIKE_ESCAPE))
    query = sa.select(*Line.__table__.c).where(Line.customer_id == customer, Line.node_id.in_(nodes))
    if shape.states:
        query = query.where(one_of(Line.__table__.c.state, "states", dialect))
    if shape.tariff:
        query = query.where(Line.tariff_code == sa.bindparam("tariff"))
    if shape.group:
        query = query.where(Line.group_name == sa.bindparam("group"))
    if shape.label:
        query = query.where(Line.id.in_(sa.select(LineLabel.line_id).where(LineLabel.label == sa.bindparam("label"))))
    if shape.query:
        query = query.where(
            sa.or_(
                Line.msisdn.like(sa.bindparam("msisdn_prefix"), escape=LIKE_ESCAPE),
                Line.iccid.like(sa.bindparam("iccid_prefix"), escape=LIKE_ESCAPE),
            )
        )
    return keyset_statement(query, _ORDER_COLUMNS[order.field], order=order, after=shape.after)


class LineService:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        paths: ProjectedNodePaths,
        vault: PukVault,
        locator: Locator,
        audit: AuditTrail,
    ) -> None:
        self._db = db
        self._clock = clock
        self._paths = paths
        self._vault = vault
        self._locator = locator
        self._audit = audit
        self._pages: dict[_PageShape, sa.Select[Any]] = {}

    async def node_path(self, access: Access, node_id: str) -> str | None:
        """The path of a node the caller sees, as stored ("/id/id/"); None otherwise."""
        async with self._db.sessions() as session:
            path = await session.scalar(
                sa.select(NODE_PATHS.c.path).where(
                    NODE_PATHS.c.customer_id == access.customer_id, NODE_PATHS.c.node_id == node_id
                )
            )
        if path is None or not access.sees(path_ids(path)):
            return None
        return str(path)

    async def find(
        self, access: Access, flt: LineFilter, *, page_size_: int, page_token: str, order_by: str
    ) -> tuple[list[LineView], str]:
        """A page of the caller's lines matching ``flt``, read on the driver (simfleet_runtime.direct_reads).

        The statement is built and compiled once per shape of request (which filters, how many grant roots,
        which order, a first page or a next one); what varies is bound. Through the engine, building the
        statement, its cache key and a pooled connection cost more than the page's rows.
        """
        size = page_size(page_size_)
        order = parse_order(order_by, allowed=ORDERS, default="msisdn")
        within = None
        if flt.node_id:
            within = await self.node_path(access, flt.node_id)
            if within is None:
                raise not_found("node")
        _check_states(flt.states)
        columns = _ORDER_COLUMNS[order.field]
        after = decode_token(page_token, order, list_name=LINES_LIST, size=len(columns))
        if after is not None:
            check_after(after, columns)
        roots = access.roots(READ)
        shape = _PageShape(
            roots=len(roots),
            within=within is not None,
            states=bool(flt.states),
            tariff=bool(flt.tariff_code),
            group=bool(flt.group),
            label=bool(flt.label),
            query=bool(flt.query),
            order=str(order),
            after=after is not None,
        )
        values: dict[str, Any] = {"customer_id": access.customer_id, "limit": size + 1}
        values.update({f"root_{i}": f"%{_like(f'/{root}/')}%" for i, root in enumerate(roots)})
        if within is not None:
            values["within"] = f"{_like(within)}%"
        if flt.states:
            values["states"] = list(flt.states)
        if flt.tariff_code:
            values["tariff"] = flt.tariff_code
        if flt.group:
            values["group"] = flt.group
        if flt.label:
            values["label"] = flt.label
        if flt.query:
            digits = _search_digits(flt.query)
            values["msisdn_prefix"] = f"{_like('+' + digits)}%"
            values["iccid_prefix"] = f"{_like(digits)}%"
        if after is not None:
            values.update({f"after_{i}": value for i, value in enumerate(after)})
        rows: list[Any] = await self._db.direct.all(self._page_statement(shape, order), values)

        def key(line: LineView) -> list[object]:
            return [line.msisdn] if order.field == "msisdn" else [getattr(line, order.field), line.id]

        return next_token(rows, order=order, limit=size, key=key, list_name=LINES_LIST)

    def _page_statement(self, shape: _PageShape, order: Order) -> sa.Select[Any]:
        found = self._pages.get(shape)
        if found is None:
            if len(self._pages) >= MAX_PAGE_SHAPES:
                self._pages.clear()
            found = self._pages[shape] = _page_statement(shape, order, self._db.engine.dialect.name)
        return found

    async def line(self, access: Access, msisdn: str, *, permission: str = READ) -> Line:
        async with self._db.sessions() as session:
            return await self._line(session, access, msisdn, permission=permission)

    async def _line(self, session: AsyncSession, access: Access, msisdn: str, *, permission: str) -> Line:
        number = normalize_msisdn(msisdn, field="msisdn")
        line = await session.scalar(
            sa.select(Line).where(Line.customer_id == access.customer_id, Line.msisdn == number)
        )
        path = None
        if line is not None:
            path = (await self._paths.paths(access.customer_id, [line.node_id], session=session)).get(line.node_id)
        access.check(permission, path, what="line")
        assert line is not None
        return line

    async def puk(self, access: Access, msisdn: str) -> Puk:
        """The line's PUK codes, recorded in the action history in the same transaction (fail-closed).

        The event (who, ``lines.puk.read``, which line; never the codes) goes to the outbox in the
        transaction that reads the SIM: if it cannot be written, the read fails and shows nothing.
        """
        async with self._db.transaction() as session:
            line = await self._line(session, access, msisdn, permission=READ_PUK)
            sim = await session.get(Sim, line.iccid)
            if sim is None:
                raise not_found("line")
            puk1, puk2 = self._vault.open(sim.iccid, sim.puk)
            await self._recorded(session, access, PUK_READ, line)
        return Puk(line.msisdn, sim.iccid, puk1, puk2)

    async def location(self, access: Access, msisdn: str) -> Location:
        """Where the line's handset is, as the network sees it; recorded in the action history (fail-closed).

        An employee's whereabouts are personal data (SIM-10): the read needs its own permission, and the
        answer is only given once the event (who, ``lines.location.read``, which line) is in the outbox.
        """
        line = await self.line(access, msisdn, permission=LOCATE)
        where = await self._locator.locate(line.msisdn)
        async with self._db.transaction() as session:
            await self._recorded(session, access, LOCATION_READ, line)
        return where

    async def _recorded(self, session: AsyncSession, access: Access, action: str, line: Line) -> None:
        """The read's event in its own transaction: raises (and so fails the read) when it cannot be written."""
        await self._audit.add(
            session, action, [obj("line", line.msisdn, line.node_id)], actor=Actor(access.user_id, access.customer_id)
        )

    async def free_numbers(self, access: Access, *, contains: str, page_size_: int) -> list[str]:
        # The operator's pool hides nothing; it is just not theirs to use: 403, like any missing permission.
        access.require("lines:change-number", "lines:order-sims")
        size = page_size(page_size_, default=20, maximum=100)
        async with self._db.sessions() as session:
            return await stock.free_numbers(session, contains=contains, limit=size, now=self._clock.now())

    async def reserve_sims(self, access: Access, *, page_size_: int, page_token: str) -> tuple[list[Sim], str]:
        """The customer's reserve SIMs (for replacements and orders): for those who may replace SIMs or order them.

        The reserve is the customer's, under no node; its ICCIDs and IMSIs are not for everyone who may read a
        line somewhere (a department's viewer): without either permission anywhere the answer is 403.
        """
        size = page_size(page_size_)
        order = parse_order("iccid", allowed=("iccid",), default="iccid")
        access.require("lines:replace-sim", "lines:order-sims")
        after = decode_token(page_token, order, list_name=RESERVE_LIST, size=1)
        query = keyset(
            sa.select(Sim).where(Sim.customer_id == access.customer_id, Sim.state == IN_STOCK),
            [Sim.iccid],
            order=order,
            after=after,
            limit=size,
        )
        async with self._db.sessions() as session:
            rows = list((await session.scalars(query)).all())
        return next_token(rows, order=order, limit=size, key=lambda s: [s.iccid], list_name=RESERVE_LIST)
