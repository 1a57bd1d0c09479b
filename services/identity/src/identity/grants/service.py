"""Grants and roles: which roles a user holds over which nodes, custom roles, and what tokens carry."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from identity.grants.models import CustomRole, GrantRecord
from identity.grants.roles import PREDEFINED, Role
from identity.users.models import User
from simfleet.events.v1 import identity_pb2 as ev
from simfleet_runtime.authz import Grant, unknown_permissions
from simfleet_runtime.bus import Outbox
from simfleet_runtime.errors import InvalidArgument
from simfleet_runtime.ids import is_id, new_id
from simfleet_runtime.timestamps import timestamp
from simfleet_runtime.validation import text_problem
from simfleet_subjects import IdentitySubjects

_CHUNK = 500


def check_specs(specs: Sequence[tuple[str, str]]) -> None:
    """Refuse role references that cannot be a role and malformed node ids before anything is written."""
    problems = {}
    for i, (role, node_id) in enumerate(specs):
        if role not in PREDEFINED and not is_id(role):
            problems[f"grants[{i}].role"] = f"one of {', '.join(PREDEFINED)} or a custom role's id"
        if not is_id(node_id):
            problems[f"grants[{i}].node_id"] = "a node id"
    if problems:
        raise InvalidArgument("the grants are not valid", reason="INVALID_GRANT", field_violations=problems)


def custom_role(row: CustomRole) -> Role:
    return Role(row.id, row.name, row.description, frozenset(row.permissions))


async def resolve(session: AsyncSession, customer_id: str, role_ref: str) -> Role | None:
    """A predefined role by name, or one of the customer's own by id."""
    if role_ref in PREDEFINED:
        return PREDEFINED[role_ref]
    if not is_id(role_ref):
        return None
    row = await session.get(CustomRole, role_ref)
    return custom_role(row) if row is not None and row.customer_id == customer_id else None


async def require_roles(session: AsyncSession, customer_id: str, specs: Sequence[tuple[str, str]]) -> list[Role]:
    roles = []
    problems = {}
    for i, (ref, _node) in enumerate(specs):
        role = await resolve(session, customer_id, ref)
        if role is None:
            problems[f"grants[{i}].role"] = "no such role"
        else:
            roles.append(role)
    if problems:
        raise InvalidArgument(
            "the grants name roles that do not exist", reason="ROLE_NOT_FOUND", field_violations=problems
        )
    return roles


async def add(
    session: AsyncSession,
    *,
    user_id: str,
    customer_id: str,
    specs: Sequence[tuple[str, str]],
    granted_by: str,
    now: datetime,
) -> list[GrantRecord]:
    await require_roles(session, customer_id, specs)
    records = []
    for role, node_id in dict.fromkeys(specs):
        record = GrantRecord(
            id=new_id(),
            user_id=user_id,
            customer_id=customer_id,
            role_id=role,
            node_id=node_id,
            granted_by=granted_by,
            created_at=now,
        )
        session.add(record)
        records.append(record)
    await session.flush()
    return records


async def of_user(session: AsyncSession, user_id: str) -> list[tuple[GrantRecord, Role]]:
    """The user's grants with their roles (a grant whose custom role is gone grants nothing)."""
    rows = (
        await session.scalars(
            sa.select(GrantRecord)
            .where(GrantRecord.user_id == user_id)
            .order_by(GrantRecord.created_at, GrantRecord.id)
        )
    ).all()
    custom_ids = {r.role_id for r in rows if r.role_id not in PREDEFINED}
    custom = {}
    if custom_ids:
        custom = {
            row.id: custom_role(row)
            for row in await session.scalars(sa.select(CustomRole).where(CustomRole.id.in_(custom_ids)))
        }
    held = []
    for record in rows:
        role = PREDEFINED.get(record.role_id) or custom.get(record.role_id)
        if role is not None:
            held.append((record, role))
    return held


_GRANTS: sa.Table = GrantRecord.__table__  # type: ignore[assignment]
_TOKEN_GRANTS = (
    sa.select(_GRANTS.c.role_id, _GRANTS.c.node_id)
    .where(_GRANTS.c.user_id == sa.bindparam("user_id"))
    .order_by(_GRANTS.c.created_at, _GRANTS.c.id)
)
"""What a token carries of each grant, in :func:`of_user`'s order: read on every sign-in and refresh, built once."""


async def for_token(session: AsyncSession, user_id: str) -> list[Grant]:
    """The user's grants with their roles' permissions, as the access token carries them.

    The same grants as :func:`of_user` (a grant whose custom role is gone grants
    nothing), read as plain rows: custom roles are looked up only when held.
    """
    rows = (await session.execute(_TOKEN_GRANTS, {"user_id": user_id})).all()
    custom_ids = {role_id for role_id, _ in rows if role_id not in PREDEFINED}
    custom: dict[str, Role] = {}
    if custom_ids:
        custom = {
            row.id: custom_role(row)
            for row in await session.scalars(sa.select(CustomRole).where(CustomRole.id.in_(custom_ids)))
        }
    held = []
    for role_id, node_id in rows:
        role = PREDEFINED.get(role_id) or custom.get(role_id)
        if role is not None:
            held.append(Grant(node_id, role.permissions, role.id))
    return held


def clean_role(name: str, description: str, permissions: Sequence[str]) -> tuple[str, str, list[str]]:
    problems = {}
    name_problem, description_problem = text_problem(name), text_problem(description)
    name = unicodedata.normalize("NFC", " ".join(name.split()))
    if name_problem:
        problems["name"] = name_problem
    elif not 1 <= len(name) <= 100:
        problems["name"] = "1 to 100 characters"
    elif name.casefold() in {r.name.casefold() for r in PREDEFINED.values()} | set(PREDEFINED):
        problems["name"] = "the name of a predefined role"
    description = unicodedata.normalize("NFC", " ".join(description.split()))
    if description_problem:
        problems["description"] = description_problem
    elif len(description) > 500:
        problems["description"] = "at most 500 characters"
    if not permissions:
        problems["permissions"] = "at least one"
    elif unknown := unknown_permissions(permissions):
        problems["permissions"] = f"not in the catalogue: {', '.join(unknown)}"
    if problems:
        raise InvalidArgument("the role is not valid", reason="INVALID_ROLE", field_violations=problems)
    return name, description, sorted(set(permissions))


async def revise(
    session: AsyncSession,
    outbox: Outbox,
    *,
    user_ids: Iterable[str],
    customer_id: str,
    cause: str,
    now: datetime,
) -> None:
    """What these users' grants mean has changed: bump their grants version and tell every service.

    Their access tokens carry the version they were issued under; every service
    follows ``user.grants_revised`` and refuses an older token, so the change holds
    everywhere within moments, not at the next refresh.
    """
    ids = sorted(set(user_ids))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        await session.execute(
            sa.update(User)
            .where(User.id.in_(chunk))
            .values(grants_version=User.grants_version + 1)
            .execution_options(synchronize_session=False)
        )
        rows = await session.execute(sa.select(User.id, User.grants_version).where(User.id.in_(chunk)))
        for user_id, version in rows:
            await outbox.add(
                session,
                IdentitySubjects.GRANTS_REVISED,
                ev.GrantsRevised(
                    user_id=user_id,
                    customer_id=customer_id,
                    grants_version=int(version),
                    cause=cause,
                    occurred_at=timestamp(now),
                ),
                tenant=customer_id,
            )
