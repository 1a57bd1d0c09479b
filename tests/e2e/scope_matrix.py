"""The scope matrix as data (OWASP API1, API5): which answer each endpoint owes each caller.

A row is an endpoint called on one object: a node, or a user with a grant at a
node. The object lies inside the caller's scope, outside it, or at another
customer. The expected answer follows from the row:

* outside the scope, or another customer's: 404, exactly as for nothing at all;
* inside, where the row's object is only visible with certain permissions
  (users are visible to those who may read users) and the caller holds none of
  them there: 404 too;
* inside, without the permission the row needs there: 403;
* otherwise the row's success status.

Later services add their rows (lines, operations, tickets...) to ``ROWS``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Place = Literal["inside", "outside", "other customer"]


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    path: str
    """With ``{node}`` (the object's node), ``{user}`` (user rows) and ``{line}`` (line rows: its number) filled in."""
    success: int
    obj: Literal["node", "user", "line"] = "node"
    permission: str | None = None
    visible_with: frozenset[str] = field(default_factory=frozenset)
    """Permissions one of which makes the object visible at all (empty: any grant over it)."""
    body: dict[str, Any] | None = None

    def expected(self, held: frozenset[str] | None) -> int:
        """The status owed to a caller holding ``held`` at the object's node (None: not in their scope)."""
        if held is None or (self.visible_with and not held & self.visible_with):
            return 404
        if self.permission is not None and self.permission not in held:
            return 403
        return self.success


USERS_VISIBLE = frozenset({"users:read", "users:manage"})

ROWS: list[Row] = [
    Row("read a node", "GET", "/v1/nodes/{node}", 200),
    Row("read a node's summary", "GET", "/v1/nodes/{node}/summary", 200),
    Row("list a node's children", "GET", "/v1/nodes/{node}/children", 200),
    Row("rename a node", "PATCH", "/v1/nodes/{node}", 200, permission="hierarchy:manage", body={"name": "Renamed"}),
    Row(
        "create a node under it",
        "POST",
        "/v1/nodes",
        201,
        permission="hierarchy:manage",
        body={"parent_id": "{node}", "name": "Child", "kind": "city"},
    ),
    Row("delete a node", "DELETE", "/v1/nodes/{node}", 204, permission="hierarchy:manage"),
    Row("read a node's history", "GET", "/v1/audit-events?node_id={node}", 200, permission="audit:read"),
    Row("list a node's users", "GET", "/v1/users?node_id={node}", 200, permission="users:read"),
    Row("read a user", "GET", "/v1/users/{user}", 200, obj="user", visible_with=USERS_VISIBLE),
    Row(
        "give a user a grant",
        "POST",
        "/v1/users/{user}/grants",
        201,
        obj="user",
        visible_with=USERS_VISIBLE,
        permission="users:manage",
        body={"role": "coordinator_assistant", "node_id": "{node}"},
    ),
    Row(
        "disable a user",
        "POST",
        "/v1/users/{user}/disable",
        200,
        obj="user",
        visible_with=USERS_VISIBLE,
        permission="users:manage",
    ),
    Row("list a node's lines", "GET", "/v1/lines?node_id={node}", 200),
    Row("read a line", "GET", "/v1/lines/{line}", 200, obj="line", permission="lines:read"),
    Row("read a line's PUK codes", "GET", "/v1/lines/{line}/puk", 200, obj="line", permission="lines:read-puk"),
    Row(
        "block a node's lines",
        "POST",
        "/v1/operations",
        202,
        permission="lines:block",
        body={"type": "block", "selection": {"node_id": "{node}"}, "params": {"block_type": "voluntary"}},
    ),
]
