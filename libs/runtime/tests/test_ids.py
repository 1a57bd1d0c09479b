"""Identifiers: one ULID at a time, or a batch of them at once."""

from __future__ import annotations

from collections import Counter

from ulid import ULID

from simfleet_runtime.ids import is_id, new_id, new_ids


def test_a_batch_of_ids_is_distinct_sorted_ulids_of_now() -> None:
    one = ULID.from_str(new_id())
    batch = new_ids(70_000)  # more than one 15-bit half of the counter
    assert len(set(batch)) == 70_000 and batch == sorted(batch)
    assert all(is_id(i) and str(ULID.from_str(i)) == i for i in batch[::997])
    assert abs(ULID.from_str(batch[0]).timestamp - one.timestamp) < 5
    assert new_ids(2)[0][:10] >= batch[-1][:10]  # later batches sort after (same millisecond or later)
    assert new_ids(0) == []


def test_one_id_is_a_ulid_of_now_with_its_random_part_drawn_each_time() -> None:
    before = ULID()
    ids = [new_id() for _ in range(2_000)]
    after = ULID()
    assert len(set(ids)) == 2_000
    for i in ids[::97]:
        parsed = ULID.from_str(i)
        assert str(parsed) == i and is_id(i) and len(i) == 26
        assert before.milliseconds <= parsed.milliseconds <= after.milliseconds
    # the 80 random bits vary from one millisecond to the next, not only the low ones
    assert len({ULID.from_str(i).bytes[6:9] for i in ids}) > 1
    assert len({ULID.from_str(i).milliseconds for i in ids}) == len({ULID.from_str(i).bytes[6:9] for i in ids})


def test_ids_sort_in_the_order_they_were_made_even_within_a_millisecond() -> None:
    ids = [new_id() for _ in range(20_000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    # 20,000 ids take a few milliseconds: many share one, and still count up
    assert max(Counter(i[:10] for i in ids).values()) > 1
