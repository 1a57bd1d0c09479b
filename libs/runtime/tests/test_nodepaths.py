"""The node-path projection other services keep from accounts' events, in order and out of order."""

from __future__ import annotations

import sqlalchemy as sa

from simfleet.events.v1 import accounts_pb2 as ev
from simfleet_runtime.bus.consumer import Event
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database
from simfleet_runtime.nodepaths import CREATED, DELETED, MOVED, ProjectedNodePaths

from .conftest import NODE_PATHS

CUSTOMER = "01M80FS1VH2MZKYX1PNS53P8M2"
RENAMED = "simfleet.accounts.node.renamed"


def created(node: str, parent: str, path: str) -> Event:
    snapshot = ev.NodeSnapshot(node_id=node, customer_id=CUSTOMER, parent_id=parent, kind="department", path=path)
    return event(CREATED, ev.NodeCreated(node=snapshot).SerializeToString())


def moved(node: str, old: str, new: str) -> Event:
    return event(
        MOVED, ev.NodeMoved(node_id=node, customer_id=CUSTOMER, old_path=old, new_path=new).SerializeToString()
    )


def event(subject: str, data: bytes) -> Event:
    return Event(id=subject + str(len(data)), subject=subject, data=data, headers={}, tenant=CUSTOMER, deliveries=1)


async def apply(db: Database, projection: ProjectedNodePaths, *events: Event) -> None:
    handle = projection.handler()
    for e in events:
        async with db.transaction() as session:
            await handle(session, e)


async def test_created_moved_and_deleted_nodes_keep_their_paths(db: Database) -> None:
    projection = ProjectedNodePaths(db=db, table=NODE_PATHS, clock=Clock())
    await apply(
        db,
        projection,
        created("C", "", "/C/"),
        created("S", "C", "/C/S/"),
        created("N", "S", "/C/S/N/"),
        created("R", "C", "/C/R/"),
        event(RENAMED, ev.NodeRenamed(node_id="S", customer_id=CUSTOMER, name="Sales").SerializeToString()),
        moved("S", "/C/S/", "/C/R/S/"),
    )
    assert await projection.paths(CUSTOMER, ["S", "N", "R", "ghost"]) == {
        "S": ("C", "R", "S"),
        "N": ("C", "R", "S", "N"),
        "R": ("C", "R"),
    }
    assert await projection.paths("01ANOTHERCUSTOMER000000000", ["S"]) == {}
    async with db.sessions() as session:
        assert sorted(await projection.subtree(session, CUSTOMER, "R")) == ["N", "R", "S"]
    await apply(db, projection, event(DELETED, ev.NodeDeleted(node_id="N", customer_id=CUSTOMER).SerializeToString()))
    assert await projection.paths(CUSTOMER, ["N"]) == {}


async def test_a_child_created_after_its_parent_moved_follows_the_parent(db: Database) -> None:
    # The child's creation failed once and came back after the parent's move:
    # its snapshot still has the old path; the projection uses the parent's.
    projection = ProjectedNodePaths(db=db, table=NODE_PATHS, clock=Clock())
    await apply(
        db,
        projection,
        created("C", "", "/C/"),
        created("R", "C", "/C/R/"),
        created("S", "C", "/C/S/"),
        moved("S", "/C/S/", "/C/R/S/"),
        created("N", "S", "/C/S/N/"),
        created("N", "S", "/C/S/N/"),  # a redelivery changes nothing
    )
    assert (await projection.paths(CUSTOMER, ["N"]))["N"] == ("C", "R", "S", "N")


async def test_each_node_keeps_the_kind_it_was_created_with(db: Database) -> None:
    projection = ProjectedNodePaths(db=db, table=NODE_PATHS, clock=Clock())
    account = ev.NodeSnapshot(node_id="P", customer_id=CUSTOMER, parent_id="C", kind="personal_account", path="/C/P/")
    kindless = ev.NodeSnapshot(node_id="P", customer_id=CUSTOMER, parent_id="C", path="/C/P/")
    await apply(
        db,
        projection,
        created("C", "", "/C/"),
        event(CREATED, ev.NodeCreated(node=account).SerializeToString()),
        created("D", "C", "/C/D/"),
        created("E", "D", "/C/D/E/"),
        moved("E", "/C/D/E/", "/C/E/"),  # a move changes the path, not the kind
        # A snapshot without a kind (an older producer) tells nothing about it: the known kind stays.
        event(CREATED, ev.NodeCreated(node=kindless).SerializeToString()),
    )
    async with db.sessions() as session:
        rows = await session.execute(sa.select(NODE_PATHS.c.node_id, NODE_PATHS.c.kind))
        assert dict(rows.all()) == {
            "C": "department",
            "P": "personal_account",
            "D": "department",
            "E": "department",
        }
