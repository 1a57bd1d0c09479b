"""What a request for an operation holds, how it is fingerprinted, and how a bad one is refused.

The gRPC API builds these from its messages and the service accepts them;
the fingerprint is what an idempotency key is checked against when it is
used again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from simfleet_runtime.errors import InvalidArgument
from simfleet_runtime.idempotency import fingerprint


@dataclass(frozen=True)
class Target:
    """One line of an operation, by number, with its own parameters (the ICCID of a SIM replacement...)."""

    msisdn: str
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Selection:
    """The lines of an operation chosen by criteria: resolved when it starts, within its requester's scope."""

    node_id: str
    states: Sequence[str] = ()
    tariff_code: str = ""
    label: str = ""
    group: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "states": list(self.states),
            "tariff_code": self.tariff_code,
            "label": self.label,
            "group": self.group,
        }


@dataclass(frozen=True)
class NewOperation:
    """What a CreateOperation asks for: lines by number (``targets``, ``numbers``) or by a ``selection``, never both.

    ``numbers`` are lines without params of their own, after ``targets`` in order: the way a bulk operation's
    200,000 numbers arrive, without an object each.
    """

    type: str
    targets: Sequence[Target] = ()
    selection: Selection | None = None
    params: dict[str, str] = field(default_factory=dict)
    scheduled_at: datetime | None = None
    idempotency_key: str = ""
    numbers: Sequence[str] = ()

    @property
    def by_number(self) -> bool:
        """The lines are named by number (targets or numbers), not by a selection."""
        return bool(self.targets) or bool(self.numbers)


def fingerprint_of(new: NewOperation) -> str:
    """What a CreateOperation asked for, its lines hashed one by one (there may be 200,000)."""
    content = {
        "type": new.type,
        "selection": new.selection.as_json() if new.selection else None,
        "params": new.params,
        "scheduled_at": new.scheduled_at,
    }
    rows = [
        t.msisdn + "".join(f"\x1f{k}={v}" for k, v in sorted(t.params.items())) if t.params else t.msisdn
        for t in new.targets
    ]
    # A number without params is the same request whichever field carried it.
    return fingerprint("CreateOperation", content, [*rows, *new.numbers] if new.numbers else rows)


def invalid(name: str, message: str, reason: str = "INVALID_OPERATION") -> InvalidArgument:
    """A request refused for one of its fields (``name``), with why."""
    return InvalidArgument(message, reason=reason, field_violations={name: message})


def not_a_personal_account(name: str, kind: str) -> InvalidArgument:
    """A node named where a personal account is wanted is a node of another kind."""
    return invalid(
        name,
        f"lines are billed to a personal account, and this node is a {kind.replace('_', ' ')}",
        reason="NOT_A_PERSONAL_ACCOUNT",
    )
