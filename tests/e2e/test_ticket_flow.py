"""The whole of a ticket's life through the gateway (TK-1, TK-2, NO-1): a manager turns on ticket notices by SMS,
files a ticket with a file; support finds it in the back-office queue, reads the file, answers and resolves it; the
manager's handset gets the SMS, the manager confirms the resolution and the ticket is closed, each step in its
history."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from simfleet_devstack.platform import Platform
from simfleet_devstack.seed import DEMO_MANAGER, DEMO_SUPPORT
from simfleet_runtime.testing import wait_until
from tests.e2e.test_audit import sign_in
from tests.e2e.test_notices import PREFERENCES, texts
from tests.e2e.test_support_desk import file_ticket
from tests.e2e.test_ticket_attachments import PNG, pieces, upload

pytestmark = pytest.mark.e2e
DESK = "/v1/admin/tickets"
TICKET_NOTICES = ("ticket_reply", "ticket_state_changed")


def test_a_ticket_filed_with_a_file_answered_resolved_by_sms_and_closed(platform: Platform, api: httpx.Client) -> None:
    manager = sign_in(api, DEMO_MANAGER.phone, DEMO_MANAGER.password)
    chosen = api.put(
        PREFERENCES, json={"kinds": {kind: ["sms"] for kind in TICKET_NOTICES}, "language": "en"}, headers=manager
    )
    assert chosen.status_code == 200, chosen.text
    assert all(chosen.json()["kinds"][kind] == ["sms"] for kind in TICKET_NOTICES)
    try:
        ticket: dict[str, Any] = file_ticket(
            api,
            manager,
            topic="Flow e2e: no SMS delivery in Tver",
            contact_msisdn=DEMO_MANAGER.phone,
            severity="high",
        )
        ticket_id, number = ticket["id"], ticket["number"]
        assert ticket["state"] == "acknowledged"
        photo = upload(api, manager, ticket_id, "delivery report.png", pieces(PNG))
        assert photo.status_code == 201, photo.text
        noted = api.post(
            f"/v1/tickets/{ticket_id}/notes",
            json={"body": "The delivery report is attached.", "attachment_ids": [photo.json()["id"]]},
            headers=manager,
        )
        assert noted.status_code == 201, noted.text

        support = sign_in(api, DEMO_SUPPORT.phone, DEMO_SUPPORT.password)
        queue = api.get(DESK, params={"q": "Flow e2e", "state": "acknowledged"}, headers=support)
        assert queue.status_code == 200, queue.text
        assert [t["number"] for t in queue.json()["items"] if t["id"] == ticket_id] == [number]
        seen = api.get(f"{DESK}/{ticket_id}", headers=support)
        assert seen.status_code == 200, seen.text
        [(file,)] = [n["attachments"] for n in seen.json()["notes"] if n["attachments"]]
        read = api.get(f"{DESK}/{ticket_id}/attachments/{file['id']}", headers=support)
        assert read.status_code == 200 and read.content == PNG
        answered = api.post(
            f"{DESK}/{ticket_id}/answers",
            json={"body": "The SMS centre in Tver is fixed.", "to_state": "resolved"},
            headers=support,
        )
        assert answered.status_code == 201, answered.text

        # The manager's handset, through netsim's SMSC: the answer and the resolution, once each.
        wait_until(
            lambda: texts(platform, DEMO_MANAGER.phone, f"ticket {number} is now resolved"),
            30,
            "the resolution's SMS on the manager's handset",
        )
        assert texts(platform, DEMO_MANAGER.phone, f"ticket {number} is now resolved") == [
            f"SIMfleet: ticket {number} is now resolved."
        ]
        assert wait_until(
            lambda: texts(platform, DEMO_MANAGER.phone, f"support answered your ticket {number}"),
            30,
            "the answer's SMS on the manager's handset",
        ) == [f"SIMfleet: support answered your ticket {number}."]

        resolved = api.get(f"/v1/tickets/{ticket_id}", headers=manager).json()
        assert resolved["ticket"]["state"] == "resolved"
        assert [n["body"] for n in resolved["notes"] if n["author_kind"] == "support"] == [
            "The SMS centre in Tver is fixed."
        ]
        closed = api.post(f"/v1/tickets/{ticket_id}/confirm-resolution", headers=manager)
        assert closed.status_code == 200 and closed.json()["state"] == "closed", closed.text
        history = api.get(f"/v1/tickets/{ticket_id}/history", headers=manager)
        assert history.status_code == 200, history.text
        assert [(h["action"], h["from_state"], h["to_state"], h["actor_kind"]) for h in history.json()["items"]] == [
            ("created", None, "acknowledged", "customer"),
            ("state_changed", "acknowledged", "resolved", "support"),
            ("state_changed", "resolved", "closed", "customer"),
        ]
        assert api.get(f"{DESK}/{ticket_id}", headers=support).json()["ticket"]["state"] == "closed"
    finally:
        api.put(PREFERENCES, json={"kinds": {kind: [] for kind in TICKET_NOTICES}}, headers=manager)
