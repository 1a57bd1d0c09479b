"""Saved filters of lines (AC-5): their owner's alone, checked when saved, capped, and the same fields a list takes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from inventory.lines.service import LineFilter
from inventory.saved_filters.grpc_api import SavedFilterApi
from inventory.saved_filters.service import MAX_PER_USER, NewFilter
from simfleet.inventory.v1 import lines_pb2, saved_filters_pb2
from simfleet_runtime.authz import Grant, grants_claim
from simfleet_runtime.context import CallContext, reset_current_call, set_current_call
from simfleet_runtime.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from simfleet_runtime.ids import new_id
from simfleet_runtime.testing import KeyRing

from .conftest import EVERYTHING, READER, Harness  # type: ignore[import-not-found]

OWNER = "01J00000000000000000000WNR"
OTHER = "01J00000000000000000000THR"


async def test_only_the_owner_lists_and_deletes_their_filters(harness: Harness) -> None:
    filters = harness.inventory.saved_filters
    owner = harness.access((harness.tree.root, READER), user_id=OWNER)
    colleague = harness.access((harness.tree.root, EVERYTHING), user_id=OTHER)
    north = await filters.create(owner, NewFilter("  North, blocked ", node_id=harness.tree.north, states=["blocked"]))
    vip = await filters.create(owner, NewFilter("VIP", label="vip", group="Drivers", tariff_code="BIZ-L"))
    assert north.name == "North, blocked"  # trimmed
    assert [f.name for f in await filters.list(owner)] == ["North, blocked", "VIP"]
    assert await filters.list(colleague) == []
    # Another user's filter, even a manager's over the whole company, is not found like one that never was.
    with pytest.raises(NotFound) as seen:
        await filters.delete(colleague, vip.id)
    assert seen.value.reason == "SAVED_FILTER_NOT_FOUND"
    # The same user id at another customer is another user.
    stranger = harness.access((harness.tree.root, EVERYTHING), user_id=OWNER, customer_id=new_id())
    assert await filters.list(stranger) == []
    with pytest.raises(NotFound):
        await filters.delete(stranger, vip.id)
    # A colleague may use the owner's names for their own.
    await filters.create(colleague, NewFilter("VIP"))

    await filters.delete(owner, vip.id)
    assert [f.id for f in await filters.list(owner)] == [north.id]
    with pytest.raises(NotFound):
        await filters.delete(owner, vip.id)
    with pytest.raises(NotFound):  # no id at all
        await filters.delete(owner, "not-an-id\x00")


@pytest.mark.parametrize(
    ("new", "field", "reason"),
    [
        (NewFilter(""), "name", "INVALID_NAME"),
        (NewFilter("   "), "name", "INVALID_NAME"),
        (NewFilter("x" * 101), "name", "INVALID_NAME"),
        (NewFilter("tab\there"), "name", "INVALID_NAME"),
        (NewFilter("evil\u202etxt.exe"), "name", "INVALID_NAME"),
        (NewFilter("states", states=["asleep"]), "states", "INVALID_STATE"),
        (NewFilter("label", label="x" * 65), "label", "INVALID_FILTER"),
        (NewFilter("group", group="x" * 101), "group", "INVALID_FILTER"),
        (NewFilter("tariff", tariff_code="T" * 65), "tariff_code", "INVALID_FILTER"),
        (NewFilter("label", label="a\x00b"), "label", "INVALID_FILTER"),
    ],
)
async def test_a_bad_filter_is_refused_with_its_field_and_nothing_is_saved(
    harness: Harness, new: NewFilter, field: str, reason: str
) -> None:
    owner = harness.access((harness.tree.root, READER), user_id=OWNER)
    with pytest.raises(InvalidArgument) as seen:
        await harness.inventory.saved_filters.create(owner, new)
    assert (seen.value.reason, list(seen.value.field_violations)) == (reason, [field])
    assert await harness.inventory.saved_filters.list(owner) == []


async def test_a_name_is_used_once_per_owner(harness: Harness) -> None:
    filters = harness.inventory.saved_filters
    owner = harness.access((harness.tree.root, READER), user_id=OWNER)
    first = await filters.create(owner, NewFilter("Drivers", label="drivers", states=["active", "active"]))
    assert first.states == ["active"]
    with pytest.raises(AlreadyExists) as seen:
        await filters.create(owner, NewFilter("Drivers ", group="Drivers"))
    assert (seen.value.reason, list(seen.value.field_violations)) == ("SAVED_FILTER_EXISTS", ["name"])
    [kept] = await filters.list(owner)
    assert (kept.label, kept.group_name) == ("drivers", "")


async def test_a_user_keeps_at_most_fifty(harness: Harness) -> None:
    filters = harness.inventory.saved_filters
    owner = harness.access((harness.tree.root, READER), user_id=OWNER)
    assert MAX_PER_USER == 50
    saved = [await filters.create(owner, NewFilter(f"Filter {n:02d}")) for n in range(MAX_PER_USER)]
    with pytest.raises(FailedPrecondition) as seen:
        await filters.create(owner, NewFilter("One too many"))
    assert (seen.value.reason, seen.value.metadata) == ("SAVED_FILTERS_LIMIT", {"limit": "50"})
    assert len(await filters.list(owner)) == MAX_PER_USER
    # Another user's count is their own; and a deleted filter makes room.
    await filters.create(harness.access((harness.tree.root, READER), user_id=OTHER), NewFilter("One too many"))
    await filters.delete(owner, saved[0].id)
    await filters.create(owner, NewFilter("One too many"))


async def test_the_node_must_be_in_scope_with_lines_read_when_saved(harness: Harness) -> None:
    filters, tree = harness.inventory.saved_filters, harness.tree
    south_reader = harness.access((tree.south, READER), user_id=OWNER)
    await filters.create(south_reader, NewFilter("South", node_id=tree.south_account))
    for node in (tree.north, tree.root, new_id(), "x" * 65):
        with pytest.raises(NotFound) as seen:
            await filters.create(south_reader, NewFilter(f"Elsewhere {node}"[:100], node_id=node))
        assert seen.value.reason == "NODE_NOT_FOUND"
    # Another customer's node is not found either.
    rival = harness.access((tree.root, READER), user_id=OWNER, customer_id=new_id())
    with pytest.raises(NotFound):
        await filters.create(rival, NewFilter("Theirs", node_id=tree.north))
    # Seen, but not a place where the caller reads lines: refused, as a list there would show nothing.
    manager_north = harness.access((tree.north, frozenset({"hierarchy:manage"})), (tree.south, READER), user_id=OTHER)
    with pytest.raises(PermissionDenied):
        await filters.create(manager_north, NewFilter("North", node_id=tree.north))
    assert [f.name for f in await filters.list(manager_north)] == []
    # Who reads lines nowhere keeps no filters at all.
    no_reader = harness.access((tree.root, frozenset({"users:read"})))
    for call in (
        filters.list(no_reader),
        filters.create(no_reader, NewFilter("Any")),
        filters.delete(no_reader, new_id()),
    ):
        with pytest.raises(PermissionDenied):
            await call
    # A node outside the scope is not found, whatever the caller holds; inside, without lines:read it is refused.
    south_clerk = harness.access((tree.south, frozenset({"users:read"})))
    with pytest.raises(NotFound):
        await filters.create(south_clerk, NewFilter("North", node_id=tree.north))
    with pytest.raises(PermissionDenied):
        await filters.create(south_clerk, NewFilter("South", node_id=tree.south))
    assert [f.name for f in await filters.list(south_reader)] == ["South"]


async def test_a_saved_filter_lists_the_lines_its_fields_select_within_the_users_scope(harness: Harness) -> None:
    tree, filters = harness.tree, harness.inventory.saved_filters
    north = await harness.add_lines(2, node=tree.north_account, labels=("drivers",))
    await harness.add_lines(2, node=tree.south_account, labels=("drivers",))
    await harness.add_lines(1, node=tree.north_account)
    owner = harness.access((tree.root, READER), user_id=OWNER)
    saved = await filters.create(owner, NewFilter("North drivers", node_id=tree.north, label="drivers"))
    flt = LineFilter(node_id=saved.node_id, states=saved.states, label=saved.label, group=saved.group_name)
    lines, _ = await harness.inventory.lines.find(owner, flt, page_size_=100, page_token="", order_by="")
    assert sorted(line.msisdn for line in lines) == sorted(north)
    # Used by someone whose scope no longer holds the node: the list's own check refuses it.
    narrowed = harness.access((tree.south, READER), user_id=OWNER)
    with pytest.raises(NotFound):
        await harness.inventory.lines.find(narrowed, flt, page_size_=100, page_token="", order_by="")


async def test_the_grpc_service_takes_the_users_own_token(harness: Harness, ring: KeyRing) -> None:
    api = SavedFilterApi(filters=harness.inventory.saved_filters, authorizer=harness.inventory.authorizer)

    async def call(method: str, request: Any, token: str) -> Any:
        context = set_current_call(CallContext(bearer_token=token))
        try:
            return await getattr(api, method)(request, None)
        finally:
            reset_current_call(context)

    token = ring.token(
        "k1", sub=OWNER, cid=harness.tree.customer, grants=grants_claim([Grant(harness.tree.root, READER, "viewer")])
    )
    with pytest.raises(Unauthenticated):
        await call("ListSavedFilters", saved_filters_pb2.ListSavedFiltersRequest(), "")
    given = saved_filters_pb2.SavedFilter(
        name="Blocked", states=[lines_pb2.LINE_STATE_BLOCKED, lines_pb2.LINE_STATE_READY], label="vip"
    )
    created = await call("CreateSavedFilter", saved_filters_pb2.CreateSavedFilterRequest(filter=given), token)
    assert (created.filter.name, list(created.filter.states), created.filter.label) == (
        "Blocked",
        [lines_pb2.LINE_STATE_BLOCKED, lines_pb2.LINE_STATE_READY],
        "vip",
    )
    listed = await call("ListSavedFilters", saved_filters_pb2.ListSavedFiltersRequest(), token)
    assert [f.id for f in listed.filters] == [created.filter.id]
    bad = saved_filters_pb2.SavedFilter(name="Unknown state", states=[lines_pb2.LINE_STATE_UNSPECIFIED])
    with pytest.raises(InvalidArgument):
        await call("CreateSavedFilter", saved_filters_pb2.CreateSavedFilterRequest(filter=bad), token)
    await call("DeleteSavedFilter", saved_filters_pb2.DeleteSavedFilterRequest(id=created.filter.id), token)
    assert not (await call("ListSavedFilters", saved_filters_pb2.ListSavedFiltersRequest(), token)).filters


async def test_saves_at_the_same_moment_never_pass_the_cap(harness: Harness) -> None:
    """On PostgreSQL these are real concurrent transactions on the pool's connections (on SQLite writers queue):
    each save counts the owner's filters, and without a lock two of them would both see room for one."""
    filters = harness.inventory.saved_filters
    owner = harness.access((harness.tree.root, READER), user_id=OWNER)
    for n in range(MAX_PER_USER - 3):
        await filters.create(owner, NewFilter(f"Filter {n:02d}"))

    async def save(n: int) -> str:
        try:
            await filters.create(owner, NewFilter(f"Racing {n:02d}"))
        except FailedPrecondition as refused:
            return refused.reason
        return "saved"

    outcomes = await asyncio.gather(*(save(n) for n in range(12)))
    assert sorted(outcomes) == ["SAVED_FILTERS_LIMIT"] * 9 + ["saved"] * 3
    assert len(await filters.list(owner)) == MAX_PER_USER
    # Another user's saves count against their own cap, whatever the owner's do at the same moment.
    other = harness.access((harness.tree.root, READER), user_id=OTHER)
    *refused, theirs = await asyncio.gather(save(12), save(13), filters.create(other, NewFilter("Racing 00")))
    assert refused == ["SAVED_FILTERS_LIMIT"] * 2
    assert [f.id for f in await filters.list(other)] == [theirs.id]  # type: ignore[union-attr]
