"""accounts' stream: its subjects are the contract's (:class:`simfleet_subjects.AccountsSubjects`)."""

from __future__ import annotations

from simfleet_runtime.bus import StreamSpec
from simfleet_subjects import AccountsSubjects


def streams(replicas: int = 1) -> list[StreamSpec]:
    return [
        StreamSpec(
            name=AccountsSubjects.STREAM,
            subjects=list(AccountsSubjects.STREAM_SUBJECTS),
            replicas=replicas,
            description="accounts' facts: customers onboarded, the hierarchy's nodes created, renamed, moved, deleted",
        )
    ]
