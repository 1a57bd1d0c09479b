"""notifications' stream: its subjects are the contract's (:class:`simfleet_subjects.NotificationsSubjects`)."""

from __future__ import annotations

from simfleet_runtime.bus import StreamSpec
from simfleet_subjects import NotificationsSubjects


def streams(replicas: int = 1) -> list[StreamSpec]:
    return [
        StreamSpec(
            name=NotificationsSubjects.STREAM,
            subjects=list(NotificationsSubjects.STREAM_SUBJECTS),
            replicas=replicas,
            description="notifications' facts: notices handed to the SMSC or the mail relay",
        )
    ]
