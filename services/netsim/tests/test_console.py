"""The HTTP console against the real uvicorn server: JSON, HTML, problems, health."""

from __future__ import annotations

from datetime import datetime

from netsim.smsc.service import Submission, deliver_sms
from netsim.smtp.parsing import ParsedMail
from netsim.smtp.service import store_mail
from simfleet_runtime.ids import new_id

from .conftest import RunningNetsim  # type: ignore[import-not-found]

PROBLEM = "application/problem+json"


async def deliver(netsim: RunningNetsim, msisdn: str, text: str, sender: str = "SIMfleet") -> None:
    runtime = netsim.app.runtime
    async with runtime.db.transaction() as session:
        submission = Submission(message_id=new_id(), to_msisdn=msisdn, sender=sender, text=text)
        await deliver_sms(session, submission, outbox=runtime.outbox, clock=runtime.clock)


async def receive(netsim: RunningNetsim, address: str, subject: str, body: str) -> None:
    runtime = netsim.app.runtime
    async with runtime.db.transaction() as session:
        mail = ParsedMail(from_address="no-reply@simfleet.example", subject=subject, body=body)
        await store_mail(session, recipients=[address], mail=mail, size_bytes=100, clock=runtime.clock)


async def test_a_handset_inbox_is_json_newest_first_with_a_limit(netsim: RunningNetsim) -> None:
    for n in range(3):
        await deliver(netsim, "+79990000010", f"message {n}")
    await deliver(netsim, "+79990000011", "someone else's")

    response = await netsim.http.get("/handsets/%2B79990000010/sms")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["msisdn"] == "+79990000010"
    assert [m["text"] for m in body["messages"]] == ["message 2", "message 1", "message 0"]
    assert set(body["messages"][0]) == {"id", "to", "sender", "text", "time"}
    times = [datetime.fromisoformat(m["time"]) for m in body["messages"]]
    assert times == sorted(times, reverse=True)
    assert all(t.utcoffset() is not None and t.utcoffset().total_seconds() == 0 for t in times)

    limited = (await netsim.http.get("/handsets/+79990000010/sms?limit=2")).json()["messages"]
    assert [m["text"] for m in limited] == ["message 2", "message 1"]

    empty = (await netsim.http.get("/handsets/+79990000019/sms")).json()
    assert empty == {"msisdn": "+79990000019", "messages": []}

    handsets = (await netsim.http.get("/handsets")).json()["handsets"]
    assert [(h["msisdn"], h["messages"]) for h in handsets] == [("+79990000011", 1), ("+79990000010", 3)]


BAD_REQUESTS = [
    ("/handsets/12345/sms", "INVALID_PHONE"),
    ("/handsets/+7999abc/sms", "INVALID_PHONE"),
    ("/handsets/+79990000010/sms?limit=0", "INVALID_REQUEST"),
    ("/handsets/+79990000010/sms?limit=501", "INVALID_REQUEST"),
    ("/handsets/+79990000010/sms?limit=many", "INVALID_REQUEST"),
    ("/mailboxes/not-an-address", "INVALID_EMAIL"),
    ("/mailboxes/a@b.example?limit=-1", "INVALID_REQUEST"),
    ("/ui/handsets/12345", "INVALID_PHONE"),
]


async def test_bad_input_is_a_422_problem(netsim: RunningNetsim) -> None:
    for path, reason in BAD_REQUESTS:
        response = await netsim.http.get(path)
        assert response.status_code == 422, path
        assert response.headers["content-type"] == PROBLEM, path
        problem = response.json()
        assert problem["status"] == 422
        assert problem["reason"] == reason, path
        assert problem["type"].startswith("https://")
        assert problem["title"] and problem["detail"]
        assert problem["errors"], f"{path}: the problem names the bad field"


async def test_an_unknown_path_is_a_404_problem(netsim: RunningNetsim) -> None:
    response = await netsim.http.get("/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["status"] == 404


async def test_the_index_page_lists_handsets_and_mailboxes_escaped(netsim: RunningNetsim) -> None:
    await deliver(netsim, "+79990000012", "<script>alert('sms')</script> & more", sender="<Bank>")
    await receive(netsim, "ops@corp.example", "<b>Subject</b>", "Body with <img src=x>")

    response = await netsim.http.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<script>alert" not in page and "<img src=x>" not in page and "<b>Subject</b>" not in page
    assert "&lt;script&gt;alert(&#x27;sms&#x27;)&lt;/script&gt; &amp; more" in page
    assert "&lt;Bank&gt;" in page
    assert "&lt;b&gt;Subject&lt;/b&gt;" in page
    assert "Body with &lt;img src=x&gt;" in page
    assert 'href="/ui/handsets/%2B79990000012"' in page
    assert 'href="/ui/mailboxes/ops@corp.example"' in page


async def test_one_inbox_as_a_page(netsim: RunningNetsim) -> None:
    await deliver(netsim, "+79990000013", "older")
    await deliver(netsim, "+79990000013", "newer <code>")
    await receive(netsim, "ops@corp.example", "Mail subject", "mail body")

    page = (await netsim.http.get("/ui/handsets/%2B79990000013")).text
    assert "Handset +79990000013" in page
    assert page.index("newer &lt;code&gt;") < page.index("older"), "newest first"

    mailbox = await netsim.http.get("/ui/mailboxes/OPS@corp.example")
    assert mailbox.status_code == 200
    assert "Mailbox ops@corp.example" in mailbox.text
    assert "Mail subject" in mailbox.text and "mail body" in mailbox.text

    # A slash is allowed in a local part: the link encodes it and the routes still find the mailbox.
    await receive(netsim, "team/ops@corp.example", "Slash", "in the local part")
    assert 'href="/ui/mailboxes/team%2Fops@corp.example"' in (await netsim.http.get("/")).text
    assert "Slash" in (await netsim.http.get("/ui/mailboxes/team%2Fops@corp.example")).text
    slash = (await netsim.http.get("/mailboxes/team%2Fops@corp.example")).json()
    assert [m["subject"] for m in slash["messages"]] == ["Slash"]


async def test_health_and_openapi(netsim: RunningNetsim) -> None:
    health = await netsim.http.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    schema = (await netsim.http.get("/openapi.json")).json()
    assert {"/handsets/{msisdn}/sms", "/mailboxes/{address}", "/healthz"} <= set(schema["paths"])
