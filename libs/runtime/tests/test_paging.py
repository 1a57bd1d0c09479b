"""Page tokens: signed, bound to their list and order, refused when forged or wrongly typed; pages walk once."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from simfleet_runtime import paging
from simfleet_runtime.db import Database
from simfleet_runtime.errors import InvalidArgument

NAME = paging.Order("name")
NEWEST = paging.Order("created_at", descending=True)
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def local_key() -> Iterator[None]:
    """Each test starts and ends with the local key (tests that set another one do not leak it)."""
    paging.use_secret(paging.LOCAL_PAGE_TOKEN_SECRET)
    yield
    paging.use_secret(paging.LOCAL_PAGE_TOKEN_SECRET)


def refused(call: Any) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as caught:
        call()
    assert caught.value.reason == "INVALID_PAGE_TOKEN"
    assert set(caught.value.field_violations) == {"page_token"}
    return caught.value


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def walk(items: list[tuple[str, int]], order: str, limit: int) -> list[tuple[str, int]]:
    parsed = paging.parse_order(order, allowed=("name",), default="name")
    seen: list[tuple[str, int]] = []
    token = ""
    while True:
        page, token = paging.in_memory(
            items, key=lambda i: [i[0], i[1]], order=parsed, limit=limit, token=token, list_name="things"
        )
        assert len(page) <= limit
        seen.extend(page)
        if not token:
            return seen


def test_in_memory_pages_cover_the_list_once_in_order() -> None:
    items = [(name, n) for n, name in enumerate(["delta", "alpha", "charlie", "bravo", "alpha", "echo"])]
    assert walk(items, "name", 2) == sorted(items)
    assert walk(items, "-name", 4) == sorted(items, reverse=True)
    assert walk([], "name", 3) == []


def test_a_token_gives_back_its_key_in_its_list_and_order_only() -> None:
    token = paging.encode_token(NEWEST, [T0, "01H"], list_name="users")
    assert paging.decode_token(token, NEWEST, list_name="users", size=2) == [T0, "01H"]
    assert paging.decode_token("", NEWEST, list_name="users", size=2) is None
    refused(lambda: paging.decode_token(token, paging.Order("created_at"), list_name="users", size=2))
    refused(lambda: paging.decode_token(token, NEWEST, list_name="operations", size=2))
    refused(lambda: paging.decode_token(token, NEWEST, list_name="users", size=1))


def test_a_long_name_in_any_script_makes_a_token_the_gateway_takes() -> None:
    name = "Торговый дом «Северный ветер» " * 10  # 300 characters, a customer's longest name
    token = paging.encode_token(NAME, [name, "01M80FS1VH2MZKYX1PNS53P8M2"], list_name="customers")
    assert len(token) <= 1024  # the gateway's limit on ?cursor=
    assert paging.decode_token(token, NAME, list_name="customers", size=2) == [name, "01M80FS1VH2MZKYX1PNS53P8M2"]


def test_replicas_sharing_the_secret_read_each_others_tokens_and_no_other_key_does() -> None:
    one, other_replica = paging.PageTokens("shared-secret"), paging.PageTokens("shared-secret")
    token = one.encode(NAME, ["alpha", "01H"], list_name="nodes")
    assert other_replica.decode(token, NAME, list_name="nodes", size=2) == ["alpha", "01H"]
    refused(lambda: paging.PageTokens("another-secret").decode(token, NAME, list_name="nodes", size=2))
    paging.use_secret("shared-secret")
    assert paging.decode_token(token, NAME, list_name="nodes", size=2) == ["alpha", "01H"]
    paging.use_secret("rotated")
    refused(lambda: paging.decode_token(token, NAME, list_name="nodes", size=2))
    with pytest.raises(ValueError, match="empty"):
        paging.PageTokens("")


def tampered(token: str) -> list[str]:
    body, _, mac = token.partition(".")
    key = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    flipped = chr(ord(body[3]) ^ 1)
    return [
        "%%%",
        "garbage",
        "a.b.c",
        token[:-1],
        token[:10],
        body,
        f"{body}.",
        f".{mac}",
        f"{body[:3]}{flipped}{body[4:]}.{mac}",
        f"{body}.{mac[:-2]}AA",
        f"{b64(json.dumps([1, 2]).encode())}.{mac}",
        f"{b64(json.dumps(key).encode())}={'.'}{mac}",
        token + "=",
        " " + token,
        token.replace("-", "+").replace("_", "/"),
        # What tokens were before they were signed: base64 of JSON, now refused.
        b64(json.dumps({"o": "name", "k": ["alpha", "01H"]}).encode()),
        "A" * (paging.MAX_TOKEN_LENGTH + 1),
    ]


def test_an_altered_or_unsigned_token_is_refused() -> None:
    token = paging.encode_token(NAME, ["alpha-longer-name", "01H"], list_name="nodes")
    for bad in tampered(token):
        if bad != token:
            refused(lambda bad=bad: paging.decode_token(bad, NAME, list_name="nodes", size=2))


@pytest.mark.parametrize(
    "key",
    [
        ["2026-03-01T12:00:00+00:00", "01H"],  # a string where a timestamp goes
        [{"t": "2026-03-01T12:00:00"}, "01H"],  # a timestamp without its zone
        [{"t": 5}, "01H"],
        [{"t": "yesterday"}, "01H"],
        [{"x": 1}, "01H"],
        [1_700_000_000, "01H"],
        [True, "01H"],
        [None, "01H"],
        [[1, [2, [3]]], "01H"],
        [{"t": "2026-03-01T12:00:00+00:00"}, 42],  # a number where the id goes
        [{"t": "2026-03-01T12:00:00+00:00"}, 10**40],
        [{"t": "2026-03-01T12:00:00+00:00"}, "01H\x00"],
        [{"t": "2026-03-01T12:00:00+00:00"}, ["01H"]],
        [{"t": "2026-03-01T12:00:00+00:00"}, 1.5],
    ],
)
def test_a_signed_key_of_the_wrong_types_never_reaches_sql(notes: sa.Table, key: list[Any]) -> None:
    """Even a token made with the service's own key (a leaked key) must carry values the columns take."""
    token = paging.PageTokens(paging.LOCAL_PAGE_TOKEN_SECRET).encode(NEWEST, key, list_name="notes")

    def page() -> Any:
        after = paging.decode_token(token, NEWEST, list_name="notes", size=2)
        return paging.keyset(sa.select(notes), [notes.c.created_at, notes.c.id], order=NEWEST, after=after, limit=10)

    refused(page)


