"""Fingerprints of requests kept with their idempotency keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from simfleet_runtime.errors import InvalidArgument
from simfleet_runtime.idempotency import FINGERPRINT_LENGTH, check_same_request, checked_key, fingerprint


@dataclass(frozen=True)
class Order:
    node: str
    quantity: int
    at: datetime | None = None


def test_the_same_content_in_any_key_order_has_one_fingerprint() -> None:
    one = fingerprint("CreateOperation", {"type": "block", "params": {"a": "1", "b": "2"}})
    other = fingerprint("CreateOperation", {"params": {"b": "2", "a": "1"}, "type": "block"})
    assert one == other and len(one) == FINGERPRINT_LENGTH


def test_the_call_the_content_and_the_rows_each_count() -> None:
    base = fingerprint("CreateOperation", Order("n1", 2), ["+79990000101", "+79990000102"])
    assert base == fingerprint("CreateOperation", Order("n1", 2), iter(["+79990000101", "+79990000102"]))
    assert base != fingerprint("OrderSims", Order("n1", 2), ["+79990000101", "+79990000102"])
    assert base != fingerprint("CreateOperation", Order("n1", 3), ["+79990000101", "+79990000102"])
    assert base != fingerprint("CreateOperation", Order("n1", 2), ["+79990000102", "+79990000101"])
    assert base != fingerprint("CreateOperation", Order("n1", 2), ["+79990000101"])
    at = datetime(2026, 2, 1, 3, tzinfo=UTC)
    assert fingerprint("C", Order("n1", 2, at)) == fingerprint("C", Order("n1", 2, at))
    assert fingerprint("C", Order("n1", 2, at)) != fingerprint("C", Order("n1", 2))


def test_another_request_under_a_used_key_is_refused_naming_the_field() -> None:
    stored = fingerprint("CreateUser", {"phone": "+79990000001"})
    check_same_request(stored, stored, field="request_id")
    check_same_request(None, stored, field="request_id")  # remembered before fingerprints: replayed
    with pytest.raises(InvalidArgument) as refused:
        check_same_request(stored, fingerprint("CreateUser", {"phone": "+79990000002"}), field="request_id")
    assert refused.value.reason == "IDEMPOTENCY_KEY_REUSED"
    assert list(refused.value.field_violations) == ["request_id"]


def test_a_key_is_kept_trimmed_and_anything_unprintable_or_too_long_is_refused() -> None:
    assert checked_key("  k-1  ", maximum=10) == "k-1"
    assert checked_key("", maximum=10) == ""
    for bad in ("k\x00", "k\n1", "x" * 11):
        with pytest.raises(InvalidArgument) as refused:
            checked_key(bad, maximum=10)
        assert (refused.value.reason, list(refused.value.field_violations)) == (
            "INVALID_IDEMPOTENCY_KEY",
            ["idempotency_key"],
        )
