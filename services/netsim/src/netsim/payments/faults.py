"""Fault injection of the simulated acquirer: latency, an outage, lost answers, declines.

The faults in force are netsim's state, shared by every replica: one row of
``payment_faults`` (:class:`~netsim.payments.models.StoredPaymentFaults`), kept
by :class:`~netsim.payments.fault_store.PaymentFaultStore` the way the HLR's
are (``SetPaymentFaults`` and the console's ``PUT /payments/faults`` write it
and apply it at once in the process that took the call; every process reads
the row's version every ``payments_faults_refresh_seconds``). The settings
``NETSIM_PAYMENTS_*`` give the faults of a fresh database only.

What each does (:mod:`netsim.payments.service`): ``latency_ms`` is slept
before every payment call, holding no database connection; while ``outage``
is on, every payment call is UNAVAILABLE and changes nothing;
``lost_answer_rate`` is the share of Authorize, Capture and Void calls whose
work is committed and whose answer is then lost (UNAVAILABLE, reason
``ANSWER_LOST``); ``decline_rate`` is the share of new authorisations declined
``do_not_honor``; cards in ``declining_cards`` are always declined
``insufficient_funds``. GetPaymentFaults and SetPaymentFaults are never
faulted: an outage can always be lifted.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from netsim.payments.models import CARD_TOKEN_MAX
from simfleet_runtime.errors import InvalidArgument

MAX_LATENCY_MS = 60_000
MAX_DECLINING_CARDS = 100
CARD_TOKEN = re.compile(rf"^[A-Za-z0-9_-]{{1,{CARD_TOKEN_MAX}}}$")


@dataclass(frozen=True)
class PaymentFaults:
    """The acquirer's fault injection in force (validated: build it with :func:`validate_payment_faults`)."""

    latency_ms: int = 0
    decline_rate: float = 0.0
    lost_answer_rate: float = 0.0
    outage: bool = False
    declining_cards: tuple[str, ...] = ()


def _rate(value: float, field: str) -> float:
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise InvalidArgument(
            f"{field} must be between 0.0 and 1.0",
            reason="INVALID_RATE",
            field_violations={field: "0.0 to 1.0"},
        )
    return float(value)


def validate_payment_faults(
    *,
    latency_ms: int,
    decline_rate: float,
    lost_answer_rate: float,
    outage: bool,
    declining_cards: Sequence[str],
) -> PaymentFaults:
    """Check faults where they enter; card tokens are de-duplicated (first kept)."""
    if not 0 <= latency_ms <= MAX_LATENCY_MS:
        raise InvalidArgument(
            f"latency_ms must be between 0 and {MAX_LATENCY_MS}",
            reason="INVALID_LATENCY",
            field_violations={"latency_ms": f"0 to {MAX_LATENCY_MS}"},
        )
    if len(declining_cards) > MAX_DECLINING_CARDS:
        raise InvalidArgument(
            f"at most {MAX_DECLINING_CARDS} declining cards",
            reason="TOO_MANY_DECLINING_CARDS",
            field_violations={"declining_cards": f"at most {MAX_DECLINING_CARDS}"},
        )
    cards: dict[str, None] = {}
    for index, token in enumerate(declining_cards):
        if not CARD_TOKEN.match(token):
            raise InvalidArgument(
                "a card token is 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'",
                reason="INVALID_CARD_TOKEN",
                field_violations={f"declining_cards[{index}]": f"1 to {CARD_TOKEN_MAX} characters of [A-Za-z0-9_-]"},
            )
        cards[token] = None
    return PaymentFaults(
        latency_ms=latency_ms,
        decline_rate=_rate(decline_rate, "decline_rate"),
        lost_answer_rate=_rate(lost_answer_rate, "lost_answer_rate"),
        outage=outage,
        declining_cards=tuple(cards),
    )
