"""A burst of events of one kind for one user becomes one summary notice, also across a restart; a sign-in waits
no window."""

from __future__ import annotations

from typing import Any

import pytest

from notifications.notices.models import SENT
from simfleet.events.v1 import identity_pb2, inventory_pb2
from simfleet_runtime.authz import Grant
from simfleet_runtime.ids import new_id
from simfleet_runtime.testing import eventually
from simfleet_subjects import IdentitySubjects, InventorySubjects

from .conftest import Running
from .test_notices import choose

BURST = 60


@pytest.fixture
def overrides() -> dict[str, Any]:
    return {"grouping_window_seconds": 300.0}


def operation(running: Running, n: int) -> Any:
    return inventory_pb2.OperationChanged(
        operation_id=new_id(),
        customer_id=running.customer_id,
        type="block",
        state="completed",
        node_id=running.branch,
        total=1000 + n,
        succeeded=1000 + n,
    )


async def test_a_burst_is_one_summary_after_the_window_and_a_restart_in_it_sends_nothing_twice(
    running: Running,
) -> None:
    phone = await running.user("manager", Grant(running.company, frozenset({"lines:read"})))
    await choose(running, "manager", ("operation_finished", ["sms"]), language="ru")
    for n in range(BURST // 2):
        await running.publish(InventorySubjects.OPERATION_FINISHED, operation(running, n))

    async def accepted(count: int) -> bool:
        return await running.accepted("manager") == count

    await eventually(lambda: accepted(BURST // 2), what="the first half accepted")
    await running.restart()  # in the middle of the burst, inside the window
    for n in range(BURST // 2, BURST):
        await running.publish(InventorySubjects.OPERATION_FINISHED, operation(running, n))
    await eventually(lambda: accepted(BURST), what="the whole burst accepted")
    assert await running.notices("manager") == []  # the window is still open

    running.move_clock(301)
    [summary] = await running.sms_to(phone, 1)
    assert f"{BURST}" in summary.text and f"{1000 + BURST - 1}" in summary.text  # how many, and the last one
    [notice] = await running.notices("manager")
    assert notice.events == BURST and notice.state == SENT and notice.language == "ru"

    # The next event opens a window of its own: one more notice, of one event.
    await running.publish(InventorySubjects.OPERATION_FINISHED, operation(running, 5000))
    await eventually(lambda: accepted(BURST + 1), what="the next event accepted")
    running.move_clock(602)
    sent = await running.sms_to(phone, 2)
    assert "6000" in sent[1].text and len(await running.notices("manager")) == 2


async def test_a_sign_in_waits_no_window(running: Running) -> None:
    phone = await running.user("manager", Grant(running.company, frozenset({"lines:read"})))
    await choose(running, "manager", ("operation_finished", ["sms"]))
    await running.publish(InventorySubjects.OPERATION_FINISHED, operation(running, 1))
    await running.publish(
        IdentitySubjects.SIGN_IN_RECORDED,
        identity_pb2.SignInRecorded(
            attempt_id=new_id(),
            user_id="manager",
            customer_id=running.customer_id,
            method="otp_sms",
            result="succeeded",
            phone=phone,
        ),
    )
    [told] = await running.sms_to(phone, 1)  # the clock never moved: well inside the 300 s window
    assert "you signed in" in told.text
    assert [n.kind for n in await running.notices("manager")] == ["sign_in"]  # the operation still waits
