"""/v1/nodes at the edge: the bearer is required before accounts is asked, trees nest, accounts down is a 503.

What accounts answers inside and outside a scope is proven against the real
processes in tests/e2e/test_nodes.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from gateway.main import create_app
from gateway.nodes.schemas import NodeResponse, as_trees
from gateway.upstream.accounts import open_accounts_channel
from gateway.upstream.identity import open_identity_channel
from simfleet_runtime.testing import free_port

from .conftest import CLIENT_ADDRESS, ScriptedIdentity, assert_problem, make_settings

NOW = datetime(2026, 1, 15, tzinfo=UTC)


def node(node_id: str, parent: str | None, kind: str = "department") -> NodeResponse:
    return NodeResponse(
        id=node_id,
        parent_id=parent,
        kind=kind,  # type: ignore[arg-type]
        name=node_id,
        path="",
        depth=0,
        account_number=None,
        created_at=NOW,
        updated_at=NOW,
    )


def test_a_flat_scope_nests_into_one_tree_per_top() -> None:
    flat = [node("sales", "company"), node("north", "sales"), node("south", "sales"), node("hr", "company")]
    trees = as_trees(flat)
    # The company itself is outside this caller's scope: its children are the tops.
    assert [t.id for t in trees] == ["sales", "hr"]
    assert [c.id for c in trees[0].children] == ["north", "south"]
    assert trees[1].children == []


async def test_no_bearer_is_a_401_before_accounts_is_asked(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/nodes")
    body = assert_problem(response, 401, "UNAUTHENTICATED")
    assert "access token" in body["detail"]
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_accounts_unreachable_is_a_503_to_retry(identity: ScriptedIdentity) -> None:
    settings = make_settings(identity.target, accounts_target=f"127.0.0.1:{free_port()}", grpc_timeout_seconds=1.0)
    identity_channel = open_identity_channel(settings)
    accounts_channel = open_accounts_channel(settings)
    app = create_app(settings, identity_channel=identity_channel, accounts_channel=accounts_channel)
    transport = httpx.ASGITransport(app=app, client=CLIENT_ADDRESS)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            response = await client.get("/v1/nodes", headers={"Authorization": "Bearer a.b.c"})
            assert_problem(response, 503, "SERVICE_UNAVAILABLE")
            assert response.headers["retry-after"]
    finally:
        await identity_channel.close()
        await accounts_channel.close()
