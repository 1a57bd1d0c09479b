"""What a notice can be about, how it travels and in which language: the one catalogue.

Each kind names the permission a user needs over the node the event is about
to hear of it (``None``: the event is about the user themselves, a sign-in),
and the channels it goes by until the user chooses otherwise.
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
        # identity still sends ID-7's sign-in SMS itself, to every user on every sign-in; here a user may add
        # an email (docs/architecture.md § Notices says what moving the SMS here needs).
        Kind(SIGN_IN, None, channels=(EMAIL,)),
    )
}
"""In the order users see them."""

TARIFF_OPERATIONS: Final = frozenset({"change_tariff", "set_services"})
"""Operations whose success is told as a tariff or option change rather than as an operation finished."""


def default_choices() -> dict[str, list[str]]:
    return {name: list(kind.default_channels) for name, kind in KINDS.items()}
