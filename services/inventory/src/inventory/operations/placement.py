"""Where an operation hangs, and which nodes its request may name.

An operation hangs under a node (who may read it is decided there): the node
of its selection, the deepest node its lines share, or where its requester's
grants meet. Every node a request names (a selection's, a move's
destination, an order's personal account) must lie in the caller's scope,
and a node named as a personal account must be one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.lines.models import LINE_STATES, Line
from inventory.operations.nodes import checked_path, node_kind, node_path, node_path_ids, node_paths
from inventory.operations.requests import Selection, invalid, not_a_personal_account
from simfleet_runtime.authz import Access
from simfleet_runtime.nodepaths import PERSONAL_ACCOUNT
from simfleet_runtime.validation import text_problem

log = logging.getLogger(__name__)


async def check_personal_account(session: AsyncSession, customer_id: str, node_id: str, name: str) -> None:
    """Refuse a node (already known to be in scope) that is not a personal account.

    A node whose kind is not known (projected before kinds were kept) is accepted as before:
    the lines billed to it already exist, and unknown is not "not a personal account".
    """
    kind = await node_kind(session, customer_id, node_id)
    if kind is None:
        log.warning("node %s has no known kind: accepted as %s's personal account", node_id, name)
    elif kind != PERSONAL_ACCOUNT:
        raise not_a_personal_account(name, kind)


async def selection_node(session: AsyncSession, access: Access, permission: str, selection: Selection) -> str:
    """A selection's criteria checked, and where its operation hangs: its node, which must be in scope."""
    for state in selection.states:
        if state not in LINE_STATES:
            raise invalid("selection.states", f"unknown line state {state!r}")
    for name in ("label", "group", "tariff_code"):
        if problem := text_problem(getattr(selection, name)):
            raise invalid(f"selection.{name}", problem)
    if not (selection.node_id or selection.states or selection.tariff_code or selection.label or selection.group):
        raise invalid("selection", "a selection needs at least one criterion: node, state, tariff, label or group")
    if not selection.node_id:
        # Every line the caller may change this way: the operation hangs where their grants meet.
        return await scope_node(session, access, permission)
    access.check(permission, await node_path(session, access.customer_id, selection.node_id), what="node")
    return selection.node_id


async def scope_node(session: AsyncSession, access: Access, permission: str) -> str:
    """The deepest node shared by every subtree where the caller holds the action's permission and sees.

    Called once :meth:`OperationService.create` has found the caller holds the permission somewhere
    (``roots`` not empty).
    """
    roots = list(access.roots(permission))
    paths = list((await node_path_ids(session, access.customer_id, roots)).values())
    return deepest_shared(access, paths) or roots[0]


async def targets_node(session: AsyncSession, access: Access, numbers: Sequence[str]) -> str | None:
    """The deepest node all the visible lines of these numbers share: what the operation hangs under."""
    node_ids: set[str] = set()
    for start in range(0, len(numbers), 1000):
        chunk = numbers[start : start + 1000]
        rows = await session.scalars(
            sa.select(Line.node_id).where(Line.customer_id == access.customer_id, Line.msisdn.in_(chunk)).distinct()
        )
        node_ids.update(rows)
    paths = list((await node_path_ids(session, access.customer_id, list(node_ids))).values())
    return deepest_shared(access, [p for p in paths if access.sees(p)])


async def check_destination(
    session: AsyncSession, access: Access, params: dict[str, str], *, kinds: bool = True
) -> None:
    """Where a move takes lines: nodes in the caller's scope, and (``kinds``) a personal account that is one."""
    wanted = [params[k] for k in ("node_id", "personal_account_id") if k in params]
    paths = await node_paths(session, access.customer_id, wanted)
    for node_id in wanted:
        access.check("lines:move", checked_path(paths.get(node_id)), what="node")
    if kinds and "personal_account_id" in params:
        await check_personal_account(
            session, access.customer_id, params["personal_account_id"], "params.personal_account_id"
        )


def deepest_shared(access: Access, paths: Sequence[Sequence[str]]) -> str | None:
    """The deepest node on every path (root → node) that ``access`` sees: where an operation on them hangs."""
    if not paths:
        return None
    common: list[str] = []
    for parts in zip(*paths, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    # The operation must hang where its requester sees it.
    while common and not access.sees(common):
        common.pop()
    return common[-1] if common else None
