"""What inventory asks billing before it changes a line's tariff or services (SIM-6, SIM-7, SIM-14).

The catalogue's rules (which tariff allows which services, what an option
needs, what a line on a financial block may not connect) are billing's:
before the items of a ``change_tariff`` or ``set_services`` operation are
planned, the sender asks billing's ``CatalogueService.CheckAvailability``
(with the operator key) about their lines as inventory holds them; a refused
line's item fails with billing's reason and message. When billing cannot
answer, the items wait and are asked about again on the engine's next pass.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import grpc

from inventory.lines.models import FINANCIAL
from inventory.operations.records import LineRow
from simfleet.billing.v1 import catalogue_pb2, catalogue_pb2_grpc
from simfleet_runtime.context import OPERATOR_KEY
from simfleet_runtime.operation_params import split

CHECKED_TYPES = frozenset({"change_tariff", "set_services"})
MAX_LINES = 1000
"""Lines per question (billing's limit)."""


@dataclass(frozen=True, slots=True)
class Facts:
    """What billing's rules read of a line: a verdict holds while these stay the same."""

    tariff_code: str
    services: tuple[str, ...]
    state: str
    financially_blocked: bool

    @classmethod
    def of(cls, line: LineRow) -> Facts:
        return cls(
            tariff_code=line.tariff_code,
            services=tuple(sorted(line.services)),
            state=line.state,
            financially_blocked=any(b["type"] == FINANCIAL for b in line.blocks),
        )


@dataclass(frozen=True, slots=True)
class Verdict:
    facts: Facts
    allowed: bool
    reason: str = ""
    message: str = ""


@dataclass(frozen=True, slots=True)
class Ask:
    """What an operation asks of each line: a tariff ("" none), services to connect and to disconnect."""

    tariff_code: str = ""
    connect: tuple[str, ...] = ()
    disconnect: tuple[str, ...] = ()

    @classmethod
    def of(cls, op_type: str, params: Mapping[str, str]) -> Ask:
        if op_type == "change_tariff":
            return cls(tariff_code=params.get("tariff_code", ""))
        return cls(
            connect=tuple(split(params.get("connect", ""))), disconnect=tuple(split(params.get("disconnect", "")))
        )


class Availability(Protocol):
    async def check(self, customer_id: str, lines: Sequence[LineRow], ask: Ask) -> dict[str, Verdict]:
        """Billing's verdict per line id; raises when billing cannot answer (the items wait)."""
        ...


class BillingAvailability:
    def __init__(self, channel: Callable[[], grpc.aio.Channel], *, operator_key: str, timeout: float) -> None:
        self._channel = channel
        self._operator_key = operator_key
        self._timeout = timeout

    async def check(self, customer_id: str, lines: Sequence[LineRow], ask: Ask) -> dict[str, Verdict]:
        stub = catalogue_pb2_grpc.CatalogueServiceStub(self._channel())
        verdicts: dict[str, Verdict] = {}
        for start in range(0, len(lines), MAX_LINES):
            chunk = lines[start : start + MAX_LINES]
            facts = [Facts.of(line) for line in chunk]
            answer = await stub.CheckAvailability(
                catalogue_pb2.CheckAvailabilityRequest(
                    customer_id=customer_id,
                    tariff_code=ask.tariff_code,
                    connect=list(ask.connect),
                    disconnect=list(ask.disconnect),
                    lines=[
                        catalogue_pb2.LineFacts(
                            line_id=line.id,
                            msisdn=line.msisdn,
                            tariff_code=f.tariff_code,
                            services=list(f.services),
                            state=f.state,
                            financially_blocked=f.financially_blocked,
                        )
                        for line, f in zip(chunk, facts, strict=True)
                    ],
                ),
                metadata=((OPERATOR_KEY, self._operator_key),),
                timeout=self._timeout,
            )
            for f, verdict in zip(facts, answer.lines, strict=True):
                verdicts[verdict.line_id] = Verdict(f, verdict.allowed, verdict.reason, verdict.message)
        return verdicts
