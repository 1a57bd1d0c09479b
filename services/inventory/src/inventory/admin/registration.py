"""Lines brought into inventory from outside an operation are registered in netsim's HLR in their state.

Both ways lines arrive that way, the back-office's ImportLines and the scale
seed (``python -m inventory.admin.scale``), write the same REGISTER commands
into the outbox in the transaction that inserts the lines: one
``ProvisionCommand`` per :data:`REGISTER_BATCH` lines, correlation
``import:<command_id>`` (no operation waits for their results), each item
``import:<line id>`` with the line's state, its services (comma-separated, ""
for none) and, for a blocked line, its block type. The outbox relay of the
running inventory publishes them, and netsim's HLR consumer applies them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from simfleet.netsim.v1 import hlr_pb2
from simfleet_runtime.bus import Outbox
from simfleet_runtime.ids import new_id
from simfleet_runtime.timestamps import timestamp
from simfleet_subjects import NetsimSubjects

REGISTER_BATCH = 500
CORRELATION_PREFIX = "import:"


def register_commands(rows: Sequence[Mapping[str, Any]], *, now: datetime) -> list[hlr_pb2.ProvisionCommand]:
    """REGISTER commands for new lines, given as the rows inserted into ``lines`` (id, msisdn, iccid, imsi,
    state, blocks, services), at most :data:`REGISTER_BATCH` items each, in the rows' order."""
    submitted_at = timestamp(now)
    commands = []
    for start in range(0, len(rows), REGISTER_BATCH):
        command_id = new_id()
        commands.append(
            hlr_pb2.ProvisionCommand(
                command_id=command_id,
                correlation_id=f"{CORRELATION_PREFIX}{command_id}",
                items=[
                    hlr_pb2.ProvisioningItem(
                        item_id=f"{CORRELATION_PREFIX}{row['id']}",
                        action=hlr_pb2.PROVISIONING_ACTION_REGISTER,
                        imsi=row["imsi"],
                        msisdn=row["msisdn"],
                        iccid=row["iccid"],
                        params={
                            "state": row["state"],
                            "services": ",".join(row["services"]),
                            **({"block_type": row["blocks"][0]["type"]} if row["blocks"] else {}),
                        },
                    )
                    for row in rows[start : start + REGISTER_BATCH]
                ],
                submitted_at=submitted_at,
            )
        )
    return commands


async def add_to_outbox(
    session: AsyncSession, outbox: Outbox, *, customer_id: str, commands: Sequence[hlr_pb2.ProvisionCommand]
) -> None:
    """Write ``commands`` (from :func:`register_commands`) into the outbox, in ``session``'s transaction."""
    for command in commands:
        await outbox.add(session, NetsimSubjects.PROVISION, command, tenant=customer_id, event_id=command.command_id)
