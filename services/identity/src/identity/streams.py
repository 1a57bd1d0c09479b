"""identity's stream: its subjects are the contract's (:class:`simfleet_subjects.IdentitySubjects`)."""

from __future__ import annotations

from simfleet_runtime.bus import StreamSpec
from simfleet_subjects import IdentitySubjects


def streams(replicas: int = 1) -> list[StreamSpec]:
    return [
        StreamSpec(
            name=IdentitySubjects.STREAM,
            subjects=list(IdentitySubjects.STREAM_SUBJECTS),
            replicas=replicas,
            description="identity's facts: users, sign-ins, passwords, sessions; its mail work items",
        )
    ]
