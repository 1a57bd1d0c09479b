"""What a notice can be about, how it travels and in which language: the one catalogue.

Each kind names the permission a user needs over the node the event is about
to hear of it (``None``: the event is about the user themselves, a sign-in),
the channels it goes by until the user chooses otherwise, and whether its
events wait the grouping window (a sign-in does not: it warns of someone
else in the account, and a summary of sign-ins is no use half a minute late).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

SMS: Final = "sms"
EMAIL: Final = "email"
CHANNELS: Final = (SMS, EMAIL)

LANGUAGES: Final = ("en", "ru", "fa")
DEFAULT_LANGUAGE: Final = "en"


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    permission: str | None
    """Needed over the event's node; None: the notice is about the user's own account."""
    default_channels: tuple[str, ...] = ()
    channels: tuple[str, ...] = CHANNELS
    """The channels it may go by."""
    grouped: bool = True
    """Its events wait ``NOTIFICATIONS_GROUPING_WINDOW_SECONDS`` to become one notice; False: told on the sender's
    next pass (events that arrived meanwhile still make one summary)."""


OPERATION_FINISHED: Final = "operation_finished"
OPERATION_FAILED: Final = "operation_failed"
TARIFF_CHANGED: Final = "tariff_changed"
LIMIT_REACHED: Final = "limit_reached"
BALANCE_LOW: Final = "balance_low"
PAYMENT_RECEIVED: Final = "payment_received"
TICKET_REPLY: Final = "ticket_reply"
TICKET_STATE_CHANGED: Final = "ticket_state_changed"
SIGN_IN: Final = "sign_in"

KINDS: Final[dict[str, Kind]] = {
    kind.name: kind
    for kind in (
        Kind(OPERATION_FINISHED, "lines:read"),
        Kind(OPERATION_FAILED, "lines:read"),
        Kind(TARIFF_CHANGED, "lines:read"),
        Kind(LIMIT_REACHED, "billing:read"),
        Kind(BALANCE_LOW, "billing:read"),
        Kind(PAYMENT_RECEIVED, "billing:read"),
        Kind(TICKET_REPLY, "tickets:read"),
        Kind(TICKET_STATE_CHANGED, "tickets:read"),
        # ID-7's SMS on every sign-in: on until the user turns it off (identity sends it to operator staff).
        Kind(SIGN_IN, None, default_channels=(SMS,), grouped=False),
    )
}
"""In the order users see them."""

TARIFF_OPERATIONS: Final = frozenset({"change_tariff", "set_services"})
"""Operations whose success is told as a tariff or option change rather than as an operation finished."""


UNGROUPED: Final = frozenset(name for name, kind in KINDS.items() if not kind.grouped)


def default_choices() -> dict[str, list[str]]:
    return {name: list(kind.default_channels) for name, kind in KINDS.items()}
