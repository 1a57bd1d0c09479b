"""The NATS streams netsim owns and the subjects it speaks on (docs/architecture.md)."""

from __future__ import annotations

from simfleet_runtime.bus import StreamSpec

SUBMIT_SMS_SUBJECT = "simfleet.netsim.cmd.sms.submit"
SMS_DELIVERED_SUBJECT = "simfleet.netsim.sms.delivered"
HLR_PROVISION_SUBJECT = "simfleet.netsim.cmd.hlr.provision"
HLR_RESULT_SUBJECT = "simfleet.netsim.hlr.result"

COMMAND_STREAM = "NETSIM_CMD"
EVENT_STREAM = "NETSIM"


def netsim_streams() -> list[StreamSpec]:
    return [
        StreamSpec(
            name=COMMAND_STREAM,
            subjects=["simfleet.netsim.cmd.>"],
            work_queue=True,
            description="Commands to the simulated network (work queue: each is taken once).",
        ),
        StreamSpec(
            name=EVENT_STREAM,
            subjects=["simfleet.netsim.sms.>", "simfleet.netsim.hlr.>"],
            description="What the simulated network reports: SMS delivery receipts, HLR provisioning results.",
        ),
    ]
