"""Open-loop load of full SMS-OTP sign-ins through the gateway.

Sign-in ``i`` is scheduled at ``start + i / rate`` whatever happened to the
earlier ones (no coordinated omission: end-to-end latency counts from the
scheduled time). One sign-in is:

1. ``POST /v1/auth/otp {"phone", "channel": "sms"}`` on the gateway (202);
2. reading netsim's console ``GET /handsets/{msisdn}/sms`` until an SMS with a
   6-digit code that this user has not seen before is there: each time netsim's
   delivery receipt for the number arrives (NATS), or on a timer when the bench
   has no NATS connection;
3. ``POST /v1/auth/otp/verify {"challenge_id", "code"}`` on the gateway (200).

A user is never in two sign-ins at once (a pool of idle users), so the code
found is the one just requested.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import ssl
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from simfleet_subjects import NetsimSubjects

CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
STEP_OTP = "POST /v1/auth/otp"
STEP_DELIVERY = "code delivery (SMS seen on the handset)"
STEP_VERIFY = "POST /v1/auth/otp/verify"
STEP_TOTAL = "full sign-in (end to end)"
STEPS = (STEP_OTP, STEP_DELIVERY, STEP_VERIFY, STEP_TOTAL)
GATEWAY_STEPS = (STEP_OTP, STEP_VERIFY)
POLL_CEILING = 0.5
"""Longest pause between two reads of an inbox: slow deliveries must not turn into a flood of reads."""
HINTED_POLL_CEILING = 5.0
"""The same when delivery receipts from NATS wake the reader up."""
SMS_DELIVERED = NetsimSubjects.SMS_DELIVERED


class FlowError(Exception):
    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"{step}: {reason}")
        self.step = step
        self.reason = reason


@dataclass
class StepStats:
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    first_start: float = math.inf
    last_end: float = 0.0

    def record(self, started: float, ended: float) -> None:
        self.latencies.append(ended - started)
        self.first_start = min(self.first_start, started)
        self.last_end = max(self.last_end, ended)

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def failed(self) -> int:
        return sum(self.errors.values())

    def throughput(self) -> float:
        span = self.last_end - self.first_start
        return self.ok / span if self.ok and span > 0 else 0.0

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile in seconds (nan when nothing succeeded)."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass
class LoadResult:
    rate: float
    duration: float
    scheduled: int
    steps: dict[str, StepStats]
    console_polls: int
    max_schedule_lag: float
    wall_seconds: float


@dataclass(frozen=True)
class LoadSettings:
    gateway_url: str
    console_url: str
    phones: list[str]
    rate: float
    duration: float
    poll_first: float = 0.15
    poll_interval: float = 0.1
    """The first pause between inbox reads; each next one is twice as long, up to POLL_CEILING."""
    delivery_timeout: float = 30.0
    request_timeout: float = 10.0
    nats_url: str | None = None
    """When set, netsim's delivery receipts (simfleet.netsim.sms.delivered) tell when to read an inbox."""
    transport: httpx.AsyncBaseTransport | None = None
    """Tests only: answer the requests in-process instead of over the network."""


