"""ticketing's stream: its subjects are the contract's (:class:`simfleet_subjects.TicketingSubjects`)."""

from __future__ import annotations

from simfleet_runtime.bus import StreamSpec
from simfleet_subjects import TicketingSubjects


def streams(replicas: int = 1) -> list[StreamSpec]:
    return [
        StreamSpec(
            name=TicketingSubjects.STREAM,
            subjects=list(TicketingSubjects.STREAM_SUBJECTS),
            replicas=replicas,
            description="ticketing's facts: tickets filed, moved between states and written in; its action history",
        )
    ]
