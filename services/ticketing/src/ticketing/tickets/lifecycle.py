"""A ticket's states and the moves between them, as TM Forum TMF621 names them: the one matrix.

Every move the service makes, whoever asks for it, is decided here by :func:`check_move`;
the tests walk the whole matrix (every state to every state, for every kind of actor).

* ``customer`` — the customer's users: they cancel an open ticket, reopen a
  resolved one, and confirm a resolution (which closes it).
* ``support`` — the operator's support desk: everything else.
* ``system`` — ticketing itself: a resolved ticket closes itself after a while
  (``TICKETING_AUTO_CLOSE_AFTER``), and a customer's note on a ticket waiting for
  them ("pending") puts it back "inProgress".
"""

from __future__ import annotations

from collections.abc import Mapping

from simfleet_runtime.errors import FailedPrecondition, InvalidArgument

ACKNOWLEDGED = "acknowledged"
IN_PROGRESS = "inProgress"
PENDING = "pending"
HELD = "held"
RESOLVED = "resolved"
CLOSED = "closed"
CANCELLED = "cancelled"
REJECTED = "rejected"

STATES = (ACKNOWLEDGED, IN_PROGRESS, PENDING, HELD, RESOLVED, CLOSED, CANCELLED, REJECTED)
INITIAL = ACKNOWLEDGED
FINAL = frozenset({CLOSED, CANCELLED, REJECTED})
OPEN = frozenset(STATES) - FINAL - {RESOLVED}
"""Still being worked on: the resolution is not there yet."""

CUSTOMER = "customer"
SUPPORT = "support"
SYSTEM = "system"
ACTORS = (CUSTOMER, SUPPORT, SYSTEM)

_C = frozenset({CUSTOMER})
_S = frozenset({SUPPORT})

MOVES: Mapping[str, Mapping[str, frozenset[str]]] = {
    ACKNOWLEDGED: {IN_PROGRESS: _S, PENDING: _S, HELD: _S, RESOLVED: _S, REJECTED: _S, CANCELLED: _C},
    IN_PROGRESS: {PENDING: _S, HELD: _S, RESOLVED: _S, REJECTED: _S, CANCELLED: _C},
    PENDING: {IN_PROGRESS: frozenset({SUPPORT, SYSTEM}), HELD: _S, RESOLVED: _S, REJECTED: _S, CANCELLED: _C},
    HELD: {IN_PROGRESS: _S, PENDING: _S, RESOLVED: _S, REJECTED: _S, CANCELLED: _C},
    RESOLVED: {CLOSED: frozenset({CUSTOMER, SYSTEM}), IN_PROGRESS: _C},
    CLOSED: {},
    CANCELLED: {},
    REJECTED: {},
}
"""from state → to state → who may make that move. A move that is not here is refused."""

REASON_REQUIRED = frozenset({PENDING, HELD, REJECTED})
"""Support says why when it waits for the customer, holds or rejects a ticket."""


def allowed(from_state: str, to_state: str, actor: str) -> bool:
    return actor in MOVES.get(from_state, {}).get(to_state, frozenset())


def check_state(value: str, *, field: str) -> str:
    if value not in STATES:
        raise InvalidArgument(
            f"{field} must be one of {', '.join(STATES)}",
            reason="INVALID_STATE",
            field_violations={field: f"one of {', '.join(STATES)}"},
        )
    return value


def check_move(from_state: str, to_state: str, actor: str) -> None:
    """Refuse a move the matrix does not give ``actor`` (FAILED_PRECONDITION TRANSITION_NOT_ALLOWED)."""
    if allowed(from_state, to_state, actor):
        return
    if from_state == to_state:
        message = f"the ticket is already {to_state}"
    elif from_state in FINAL:
        message = f"the ticket is {from_state}: it does not change any more"
    elif any(allowed(from_state, to_state, other) for other in ACTORS):
        message = f"a {actor} may not move a ticket from {from_state} to {to_state}"
    else:
        message = f"a ticket does not move from {from_state} to {to_state}"
    raise FailedPrecondition(
        message, reason="TRANSITION_NOT_ALLOWED", metadata={"from": from_state, "to": to_state, "by": actor}
    )


__all__ = [
    "ACKNOWLEDGED",
    "ACTORS",
    "CANCELLED",
    "CLOSED",
    "CUSTOMER",
    "FINAL",
    "HELD",
    "INITIAL",
    "IN_PROGRESS",
    "MOVES",
    "OPEN",
    "PENDING",
    "REASON_REQUIRED",
    "REJECTED",
    "RESOLVED",
    "STATES",
    "SUPPORT",
    "SYSTEM",
    "allowed",
    "check_move",
    "check_state",
]
