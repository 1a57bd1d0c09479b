"""Page tokens: bound to their order, rejected when forged; in-memory pages walk a list exactly once."""

from __future__ import annotations

import pytest

from simfleet_runtime import paging
from simfleet_runtime.errors import InvalidArgument


def walk(items: list[tuple[str, int]], order: str, limit: int) -> list[tuple[str, int]]:
    parsed = paging.parse_order(order, allowed=("name",), default="name")
    seen: list[tuple[str, int]] = []
    token = ""
    while True:
        page, token = paging.in_memory(items, key=lambda i: [i[0], i[1]], order=parsed, limit=limit, token=token)
        assert len(page) <= limit
        seen.extend(page)
        if not token:
            return seen


def test_in_memory_pages_cover_the_list_once_in_order() -> None:
    items = [(name, n) for n, name in enumerate(["delta", "alpha", "charlie", "bravo", "alpha", "echo"])]
    assert walk(items, "name", 2) == sorted(items)
    assert walk(items, "-name", 4) == sorted(items, reverse=True)
    assert walk([], "name", 3) == []


def test_tokens_belong_to_one_order() -> None:
    name = paging.parse_order("name", allowed=("name", "created_at"), default="name")
    token = paging.encode_token(name, ["alpha", "01H"])
    assert paging.decode_token(token, name, size=2) == ["alpha", "01H"]
    other = paging.parse_order("-name", allowed=("name", "created_at"), default="name")
    for bad in (lambda: paging.decode_token(token, other, size=2), lambda: paging.decode_token("%%%", name, size=2)):
        with pytest.raises(InvalidArgument) as refused:
            bad()
        assert refused.value.reason == "INVALID_PAGE_TOKEN"
    with pytest.raises(InvalidArgument):
        paging.parse_order("secret", allowed=("name",), default="name")
    with pytest.raises(InvalidArgument):
        paging.page_size(1001)
    assert paging.page_size(0) == paging.DEFAULT_PAGE_SIZE
