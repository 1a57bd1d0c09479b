"""The acquirer's use cases: Authorize, Capture, Void and GetPayment, each idempotent by ``payment_id``.

Every call goes in this order: the faults in force are taken (in memory,
:class:`~netsim.payments.fault_store.PaymentFaultStore`), the injected latency
is slept with no database connection held, an outage answers UNAVAILABLE
(``PROVIDER_OUTAGE``) having changed nothing, the request is validated (every
field at once), then the work is done in one transaction. Once it committed,
an Authorize, Capture or Void may lose its answer (``lost_answer_rate``): the
caller gets UNAVAILABLE (``ANSWER_LOST``), and asking again, or GetPayment,
finds the work done.

Two calls on one payment resolve once, on both backends:

* Authorize writes the payment with ``INSERT ... ON CONFLICT DO NOTHING``; the
  call whose insert found the row taken reads it and answers it (or refuses a
  different payment under the same id, ``PAYMENT_ID_REUSED``). On PostgreSQL
  the second insert waits for the first's commit and then sees its row.
* Capture and Void change the row with one conditional ``UPDATE ... SET state
  = ... WHERE payment_id = ... AND state = 'authorized'``. On PostgreSQL a
  concurrent update waits for the row lock and then re-checks the condition, so
  only one changes it; the other finds no row changed, reads the payment as the
  first left it and answers it (a repeat), or refuses (a Void that lost to a
  Capture). SQLite runs one writer at a time (``BEGIN IMMEDIATE``).

:class:`Outcome` tells whether the call itself changed the payment
(``changed``), for the logs and the tests.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import string
from dataclasses import dataclass
from typing import NoReturn

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from netsim import metrics
from netsim.payments.fault_store import PaymentFaultStore
from netsim.payments.faults import CARD_TOKEN, PaymentFaults
from netsim.payments.models import (
    AUTHORIZATION_CODE_LENGTH,
    AUTHORIZED,
    CAPTURED,
    DECLINED,
    DESCRIPTION_MAX,
    PAYMENT_ID_MAX,
    VOIDED,
    Payment,
)
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database, insert_ignoring_conflicts
from simfleet_runtime.errors import DomainError, FailedPrecondition, InvalidArgument, NotFound, Unavailable

log = logging.getLogger(__name__)

PAYMENT_ID = re.compile(rf"^[A-Za-z0-9._:-]{{1,{PAYMENT_ID_MAX}}}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_AMOUNT = 10**12
AUTHORIZATION_CODE_ALPHABET = string.ascii_uppercase + string.digits

INSUFFICIENT_FUNDS = "insufficient_funds"
CARD_EXPIRED = "card_expired"
DO_NOT_HONOR = "do_not_honor"
SUSPECTED_FRAUD = "suspected_fraud"
DECLINE_REASONS = (INSUFFICIENT_FUNDS, CARD_EXPIRED, DO_NOT_HONOR, SUSPECTED_FRAUD)
"""The decline reasons of the contract; the faults give ``insufficient_funds`` and ``do_not_honor``."""


@dataclass(frozen=True)
class AuthorizeRequest:
    payment_id: str
    amount: int
    currency: str
    card_token: str
    description: str = ""


@dataclass(frozen=True)
class Outcome:
    """A payment as the call left it; ``changed``: this call changed it (False: it answered an earlier outcome)."""

    payment: Payment
    changed: bool


def validate_payment_id(payment_id: str) -> str:
    if not PAYMENT_ID.match(payment_id):
        raise InvalidArgument(
            "payment_id is 1 to 64 characters of A-Z, a-z, 0-9, '.', '_', ':' and '-'",
            reason="INVALID_PAYMENT_ID",
            field_violations={"payment_id": f"1 to {PAYMENT_ID_MAX} characters of [A-Za-z0-9._:-]"},
        )
    return payment_id


def validate_authorize(request: AuthorizeRequest) -> AuthorizeRequest:
    """Every field checked; one INVALID_ARGUMENT naming each field that is wrong."""
    violations: dict[str, str] = {}
    if not PAYMENT_ID.match(request.payment_id):
        violations["payment_id"] = f"1 to {PAYMENT_ID_MAX} characters of [A-Za-z0-9._:-]"
    if not 1 <= request.amount <= MAX_AMOUNT:
        violations["amount"] = f"1 to {MAX_AMOUNT} minor units"
    if not CURRENCY.match(request.currency):
        violations["currency"] = "an ISO 4217 code in capitals, such as RUB"
    if not CARD_TOKEN.match(request.card_token):
        violations["card_token"] = "1 to 64 characters of [A-Za-z0-9_-]"
    if len(request.description) > DESCRIPTION_MAX:
        violations["description"] = f"at most {DESCRIPTION_MAX} characters"
    if violations:
        raise InvalidArgument("the payment is not valid: " + ", ".join(violations), field_violations=violations)
    return request


def _refused(operation: str, error: DomainError) -> NoReturn:
    metrics.PAYMENTS.labels(operation, "refused").inc()
    raise error


def _not_found(payment_id: str) -> NotFound:
    return NotFound(f"no payment {payment_id}", reason="PAYMENT_NOT_FOUND", metadata={"payment_id": payment_id})


class PaymentProvider:
    """The acquirer: payments in ``db``, faults from ``faults``; ``seed`` makes the dice repeat."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        faults: PaymentFaultStore,
        *,
        seed: int | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._faults = faults
        self._random = random.Random(seed)  # a simulation's dice, not a secret

    @property
    def faults(self) -> PaymentFaultStore:
        return self._faults

    async def _enter(self, operation: str | None) -> PaymentFaults:
        """The faults for this call: its latency slept (no connection held), an outage refused."""
        faults = await self._faults.current()
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.outage:
            if operation is not None:
                metrics.PAYMENTS.labels(operation, "outage").inc()
            raise Unavailable("the payment provider is out of service", reason="PROVIDER_OUTAGE")
        return faults

    def _answer(self, operation: str, faults: PaymentFaults, outcome: Outcome) -> Outcome:
        """The committed outcome, or UNAVAILABLE (ANSWER_LOST) when the dice lose the answer."""
        if faults.lost_answer_rate > 0 and self._random.random() < faults.lost_answer_rate:
            metrics.PAYMENTS.labels(operation, "lost_answer").inc()
            payment = outcome.payment
            log.info(
                "payment answer lost",
                extra={"operation": operation, "payment_id": payment.payment_id, "state": payment.state},
            )
            raise Unavailable("the payment provider's answer was lost", reason="ANSWER_LOST")
        result = "declined" if outcome.payment.state == DECLINED else "approved"
        metrics.PAYMENTS.labels(operation, result).inc()
        return outcome

    # ------------------------------------------------------------- authorize
    async def authorize(self, request: AuthorizeRequest) -> Outcome:
        faults = await self._enter("authorize")
        try:
            validate_authorize(request)
        except InvalidArgument as error:
            _refused("authorize", error)
        async with self._db.transaction() as session:
            outcome = await self._authorize(session, request, faults)
        if outcome.changed:
            log.info(
                "payment authorised" if outcome.payment.state == AUTHORIZED else "payment declined",
                extra={"payment_id": request.payment_id, "decline_reason": outcome.payment.decline_reason},
            )
        return self._answer("authorize", faults, outcome)

    async def _authorize(self, session: AsyncSession, request: AuthorizeRequest, faults: PaymentFaults) -> Outcome:
        existing = await session.get(Payment, request.payment_id)
        if existing is None:
            now = self._clock.now()
            decline_reason = self._decline(request.card_token, faults)
            row = {
                "payment_id": request.payment_id,
                "amount": request.amount,
                "currency": request.currency,
                "card_token": request.card_token,
                "description": request.description,
                "state": DECLINED if decline_reason else AUTHORIZED,
                "decline_reason": decline_reason,
                "authorization_code": None if decline_reason else self._authorization_code(),
                "created_at": now,
                "updated_at": now,
            }
            inserted = await session.execute(
                insert_ignoring_conflicts(session, Payment.__table__),  # type: ignore[arg-type]
                row,
            )
            if inserted.rowcount == 1:  # type: ignore[attr-defined]
                return Outcome(Payment(**row), changed=True)
            # Another call wrote this payment meanwhile: answer what it wrote.
            existing = await session.get(Payment, request.payment_id, populate_existing=True)
            assert existing is not None, "the insert found the payment taken"
        differing = {
            field: "differs from the payment first authorised with this payment_id"
            for field in ("amount", "currency", "card_token")
            if getattr(existing, field) != getattr(request, field)
        }
        if differing:
            _refused(
                "authorize",
                InvalidArgument(
                    "this payment_id was used for another payment (amount, currency or card)",
                    reason="PAYMENT_ID_REUSED",
                    field_violations=differing,
                    metadata={"payment_id": request.payment_id},
                ),
            )
        return Outcome(existing, changed=False)

    def _decline(self, card_token: str, faults: PaymentFaults) -> str | None:
        if card_token in faults.declining_cards:
            return INSUFFICIENT_FUNDS
        if faults.decline_rate > 0 and self._random.random() < faults.decline_rate:
            return DO_NOT_HONOR
        return None

    def _authorization_code(self) -> str:
        return "".join(self._random.choices(AUTHORIZATION_CODE_ALPHABET, k=AUTHORIZATION_CODE_LENGTH))

    # ------------------------------------------------------------- capture, void
    async def capture(self, payment_id: str) -> Outcome:
        """AUTHORIZED → CAPTURED; a captured payment is answered again; declined or voided is refused."""
        return await self._move("capture", payment_id, to=CAPTURED)

    async def void(self, payment_id: str) -> Outcome:
        """AUTHORIZED → VOIDED; a voided payment is answered again; captured or declined is refused."""
        return await self._move("void", payment_id, to=VOIDED)

    async def _move(self, operation: str, payment_id: str, *, to: str) -> Outcome:
        faults = await self._enter(operation)
        try:
            validate_payment_id(payment_id)
        except InvalidArgument as error:
            _refused(operation, error)
        async with self._db.transaction() as session:
            moved = (
                await session.scalars(
                    sa.update(Payment)
                    .where(Payment.payment_id == payment_id, Payment.state == AUTHORIZED)
                    .values(state=to, updated_at=self._clock.now())
                    .returning(Payment),
                    execution_options={"synchronize_session": False},
                )
            ).one_or_none()
            if moved is not None:
                outcome = Outcome(moved, changed=True)
            else:
                found = await session.get(Payment, payment_id, populate_existing=True)
                if found is None:
                    _refused(operation, _not_found(payment_id))
                if found.state != to:
                    _refused(operation, _cannot(operation, found))
                outcome = Outcome(found, changed=False)
        if outcome.changed:
            log.info(f"payment {to}", extra={"payment_id": payment_id})
        return self._answer(operation, faults, outcome)

    # ------------------------------------------------------------- reading
    async def get(self, payment_id: str) -> Payment:
        await self._enter(None)
        validate_payment_id(payment_id)
        async with self._db.sessions() as session:
            found = await session.get(Payment, payment_id)
        if found is None:
            raise _not_found(payment_id)
        return found


def _cannot(operation: str, payment: Payment) -> FailedPrecondition:
    """Why ``operation`` cannot apply to ``payment`` in its state (not authorised, nor already done)."""
    reason = f"PAYMENT_{payment.state.upper()}"
    return FailedPrecondition(
        f"the payment is {payment.state}: it cannot be {'captured' if operation == 'capture' else 'voided'}",
        reason=reason,
        metadata={"payment_id": payment.payment_id, "state": payment.state},
    )


async def list_payments(session: AsyncSession, *, limit: int) -> list[Payment]:
    """The most recent payments, newest first (the console's list)."""
    query = sa.select(Payment).order_by(Payment.created_at.desc(), Payment.payment_id.desc()).limit(limit)
    return list(await session.scalars(query))
