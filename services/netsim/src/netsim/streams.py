"""The NATS streams netsim owns.

Their names and subjects are the contract's (:class:`simfleet_subjects.NetsimSubjects`).
"""

from __future__ import annotations

from simfleet_runtime.bus import StreamSpec
from simfleet_subjects import NetsimSubjects


def streams() -> list[StreamSpec]:
    return [
        StreamSpec(
            name=NetsimSubjects.COMMAND_STREAM,
            subjects=list(NetsimSubjects.COMMAND_SUBJECTS),
            work_queue=True,
            description="Commands to the simulated network (work queue: each is taken once).",
        ),
        StreamSpec(
            name=NetsimSubjects.EVENT_STREAM,
            subjects=list(NetsimSubjects.EVENT_SUBJECTS),
            description="What the simulated network reports: SMS delivery receipts, HLR provisioning results.",
        ),
    ]
