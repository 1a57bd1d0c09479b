"""``python -m inventory seed-lines``: many lines for scale work, written straight into inventory's database.

For measuring reads at the size of a large customer (a million lines) on one
machine: the lines, their SIM cards (PUK codes sealed as usual) and numbers
are inserted in chunks, with their node counts marked for accounts, but not
registered in the HLR (operations on them fail there as UNKNOWN_SUBSCRIBER)
and without ``lines.changed`` events. Nothing in the platform's own
paths uses this; the back-office imports through ImportLines.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import sqlalchemy as sa

from inventory import figures
from inventory.lines.models import ACTIVE, BLOCKED, READY, Line
from inventory.settings import InventorySettings
from inventory.stock.models import ASSIGNED, INSTALLED, Number, Sim
from inventory.stock.puk import PukVault
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database
from simfleet_runtime.ids import new_id
from simfleet_runtime.validation import luhn_check_digit

CHUNK = 5000
TARIFFS = ("BIZ-S", "BIZ-M", "BIZ-L", "IOT-S")


def _state(n: int) -> tuple[str, list[dict[str, str]]]:
    slot = n % 20
    if slot < 16:
        return ACTIVE, []
    if slot < 18:
        return BLOCKED, [{"type": "voluntary", "since": "2026-01-01T00:00:00+00:00"}]
    return READY, []


async def seed_lines(
    settings: InventorySettings,
    *,
    customer_id: str,
    node_id: str,
    personal_account_id: str,
    count: int,
    msisdn_prefix: str,
    serial_base: int,
) -> int:
    """Insert ``count`` lines numbered ``msisdn_prefix`` + a counter; returns how many were new."""
    db = Database(settings.database_url)
    vault = PukVault(settings.puk_key.get_secret_value())
    now = Clock().now()
    width = 16 - len(msisdn_prefix)
    added = 0
    try:
        for start in range(0, count, CHUNK):
            numbers = [f"{msisdn_prefix}{n:0{width}d}" for n in range(start, min(start + CHUNK, count))]
            async with db.transaction() as session:
                known = set((await session.scalars(sa.select(Number.msisdn).where(Number.msisdn.in_(numbers)))).all())
                sims: list[dict[str, Any]] = []
                pool: list[dict[str, Any]] = []
                lines: list[dict[str, Any]] = []
                for i, msisdn in enumerate(numbers, start=start):
                    if msisdn in known:
                        continue
                    body = f"8970109{serial_base + i:011d}"
                    iccid = body + luhn_check_digit(body)
                    imsi = f"25009{serial_base + i:010d}"
                    state, blocks = _state(i)
                    sims.append(
                        {
                            "iccid": iccid,
                            "imsi": imsi,
                            "puk": vault.seal(iccid, f"{i % 10**8:08d}", f"{(i * 7) % 10**8:08d}"),
                            "state": INSTALLED,
                            "customer_id": customer_id,
                            "created_at": now,
                            "updated_at": now,
                        }
                    )
                    pool.append(
                        {
                            "msisdn": msisdn,
                            "state": ASSIGNED,
                            "customer_id": customer_id,
                            "quarantined_until": None,
                            "updated_at": now,
                        }
                    )
                    lines.append(
                        {
                            "id": new_id(),
                            "customer_id": customer_id,
                            "msisdn": msisdn,
                            "iccid": iccid,
                            "imsi": imsi,
                            "node_id": node_id,
                            "personal_account_id": personal_account_id,
                            "tariff_code": TARIFFS[i % len(TARIFFS)],
                            "state": state,
                            "blocks": blocks,
                            "services": ["voice", "sms", "data"],
                            "apns": [],
                            "forwarding": {},
                            "labels": [],
                            "group_name": None,
                            "pending_operation_id": None,
                            "created_at": now,
                            "updated_at": now,
                        }
                    )
                if lines:
                    await session.execute(sa.insert(Sim), sims)
                    await session.execute(sa.insert(Number), pool)
                    await session.execute(sa.insert(Line), lines)
                    await figures.mark(session, customer_id, [node_id])
                added += len(lines)
    finally:
        await db.dispose()
    return added


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m inventory seed-lines", description=__doc__.splitlines()[0])
    parser.add_argument("--customer-id", required=True)
    parser.add_argument("--node-id", required=True)
    parser.add_argument("--personal-account-id", default="", help="default: the node")
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument(
        "--msisdn-prefix", default="+7995", help="numbers are this prefix and a counter (16 characters)"
    )
    parser.add_argument("--serial-base", type=int, default=10_000_000, help="where the SIM serial numbers start")
    args = parser.parse_args(argv)
    started = time.monotonic()
    added = asyncio.run(
        seed_lines(
            InventorySettings(),
            customer_id=args.customer_id,
            node_id=args.node_id,
            personal_account_id=args.personal_account_id or args.node_id,
            count=args.count,
            msisdn_prefix=args.msisdn_prefix,
            serial_base=args.serial_base,
        )
    )
    print(f"{added} lines added in {time.monotonic() - started:.1f}s", flush=True)
