"""Bodies of /v1/nodes: the customer's hierarchy as frontends see it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from gateway.text import HumanText
from simfleet.accounts.v1 import hierarchy_pb2 as pb

NodeKind = Literal["company", "general_account", "business_account", "personal_account", "department", "branch", "city"]
CustomerKind = Literal["department", "branch", "city"]
NodeName = Annotated[str, Field(min_length=1, max_length=200, examples=["Sales"]), HumanText]
NodeId = Annotated[str, Field(min_length=26, max_length=26, pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$")]

KINDS: dict[str, int] = {
    "company": pb.NODE_KIND_COMPANY,
    "general_account": pb.NODE_KIND_GENERAL_ACCOUNT,
    "business_account": pb.NODE_KIND_BUSINESS_ACCOUNT,
    "personal_account": pb.NODE_KIND_PERSONAL_ACCOUNT,
    "department": pb.NODE_KIND_DEPARTMENT,
    "branch": pb.NODE_KIND_BRANCH,
    "city": pb.NODE_KIND_CITY,
}
KIND_NAMES = {value: name for name, value in KINDS.items()}

_NODE_EXAMPLE: dict[str, JsonValue] = {
    "id": "01JA0Z6X3W8T9R2Q1P0N5M4K7B",
    "parent_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7A",
    "kind": "department",
    "name": "Sales",
    "path": "/01JA0Z6X3W8T9R2Q1P0N5M4K7A/01JA0Z6X3W8T9R2Q1P0N5M4K7B/",
    "depth": 1,
    "account_number": None,
    "created_at": "2026-01-15T09:30:00Z",
    "updated_at": "2026-01-15T09:30:00Z",
}


class NodeResponse(BaseModel):
    """A node of the customer's hierarchy."""

    model_config = ConfigDict(json_schema_extra={"examples": [_NODE_EXAMPLE]})

    id: str
    parent_id: str | None = Field(description="null for the company, the root")
    kind: NodeKind
    name: str
    path: str = Field(description="the ids from the company down to this node")
    depth: int = Field(description="0 for the company")
    account_number: str | None = Field(description="for accounts; null for other nodes")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_proto(cls, node: pb.Node) -> NodeResponse:
        return cls(
            id=node.id,
            parent_id=node.parent_id or None,
            kind=KIND_NAMES.get(node.kind, "department"),
            name=node.name,
            path=node.path,
            depth=node.depth,
            account_number=node.account_number or None,
            created_at=node.created_at.ToDatetime(tzinfo=UTC),
            updated_at=node.updated_at.ToDatetime(tzinfo=UTC),
        )


class TreeNode(NodeResponse):
    """A node with the nodes below it (``view=tree``)."""

    children: list[TreeNode] = Field(default_factory=list)


class NodesPage(BaseModel):
    """A page of nodes, flat (each with its parent_id) or as trees (``view=tree``: one per scope root)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_NODE_EXAMPLE], "next_cursor": "eyJvIjoicGF0aCIsImsiOlsiLi4uIl19"}]}
    )

    items: list[NodeResponse] | list[TreeNode]
    next_cursor: str | None = Field(description="pass as cursor for the next page; null on the last")


class CreateNodeRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"parent_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7A", "name": "Sales", "kind": "department"}]
        },
    )

    parent_id: NodeId
    name: NodeName
    kind: CustomerKind = "department"


class RenameNodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "Sales and marketing"}]})

    name: NodeName


class MoveNodeRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"parent_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7C"}]}
    )

    parent_id: NodeId = Field(description="the new parent: the company or a department, branch or city")


class MovedNode(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"node": _NODE_EXAMPLE, "moved_nodes": 3}]})

    node: NodeResponse
    moved_nodes: int = Field(description="the node and everything below it")


class Figure(BaseModel):
    name: str = Field(examples=["lines.active"])
    unit: str = Field(description='"lines", or a currency for money in minor units', examples=["lines"])
    own: int = Field(description="at the node itself")
    subtree: int = Field(description="at the node and everything below it")
    updated_at: datetime | None


class NodeSummary(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "node_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7B",
                    "descendants": 4,
                    "figures": [
                        {
                            "name": "lines.active",
                            "unit": "lines",
                            "own": 12,
                            "subtree": 140,
                            "updated_at": "2026-01-15T09:30:00Z",
                        }
                    ],
                }
            ]
        }
    )

    node_id: str
    descendants: int = Field(description="nodes below this one")
    figures: list[Figure]

    @classmethod
    def from_proto(cls, answer: pb.GetNodeSummaryResponse) -> NodeSummary:
        return cls(
            node_id=answer.node_id,
            descendants=answer.descendants,
            figures=[
                Figure(
                    name=f.name,
                    unit=f.unit,
                    own=f.own,
                    subtree=f.subtree,
                    updated_at=f.updated_at.ToDatetime(tzinfo=UTC) if f.HasField("updated_at") else None,
                )
                for f in answer.figures
            ],
        )


def as_trees(nodes: list[NodeResponse]) -> list[TreeNode]:
    """Nest a flat list by parent_id; nodes whose parent is not in the list are roots (the scope's tops)."""
    tree = {n.id: TreeNode(**n.model_dump()) for n in nodes}
    roots: list[TreeNode] = []
    for node in tree.values():
        parent = tree.get(node.parent_id or "")
        (parent.children if parent is not None else roots).append(node)
    return roots
