"""billing's stream: its subjects are the contract's (:class:`simfleet_subjects.BillingSubjects`)."""

from __future__ import annotations

from simfleet_runtime.bus import StreamSpec
from simfleet_subjects import BillingSubjects


def streams(replicas: int = 1) -> list[StreamSpec]:
    return [
        StreamSpec(
            name=BillingSubjects.STREAM,
            subjects=list(BillingSubjects.STREAM_SUBJECTS),
            replicas=replicas,
            description="billing's facts: personal accounts exhausted and replenished (financial blocks)",
        )
    ]
