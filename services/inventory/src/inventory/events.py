"""inventory's stream and subjects, and the subjects it consumes."""

from __future__ import annotations

from simfleet_runtime.bus import StreamSpec

STREAM = "INVENTORY"
OPERATION_ACCEPTED = "simfleet.inventory.operation.accepted"
OPERATION_STARTED = "simfleet.inventory.operation.started"
OPERATION_FINISHED = "simfleet.inventory.operation.finished"
LINES_CHANGED = "simfleet.inventory.lines.changed"
NODE_FIGURES = "simfleet.inventory.node.figures"

# The network's side (netsim's streams).
PROVISION_COMMAND = "simfleet.netsim.cmd.hlr.provision"
PROVISIONING_RESULT = "simfleet.netsim.hlr.result"
SUBMIT_SMS = "simfleet.netsim.cmd.sms.submit"
# inventory's SMS name it as their origin: the SMSC sends their receipts (and only theirs) here.
SMS_ORIGIN = "inventory"
SMS_DELIVERED = f"simfleet.netsim.sms.delivered.{SMS_ORIGIN}"
NETWORK_STREAM = "NETSIM"


def streams(replicas: int = 1) -> list[StreamSpec]:
    return [
        StreamSpec(
            name=STREAM,
            subjects=["simfleet.inventory.>"],
            replicas=replicas,
            description="inventory's facts: operations accepted, started and finished, lines changed, node figures",
        )
    ]
