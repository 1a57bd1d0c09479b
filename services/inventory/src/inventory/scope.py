"""Which nodes a caller reaches, as SQL over inventory's copy of the hierarchy.

Lists filter in the database: a line is visible when its node lies in the
subtree of a node the caller holds the permission at (the grant roots). The
same check for one object is :meth:`Access.check` on the node's path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from inventory.db import NODE_PATHS


def nodes_under(customer_id: str, roots: Sequence[str], *, within: str | None = None) -> sa.Select[Any]:
    """The ids of the customer's nodes in the subtrees of ``roots`` (and under the path ``within``)."""
    t = NODE_PATHS
    query = sa.select(t.c.node_id).where(t.c.customer_id == customer_id)
    query = query.where(
        sa.or_(*(t.c.path.contains(f"/{root}/", autoescape=True) for root in roots)) if roots else sa.false()
    )
    if within is not None:
        query = query.where(t.c.path.startswith(within, autoescape=True))
    return query


def in_roots(path: Sequence[str], roots: Sequence[str]) -> bool:
    """True when one of ``roots`` lies on ``path`` (root → node)."""
    on_path = set(path)
    return any(root in on_path for root in roots)
