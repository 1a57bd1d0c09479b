"""The ledger's sweep says how it fares: every pass counted by result, the last good one's time kept."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import REGISTRY

from billing.main import Sweeper

from .conftest import Harness  # type: ignore[import-not-found]


def sweeps(result: str) -> float:
    return REGISTRY.get_sample_value("simfleet_billing_ledger_sweeps_total", {"result": result}) or 0.0


async def test_a_failing_pass_is_counted_and_the_sweep_goes_on(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    billing = harness.billing
    sweeper = Sweeper(ledger=billing.ledger, settlement=billing.settlement, interval=0.01)
    ok, failed = sweeps("ok"), sweeps("failed")
    passes = 0
    real = billing.settlement.apply_due

    async def flaky() -> int:
        nonlocal passes
        passes += 1
        if passes <= 2:
            raise RuntimeError("the database went away")
        return await real()

    monkeypatch.setattr(billing.settlement, "apply_due", flaky)
    stop = asyncio.Event()
    running = asyncio.create_task(sweeper.run(stop))
    for _ in range(500):
        if sweeps("ok") > ok:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await running

    assert sweeps("failed") == failed + 2  # counted, and the sweep went on
    assert sweeps("ok") > ok
    last = REGISTRY.get_sample_value("simfleet_billing_ledger_sweep_last_success_timestamp_seconds")
    assert last is not None and last > 1_700_000_000
