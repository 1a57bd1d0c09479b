"""The NATS streams netsim owns.

Their names and subjects are the contract's (:class:`simfleet_subjects.NetsimSubjects`).
"""

from __future__ import annotations

from simfleet_runtime.bus import StreamSpec
from simfleet_subjects import NetsimSubjects

USAGE_MAX_AGE_SECONDS = 7 * 24 * 3600
USAGE_DUPLICATE_WINDOW_SECONDS = 120


def streams(*, usage_max_bytes: int = 1024**3) -> list[StreamSpec]:
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
        StreamSpec(
            name=NetsimSubjects.USAGE_STREAM,
            subjects=list(NetsimSubjects.USAGE_SUBJECTS),
            max_age_seconds=USAGE_MAX_AGE_SECONDS,
            max_bytes=usage_max_bytes,
            duplicate_window_seconds=USAGE_DUPLICATE_WINDOW_SECONDS,
            description=(
                "The network's usage records (UsageRecords batches), kept 7 days or up to a size, whichever is first;"
                " a batch published again with its Nats-Msg-Id within 2 minutes is dropped."
            ),
        ),
    ]
