"""``python -m inventory.admin.scale``: many lines for scale work, written straight into inventory's database.

For a customer the size of a large one (a million lines) on one machine: the
lines, their SIM cards (PUK codes sealed as usual) and numbers are inserted in
chunks, with their node counts marked for accounts and, in each chunk's
transaction, the REGISTER commands that put them in netsim's HLR, built as
ImportLines builds them (:mod:`inventory.admin.registration`). The running
inventory's outbox relay publishes those commands (rows any process wrote into
its database) and netsim's HLR applies them, so operations on seeded lines work
as on any other line. ``--no-register`` leaves the HLR out, for read-only scale
work (operations on such lines then fail there as UNKNOWN_SUBSCRIBER).
No ``lines.changed`` events are written.

Numbers are the prefix and a counter, 12 characters in all (``+7995`` gives
``+79950000000`` on); lines go round-robin under the ``--node-id`` given.
Seeding again skips the numbers inventory holds already (nor registers them
again). The customer and its nodes must exist: ``python -m simfleet_devstack
seed-scale`` onboards one and runs this for it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from inventory import figures
from inventory.admin.registration import add_to_outbox, register_commands
from inventory.lines.models import ACTIVE, BLOCKED, READY, Line
from inventory.models import BUS
from inventory.settings import InventorySettings
from inventory.stock.models import ASSIGNED, INSTALLED, Number, Sim
from inventory.stock.puk import PukVault
from simfleet_runtime.bus import Outbox
from simfleet_runtime.clock import make_clock
from simfleet_runtime.db import Database
from simfleet_runtime.errors import InvalidArgument
from simfleet_runtime.ids import new_id
from simfleet_runtime.validation import luhn_check_digit, normalize_msisdn

CHUNK = 5000
NUMBER_LENGTH = 12
"""``+7`` and ten digits."""
TARIFFS = ("BIZ-S", "BIZ-M", "BIZ-L", "IOT-S")


@dataclass(frozen=True)
class Seeded:
    """What one run did."""

    added: int
    """Lines inserted now."""
    existing: int
    """Numbers of the range inventory held already (skipped)."""
    registered: int
    """Lines whose REGISTER commands were written now (0 with ``register=False``)."""
    commands: int
    """REGISTER commands written now."""
    seconds: float = 0.0


def _state(n: int) -> tuple[str, list[dict[str, str]]]:
    slot = n % 20
    if slot < 16:
        return ACTIVE, []
    if slot < 18:
        return BLOCKED, [{"type": "voluntary", "since": "2026-01-01T00:00:00+00:00"}]
    return READY, []


def numbering(msisdn_prefix: str, count: int) -> Callable[[int], str]:
    """The ``n``-th number of the range (``count`` of them); InvalidArgument when they would not be numbers."""
    width = NUMBER_LENGTH - len(msisdn_prefix)
    if width < 1 or 10**width < count:
        raise InvalidArgument(
            f"{count:,} numbers do not fit after the prefix {msisdn_prefix!r} ({NUMBER_LENGTH} characters in all)"
        )

    def number(n: int) -> str:
        return f"{msisdn_prefix}{n:0{width}d}"

    if count:
        for n in (0, count - 1):
            normalize_msisdn(number(n), field="msisdn_prefix")
    return number


async def seed_lines(
    settings: InventorySettings,
    *,
    customer_id: str,
    node_ids: Sequence[str],
    personal_account_id: str = "",
    count: int,
    msisdn_prefix: str,
    serial_base: int,
    register: bool = True,
    progress: Callable[[int, Seeded], None] | None = None,
) -> Seeded:
    """Insert ``count`` lines numbered ``msisdn_prefix`` + a counter under ``node_ids`` (round-robin), billed to
    ``personal_account_id`` (default: each line's node), and with ``register`` their HLR registration.

    ``progress`` is called after each chunk with how many numbers of the range were done and the totals so far.
    """
    if not node_ids:
        raise InvalidArgument("at least one node")
    number = numbering(msisdn_prefix, count)
    db = Database(settings.database_url)
    clock = make_clock(settings.clock_file)
    outbox = Outbox(BUS, clock)
    vault = PukVault(settings.puk_key.get_secret_value())
    started = time.monotonic()
    added = existing = commands_written = 0
    try:
        for start in range(0, count, CHUNK):
            numbers = [number(n) for n in range(start, min(start + CHUNK, count))]
            async with db.sessions() as session:
                known = set((await session.scalars(sa.select(Number.msisdn).where(Number.msisdn.in_(numbers)))).all())
            existing += len(known)
            # Built before the transaction: SQLite has one writer, and the running inventory is another.
            now = clock.now()
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
                node_id = node_ids[i % len(node_ids)]
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
                        "personal_account_id": personal_account_id or node_id,
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
            commands = register_commands(lines, now=now) if register else []
            if lines:
                async with db.transaction() as session:
                    await session.execute(sa.insert(Sim), sims)
                    await session.execute(sa.insert(Number), pool)
                    await session.execute(sa.insert(Line), lines)
                    await figures.mark(session, customer_id, {line["node_id"] for line in lines})
                    await add_to_outbox(session, outbox, customer_id=customer_id, commands=commands)
            added += len(lines)
            commands_written += len(commands)
            if progress is not None:
                done = Seeded(added, existing, added if register else 0, commands_written, time.monotonic() - started)
                progress(start + len(numbers), done)
    finally:
        await db.dispose()
    return Seeded(added, existing, added if register else 0, commands_written, time.monotonic() - started)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m inventory.admin.scale",
        description=__doc__.split("\n\n")[0],
        epilog="Runs with inventory's settings from the environment (INVENTORY_DATABASE_URL, INVENTORY_PUK_KEY...).",
    )
    parser.add_argument("--customer-id", required=True)
    parser.add_argument(
        "--node-id", action="append", required=True, help="where the lines hang; given more than once, round-robin"
    )
    parser.add_argument("--personal-account-id", default="", help="the account billed; default: each line's node")
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument(
        "--msisdn-prefix",
        default="+7995",
        help=f"numbers are this prefix and a counter, {NUMBER_LENGTH} characters in all (default +7995)",
    )
    parser.add_argument("--serial-base", type=int, default=10_000_000, help="where the SIM serial numbers start")
    parser.add_argument(
        "--no-register",
        dest="register",
        action="store_false",
        help="do not register the lines in netsim's HLR (read-only scale work: operations on them fail there)",
    )
    parser.add_argument("--json", action="store_true", help="end with what was done as one JSON object on stdout")
    args = parser.parse_args(argv)
    if args.count < 0:
        parser.error("--count must not be negative")
    step = max(CHUNK, args.count // 10 // CHUNK * CHUNK)

    def report(done: int, seeded: Seeded) -> None:
        if done % step == 0 or done == args.count:
            print(
                f"seed-lines: {done:,} of {args.count:,} numbers, {seeded.added:,} lines added, "
                f"{seeded.commands:,} REGISTER commands, {seeded.seconds:.1f}s",
                file=sys.stderr,
                flush=True,
            )

    try:
        seeded = asyncio.run(
            seed_lines(
                InventorySettings(),
                customer_id=args.customer_id,
                node_ids=args.node_id,
                personal_account_id=args.personal_account_id,
                count=args.count,
                msisdn_prefix=args.msisdn_prefix,
                serial_base=args.serial_base,
                register=args.register,
                progress=report,
            )
        )
    except InvalidArgument as exc:
        parser.error("; ".join([exc.message, *(f"{name}: {why}" for name, why in exc.field_violations.items())]))
    if args.json:
        print(json.dumps(asdict(seeded)), flush=True)
    else:
        registered = (
            f"{seeded.registered:,} queued for the HLR in {seeded.commands:,} REGISTER commands"
            if args.register
            else "not registered in the HLR (--no-register)"
        )
        print(
            f"{seeded.added:,} lines added ({seeded.existing:,} numbers already there), {registered}, "
            f"in {seeded.seconds:.1f}s",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
