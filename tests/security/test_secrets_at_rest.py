"""One-time codes and new passwords at rest: after they were sent and used, no platform store holds them readable.

On the suite's platform (SQLite files in a temporary directory, or PostgreSQL
databases when ``SIMFLEET_TEST_POSTGRES_URL`` is set), a new user signs in
with an SMS code and with an email code and resets their password with a code,
and a customer is onboarded with its manager's first password. Once every
message has reached the handset and the mailbox, each service's database is
read as an attacker with a copy of it would: every row of every table, and on
SQLite the raw bytes of the file and its write-ahead log; so is every message
the JetStream streams still hold. netsim's handset inbox and mailbox are the
user's phone and mail box: they hold the messages by design, and only they are
left out.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import nats
import pytest
import sqlalchemy as sa
from nats.js.errors import NotFoundError
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from simfleet_devstack.platform import DATABASE_SERVICES, IDENTITY, NETSIM, Platform
from simfleet_runtime.ids import new_id
from simfleet_runtime.testing import wait_until
from tests.e2e.conftest import onboard_customer
from tests.helpers import codes_in, inbox, mailbox, new_user, sign_ins_told, wait_for_sms_code

pytestmark = pytest.mark.e2e

# The user's own devices in the network simulator: they keep what they received.
HANDSET_TABLES = {NETSIM: {"sms_messages", "mails"}}


def signed_in(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.json()["access_token"]


def as_bytes(value: object) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode()


async def rows_of(url: str, skip: set[str]) -> list[tuple[str, bytes]]:
    """Every value of every table of a database, as bytes, with the table it is in."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            metadata = sa.MetaData()
            await conn.run_sync(metadata.reflect)
            found = []
            for table in metadata.sorted_tables:
                if table.name in skip:
                    continue
                for row in (await conn.execute(sa.select(table))).all():
                    found.extend((table.name, as_bytes(v)) for v in row if v is not None)
            return found
    finally:
        await engine.dispose()


async def stream_messages(nats_url: str) -> list[tuple[str, bytes]]:
    """Every message every JetStream stream still holds, with its stream."""
    nc = await nats.connect(nats_url, name="simfleet-security")
    try:
        js = nc.jetstream(timeout=5)
        found = []
        for info in await js.streams_info():
            if not info.state.messages:
                continue  # never written to (or emptied): first and last sequence are 0, which no message has
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                try:
                    msg = await js.get_msg(info.config.name or "", seq)
                except NotFoundError:
                    continue  # taken from a work queue, or expired
                found.append((info.config.name or "", msg.data or b""))
        return found
    finally:
        await nc.close()


def file_bytes(url: str) -> bytes:
    """An SQLite database's file and write-ahead log, as a copy of the disk would show them."""
    path = Path(str(make_url(url).database))
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def test_codes_and_passwords_are_not_readable_in_any_database(platform: Platform) -> None:
    password = f"Start-passw0rd-{new_id()}"
    new_password = f"Reset-passw0rd-{new_id()}"
    manager_password = f"Onboard-passw0rd-{new_id()}"
    user = new_user(platform, password=password)
    # A first password given at onboarding goes through accounts to identity.
    onboard_customer(
        platform,
        key="secrets-at-rest",
        n=4127,
        name="Secrets At Rest LLC",
        phone="+79997774127",
        password=manager_password,
    )
    sent: list[str] = []
    with httpx.Client(base_url=platform.gateway_url, timeout=10, headers={"User-Agent": "simfleet-security"}) as api:
        # An SMS code sign-in.
        challenge = api.post("/v1/auth/otp", json={"phone": user.phone, "channel": "sms"}).json()["challenge_id"]
        sent.append(wait_for_sms_code(platform, user.phone))
        signed_in(api.post("/v1/auth/otp/verify", json={"challenge_id": challenge, "code": sent[-1]}))
        # An email code sign-in (identity's mailer hands it to the SMTP relay).
        challenge = api.post("/v1/auth/otp", json={"phone": user.phone, "channel": "email"}).json()["challenge_id"]
        mail = wait_until(lambda: mailbox(platform, user.email), what="the code email")
        sent.append(codes_in(mail, "body")[0])
        signed_in(api.post("/v1/auth/otp/verify", json={"challenge_id": challenge, "code": sent[-1]}))
        # A password reset with a code.
        seen = len(codes_in(inbox(platform, user.phone)))
        reset = api.post("/v1/auth/password-reset", json={"phone": user.phone, "channel": "sms"})
        assert reset.status_code == 202, reset.text
        sent.append(wait_for_sms_code(platform, user.phone, seen))
        signed_in(
            api.post(
                "/v1/auth/password-reset/confirm",
                json={"challenge_id": reset.json()["challenge_id"], "code": sent[-1], "new_password": new_password},
            )
        )
    # Every sign-in is announced by SMS (notifications tells of identity's sign_in.recorded, which identity's outbox
    # holds after the codes' commands and publishes in order): once the last notice is on the handset, everything
    # before it went out.
    wait_until(lambda: sign_ins_told(platform, user.phone) >= 3, what="the sign-in notices")
    assert len(set(sent)) == len(sent), "the three codes differ"

    # How a secret would be stored: the message text ("... code: 123456. Valid ..."),
    # and the password as typed.
    carried = [f"code: {code}".encode() for code in sent] + [
        p.encode() for p in (password, new_password, manager_password)
    ]
    # Identity, which made the codes, must not hold them in any form: the bare code
    # is looked for there too, but not inside a longer number (a phone number) nor
    # after a point (the microseconds of a timestamp), where six digits are common.
    bare = [re.compile(rb"(?<![\d.])" + code.encode() + rb"(?!\d)") for code in sent]

    leaks: list[str] = []
    for service in DATABASE_SERVICES:
        url = platform.database_url(service)
        values = asyncio.run(rows_of(url, HANDSET_TABLES.get(service, set())))
        for table, value in values:
            leaks += [f"{service}.{table}: {s!r}" for s in carried if s in value]
            if service == IDENTITY:
                leaks += [f"{service}.{table}: code {p.pattern!r}" for p in bare if p.search(value)]
        if url.startswith("sqlite") and service not in HANDSET_TABLES:
            raw = file_bytes(url)
            leaks += [f"{service} database file: {s!r}" for s in carried if s in raw]
            if service == IDENTITY:
                leaks += [f"{service} database file: code {p.pattern!r}" for p in bare if p.search(raw)]
    # The bus is a store too: identity's own email work items stay sealed on it, and
    # SMS commands leave their work queue once netsim took them.
    for stream, data in asyncio.run(stream_messages(platform.nats_url)):
        leaks += [f"stream {stream}: {s!r}" for s in carried if s in data]
    assert leaks == []
