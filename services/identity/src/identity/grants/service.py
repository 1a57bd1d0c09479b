"""Grants: which roles a user holds over which nodes, and what goes into their access tokens."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from identity.grants.models import GrantRecord
from identity.grants.roles import PREDEFINED
from simfleet_runtime.authz import Grant
from simfleet_runtime.errors import InvalidArgument
from simfleet_runtime.ids import is_id, new_id


def check_specs(specs: Sequence[tuple[str, str]]) -> None:
    """Refuse unknown roles and malformed node ids before anything is written."""
    problems = {}
    for i, (role, node_id) in enumerate(specs):
        if role not in PREDEFINED:
            problems[f"grants[{i}].role"] = f"one of {', '.join(PREDEFINED)}"
        if not is_id(node_id):
            problems[f"grants[{i}].node_id"] = "a node id"
    if problems:
        raise InvalidArgument("the grants are not valid", reason="INVALID_GRANT", field_violations=problems)


async def add(
    session: AsyncSession,
    *,
    user_id: str,
    customer_id: str,
    specs: Sequence[tuple[str, str]],
    granted_by: str,
    now: datetime,
) -> None:
    for role, node_id in dict.fromkeys(specs):
        session.add(
            GrantRecord(
                id=new_id(),
                user_id=user_id,
                customer_id=customer_id,
                role_id=role,
                node_id=node_id,
                granted_by=granted_by,
                created_at=now,
            )
        )
    await session.flush()


async def for_token(session: AsyncSession, user_id: str) -> list[Grant]:
    """The user's grants with their roles' permissions, as the access token carries them."""
    rows = await session.execute(
        sa.select(GrantRecord.role_id, GrantRecord.node_id)
        .where(GrantRecord.user_id == user_id)
        .order_by(GrantRecord.created_at, GrantRecord.id)
    )
    grants = []
    for role_id, node_id in rows:
        role = PREDEFINED.get(role_id)
        if role is not None:
            grants.append(Grant(node_id, role.permissions, role.id))
    return grants
