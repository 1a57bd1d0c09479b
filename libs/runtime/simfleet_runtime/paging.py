"""Cursor pagination, the same on every list of every service.

A list is ordered by one field the caller picks from the ones the list allows
(``"name"``, ``"-created_at"``: a leading ``-`` reverses) and then by id, which
makes the order total and stable. A page token holds the last row's sort key:
the next page is the rows after that key (keyset pagination), so rows added or
removed meanwhile never shift a page, and deep pages cost what the first one
does. Every query still applies the caller's scope.

Tokens are opaque and tamper-evident: url-safe base64 of the key (JSON), a dot,
and an HMAC-SHA256 over the list's name, the order and the key, made with the
service's page-token key (``<SERVICE>_PAGE_TOKEN_SECRET``; every replica of a
service has the same one, so a token from one replica continues on another). A
token that was altered, made with another key, or made for another list or
order is refused with ``INVALID_PAGE_TOKEN`` on the field ``page_token``, and so
is a key whose values do not have the types of the columns they continue:
nothing a caller sends as a token reaches SQL unchecked.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import BigInteger, Integer, Select, SmallInteger, bindparam, literal, tuple_

from simfleet_runtime.errors import InvalidArgument

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

LOCAL_PAGE_TOKEN_SECRET = "simfleet-local-page-tokens"
"""The key when a service is given none (a laptop, the tests); the charts pass a real one from a Secret."""

MAX_TOKEN_LENGTH = 4096
"""Longer than any token a service makes; longer ones are refused before they are decoded."""


def page_size(
    value: int | None, *, default: int = DEFAULT_PAGE_SIZE, maximum: int = MAX_PAGE_SIZE, field: str = "page_size"
) -> int:
    """``None`` or 0 means ``default``; otherwise 1 to ``maximum``.

    ``field`` is the request's name for it: a refusal names that field, with the
    reason ``INVALID_<FIELD>`` (``INVALID_PAGE_SIZE``; ``INVALID_LIMIT`` for a
    list that takes a ``limit`` and has no further pages).
    """
    if not value:
        return default
    if not 1 <= value <= maximum:
        raise InvalidArgument(
            f"{field} must be between 1 and {maximum}",
            reason=f"INVALID_{field.upper()}",
            field_violations={field: f"must be between 1 and {maximum}"},
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
        if not isinstance(value["t"], str):
            raise TypeError("not a timestamp")
        return datetime.fromisoformat(value["t"])
    return value


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    """Strict: only the url-safe alphabet, and only the one spelling :func:`_b64` makes."""
    data = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    if _b64(data) != text:
        raise ValueError("not the canonical spelling")
    return data


class PageTokens:
    """Makes and checks page tokens with one key (a service's ``page_token_secret``)."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("the page-token secret must not be empty")
        # A key of its own, derived from the secret: the secret is never used for anything else as is.
        self._key = hmac.new(secret.encode(), b"simfleet page tokens", hashlib.sha256).digest()

    def _mac(self, list_name: str, order: Order, payload: bytes) -> bytes:
        # The list and the order are signed but not carried: a token made for another one does not verify.
        signed = b"\x00".join((list_name.encode(), str(order).encode(), payload))
        return hmac.new(self._key, signed, hashlib.sha256).digest()

    def encode(self, order: Order, key: Sequence[Any], *, list_name: str) -> str:
        # UTF-8, not \u escapes: a name in Cyrillic makes a token a third as long.
        payload = json.dumps([_dump(v) for v in key], separators=(",", ":"), ensure_ascii=False).encode()
        return f"{_b64(payload)}.{_b64(self._mac(list_name, order, payload))}"

    def decode(self, token: str, order: Order, *, list_name: str, size: int | None) -> list[Any]:
        """The key a token of ``list_name`` in ``order`` holds (``size`` values; None: any number)."""
        if len(token) > MAX_TOKEN_LENGTH:
            raise bad_token()
        body, dot, signature = token.partition(".")
        try:
            payload, mac = _unb64(body), _unb64(signature)
        except (ValueError, binascii.Error) as exc:
            raise bad_token() from exc
        if not dot or not hmac.compare_digest(mac, self._mac(list_name, order, payload)):
            raise bad_token()
        try:
            data = json.loads(payload)
            if not isinstance(data, list) or (size is not None and len(data) != size):
                raise bad_token()
            return [_load(v) for v in data]
        except (ValueError, TypeError, RecursionError) as exc:
            raise bad_token() from exc


class _Process:
    """The page-token key of this process: the local one until the service runtime sets the service's."""

    tokens = PageTokens(LOCAL_PAGE_TOKEN_SECRET)


def use_secret(secret: str) -> None:
    """Make and check this process's page tokens with ``secret`` (the service runtime does it at start)."""
    _Process.tokens = PageTokens(secret)


def encode_token(order: Order, key: Sequence[Any], *, list_name: str) -> str:
    return _Process.tokens.encode(order, key, list_name=list_name)


def decode_token(token: str, order: Order, *, list_name: str, size: int | None) -> list[Any] | None:
    """The sort key a page token of ``list_name`` continues after; None for no token."""
    if not token:
        return None
    return _Process.tokens.decode(token, order, list_name=list_name, size=size)


def bad_token() -> InvalidArgument:
    return InvalidArgument(
        "the page token is not valid for this list",
        reason="INVALID_PAGE_TOKEN",
        field_violations={"page_token": "not a token of this list and order"},
    )


_INTEGER_BITS = ((BigInteger, 64), (SmallInteger, 16), (Integer, 32))


def _fits(value: Any, column: Any) -> bool:
    """Whether a token's value binds like the column's own values (a defence in depth behind the signature)."""
    impl = getattr(column.type, "impl", column.type)  # a TypeDecorator (UtcDateTime) binds as what it wraps
    try:
        expected: type = impl.python_type
    except NotImplementedError:
        expected = object
    if isinstance(value, bool) or value is None:
        return expected is bool and isinstance(value, bool)
    if expected is str:
        return isinstance(value, str) and "\x00" not in value
    if expected is int:
        bits = next((n for kind, n in _INTEGER_BITS if isinstance(impl, kind)), 64)
        return isinstance(value, int) and -(2 ** (bits - 1)) <= value < 2 ** (bits - 1)
    if expected is datetime:
        aware = bool(getattr(impl, "timezone", False))
        return isinstance(value, datetime) and (value.tzinfo is not None) == aware
    if expected is object:
        return isinstance(value, str | int)
    return isinstance(value, expected)


def _same_kind(value: Any, sample: Any) -> bool:
    """Whether a token's value compares with the values of an in-memory list like ``sample``."""
    if isinstance(sample, bool) or isinstance(value, bool):
        return isinstance(sample, bool) and isinstance(value, bool)
    if isinstance(sample, datetime):
        return isinstance(value, datetime) and (value.tzinfo is None) == (sample.tzinfo is None)
    for kind in (str, int, float):
        if isinstance(sample, kind):
            return isinstance(value, kind)
    return type(value) is type(sample)


def check_after(after: Sequence[Any], columns: Sequence[Any]) -> None:
    """Refuse a token's key that does not bind like ``columns`` (their number, their types)."""
    if len(after) != len(columns) or not all(_fits(v, c) for v, c in zip(after, columns, strict=True)):
        raise bad_token()


def keyset_statement(
    query: Select[Any], columns: Sequence[Any], *, order: Order, after: bool, limit: str = "limit"
) -> Select[Any]:
    """:func:`keyset` built once, for a direct read: the key bound as ``after_0``, ``after_1``... (typed like
    its columns; check it with :func:`check_after`), and the row count (a page and one more) as ``limit``."""
    if after:
        row = tuple_(*columns)
        key = tuple_(*(bindparam(f"after_{i}", type_=column.type) for i, column in enumerate(columns)))
        query = query.where(row < key if order.descending else row > key)
    ordering = [c.desc() if order.descending else c.asc() for c in columns]
    return query.order_by(*ordering).limit(bindparam(limit, type_=Integer))


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
        check_after(after, columns)
        row = tuple_(*columns)
        # Typed like the columns, so that a UTC datetime binds the way the column stores it.
        key = tuple_(*(literal(value, column.type) for value, column in zip(after, columns, strict=True)))
        query = query.where(row < key if order.descending else row > key)
    ordering = [c.desc() if order.descending else c.asc() for c in columns]
    return query.order_by(*ordering).limit(limit + 1)


def next_token(rows: Sequence[Any], *, order: Order, limit: int, key: Any, list_name: str) -> tuple[list[Any], str]:
    """The page (at most ``limit`` rows) and the token of the next one ('' on the last page)."""
    page = list(rows[:limit])
    if len(rows) <= limit:
        return page, ""
    return page, encode_token(order, key(page[-1]), list_name=list_name)


def in_memory(
    items: Sequence[T], *, key: Callable[[T], list[Any]], order: Order, limit: int, token: str, list_name: str
) -> tuple[list[T], str]:
    """The same pagination over a bounded list already in memory (``key``: the sort field's value, then the id)."""
    sample = key(items[0]) if items else None
    # Checked even when the list is empty: a forged token is refused whatever the list holds now.
    after = decode_token(token, order, list_name=list_name, size=None if sample is None else len(sample))
    if sample is None:
        return [], ""
    if after is not None and not all(_same_kind(v, s) for v, s in zip(after, sample, strict=True)):
        raise bad_token()
    ordered = sorted(items, key=key, reverse=order.descending)
    if after is not None:
        ordered = [i for i in ordered if (key(i) < after if order.descending else key(i) > after)]
    return next_token(ordered[: limit + 1], order=order, limit=limit, key=key, list_name=list_name)


__all__ = [
    "DEFAULT_PAGE_SIZE",
    "LOCAL_PAGE_TOKEN_SECRET",
    "MAX_PAGE_SIZE",
    "Order",
    "PageTokens",
    "bad_token",
    "check_after",
    "decode_token",
    "encode_token",
    "in_memory",
    "keyset",
    "keyset_statement",
    "next_token",
    "page_size",
    "parse_order",
    "use_secret",
]