def test_integer_keys_must_fit_their_column() -> None:
    table = sa.Table(
        "rt_positions",
        sa.MetaData(),
        sa.Column("position", sa.Integer),
        sa.Column("big", sa.BigInteger),
    )
    query = sa.select(table)
    by_position = paging.Order("position")
    assert paging.keyset(query, [table.c.position], order=by_position, after=[2**31 - 1], limit=5) is not None
    assert paging.keyset(query, [table.c.big], order=by_position, after=[2**63 - 1], limit=5) is not None
    for after, column in (([2**31], table.c.position), ([2**63], table.c.big), (["7"], table.c.position)):
        refused(lambda a=after, c=column: paging.keyset(query, [c], order=by_position, after=a, limit=5))
    refused(lambda: paging.keyset(query, [table.c.position, table.c.big], order=by_position, after=[1], limit=5))


def test_in_memory_lists_refuse_keys_of_other_types_and_forged_tokens_on_empty_lists() -> None:
    rows = [(T0 + timedelta(minutes=n), f"id{n}") for n in range(5)]

    def page(token: str, items: list[tuple[datetime, str]] = rows) -> tuple[list[Any], str]:
        return paging.in_memory(
            items, key=lambda r: [r[0], r[1]], order=NEWEST, limit=2, token=token, list_name="grants"
        )

    first, token = page("")
    assert first == [rows[4], rows[3]]
    assert page(token)[0] == [rows[2], rows[1]]
    for wrong in (["2026-03-01", "id1"], [T0.replace(tzinfo=None), "id1"], [T0, 7], [T0, ["id1"]]):
        forged = paging.encode_token(NEWEST, wrong, list_name="grants")
        refused(lambda forged=forged: page(forged))
    refused(lambda: page("forged", []))
    assert page(token, []) == ([], "")


async def test_keyset_pages_walk_a_table_once_newest_first(db: Database, notes: sa.Table) -> None:
    async with db.transaction() as session:
        for n in range(7):
            # Two notes share each timestamp: the id breaks the tie.
            await session.execute(notes.insert().values(id=f"n{n}", text="x", created_at=T0 + timedelta(hours=n // 2)))
    seen: list[str] = []
    token = ""
    while True:
        after = paging.decode_token(token, NEWEST, list_name="notes", size=2)
        query = paging.keyset(sa.select(notes), [notes.c.created_at, notes.c.id], order=NEWEST, after=after, limit=3)
        async with db.sessions() as session:
            rows = list((await session.execute(query)).all())
        page, token = paging.next_token(
            rows, order=NEWEST, limit=3, key=lambda r: [r.created_at, r.id], list_name="notes"
        )
        seen.extend(r.id for r in page)
        if not token:
            break
    assert seen == ["n6", "n5", "n4", "n3", "n2", "n1", "n0"]


async def test_a_database_error_shows_no_bound_values(db: Database, notes: sa.Table) -> None:
    """The engine hides parameters: an error's text (what a log line or a trace would carry) names the SQL only."""
    secret = "s3cret-bound-value-7f"
    async with db.transaction() as session:
        await session.execute(notes.insert().values(id="dup", text=secret, created_at=T0))
    with pytest.raises(sa.exc.IntegrityError) as caught:
        async with db.transaction() as session:
            await session.execute(notes.insert().values(id="dup", text=secret, created_at=T0))
    assert "INSERT INTO rt_notes" in str(caught.value)
    assert secret not in str(caught.value)
    assert "hidden" in str(caught.value)


def test_other_checks_keep_their_reasons() -> None:
    with pytest.raises(InvalidArgument) as order:
        paging.parse_order("secret", allowed=("name",), default="name")
    assert order.value.reason == "INVALID_ORDER"
    with pytest.raises(InvalidArgument) as size:
        paging.page_size(1001)
    assert size.value.reason == "INVALID_PAGE_SIZE"
    assert paging.page_size(0) == paging.DEFAULT_PAGE_SIZE
