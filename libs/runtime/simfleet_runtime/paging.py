"""Cursor pagination, the same on every list of every service.

A list is ordered by one field the caller picks from the ones the list allows
(``"name"``, ``"-created_at"``: a leading ``-`` reverses) and then by id, which
makes the order total and stable. A page token is the last row's sort key and
the order it belongs to, url-safe base64 of JSON: the next page is the rows
after that key (keyset pagination), so rows added or removed meanwhile never
shift a page, and deep pages cost what the first one does. A token is opaque to
callers but not secret: what it holds is the caller's own data, and every query
still applies the caller's scope.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, literal, tuple_

from simfleet_runtime.errors import InvalidArgument

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def page_size(value: int | None, *, default: int = DEFAULT_PAGE_SIZE, maximum: int = MAX_PAGE_SIZE) -> int:
    """``None`` or 0 means ``default``; otherwise 1 to ``maximum``."""
    if not value:
        return default
    if not 1 <= value <= maximum:
        raise InvalidArgument(
            f"page_size must be between 1 and {maximum}",
            reason="INVALID_PAGE_SIZE",
            field_violations={"page_size": f"must be between 1 and {maximum}"},
        )
    return value


@dataclass(frozen=True, slots=True)
class Order:
    field: str
    descending: bool = False

    def __str__(self) -> str:
        return f"-{self.field}" if self.descending else self.field


def parse_order(value: str, *, allowed: Sequence[str], default: str) -> Order:
    text = (value or default).strip()
    descending = text.startswith("-")
    field = text.lstrip("-")
    if field not in allowed:
        raise InvalidArgument(
            f"order_by must be one of {', '.join(allowed)} (a leading '-' reverses)",
            reason="INVALID_ORDER",
            field_violations={"order_by": f"one of {', '.join(allowed)}"},
        )
    return Order(field, descending)


def _dump(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    return value


def _load(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"t"}:
        return datetime.fromisoformat(value["t"])
    return value


def encode_token(order: Order, key: Sequence[Any]) -> str:
    raw = json.dumps({"o": str(order), "k": [_dump(v) for v in key]}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_token(token: str, order: Order, *, size: int) -> list[Any] | None:
    """The sort key a page token continues after; None for no token."""
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        key = [_load(v) for v in data["k"]]
        same_order = data["o"] == str(order)
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise _bad_token() from exc
    if not same_order or len(key) != size:
        # A token from a list in another order cannot continue this one.
        raise _bad_token()
    return key


def _bad_token() -> InvalidArgument:
    return InvalidArgument(
        "the page token is not valid for this list",
        reason="INVALID_PAGE_TOKEN",
        field_violations={"page_token": "not a token of this list and order"},
    )


def keyset(
    query: Select[Any],
    columns: Sequence[Any],
    *,
    order: Order,
    after: Sequence[Any] | None,
    limit: int,
) -> Select[Any]:
    """``query`` ordered by ``columns`` (the sort field, then the id), after a key, one row more than a page.

    Fetching ``limit + 1`` rows tells whether a next page exists without counting.
    """
    if after is not None:
        row = tuple_(*columns)
        # Typed like the columns, so that a UTC datetime binds the way the column stores it.
        key = tuple_(*(literal(value, column.type) for value, column in zip(after, columns, strict=True)))
        query = query.where(row < key if order.descending else row > key)
    ordering = [c.desc() if order.descending else c.asc() for c in columns]
    return query.order_by(*ordering).limit(limit + 1)


def next_token(rows: Sequence[Any], *, order: Order, limit: int, key: Any) -> tuple[list[Any], str]:
    """The page (at most ``limit`` rows) and the token of the next one ('' on the last page)."""
    page = list(rows[:limit])
    if len(rows) <= limit:
        return page, ""
    return page, encode_token(order, key(page[-1]))


def in_memory(
    items: Sequence[T], *, key: Callable[[T], list[Any]], order: Order, limit: int, token: str
) -> tuple[list[T], str]:
    """The same pagination over a bounded list already in memory (``key``: the sort field's value, then the id)."""
    if not items:
        return [], ""
    after = decode_token(token, order, size=len(key(items[0])))
    ordered = sorted(items, key=key, reverse=order.descending)
    if after is not None:
        ordered = [i for i in ordered if (key(i) < after if order.descending else key(i) > after)]
    return next_token(ordered[: limit + 1], order=order, limit=limit, key=key)


__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "Order",
    "decode_token",
    "encode_token",
    "in_memory",
    "keyset",
    "next_token",
    "page_size",
    "parse_order",
]
