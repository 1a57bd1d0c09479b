"""/v1/nodes: the customer's hierarchy (AC-2, AC-3), answered by accounts within the caller's scope.

Every endpoint needs an access token; accounts verifies it and answers only
inside the caller's grants: a node outside them is a 404 like a missing one,
a change without ``hierarchy:manage`` there a 403.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response, status

from gateway.deps import SignedInAccounts
from gateway.nodes.schemas import (
    KINDS,
    CreateNodeRequest,
    MovedNode,
    MoveNodeRequest,
    NodeKind,
    NodeResponse,
    NodesPage,
    NodeSummary,
    RenameNodeRequest,
    as_trees,
)
from gateway.openapi import sends
from gateway.problems import problem_responses
from simfleet.accounts.v1 import hierarchy_pb2 as pb

router = APIRouter(prefix="/v1/nodes", tags=["hierarchy"])

NodeIdPath = Annotated[str, Path(min_length=1, max_length=64, description="a node id")]
TREE_LIMIT = 10_000
"""The most nodes ``view=tree`` assembles (a customer's whole tree fits)."""


@router.get(
    "",
    operation_id="listNodes",
    summary="The nodes in the caller's scope",
    description=(
        "Flat (`view=flat`, each node with its `parent_id`, paginated) or nested (`view=tree`: the whole scope "
        "as trees, one per node the caller's grants start at). Sorted by `path` (parents before children) "
        "unless `sort` says `name` or `created_at` (a leading `-` reverses)."
    ),
    responses=problem_responses(400, 401, 404, 422),
)
async def list_nodes(
    accounts: SignedInAccounts,
    response: Response,
    view: Annotated[Literal["flat", "tree"], Query(description="flat list or nested trees")] = "flat",
    root_id: Annotated[str | None, Query(max_length=64, description="only this node's subtree")] = None,
    parent_id: Annotated[str | None, Query(max_length=64, description="only this node's children")] = None,
    kind: Annotated[list[NodeKind] | None, Query(description="only these kinds (repeat the parameter)")] = None,
    q: Annotated[str | None, Query(max_length=200, description="names containing this text")] = None,
    sort: Annotated[
        Literal["path", "-path", "name", "-name", "created_at", "-created_at"], Query(description="order")
    ] = "path",
    limit: Annotated[int, Query(ge=1, le=1000, description="items per page (flat view)")] = 100,
    cursor: Annotated[str | None, Query(min_length=1, max_length=1024, description="from next_cursor")] = None,
) -> NodesPage:
    request = pb.ListNodesRequest(
        root_id=root_id or "",
        parent_id=parent_id or "",
        kinds=[KINDS[k] for k in kind or ()],  # type: ignore[misc]
        name_contains=q or "",
        order_by=sort,
    )
    response.headers["Cache-Control"] = "no-store"
    if view == "flat":
        request.page_size, request.page_token = limit, cursor or ""
        answer = await accounts.call(accounts.hierarchy.ListNodes, request)
        return NodesPage(
            items=[NodeResponse.from_proto(n) for n in answer.nodes], next_cursor=answer.next_page_token or None
        )
    nodes: list[NodeResponse] = []
    request.page_size, request.order_by = 1000, "path"
    while len(nodes) < TREE_LIMIT:
        answer = await accounts.call(accounts.hierarchy.ListNodes, request)
        nodes.extend(NodeResponse.from_proto(n) for n in answer.nodes)
        if not answer.next_page_token:
            break
        request.page_token = answer.next_page_token
    return NodesPage(items=as_trees(nodes), next_cursor=None)


@router.post(
    "",
    operation_id="createNode",
    status_code=status.HTTP_201_CREATED,
    summary="Create a department, branch or city",
    description="Under the company or another department, branch or city; needs `hierarchy:manage` there.",
    responses={201: sends("Location"), **problem_responses(400, 401, 403, 404, 409, 422)},
)
async def create_node(body: CreateNodeRequest, accounts: SignedInAccounts, response: Response) -> NodeResponse:
    answer = await accounts.call(
        accounts.hierarchy.CreateNode,
        pb.CreateNodeRequest(parent_id=body.parent_id, kind=KINDS[body.kind], name=body.name),  # type: ignore[arg-type]
    )
    response.headers["Location"] = f"/v1/nodes/{answer.node.id}"
    return NodeResponse.from_proto(answer.node)


@router.get("/{node_id}", operation_id="getNode", summary="One node", responses=problem_responses(401, 404, 422))
async def get_node(node_id: NodeIdPath, accounts: SignedInAccounts) -> NodeResponse:
    answer = await accounts.call(accounts.hierarchy.GetNode, pb.GetNodeRequest(node_id=node_id))
    return NodeResponse.from_proto(answer.node)


@router.get(
    "/{node_id}/children",
    operation_id="listNodeChildren",
    summary="A node's direct children",
    responses=problem_responses(400, 401, 404, 422),
)
async def list_children(
    node_id: NodeIdPath,
    accounts: SignedInAccounts,
    sort: Annotated[Literal["path", "-path", "name", "-name", "created_at", "-created_at"], Query()] = "name",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(min_length=1, max_length=1024)] = None,
) -> NodesPage:
    answer = await accounts.call(
        accounts.hierarchy.ListNodes,
        pb.ListNodesRequest(parent_id=node_id, order_by=sort, page_size=limit, page_token=cursor or ""),
    )
    return NodesPage(
        items=[NodeResponse.from_proto(n) for n in answer.nodes], next_cursor=answer.next_page_token or None
    )


@router.patch(
    "/{node_id}",
    operation_id="renameNode",
    summary="Rename a department, branch or city",
    responses=problem_responses(400, 401, 403, 404, 409, 422),
)
async def rename_node(node_id: NodeIdPath, body: RenameNodeRequest, accounts: SignedInAccounts) -> NodeResponse:
    answer = await accounts.call(accounts.hierarchy.RenameNode, pb.RenameNodeRequest(node_id=node_id, name=body.name))
    return NodeResponse.from_proto(answer.node)


@router.post(
    "/{node_id}/move",
    operation_id="moveNode",
    summary="Move a department, branch or city with everything below it",
    description="Needs `hierarchy:manage` at the node and at the new parent; every path below changes at once.",
    responses=problem_responses(400, 401, 403, 404, 409, 422),
)
async def move_node(node_id: NodeIdPath, body: MoveNodeRequest, accounts: SignedInAccounts) -> MovedNode:
    answer = await accounts.call(
        accounts.hierarchy.MoveNode, pb.MoveNodeRequest(node_id=node_id, new_parent_id=body.parent_id)
    )
    return MovedNode(node=NodeResponse.from_proto(answer.node), moved_nodes=answer.moved_nodes)


@router.delete(
    "/{node_id}",
    operation_id="deleteNode",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete an empty department, branch or city",
    description="409 while it still holds nodes or lines.",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def delete_node(node_id: NodeIdPath, accounts: SignedInAccounts) -> Response:
    await accounts.call(accounts.hierarchy.DeleteNode, pb.DeleteNodeRequest(node_id=node_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{node_id}/summary",
    operation_id="getNodeSummary",
    summary="Figures of a node and its subtree",
    description="Counts of lines by state, balances: what the services owning them report, added up.",
    responses=problem_responses(401, 404, 422),
)
async def node_summary(node_id: NodeIdPath, accounts: SignedInAccounts) -> NodeSummary:
    answer = await accounts.call(accounts.hierarchy.GetNodeSummary, pb.GetNodeSummaryRequest(node_id=node_id))
    return NodeSummary.from_proto(answer)
