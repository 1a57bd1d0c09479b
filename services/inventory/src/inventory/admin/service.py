"""The back-office: the operator's stock, and a customer's lines brought over from another system.

Imported lines are registered in the HLR in their state by provisioning
commands written with them (correlation ``import:<command_id>``, see
:mod:`inventory.admin.registration`), so the network knows every line
inventory holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from inventory import figures
from inventory.admin.registration import add_to_outbox, register_commands
from inventory.audit_commands import LINES_IMPORT, STOCK_IMPORT
from inventory.convert import line_event
from inventory.db import NODE_PATHS
from inventory.line_groups.service import groups_for_import
from inventory.lines.models import ACTIVE, BLOCK_TYPES, BLOCKED, READY, Line, LineLabel
from inventory.stock import service as stock
from inventory.stock.models import ASSIGNED, INSTALLED, Number, Sim
from inventory.stock.puk import PukVault
from simfleet.events.v1 import inventory_pb2 as ev
from simfleet_runtime.audit import AuditTrail
from simfleet_runtime.bus import Outbox
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database
from simfleet_runtime.errors import InvalidArgument
from simfleet_runtime.ids import is_id, new_id
from simfleet_runtime.nodepaths import path_ids
from simfleet_runtime.validation import group_problem, label_problem, normalize_msisdn
from simfleet_subjects import InventorySubjects

MAX_LINES = 10_000
EVENT_CHUNK = 1000


@dataclass(frozen=True)
class ImportedLine:
    msisdn: str
    sim: stock.StockSim
    node_id: str
    personal_account_id: str
    tariff_code: str
    state: str
    block_type: str = ""
    services: Sequence[str] = ()
    labels: Sequence[str] = ()
    group: str = ""


@dataclass
class Checked:
    msisdn: str
    sim: stock.StockSim
    line: ImportedLine
    extra: dict[str, str] = field(default_factory=dict)


async def _import_groups(
    session: AsyncSession, customer_id: str, fresh: Sequence[Checked], now: datetime
) -> dict[str, str]:
    """The groups imported lines name, by name: the company's (its root node's), made when missing."""
    named = [c for c in fresh if c.line.group]
    if not named:
        return {}
    first = named[0].line.node_id
    path = await session.scalar(
        sa.select(NODE_PATHS.c.path).where(NODE_PATHS.c.customer_id == customer_id, NODE_PATHS.c.node_id == first)
    )
    root = path_ids(path)[0] if path else first
    return await groups_for_import(session, customer_id, root, (c.line.group for c in named), now)


def _bad(name: str, message: str) -> InvalidArgument:
    return InvalidArgument(message, reason="INVALID_IMPORT", field_violations={name: message})


class BackOffice:
    def __init__(
        self, *, db: Database, clock: Clock, outbox: Outbox, vault: PukVault, audit: AuditTrail | None = None
    ) -> None:
        self._audit = audit
        self._db = db
        self._clock = clock
        self._outbox = outbox
        self._vault = vault

    async def import_stock(
        self, *, customer_id: str, sims: Sequence[stock.StockSim], msisdns: Sequence[str]
    ) -> tuple[int, int]:
        if customer_id and not is_id(customer_id):
            raise _bad("customer_id", "not a customer id")
        async with self._db.transaction() as session:
            added = await stock.add_stock(
                session,
                vault=self._vault,
                customer_id=customer_id or None,
                sims=sims,
                msisdns=msisdns,
                now=self._clock.now(),
            )
            await self._recorded(session, STOCK_IMPORT, customer_id)
            return added

    async def _recorded(self, session: AsyncSession, action: str, customer_id: str) -> None:
        """The command's audit event (the operator's, under the customer it concerns) in its transaction."""
        if self._audit is not None:
            await self._audit.add_for_caller(session, action, [], customer=customer_id)

    def _check(self, i: int, value: ImportedLine) -> Checked:
        where = f"lines[{i}]"
        msisdn = normalize_msisdn(value.msisdn, field=f"{where}.msisdn")
        sim = stock.validate_sim(value.sim, field=f"{where}.sim")
        if value.state not in (READY, ACTIVE, BLOCKED):
            raise _bad(f"{where}.state", "an imported line is ready, active or blocked")
        if value.state == BLOCKED and value.block_type not in BLOCK_TYPES:
            raise _bad(f"{where}.block_type", f"a blocked line needs block_type: one of {', '.join(BLOCK_TYPES)}")
        for name, node in (("node_id", value.node_id), ("personal_account_id", value.personal_account_id)):
            if not is_id(node):
                raise _bad(f"{where}.{name}", "not a node id")
        if not value.tariff_code.strip() or len(value.tariff_code) > 64:
            raise _bad(f"{where}.tariff_code", "required, up to 64 characters")
        for j, label in enumerate(value.labels):
            if problem := label_problem(label):
                raise _bad(f"{where}.labels[{j}]", problem)
        if value.group and (problem := group_problem(value.group)):
            raise _bad(f"{where}.group", problem)
        return Checked(msisdn, sim, value)

    async def import_lines(self, *, customer_id: str, lines: Sequence[ImportedLine]) -> int:
        if not is_id(customer_id):
            raise _bad("customer_id", "not a customer id")
        if len(lines) > MAX_LINES:
            raise _bad("lines", f"at most {MAX_LINES} lines per call")
        checked = [self._check(i, line) for i, line in enumerate(lines)]
        now = self._clock.now()
        async with self._db.transaction() as session:
            numbers = [c.msisdn for c in checked]
            known = set((await session.scalars(sa.select(Line.msisdn).where(Line.msisdn.in_(numbers)))).all())
            fresh = [c for c in checked if c.msisdn not in known]
            if not fresh:
                return 0
            taken_sims = set(
                (await session.scalars(sa.select(Sim.iccid).where(Sim.iccid.in_([c.sim.iccid for c in fresh])))).all()
            )
            taken_numbers = set(
                (
                    await session.scalars(sa.select(Number.msisdn).where(Number.msisdn.in_([c.msisdn for c in fresh])))
                ).all()
            )
            for c in fresh:
                if c.sim.iccid in taken_sims:
                    raise InvalidArgument(
                        f"the SIM {c.sim.iccid} is already in inventory",
                        reason="SIM_TAKEN",
                        field_violations={"lines": c.msisdn},
                    )
                if c.msisdn in taken_numbers:
                    raise InvalidArgument(
                        f"the number {c.msisdn} is already in the pool",
                        reason="NUMBER_TAKEN",
                        field_violations={"lines": c.msisdn},
                    )
            await session.execute(
                sa.insert(Sim),
                [
                    {
                        "iccid": c.sim.iccid,
                        "imsi": c.sim.imsi,
                        "puk": self._vault.seal(c.sim.iccid, c.sim.puk1, c.sim.puk2),
                        "state": INSTALLED,
                        "customer_id": customer_id,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for c in fresh
                ],
            )
            await session.execute(
                sa.insert(Number),
                [
                    {
                        "msisdn": c.msisdn,
                        "state": ASSIGNED,
                        "customer_id": customer_id,
                        "quarantined_until": None,
                        "updated_at": now,
                    }
                    for c in fresh
                ],
            )
            group_ids = await _import_groups(session, customer_id, fresh, now)
            rows: list[dict[str, Any]] = []
            labels: list[dict[str, str]] = []
            for c in fresh:
                line_id = new_id()
                v = c.line
                rows.append(
                    {
                        "id": line_id,
                        "customer_id": customer_id,
                        "msisdn": c.msisdn,
                        "iccid": c.sim.iccid,
                        "imsi": c.sim.imsi,
                        "node_id": v.node_id,
                        "personal_account_id": v.personal_account_id,
                        "tariff_code": v.tariff_code.strip(),
                        "state": v.state,
                        "blocks": [{"type": v.block_type, "since": now.isoformat()}] if v.state == BLOCKED else [],
                        "services": list(dict.fromkeys(v.services)),
                        "apns": [],
                        "forwarding": {},
                        "labels": list(dict.fromkeys(v.labels)),
                        "group_name": v.group or None,
                        "group_id": group_ids.get(v.group),
                        "pending_operation_id": None,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                labels.extend({"line_id": line_id, "label": label} for label in dict.fromkeys(v.labels))
            await session.execute(sa.insert(Line), rows)
            await figures.mark(session, customer_id, [row["node_id"] for row in rows])
            if labels:
                await session.execute(sa.insert(LineLabel), labels)
            await add_to_outbox(
                session, self._outbox, customer_id=customer_id, commands=register_commands(rows, now=now)
            )
            for start in range(0, len(rows), EVENT_CHUNK):
                message = ev.LinesChanged(
                    lines=[
                        line_event(Line(**row), cause="imported", operation_id="", now=now)
                        for row in rows[start : start + EVENT_CHUNK]
                    ]
                )
                await self._outbox.add(session, InventorySubjects.LINES_CHANGED, message, tenant=customer_id)
            await self._recorded(session, LINES_IMPORT, customer_id)
        return len(rows)