class SignInLoad:
    def __init__(self, settings: LoadSettings) -> None:
        self.settings = settings
        self._idle: asyncio.Queue[str] = asyncio.Queue()
        for phone in settings.phones:
            self._idle.put_nowait(phone)
        self._seen: dict[str, set[str]] = {phone: set() for phone in settings.phones}
        self._delivered: dict[str, asyncio.Event] = {_digits(phone): asyncio.Event() for phone in settings.phones}
        self._polls = 0
        self._ceiling = POLL_CEILING
        self._receipts = False

    async def _watch_receipts(self, stack: contextlib.AsyncExitStack, nats_url: str) -> None:
        """Wake a waiting reader when netsim reports an SMS delivered to its number."""
        import nats

        from simfleet.events.v1 import netsim_pb2

        client = await nats.connect(nats_url, name="simfleet-bench")
        stack.push_async_callback(client.close)

        async def on_receipt(message: Any) -> None:
            receipt = netsim_pb2.SmsDelivered.FromString(message.data)
            event = self._delivered.get(_digits(receipt.to_msisdn))
            if event is not None:
                event.set()

        await client.subscribe(SMS_DELIVERED, cb=on_receipt)
        self._ceiling = HINTED_POLL_CEILING
        self._receipts = True

    async def run(self) -> LoadResult:
        s = self.settings
        steps = {step: StepStats() for step in STEPS}
        # One pair of clients per user, as real users each have their own: a single shared pool of hundreds
        # of connections costs httpx time that grows with the pool and would be counted as latency.
        tls = ssl.create_default_context()  # unused on http://, but shared instead of built per client
        timeout = httpx.Timeout(s.request_timeout)
        async with contextlib.AsyncExitStack() as stack:
            if s.nats_url:
                await self._watch_receipts(stack, s.nats_url)
            clients: dict[str, tuple[httpx.AsyncClient, httpx.AsyncClient]] = {}
            for phone in s.phones:
                gateway = await stack.enter_async_context(
                    httpx.AsyncClient(base_url=s.gateway_url, timeout=timeout, verify=tls, transport=s.transport)
                )
                console = await stack.enter_async_context(
                    httpx.AsyncClient(base_url=s.console_url, timeout=timeout, verify=tls, transport=s.transport)
                )
                clients[phone] = (gateway, console)
                for message in await self._inbox(console, phone):  # SMS of an earlier run are not ours
                    self._seen[phone].add(str(message.get("id")))
            self._polls = 0
            loop = asyncio.get_running_loop()
            count = round(s.rate * s.duration)
            began = loop.time() + 0.05
            lag = 0.0
            tasks: list[asyncio.Task[None]] = []
            for index in range(count):
                scheduled = began + index / s.rate
                delay = scheduled - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                lag = max(lag, loop.time() - scheduled)
                tasks.append(asyncio.create_task(self._sign_in(clients, scheduled, steps)))
            await asyncio.gather(*tasks)
            wall = loop.time() - began
        return LoadResult(
            rate=s.rate,
            duration=s.duration,
            scheduled=count,
            steps=steps,
            console_polls=self._polls,
            max_schedule_lag=lag,
            wall_seconds=wall,
        )

    async def _sign_in(
        self,
        clients: dict[str, tuple[httpx.AsyncClient, httpx.AsyncClient]],
        scheduled: float,
        steps: dict[str, StepStats],
    ) -> None:
        try:
            phone = self._idle.get_nowait()
        except asyncio.QueueEmpty:
            steps[STEP_TOTAL].errors["no idle bench user"] += 1
            return
        gateway, console = clients[phone]
        try:
            await self._flow(gateway, console, phone, steps)
            steps[STEP_TOTAL].record(scheduled, _now())
        except FlowError as exc:
            steps[exc.step].errors[exc.reason] += 1
            steps[STEP_TOTAL].errors[f"{exc.step}: {exc.reason}"] += 1
        finally:
            self._idle.put_nowait(phone)

    async def _flow(
        self, gateway: httpx.AsyncClient, console: httpx.AsyncClient, phone: str, steps: dict[str, StepStats]
    ) -> None:
        self._delivered[_digits(phone)].clear()
        started = _now()
        body = await _post(gateway, STEP_OTP, "/v1/auth/otp", {"phone": phone, "channel": "sms"}, 202)
        requested = _now()
        steps[STEP_OTP].record(started, requested)
        challenge_id = str(body.get("challenge_id", ""))
        if not challenge_id:
            raise FlowError(STEP_OTP, "no challenge_id")

        code = await self._await_code(console, phone)
        delivered = _now()
        steps[STEP_DELIVERY].record(requested, delivered)

        await _post(gateway, STEP_VERIFY, "/v1/auth/otp/verify", {"challenge_id": challenge_id, "code": code}, 200)
        steps[STEP_VERIFY].record(delivered, _now())

    async def _await_code(self, console: httpx.AsyncClient, phone: str) -> str:
        s = self.settings
        deadline = _now() + s.delivery_timeout
        delivered = self._delivered[_digits(phone)]
        if self._receipts:
            # Read the inbox only when netsim reports an SMS to this number (or,
            # as a safety net, after the ceiling): polling on a timer would make
            # the bench the heaviest user of netsim's CPU.
            await self._wait(delivered, self._ceiling)
        else:
            await asyncio.sleep(s.poll_first)
        pause = self._ceiling if self._receipts else s.poll_interval
        while True:
            delivered.clear()
            for message in await self._inbox(console, phone):
                key = str(message.get("id"))
                if key in self._seen[phone]:
                    continue
                self._seen[phone].add(key)
                found = CODE.search(str(message.get("text", "")))
                if found:
                    return found.group(1)
            if _now() >= deadline:
                raise FlowError(STEP_DELIVERY, f"no code within {s.delivery_timeout:.0f}s")
            await self._wait(delivered, pause)
            pause = min(pause * 2, self._ceiling)

    @staticmethod
    async def _wait(event: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout=seconds)

    async def _inbox(self, console: httpx.AsyncClient, phone: str) -> list[dict[str, Any]]:
        self._polls += 1
        try:
            response = await console.get(f"/handsets/{phone}/sms", params={"limit": 5})
        except httpx.HTTPError as exc:
            raise FlowError(STEP_DELIVERY, f"console {type(exc).__name__}") from exc
        if response.status_code != httpx.codes.OK:
            raise FlowError(STEP_DELIVERY, f"console HTTP {response.status_code}")
        messages = response.json().get("messages", [])
        return [m for m in messages if isinstance(m, dict)]


async def _post(client: httpx.AsyncClient, step: str, path: str, payload: dict[str, str], expect: int) -> Any:
    try:
        response = await client.post(path, json=payload)
    except httpx.TimeoutException as exc:
        raise FlowError(step, "timeout") from exc
    except httpx.HTTPError as exc:
        raise FlowError(step, type(exc).__name__) from exc
    if response.status_code != expect:
        raise FlowError(step, f"HTTP {response.status_code}")
    return response.json()


def _digits(msisdn: str) -> str:
    return "".join(ch for ch in msisdn if ch.isdigit())


def _now() -> float:
    return asyncio.get_running_loop().time()
