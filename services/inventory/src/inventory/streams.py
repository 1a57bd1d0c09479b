"""inventory's stream, and where the network sends it its SMS receipts.

The subjects are the contract's (:class:`simfleet_subjects.InventorySubjects`, and
:class:`simfleet_subjects.NetsimSubjects` for the network's side).
"""

from __future__ import annotations

from simfleet_runtime.bus import StreamSpec
from simfleet_subjects import InventorySubjects, NetsimSubjects

SMS_ORIGIN = "inventory"
"""inventory's SMS name it as their origin: the SMSC sends their receipts (and only theirs) to ``SMS_DELIVERED``."""
SMS_DELIVERED = NetsimSubjects.sms_delivered_to(SMS_ORIGIN)


def streams(replicas: int = 1) -> list[StreamSpec]:
    return [
        StreamSpec(
            name=InventorySubjects.STREAM,
            subjects=list(InventorySubjects.STREAM_SUBJECTS),
            replicas=replicas,
            description="inventory's facts: operations accepted, started and finished, lines changed, node figures",
        )
    ]
